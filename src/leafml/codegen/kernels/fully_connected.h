/* FULLY_CONNECTED, int8 (needs fixedpoint.h, dsp.h): input read as
 * [batches][in_features], weights [out_features][in_features], int32 bias,
 * per-tensor (or per-channel) requantization.  Same arithmetic as TFLite's
 * reference_integer_ops::FullyConnected and leafml.ops.fully_connected.
 * leafml_fully_connected_s8 is the portable form;
 * leafml_fully_connected_dsp_s8 replaces it where LEAFML_ARM_DSP is 1. */

typedef struct {
    int32_t batches;
    int32_t in_features;
    int32_t out_features;
    const int8_t *weights; /* [out_features][in_features] */
    const int32_t *bias;   /* [out_features], or NULL */
    leafml_requant_t requant;
} leafml_fully_connected_t;

#if !LEAFML_ARM_DSP
static void leafml_fully_connected_s8(const leafml_fully_connected_t *p, const int8_t *input, int8_t *output)
{
    int32_t b, o, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *row = input + b * p->in_features;
        for (o = 0; o < p->out_features; ++o) {
            const int8_t *weights = p->weights + o * p->in_features;
            int32_t acc = p->bias != NULL ? p->bias[o] : 0;
            for (i = 0; i < p->in_features; ++i) {
                acc += (row[i] + p->requant.input_offset) * weights[i];
            }
            *output++ = leafml_requantize(acc, &p->requant, o);
        }
    }
}
#endif /* !LEAFML_ARM_DSP */

#if LEAFML_ARM_DSP
/* The DSP form widens each input row once into `row` (lane words as in
 * conv.h: group g of 4 values is the even/odd pair row[2g], row[2g + 1];
 * the scratch holds the whole groups, a last partial group stays in
 * registers), then runs 2 weight rows at a time against it: per 4 values,
 * 1 LDRD, and for each weight row 1 load, 2 SXTB16 and 2 SMLAD, with both
 * accumulators in registers (two rows keep the loop within the registers
 * an unoptimized build leaves free).  An odd last output row is done alone.
 *
 * With no more outputs than inputs the kernel may write its output over its
 * own input: each input row is widened before any of its outputs is stored. */

/* One group of 4 values against 2 weight rows, in assembly (with LDRD). */
#define LEAFML_FC_GROUP_ASM                                                                     \
    "ldrd %[even], %[odd], [%[x]], #8\n\t"                                                      \
    "ldr %[w], [%[r0]], #4\n\t"                                                                 \
    "sxtb16 %[t], %[w], ror #8\n\t"                                                             \
    "sxtb16 %[w], %[w]\n\t"                                                                     \
    "smlad %[a0], %[odd], %[t], %[a0]\n\t"                                                      \
    "smlad %[a0], %[even], %[w], %[a0]\n\t"                                                     \
    "ldr %[w], [%[r0], %[next]]\n\t"                                                            \
    "sxtb16 %[t], %[w], ror #8\n\t"                                                             \
    "sxtb16 %[w], %[w]\n\t"                                                                     \
    "smlad %[a1], %[odd], %[t], %[a1]\n\t"                                                      \
    "smlad %[a1], %[even], %[w], %[a1]\n\t"

/* acc[r] += weight row r . row over `groups` whole groups, for the weight
 * rows at first + r * stride, r = 0, 1 (stride 0 repeats one row). */
LEAFML_DSP_NOINLINE static void leafml_fc_dots2(const uint32_t *row, const int8_t *first, int32_t stride,
                                                int32_t groups, int32_t acc[2])
{
    const int32_t next = stride - 4; /* from row 0, already advanced, to row 1 */
    uint32_t pairs = (uint32_t)groups >> 1, even, odd, word, odd_w;
    int32_t a0 = acc[0], a1 = acc[1];
    if (pairs != 0) {
        __asm__("1:\n\t" LEAFML_FC_GROUP_ASM LEAFML_FC_GROUP_ASM
                "subs %[n], %[n], #1\n\t"
                "bne 1b"
                : [a0] "+r"(a0), [a1] "+r"(a1), [x] "+r"(row), [r0] "+r"(first), [n] "+r"(pairs),
                  [even] "=&r"(even), [odd] "=&r"(odd), [w] "=&r"(word), [t] "=&r"(odd_w)
                : [next] "r"(next)
                : "cc", "memory");
    }
    if (groups & 1) {
        __asm__(LEAFML_FC_GROUP_ASM
                : [a0] "+r"(a0), [a1] "+r"(a1), [x] "+r"(row), [r0] "+r"(first), [even] "=&r"(even),
                  [odd] "=&r"(odd), [w] "=&r"(word), [t] "=&r"(odd_w)
                : [next] "r"(next)
                : "memory");
    }
    acc[0] = a0, acc[1] = a1;
}

static void leafml_fully_connected_dsp_s8(const leafml_fully_connected_t *p, const int8_t *input, int8_t *output,
                                          int32_t *row, int32_t mode)
{
    const leafml_requant_t *q = &p->requant;
    const int32_t fast = mode != LEAFML_DSP_GENERAL, narrow = mode == LEAFML_DSP_FAST_CLAMPED;
    const int32_t depth = p->in_features, groups = depth >> 2, tail = depth & 3;
    const uint32_t offset_lanes = leafml_dsp_lanes(q->input_offset);
    int32_t b, o, r, g, rows;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * depth;
        int8_t *out = output + b * p->out_features;
        uint32_t tail_even = 0, tail_odd = 0;
        for (g = 0; g < groups; ++g) {
            uint32_t even, odd;
            leafml_dsp_widen4(leafml_dsp_read4(x + 4 * g), offset_lanes, fast, &even, &odd);
            row[2 * g] = (int32_t)even, row[2 * g + 1] = (int32_t)odd;
        }
        if (tail) {
            /* The last 1 to 3 values, padded with the input zero point (0 once offset). */
            int8_t last[4];
            uint32_t word;
            memset(last, -q->input_offset, sizeof last);
            memcpy(last, x + 4 * groups, (size_t)tail);
            memcpy(&word, last, sizeof word);
            leafml_dsp_widen4(word, offset_lanes, fast, &tail_even, &tail_odd);
        }
        for (o = 0; o < p->out_features; o += rows) {
            /* The last row alone: the same row in both lanes. */
            const int32_t stride = p->out_features - o < 2 ? 0 : depth;
            const int8_t *first = p->weights + o * depth;
            int32_t acc[2];
            rows = stride != 0 ? 2 : 1;
            for (r = 0; r < 2; ++r) {
                acc[r] = p->bias != NULL ? p->bias[o + (stride != 0 ? r : 0)] * (1 + fast) : 0;
            }
            leafml_fc_dots2((const uint32_t *)row, first, stride, groups, acc);
            for (r = 0; tail && r < 2; ++r) {
                uint32_t word = 0;
                memcpy(&word, first + r * stride + 4 * groups, (size_t)tail);
                acc[r] = __smlad(tail_even, __sxtb16(word), __smlad(tail_odd, leafml_dsp_sxtb16_odd(word), acc[r]));
            }
            for (r = 0; r < rows; ++r) {
                int32_t value;
                if (fast) {
                    const leafml_dsp_scale_t scale = leafml_dsp_scale(q, o + r);
                    value = leafml_dsp_clamp(leafml_dsp_requantize(acc[r], &scale), q, narrow);
                } else {
                    value = leafml_requantize(acc[r], q, o + r);
                }
                out[o + r] = (int8_t)value;
            }
        }
    }
}
#endif /* LEAFML_ARM_DSP */
