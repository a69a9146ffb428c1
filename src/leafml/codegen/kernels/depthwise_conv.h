/* DEPTHWISE_CONV_2D, int8 (needs fixedpoint.h, window.h, dsp.h): NHWC input
 * and output, weights [1][k_h][k_w][in_channels * depth_multiplier], int32 bias.
 *
 * Same arithmetic as leafml.ops.depthwise_conv2d: output channel
 * c * depth_multiplier + m accumulates bias + (x + input_offset) * w over the
 * in-bounds taps of input channel c (taps in the padding contribute
 * nothing).  The accumulator is requantized per channel as the runtime of
 * the rounding mode does: with double rounding TFLite's integer reference
 * (TFLM), with single rounding XNNPACK's float32 scales (LiteRT).
 * leafml_depthwise_conv2d_s8 is the portable form; leafml_depthwise_conv2d_dsp_s8
 * replaces it where LEAFML_ARM_DSP is 1. */

typedef struct {
    leafml_window_t window;
    int32_t batches;
    int32_t in_channels;
    int32_t depth_multiplier;
    const int8_t *weights; /* [k_h][k_w][in_channels * depth_multiplier] */
    const int32_t *bias;   /* [in_channels * depth_multiplier] */
    leafml_requant_t requant;
} leafml_depthwise_conv_t;

#if !LEAFML_ARM_DSP
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
#endif /* !LEAFML_ARM_DSP */

#if LEAFML_ARM_DSP
/* The DSP form copies one input channel at a time into a plane: an int16
 * image of the rows and columns the window visits (padding included, as 0),
 * holding x + input_offset (doubled in fast mode).  Adjacent taps are then
 * adjacent lanes, so one SMLAD does two taps of a filter row.  The plane is
 * stored transposed when the output has more rows than columns, so that the
 * inner loops always run along the longer side: a "line" of outputs is an
 * output row (or column), "along" and "across" name the two directions.
 *
 * For each line, a first pass sums bias and taps into a line of int32
 * accumulators; a 3x3 filter (dilation 1) keeps its 9 weights in 5 registers
 * and does two outputs per step (for stride 1: 3 loads and 4
 * multiply-accumulates per filter row for 6 MACs), other windows take one
 * multiply-accumulate per tap.  A second pass requantizes and stores.  The
 * scratch holds the plane and one line of accumulators.
 *
 * A channel's outputs overwrite only that channel's bytes, which the plane
 * already holds, so with depth multiplier 1 the kernel may write its output
 * over its own input. */

/* Two int16 lanes starting at halfword `index` of a plane line (any alignment). */
static inline uint32_t leafml_plane_pair(const int16_t *line, int32_t index)
{
    uint32_t pair;
    memcpy(&pair, line + index, sizeof pair);
    return pair;
}

static inline uint32_t leafml_lanes2(int32_t low, int32_t high)
{
    return ((uint32_t)low & 0xFFFFu) | ((uint32_t)high << 16);
}

/* The plane as the loops see it, and a 3x3 filter in its orientation as lane
 * pairs (w00, w01), (w10, w11), (w20, w21), (w02, w12), (w22, 0): first index
 * across, second along. */
typedef struct {
    int32_t lines, length;        /* output lines, outputs per line */
    int32_t stride, cross_stride; /* window steps along and across, in plane values */
    int32_t k_along, k_across;    /* window size along and across */
    int32_t dil_along, dil_across;
    int32_t pitch;                /* halfwords from one plane line to the next */
    int32_t out_along, out_across; /* bytes between outputs along a line and between lines */
    uint32_t row0, row1, row2, last01, last2;
    int32_t bias;
} leafml_dw_view_t;

/* Output at `col` of the line starting at `line`, 3x3 filter, plus `acc`. */
static inline int32_t leafml_dw3x3_one(const int16_t *line, int32_t col, const leafml_dw_view_t *v, int32_t acc)
{
    const int16_t *line1 = line + v->pitch, *line2 = line1 + v->pitch;
    acc = __smlad(leafml_plane_pair(line, col), v->row0, acc);
    acc = __smlabb((int32_t)leafml_plane_pair(line, col + 2), (int32_t)v->last01, acc);
    acc = __smlad(leafml_plane_pair(line1, col), v->row1, acc);
    acc = __smlabt((int32_t)leafml_plane_pair(line1, col + 2), (int32_t)v->last01, acc);
    acc = __smlad(leafml_plane_pair(line2, col), v->row2, acc);
    return __smlabb((int32_t)leafml_plane_pair(line2, col + 2), (int32_t)v->last2, acc);
}

/* One line of a 3x3 filter (dilation 1): acc[i] = bias + taps, for i < length. */
LEAFML_DSP_NOINLINE static void leafml_dw3x3_line(const int16_t *line, const leafml_dw_view_t *view, int32_t *acc)
{
    const leafml_dw_view_t v = *view;
    const int32_t *end = acc + (v.length & ~1);
    if (v.stride == 1) {
        /* Output i + 1 reads (x1, x2) and the top lane of (x2, x3), which output i also reads. */
        const int16_t *line1 = line + v.pitch, *line2 = line1 + v.pitch;
        for (; acc != end; acc += 2, line += 2, line1 += 2, line2 += 2) {
            uint32_t right = leafml_plane_pair(line, 2);
            int32_t a0 = __smlad(leafml_plane_pair(line, 0), v.row0, v.bias);
            int32_t a1 = __smlad(leafml_plane_pair(line, 1), v.row0, v.bias);
            a0 = __smlabb((int32_t)right, (int32_t)v.last01, a0);
            a1 = __smlatb((int32_t)right, (int32_t)v.last01, a1);
            right = leafml_plane_pair(line1, 2);
            a0 = __smlabt((int32_t)right, (int32_t)v.last01, __smlad(leafml_plane_pair(line1, 0), v.row1, a0));
            a1 = __smlatt((int32_t)right, (int32_t)v.last01, __smlad(leafml_plane_pair(line1, 1), v.row1, a1));
            right = leafml_plane_pair(line2, 2);
            a0 = __smlabb((int32_t)right, (int32_t)v.last2, __smlad(leafml_plane_pair(line2, 0), v.row2, a0));
            a1 = __smlatb((int32_t)right, (int32_t)v.last2, __smlad(leafml_plane_pair(line2, 1), v.row2, a1));
            acc[0] = a0;
            acc[1] = a1;
        }
    } else {
        for (; acc != end; acc += 2, line += 2 * v.stride) {
            acc[0] = leafml_dw3x3_one(line, 0, &v, v.bias);
            acc[1] = leafml_dw3x3_one(line, v.stride, &v, v.bias);
        }
    }
    if (v.length & 1) {
        *acc = leafml_dw3x3_one(line, 0, &v, v.bias);
    }
}

/* One line of any other filter: one multiply-accumulate per tap.  `taps`
 * steps `tap_across` bytes across and `tap_along` along the window. */
LEAFML_DSP_NOINLINE static void leafml_dw_line(const int16_t *line, const leafml_dw_view_t *v, const int8_t *taps,
                                               int32_t tap_across, int32_t tap_along, int32_t *acc)
{
    int32_t i, a, k;
    for (i = 0; i < v->length; ++i, line += v->stride) {
        int32_t sum = v->bias;
        for (a = 0; a < v->k_across; ++a) {
            for (k = 0; k < v->k_along; ++k) {
                const int32_t tap = taps[a * tap_across + k * tap_along];
                sum += line[a * v->dil_across * v->pitch + k * v->dil_along] * tap;
            }
        }
        acc[i] = sum;
    }
}

/* A run of one plane line: count values x * scale + offset from `x`, which steps x_step bytes. */
LEAFML_DSP_NOINLINE static void leafml_dw_fill(int16_t *value, const int8_t *x, int32_t x_step, int32_t count,
                                               int32_t scale, int32_t offset)
{
    const int16_t *end = value + (count & ~3);
    for (; value != end; value += 4, x += 4 * x_step) {
        value[0] = (int16_t)__smlabb(x[0], scale, offset);
        value[1] = (int16_t)__smlabb(x[x_step], scale, offset);
        value[2] = (int16_t)__smlabb(x[2 * x_step], scale, offset);
        value[3] = (int16_t)__smlabb(x[3 * x_step], scale, offset);
    }
    for (end += count & 3; value != end; ++value, x += x_step) {
        *value = (int16_t)__smlabb(*x, scale, offset);
    }
}

/* Requantize (fast mode, whole int8 range) and store `count` accumulators, `step` bytes apart. */
LEAFML_DSP_NOINLINE static void leafml_dw_store(const int32_t *acc, int32_t count, int8_t *out, int32_t step,
                                                const leafml_dsp_scale_t *scale)
{
    const leafml_dsp_scale_t s = *scale;
    const int32_t *end = acc + (count & ~1);
    for (; acc != end; acc += 2, out += 2 * step) {
        const int8_t first = (int8_t)leafml_dsp_requantize(acc[0], &s);
        const int8_t second = (int8_t)leafml_dsp_requantize(acc[1], &s);
        out[0] = first;
        out[step] = second;
    }
    if (count & 1) {
        *out = (int8_t)leafml_dsp_requantize(*acc, &s);
    }
}

static void leafml_depthwise_conv2d_dsp_s8(const leafml_depthwise_conv_t *p, const int8_t *input, int8_t *output,
                                           int32_t *scratch, int32_t mode)
{
    const leafml_window_t *w = &p->window;
    const leafml_requant_t *q = &p->requant;
    const int32_t fast = mode != LEAFML_DSP_GENERAL, narrow = mode == LEAFML_DSP_FAST_CLAMPED;
    const int32_t out_channels = p->in_channels * p->depth_multiplier;
    const int32_t rows = (w->out_h - 1) * w->stride_h + (w->k_h - 1) * w->dilation_h + 1;
    const int32_t cols = (w->out_w - 1) * w->stride_w + (w->k_w - 1) * w->dilation_w + 1;
    /* The part of the plane the image covers (padding is never negative); the rest stays 0. */
    const int32_t top = w->pad_top, left = w->pad_left;
    const int32_t bottom = rows < top + w->in_h ? rows : top + w->in_h;
    const int32_t right = cols < left + w->in_w ? cols : left + w->in_w;
    const int32_t transposed = w->out_h > w->out_w;
    /* Plane values (x + input_offset) * scale, scale 2 in fast mode. */
    const int32_t scale = 1 + fast, offset = q->input_offset * scale;
    int16_t *plane = (int16_t *)(void *)scratch;
    leafml_dw_view_t v;
    int32_t tap_across, tap_along, three_by_three;
    int32_t *acc;
    int32_t b, c, m, r, line, i;
    if (transposed) {
        v.lines = w->out_w, v.length = w->out_h, v.stride = w->stride_h, v.cross_stride = w->stride_w;
        v.k_along = w->k_h, v.k_across = w->k_w, v.dil_along = w->dilation_h, v.dil_across = w->dilation_w;
        v.pitch = (rows + 2) & ~1; /* even: lines start on words; a spare lane past the last value */
        v.out_along = w->out_w * out_channels, v.out_across = out_channels;
        tap_across = out_channels, tap_along = w->k_w * out_channels;
    } else {
        v.lines = w->out_h, v.length = w->out_w, v.stride = w->stride_w, v.cross_stride = w->stride_h;
        v.k_along = w->k_w, v.k_across = w->k_h, v.dil_along = w->dilation_w, v.dil_across = w->dilation_h;
        v.pitch = (cols + 2) & ~1;
        v.out_along = out_channels, v.out_across = w->out_w * out_channels;
        tap_across = w->k_w * out_channels, tap_along = out_channels;
    }
    three_by_three = v.k_along == 3 && v.k_across == 3 && v.dil_along == 1 && v.dil_across == 1;
    acc = scratch + (transposed ? cols : rows) * v.pitch / 2;
    memset(plane, 0, (size_t)((transposed ? cols : rows) * v.pitch) * sizeof *plane);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * w->in_h * w->in_w * p->in_channels;
        int8_t *out_image = output + b * w->out_h * w->out_w * out_channels;
        for (c = 0; c < p->in_channels; ++c) {
            /* Along the plane's lines, so that each call fills one run of halfwords. */
            if (transposed) {
                for (r = left; r < right; ++r) {
                    leafml_dw_fill(plane + r * v.pitch + top, image + (r - left) * p->in_channels + c,
                                   w->in_w * p->in_channels, bottom - top, scale, offset);
                }
            } else {
                for (r = top; r < bottom; ++r) {
                    leafml_dw_fill(plane + r * v.pitch + left, image + (r - top) * w->in_w * p->in_channels + c,
                                   p->in_channels, right - left, scale, offset);
                }
            }
            for (m = 0; m < p->depth_multiplier; ++m) {
                const int32_t oc = c * p->depth_multiplier + m;
                const int8_t *taps = p->weights + oc;
                leafml_dsp_scale_t requant = {0, 0, 0};
                v.bias = p->bias[oc] * scale;
                if (three_by_three) {
                    v.row0 = leafml_lanes2(taps[0], taps[tap_along]);
                    v.row1 = leafml_lanes2(taps[tap_across], taps[tap_across + tap_along]);
                    v.row2 = leafml_lanes2(taps[2 * tap_across], taps[2 * tap_across + tap_along]);
                    v.last01 = leafml_lanes2(taps[2 * tap_along], taps[tap_across + 2 * tap_along]);
                    v.last2 = leafml_lanes2(taps[2 * tap_across + 2 * tap_along], 0);
                }
                if (fast) {
                    requant = leafml_dsp_scale(q, oc);
                }
                for (line = 0; line < v.lines; ++line) {
                    const int16_t *first = plane + line * v.cross_stride * v.pitch;
                    int8_t *out = out_image + oc + line * v.out_across;
                    if (three_by_three) {
                        leafml_dw3x3_line(first, &v, acc);
                    } else {
                        leafml_dw_line(first, &v, taps, tap_across, tap_along, acc);
                    }
                    if (fast && !narrow) {
                        leafml_dw_store(acc, v.length, out, v.out_along, &requant);
                    } else {
                        for (i = 0; i < v.length; ++i, out += v.out_along) {
                            const int32_t value = fast ? leafml_dsp_clamp(leafml_dsp_requantize(acc[i], &requant), q, 1)
                                                       : leafml_requantize(acc[i], q, oc);
                            *out = (int8_t)value;
                        }
                    }
                }
            }
        }
    }
}
#endif /* LEAFML_ARM_DSP */
