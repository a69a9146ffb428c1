/* ADD, int8 (needs fixedpoint.h and broadcast.h); same bytes as leafml.ops.elementwise.
 *
 * leafml_add_row is TFLite's reference kernel: both inputs, less their zero
 * points, are shifted left by `left_shift` and rescaled to a common scale,
 * added, and the sum is rescaled to the output, each rescale in the build's
 * rounding mode.  With single rounding, ADDs whose scales LiteRT hands to
 * XNNPACK use leafml_add_xnnpack_row instead: XNNPACK's own integer
 * arithmetic, which LiteRT's results follow. */

typedef struct {
    int32_t input1_offset; /* -input zero points */
    int32_t input2_offset;
    int32_t output_offset; /* the output zero point */
    int32_t left_shift;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min; /* clamp of the fused activation */
    int32_t act_max;
} leafml_add_t;

static inline int32_t leafml_add_rescale(int32_t x, int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift)
{
    /* A multiply, not a shift: the value may be negative. */
    return leafml_mul_by_quantized_multiplier((x + offset) * ((int32_t)1 << left_shift), multiplier, shift);
}

static inline void leafml_add_row(const int8_t *in1, int32_t step1, const int8_t *in2, int32_t step2, int8_t *out,
                                  int32_t length, const void *params)
{
    const leafml_add_t *p = (const leafml_add_t *)params;
    int32_t i;
    for (i = 0; i < length; ++i) {
        const int32_t a = leafml_add_rescale(in1[i * step1], p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift);
        const int32_t b = leafml_add_rescale(in2[i * step2], p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
        int32_t sum = leafml_mul_by_quantized_multiplier(a + b, p->output_multiplier, p->output_shift) + p->output_offset;
        sum = sum < p->act_min ? p->act_min : sum;
        out[i] = (int8_t)(sum > p->act_max ? p->act_max : sum);
    }
}

#if LEAFML_SINGLE_ROUNDING
/* XNNPACK's qs8 add: 21-bit multipliers, one sum, one arithmetic shift;
 * `bias` holds the rounding half-step and both zero points. */
typedef struct {
    int32_t input1_multiplier;
    int32_t input2_multiplier;
    int32_t shift;
    int32_t bias;
    int32_t output_zero_point;
    int32_t act_min;
    int32_t act_max;
} leafml_add_xnnpack_t;

static inline void leafml_add_xnnpack_row(const int8_t *in1, int32_t step1, const int8_t *in2, int32_t step2, int8_t *out,
                                          int32_t length, const void *params)
{
    const leafml_add_xnnpack_t *p = (const leafml_add_xnnpack_t *)params;
    int32_t i;
    for (i = 0; i < length; ++i) {
        const int32_t acc = p->bias + in1[i * step1] * p->input1_multiplier + in2[i * step2] * p->input2_multiplier;
        int32_t sum = (acc >> p->shift) + p->output_zero_point;
        sum = sum < p->act_min ? p->act_min : sum;
        out[i] = (int8_t)(sum > p->act_max ? p->act_max : sum);
    }
}
#endif
