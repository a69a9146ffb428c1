/* DEPTHWISE_CONV_2D, int8 (needs fixedpoint.h and window.h): NHWC input
 * and output, weights [1][k_h][k_w][in_channels * depth_multiplier], int32 bias.
 *
 * Same arithmetic as leafml.ops.depthwise_conv2d: output channel
 * c * depth_multiplier + m accumulates bias + (x + input_offset) * w over the
 * in-bounds taps of input channel c (taps in the padding contribute
 * nothing).  The accumulator is requantized per channel as the runtime of
 * the rounding mode does: with double rounding TFLite's integer reference
 * (TFLM), with single rounding XNNPACK's float32 scales (LiteRT). */

typedef struct {
    leafml_window_t window;
    int32_t batches;
    int32_t in_channels;
    int32_t depth_multiplier;
    const int8_t *weights; /* [k_h][k_w][in_channels * depth_multiplier] */
    const int32_t *bias;   /* [in_channels * depth_multiplier] */
    leafml_requant_t requant;
} leafml_depthwise_conv_t;

static void leafml_depthwise_conv2d_s8(const leafml_depthwise_conv_t *p, const int8_t *input, int8_t *output)
{
    const leafml_window_t *w = &p->window;
    const int32_t out_channels = p->in_channels * p->depth_multiplier;
    int32_t b, oy, ox, ic, m, ky, kx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * w->in_h * w->in_w * p->in_channels;
        for (oy = 0; oy < w->out_h; ++oy) {
            const int32_t y0 = oy * w->stride_h - w->pad_top;
            for (ox = 0; ox < w->out_w; ++ox) {
                const int32_t x0 = ox * w->stride_w - w->pad_left;
                for (ic = 0; ic < p->in_channels; ++ic) {
                    for (m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = p->bias[oc];
                        for (ky = 0; ky < w->k_h; ++ky) {
                            const int32_t y = y0 + ky * w->dilation_h;
                            if (y < 0 || y >= w->in_h) {
                                continue;
                            }
                            for (kx = 0; kx < w->k_w; ++kx) {
                                const int32_t x = x0 + kx * w->dilation_w;
                                if (x < 0 || x >= w->in_w) {
                                    continue;
                                }
                                acc += (image[(y * w->in_w + x) * p->in_channels + ic] + p->requant.input_offset)
                                       * p->weights[(ky * w->k_w + kx) * out_channels + oc];
                            }
                        }
                        *output++ = leafml_requantize(acc, &p->requant, oc);
                    }
                }
            }
        }
    }
}
