/* QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32, twins of
 * leafml.ops.quantize (QUANTIZE between 8-bit types is a table: activations.h).
 *
 * Floats are read and written with memcpy: the model's input and output
 * buffers belong to the caller and may be byte arrays (a DMA buffer, a
 * harness's inputs), so no 4-byte alignment is assumed.  Every float
 * operation is one IEEE float32 operation: the ISO -std=c99 the runtime is
 * built with turns GCC's -ffp-contract off, so no product is fused with the
 * add of leafml_round_half_even into an FMA.
 *
 * static inline: a model may use only one of the two. */

/* Quotients beyond +-512 saturate every int8 output whatever the zero point;
 * clamping first keeps the conversion to int32 defined. */
#define LEAFML_QUANTIZE_LIMIT 512.0f

/* round(x / scale) + zero_point, saturated to int8, for `size` floats at input.
 *
 * LEAFML_SINGLE_ROUNDING 0 (TFLM): x / scale, halves away from zero; NaN
 * gives -128.  LEAFML_SINGLE_ROUNDING 1 (LiteRT, through XNNPACK):
 * x * (1 / scale), halves to even; NaN gives 127. */
static inline void leafml_quantize_f32_s8(const void *input, int8_t *output, int32_t size, float scale, int32_t zero_point)
{
    const unsigned char *bytes = (const unsigned char *)input;
#if LEAFML_SINGLE_ROUNDING
    const float inverse_scale = 1.0f / scale;
#endif
    int32_t i;
    for (i = 0; i < size; ++i) {
        float x;
        float quotient;
        int32_t value;
        memcpy(&x, bytes + (size_t)i * sizeof x, sizeof x);
#if LEAFML_SINGLE_ROUNDING
        quotient = x * inverse_scale;
        /* Written so that NaN fails the first test and takes the top. */
        quotient = !(quotient <= LEAFML_QUANTIZE_LIMIT) ? LEAFML_QUANTIZE_LIMIT
                   : quotient < -LEAFML_QUANTIZE_LIMIT  ? -LEAFML_QUANTIZE_LIMIT
                                                        : quotient;
        value = leafml_round_half_even(quotient);
#else
        quotient = x / scale;
        /* Written so that NaN fails the first test and takes the bottom. */
        quotient = !(quotient >= -LEAFML_QUANTIZE_LIMIT) ? -LEAFML_QUANTIZE_LIMIT
                   : quotient > LEAFML_QUANTIZE_LIMIT    ? LEAFML_QUANTIZE_LIMIT
                                                         : quotient;
        /* TfLiteRound without libm: the fraction is exact for |quotient| <= 512. */
        value = (int32_t)quotient;
        if (quotient - (float)value >= 0.5f) {
            ++value;
        } else if (quotient - (float)value <= -0.5f) {
            --value;
        }
#endif
        value += zero_point;
        output[i] = (int8_t)(value < -128 ? -128 : value > 127 ? 127 : value);
    }
}

/* scale * (q - zero_point) for `size` int8 values: q - zero_point is exact in
 * float32, so the one rounding is the product's, as in both runtimes. */
static inline void leafml_dequantize_s8_f32(const int8_t *input, void *output, int32_t size, float scale, int32_t zero_point)
{
    unsigned char *bytes = (unsigned char *)output;
    int32_t i;
    for (i = 0; i < size; ++i) {
        const float value = (float)(input[i] - zero_point) * scale;
        memcpy(bytes + (size_t)i * sizeof value, &value, sizeof value);
    }
}
