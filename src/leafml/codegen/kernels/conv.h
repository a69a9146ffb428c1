/* CONV_2D, int8: NHWC input and output, OHWI weights, int32 bias,
 * per-channel (or per-tensor) requantization.
 *
 * Same arithmetic as TFLite's reference_integer_ops::ConvPerChannel and
 * leafml.ops.conv2d: acc = bias[oc] + sum over in-bounds taps of
 * (x + input_offset) * w; taps in the padding contribute nothing. */

typedef struct {
    leafml_window_t window;
    int32_t batches;
    int32_t in_channels;
    int32_t out_channels;
    const int8_t *weights; /* [out_channels][k_h][k_w][in_channels] */
    const int32_t *bias;   /* [out_channels], or NULL */
    leafml_requant_t requant;
} leafml_conv_t;

static void leafml_conv2d_s8(const leafml_conv_t *p, const int8_t *input, int8_t *output)
{
    const leafml_window_t *w = &p->window;
    int32_t b, oy, ox, oc, ky, kx, ic;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * w->in_h * w->in_w * p->in_channels;
        for (oy = 0; oy < w->out_h; ++oy) {
            const int32_t y0 = oy * w->stride_h - w->pad_top;
            for (ox = 0; ox < w->out_w; ++ox) {
                const int32_t x0 = ox * w->stride_w - w->pad_left;
                for (oc = 0; oc < p->out_channels; ++oc) {
                    const int8_t *filter = p->weights + oc * w->k_h * w->k_w * p->in_channels;
                    int32_t acc = p->bias != NULL ? p->bias[oc] : 0;
                    for (ky = 0; ky < w->k_h; ++ky) {
                        const int32_t y = y0 + ky * w->dilation_h;
                        if (y < 0 || y >= w->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < w->k_w; ++kx) {
                            const int32_t x = x0 + kx * w->dilation_w;
                            const int8_t *pixel;
                            const int8_t *tap;
                            if (x < 0 || x >= w->in_w) {
                                continue;
                            }
                            pixel = image + (y * w->in_w + x) * p->in_channels;
                            tap = filter + (ky * w->k_w + kx) * p->in_channels;
                            for (ic = 0; ic < p->in_channels; ++ic) {
                                acc += (pixel[ic] + p->requant.input_offset) * tap[ic];
                            }
                        }
                    }
                    *output++ = leafml_requantize(acc, &p->requant, oc);
                }
            }
        }
    }
}
