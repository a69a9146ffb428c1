/* MAX_POOL_2D, int8: the largest in-bounds tap, clamped (needs pooling.h). */

static void leafml_max_pool_s8(const leafml_pool_t *p, const int8_t *input, int8_t *output)
{
    const leafml_window_t *w = &p->window;
    int32_t b, oy, ox, c, ky, kx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * w->in_h * w->in_w * p->channels;
        for (oy = 0; oy < w->out_h; ++oy) {
            const int32_t y0 = oy * w->stride_h - w->pad_top;
            for (ox = 0; ox < w->out_w; ++ox) {
                const int32_t x0 = ox * w->stride_w - w->pad_left;
                for (c = 0; c < p->channels; ++c) {
                    int32_t max = INT8_MIN;
                    for (ky = 0; ky < w->k_h; ++ky) {
                        const int32_t y = y0 + ky;
                        for (kx = 0; kx < w->k_w; ++kx) {
                            const int32_t x = x0 + kx;
                            int32_t value;
                            if (y < 0 || y >= w->in_h || x < 0 || x >= w->in_w) {
                                continue;
                            }
                            value = image[(y * w->in_w + x) * p->channels + c];
                            max = value > max ? value : max;
                        }
                    }
                    *output++ = (int8_t)leafml_clamp(max, p->act_min, p->act_max);
                }
            }
        }
    }
}
