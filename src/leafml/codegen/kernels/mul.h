/* MUL, int8 (needs fixedpoint.h and broadcast.h); same bytes as leafml.ops.elementwise.
 *
 * leafml_mul_row is TFLite's reference kernel: the product of the inputs,
 * less their zero points, rescaled once in the build's rounding mode.  With
 * single rounding, MULs whose scales LiteRT hands to XNNPACK use
 * leafml_mul_xnnpack_row: XNNPACK rescales in float32 and rounds half to
 * even, and LiteRT's results follow it. */

typedef struct {
    int32_t input1_offset; /* -input zero points */
    int32_t input2_offset;
    int32_t output_offset; /* the output zero point */
    int32_t multiplier;
    int32_t shift;
    int32_t act_min; /* clamp of the fused activation */
    int32_t act_max;
} leafml_mul_t;

static inline void leafml_mul_row(const int8_t *in1, int32_t step1, const int8_t *in2, int32_t step2, int8_t *out,
                                  int32_t length, const void *params)
{
    const leafml_mul_t *p = (const leafml_mul_t *)params;
    int32_t i;
    for (i = 0; i < length; ++i) {
        const int32_t product = (in1[i * step1] + p->input1_offset) * (in2[i * step2] + p->input2_offset);
        int32_t y = leafml_mul_by_quantized_multiplier(product, p->multiplier, p->shift) + p->output_offset;
        y = y < p->act_min ? p->act_min : y;
        out[i] = (int8_t)(y > p->act_max ? p->act_max : y);
    }
}

#if LEAFML_SINGLE_ROUNDING
typedef struct {
    int32_t input1_zero_point;
    int32_t input2_zero_point;
    float scale; /* input1 scale * input2 scale / output scale, float32 */
    int32_t output_zero_point;
    int32_t act_min;
    int32_t act_max;
} leafml_mul_xnnpack_t;

static inline void leafml_mul_xnnpack_row(const int8_t *in1, int32_t step1, const int8_t *in2, int32_t step2, int8_t *out,
                                          int32_t length, const void *params)
{
    const leafml_mul_xnnpack_t *p = (const leafml_mul_xnnpack_t *)params;
    const float low = (float)(p->act_min - p->output_zero_point);
    const float high = (float)(p->act_max - p->output_zero_point);
    int32_t i;
    for (i = 0; i < length; ++i) {
        float y = (float)((in1[i * step1] - p->input1_zero_point) * (in2[i * step2] - p->input2_zero_point)) * p->scale;
        y = y < low ? low : (y > high ? high : y);
        out[i] = (int8_t)(leafml_round_half_even(y) + p->output_zero_point);
    }
}
#endif
