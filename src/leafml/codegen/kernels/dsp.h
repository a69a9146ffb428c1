/* The Cortex-M DSP extension: what the conv, depthwise and fully-connected
 * kernels use on Cortex-M4, M7, M33 and M55 (needs fixedpoint.h).
 *
 * LEAFML_ARM_DSP is 1 when the compiler targets a little-endian core with
 * ACLE's __ARM_FEATURE_DSP and __ARM_FEATURE_SIMD32 (ARMv7E-M, ARMv8-M
 * Mainline with the DSP extension, ARMv8.1-M); those kernels then take their
 * *_dsp form, built on arm_acle.h.  Everywhere else (Cortex-M0+, M3, a host)
 * LEAFML_ARM_DSP is 0 and the portable kernels run.  Both give the same bytes.
 *
 * The DSP kernels keep weights as int8 where the generator put them and widen
 * activations once, into a scratch buffer of int16 lane pairs: a 32-bit word
 * holds two values, and SMLAD multiplies two pairs and adds both products to
 * an int32 accumulator, 2 MACs in one instruction.  Four int8 values
 * x0 x1 x2 x3 widen to an "even" word (x0, x2) and an "odd" word (x1, x3),
 * the order SXTB16 and SXTB16 ROR #8 extract them from a weight word, so a
 * weight word meets its activations without any reordering.
 *
 * The arithmetic is ACLE intrinsics.  Four instructions come from inline
 * assembly because ACLE lacks them or GCC 12 would not emit them where the
 * instruction count is decided: SXTB16 with ROR #8, SMMLAR, LDRD with
 * writeback, and LDM into fixed registers in the conv kernel's inner loop
 * (conv.h and fully_connected.h write those two loops in assembly whole).
 *
 * Activations enter the scratch as x + input_offset (padding then simply
 * contributes 0), doubled in "fast" mode.  Fast mode (the generator decides,
 * per node) is the double (TFLM) rounding with every right shift s in
 * [1, 23] and accumulators that provably stay below 2^30 in magnitude.  With
 * A = 2 * acc, TFLM's two roundings (a rounding doubling high multiply, then
 * a rounding right shift with halves away from zero) and the zero point z
 * collapse into one SMMLAR and one shift:
 *
 *     q + z = (floor((A * M + 2^31) / 2^32) + 2^(s-1) - [A < 0] + z * 2^s) >> s
 *
 * since floor((A * M + 2^31) / 2^32) is gemmlowp's high multiply (its nudge
 * for negative products rounds the same way), adding 2^(s-1) - [q1 < 0]
 * before an arithmetic shift is its rounding divide ([A < 0] may stand for
 * [q1 < 0]: they differ only when q1 = 0, where both give 0 for s >= 1), and
 * z * 2^s added before the shift is z added after it.  SMMLAR computes
 * floor((R * 2^32 + A * M + 2^31) / 2^32) for R = 2^(s-1) + z * 2^s - [A < 0],
 * which stays inside int32 for s <= 23: leafml_dsp_requantize. */

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(__ARM_BIG_ENDIAN)
#define LEAFML_ARM_DSP 1
#include <arm_acle.h>
#else
#define LEAFML_ARM_DSP 0
#endif

#if LEAFML_ARM_DSP

/* How a DSP kernel requantizes, chosen by the generator for each node and
 * passed as a constant, so that the compiler drops the code of the others:
 *   LEAFML_DSP_GENERAL       leafml_requantize on plain accumulators (single
 *                            rounding, or a double rounding fast mode does not cover);
 *   LEAFML_DSP_FAST          doubled accumulators, leafml_dsp_requantize, the
 *                            whole int8 range;
 *   LEAFML_DSP_FAST_CLAMPED  the same, then the fused activation's narrower clamp. */
#define LEAFML_DSP_GENERAL 0
#define LEAFML_DSP_FAST 1
#define LEAFML_DSP_FAST_CLAMPED 2

/* For the small functions holding the hot loops: inlined into the large
 * kernels, their loops would share registers with everything live there and
 * spill; called, they run in registers of their own.  (The DSP path is only
 * ever compiled by GCC or Clang, which both accept the attribute.) */
#define LEAFML_DSP_NOINLINE __attribute__((noinline))

/* Four bytes from any address: LDR allows unaligned addresses on these cores. */
static inline uint32_t leafml_dsp_read4(const int8_t *bytes)
{
    uint32_t word;
    memcpy(&word, bytes, sizeof word);
    return word;
}

/* Bytes 1 and 3 of x sign-extended into the two int16 lanes.  This is
 * SXTB16 with ROR #8, one instruction; ACLE has no rotated form and GCC 12
 * does not fold a shift into __sxtb16, hence the one line of assembly. */
static inline uint32_t leafml_dsp_sxtb16_odd(uint32_t x)
{
    uint32_t lanes;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(lanes) : "r"(x));
    return lanes;
}

/* Two consecutive scratch words with one LDRD, advancing the pointer by 8
 * bytes: GCC's Cortex-M4 tuning would issue two LDRs, and the inner loops
 * are counted in instructions. */
#define LEAFML_DSP_LOAD_PAIR(pointer, first, second)                                        \
    __asm__("ldrd %0, %1, [%2], #8"                                                         \
            : "=r"(first), "=r"(second), "+r"(pointer)                                       \
            : "m"(*(const uint32_t(*)[2])(pointer)))

/* Widen four int8 activations into the even word (x0, x2) and the odd word
 * (x1, x3), adding offset (both lanes of offset_lanes) and doubling in fast
 * mode.  |x + offset| <= 255, so a doubled lane still fits int16. */
static inline void leafml_dsp_widen4(uint32_t bytes, uint32_t offset_lanes, int32_t doubled, uint32_t *even,
                                     uint32_t *odd)
{
    uint32_t e = __sxtab16(offset_lanes, bytes);
    uint32_t o = __sxtab16(offset_lanes, bytes >> 8);
    if (doubled) {
        e = __sadd16(e, e);
        o = __sadd16(o, o);
    }
    *even = e;
    *odd = o;
}

/* offset in both int16 lanes of a word. */
static inline uint32_t leafml_dsp_lanes(int32_t offset)
{
    return ((uint32_t)offset & 0xFFFFu) | ((uint32_t)offset << 16);
}

/* One output channel's fast-mode constants (see the top of this file). */
typedef struct {
    int32_t multiplier; /* Q0.31 significand M */
    int32_t high;       /* 2^(s-1) + z * 2^s */
    int32_t shift;      /* right shift s, 1..23 */
} leafml_dsp_scale_t;

/* The constants of a channel whose TFLite multiplier and exponent are given, output zero point z. */
static inline leafml_dsp_scale_t leafml_dsp_scale_of(int32_t multiplier, int32_t exponent, int32_t zero_point)
{
    leafml_dsp_scale_t scale;
    scale.multiplier = multiplier;
    scale.shift = -exponent;
    scale.high = (1 << scale.shift >> 1) + zero_point * (1 << scale.shift);
    return scale;
}

static inline leafml_dsp_scale_t leafml_dsp_scale(const leafml_requant_t *q, int32_t channel)
{
    const int32_t index = q->per_channel ? channel : 0;
    return leafml_dsp_scale_of(q->multipliers[index], q->shifts[index], q->output_offset);
}

/* TFLM's requantization of the doubled accumulator `doubled`, zero point
 * included, saturated to int8.  ACLE has no SMMLAR, hence the assembly. */
static inline int32_t leafml_dsp_requantize(int32_t doubled, const leafml_dsp_scale_t *scale)
{
    const int32_t high = scale->high - (int32_t)((uint32_t)doubled >> 31);
    int32_t rounded;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(rounded) : "r"(doubled), "r"(scale->multiplier), "r"(high));
    return __ssat(rounded >> scale->shift, 8);
}

/* An int8 value clamped to the activation range when `narrow` (mode
 * LEAFML_DSP_FAST_CLAMPED); otherwise SSAT already clamped to [-128, 127]. */
static inline int32_t leafml_dsp_clamp(int32_t value, const leafml_requant_t *q, int32_t narrow)
{
    if (narrow) {
        value = value < q->act_min ? q->act_min : value;
        value = value > q->act_max ? q->act_max : value;
    }
    return value;
}

#endif /* LEAFML_ARM_DSP */
