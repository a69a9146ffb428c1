/* Fixed-point requantization: the one rescaling every leafml kernel uses.
 *
 * A real multiplier M is stored as a Q0.31 significand `multiplier` in
 * [2^30, 2^31) (or 0) and a power-of-two exponent `shift` in [-31, 30] so
 * that M ~= multiplier * 2^(shift - 31).  Bit-exact with
 * leafml/quant/fixedpoint.py in both rounding modes, chosen at compile time:
 *
 *   LEAFML_SINGLE_ROUNDING 0  gemmlowp double rounding (TFLM, CMSIS-NN): a
 *                             rounding doubling high multiply, then a
 *                             rounding right shift.
 *   LEAFML_SINGLE_ROUNDING 1  one 64-bit product, one rounding (LiteRT).
 *
 * Beyond C99 this assumes what gcc, clang and arm-none-eabi-gcc guarantee:
 * signed integers are two's complement, and `>>` of a negative value is an
 * arithmetic shift (C99 6.5.7p5 leaves it implementation-defined).
 *
 * Functions are `static inline` so that a kernel set that leaves some of them
 * unused still compiles cleanly under -Wall -Werror. */

#ifndef LEAFML_SINGLE_ROUNDING
#error "define LEAFML_SINGLE_ROUNDING to 0 (double rounding, TFLM) or 1 (single rounding, LiteRT)"
#endif

static inline int32_t leafml_saturate_int32(int64_t x)
{
    if (x > INT32_MAX) {
        return INT32_MAX;
    }
    if (x < INT32_MIN) {
        return INT32_MIN;
    }
    return (int32_t)x;
}

/* round(a * b / 2^31), halves away from zero; the one overflowing input pair
 * (INT32_MIN * INT32_MIN) saturates. */
static inline int32_t leafml_saturating_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    /* gemmlowp relies on C division truncating toward zero here, not on a shift. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent for exponent in [0, 31], rounding halves away from zero. */
static inline int32_t leafml_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31), rounded as the mode requires.
 *
 * Where TFLite's own int32 intermediate would overflow (possible only for
 * shift > 0, i.e. M >= 1), the result here saturates instead: the Python
 * reference computes that intermediate exactly in 64 bits, and both end at
 * the same clamped int8 value. */
static inline int32_t leafml_mul_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift)
{
#if LEAFML_SINGLE_ROUNDING
    const int32_t total_shift = 31 - shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    return leafml_saturate_int32(((int64_t)x * multiplier + round) >> total_shift);
#else
    const int32_t left_shift = shift > 0 ? shift : 0;
    const int32_t right_shift = shift > 0 ? 0 : -shift;
    const int32_t shifted = leafml_saturate_int32((int64_t)x * ((int64_t)1 << left_shift));
    return leafml_rounding_divide_by_pot(leafml_saturating_rounding_doubling_high_mul(shifted, multiplier),
                                         right_shift);
#endif
}

/* How a conv-like kernel turns its int32 accumulators into int8 outputs.
 * With double rounding (TFLM) the integer multipliers and shifts are used;
 * with single rounding, XNNPACK's float32 scales, as LiteRT runs these
 * operators there (needs round_half_even.h). */
typedef struct {
    const int32_t *multipliers; /* Q0.31 significands, one per output channel or one for all */
    const int32_t *shifts;      /* power-of-two exponents, same count */
    int32_t per_channel;        /* 1: index by output channel; 0: use element 0 */
    int32_t input_offset;       /* added to every input value: -input zero point */
    int32_t output_offset;      /* the output zero point */
    int32_t act_min;            /* clamp of the fused activation, in output units */
    int32_t act_max;
#if LEAFML_SINGLE_ROUNDING
    const float *scales; /* input scale * weight scale / output scale, float32, same count */
#endif
} leafml_requant_t;

/* Rescale one accumulator of output channel `channel`, add the zero point, clamp. */
static inline int8_t leafml_requantize(int32_t acc, const leafml_requant_t *q, int32_t channel)
{
    const int32_t index = q->per_channel ? channel : 0;
    /* Clamping before adding the zero point is the same clamp, and it keeps a
     * saturated value from overflowing. */
#if LEAFML_SINGLE_ROUNDING
    const float low = (float)(q->act_min - q->output_offset);
    const float high = (float)(q->act_max - q->output_offset);
    float y = (float)acc * q->scales[index];
    y = y < low ? low : (y > high ? high : y);
    return (int8_t)(leafml_round_half_even(y) + q->output_offset);
#else
    int32_t scaled = leafml_mul_by_quantized_multiplier(acc, q->multipliers[index], q->shifts[index]);
    if (scaled < q->act_min - q->output_offset) {
        scaled = q->act_min - q->output_offset;
    }
    if (scaled > q->act_max - q->output_offset) {
        scaled = q->act_max - q->output_offset;
    }
    return (int8_t)(scaled + q->output_offset);
#endif
}
