/* CONV_2D, int8 (needs fixedpoint.h, window.h, dsp.h): NHWC input and
 * output, OHWI weights, int32 bias, per-channel (or per-tensor)
 * requantization.
 *
 * Same arithmetic as TFLite's reference_integer_ops::ConvPerChannel and
 * leafml.ops.conv2d: acc = bias[oc] + sum over in-bounds taps of
 * (x + input_offset) * w; taps in the padding contribute nothing.
 * leafml_conv2d_s8 is the portable form; leafml_conv2d_dsp_s8 replaces it
 * where LEAFML_ARM_DSP is 1. */

typedef struct {
    leafml_window_t window;
    int32_t batches;
    int32_t in_channels;
    int32_t out_channels;
    const int8_t *weights; /* [out_channels][k_h][k_w][in_channels] */
    const int32_t *bias;   /* [out_channels], or NULL */
    leafml_requant_t requant;
} leafml_conv_t;

#if !LEAFML_ARM_DSP
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
#endif /* !LEAFML_ARM_DSP */

#if LEAFML_ARM_DSP
/* The DSP form works on blocks of 4 output pixels.  It widens their windows
 * (im2col) into `columns`, 4 pixels x depth values rounded up to a multiple
 * of 4, int16, as lane words: value group g (values 4g..4g+3 in the weights'
 * [k_h][k_w][in_channels] order) of pixel j is the even/odd word pair at
 * columns[8g + 2j], so one pass over a filter row reads 4 pixels.  Then each
 * output channel's filter, read as int8 words straight from the weights,
 * meets the 4 pixels in a loop of SMLADs that keeps 4 accumulators in
 * registers: per 4 values, 1 weight load, 2 SXTB16, 2 LDM, 8 SMLAD.
 *
 * A window inside the image widens straight from the input, a filter row at
 * a time; one that reaches into the padding (or whose rows are not whole
 * words) is first gathered into a staging row of int8 bytes, padding as the
 * input zero point (0 once offset).  The scratch holds, in this order, a
 * table of 8 words per output channel (the block's 4 accumulators, the
 * channel's constants), the 4 lanes, and the staging row.
 *
 * A 1x1 convolution with no more output than input channels may write its
 * output over its own input: a block's windows are widened before any of its
 * outputs is stored, and the outputs of the pixels so far take no more bytes
 * than their inputs, which come first. */

/* Widen `groups` words of 4 int8 values at `bytes` into the pixel lane at `lane`. */
LEAFML_DSP_NOINLINE static void leafml_columns_widen(int32_t *lane, const int8_t *bytes, int32_t groups,
                                                     uint32_t offset_lanes, int32_t doubled)
{
    const int32_t *end = lane + 8 * groups;
    for (; lane != end; lane += 8, bytes += 4) {
        uint32_t even, odd;
        leafml_dsp_widen4(leafml_dsp_read4(bytes), offset_lanes, doubled, &even, &odd);
        lane[0] = (int32_t)even;
        lane[1] = (int32_t)odd;
    }
}

/* n copies of `value` from `to`; returns the end. */
static inline int8_t *leafml_fill_bytes(int8_t *to, int8_t value, int32_t n)
{
    int8_t *const end = to + n;
    while (to != end) {
        *to++ = value;
    }
    return end;
}

/* The window at (y0, x0) as int8 bytes in the weights' order into `staging`,
 * padding (and the tail up to a multiple of 4) as the input zero point. */
LEAFML_DSP_NOINLINE static void leafml_conv_gather(const leafml_conv_t *p, const int8_t *image, int32_t y0,
                                                   int32_t x0, int8_t *staging)
{
    const leafml_window_t *w = &p->window;
    const int8_t padding = (int8_t)-p->requant.input_offset; /* the input zero point */
    const int32_t channels = p->in_channels;
    const int32_t depth = w->k_h * w->k_w * channels;
    int8_t *const end = staging + ((depth + 3) & ~3);
    /* The taps kx in [first, last) fall inside the image's columns. */
    int32_t first = 0, last = w->k_w, ky, kx;
    while (first < last && x0 + first * w->dilation_w < 0) {
        ++first;
    }
    while (last > first && x0 + (last - 1) * w->dilation_w >= w->in_w) {
        --last;
    }
    for (ky = 0; ky < w->k_h; ++ky) {
        const int32_t y = y0 + ky * w->dilation_h;
        if (y < 0 || y >= w->in_h) {
            staging = leafml_fill_bytes(staging, padding, w->k_w * channels);
            continue;
        }
        staging = leafml_fill_bytes(staging, padding, first * channels);
        for (kx = first; kx < last; ++kx) {
            const int8_t *tap = image + (y * w->in_w + x0 + kx * w->dilation_w) * channels;
            const int8_t *const tap_end = tap + channels;
            while (tap != tap_end) {
                *staging++ = *tap++;
            }
        }
        staging = leafml_fill_bytes(staging, padding, (w->k_w - last) * channels);
    }
    leafml_fill_bytes(staging, padding, (int32_t)(end - staging));
}

/* The window of output pixel `pixel` of one image into pixel lane `lane`;
 * `staging` has room for the depth rounded up to 4 bytes. */
static void leafml_conv_columns(const leafml_conv_t *p, const int8_t *image, int32_t pixel, int32_t *lane,
                                int8_t *staging, int32_t doubled)
{
    const leafml_window_t *w = &p->window;
    const uint32_t offset_lanes = leafml_dsp_lanes(p->requant.input_offset);
    const int32_t channels = p->in_channels;
    const int32_t oy = pixel / w->out_w;
    const int32_t ox = pixel - oy * w->out_w;
    const int32_t y0 = oy * w->stride_h - w->pad_top;
    const int32_t x0 = ox * w->stride_w - w->pad_left;
    const int32_t row_values = w->k_w * channels;
    const int32_t inside = y0 >= 0 && y0 + (w->k_h - 1) * w->dilation_h < w->in_h && x0 >= 0
                           && x0 + w->k_w <= w->in_w && w->dilation_w == 1;
    int32_t ky;
    if (inside && (row_values & 3) == 0) {
        const int8_t *row = image + (y0 * w->in_w + x0) * channels;
        for (ky = 0; ky < w->k_h; ++ky, row += w->dilation_h * w->in_w * channels, lane += 2 * row_values) {
            leafml_columns_widen(lane, row, row_values >> 2, offset_lanes, doubled);
        }
    } else {
        leafml_conv_gather(p, image, y0, x0, staging);
        leafml_columns_widen(lane, staging, (w->k_h * row_values + 3) >> 2, offset_lanes, doubled);
    }
}

/* 8 SMLADs of one filter word (4 values) against the 4 pixels of one column group. */
#define LEAFML_CONV_STEP(word)                                                                  \
    do {                                                                                        \
        const uint32_t even_w = __sxtb16(word), odd_w = leafml_dsp_sxtb16_odd(word);            \
        uint32_t even_x, odd_x;                                                                 \
        LEAFML_DSP_LOAD_PAIR(x, even_x, odd_x);                                                 \
        a0 = __smlad(even_x, even_w, __smlad(odd_x, odd_w, a0));                                \
        LEAFML_DSP_LOAD_PAIR(x, even_x, odd_x);                                                 \
        a1 = __smlad(even_x, even_w, __smlad(odd_x, odd_w, a1));                                \
        LEAFML_DSP_LOAD_PAIR(x, even_x, odd_x);                                                 \
        a2 = __smlad(even_x, even_w, __smlad(odd_x, odd_w, a2));                                \
        LEAFML_DSP_LOAD_PAIR(x, even_x, odd_x);                                                 \
        a3 = __smlad(even_x, even_w, __smlad(odd_x, odd_w, a3));                                \
    } while (0)

/* Widen one group-interleaved block of 4 pixels of a 1x1 convolution: the
 * pixels' `groups` words start at source[0..3]. */
LEAFML_DSP_NOINLINE static void leafml_columns_widen4(int32_t *columns, const int8_t *const source[4], int32_t groups,
                                                      uint32_t offset_lanes, int32_t doubled)
{
    const int8_t *s0 = source[0], *s1 = source[1], *s2 = source[2], *s3 = source[3];
    const int32_t *end = columns + 8 * groups;
    for (; columns != end; columns += 8, s0 += 4, s1 += 4, s2 += 4, s3 += 4) {
        uint32_t even, odd;
        leafml_dsp_widen4(leafml_dsp_read4(s0), offset_lanes, doubled, &even, &odd);
        columns[0] = (int32_t)even, columns[1] = (int32_t)odd;
        leafml_dsp_widen4(leafml_dsp_read4(s1), offset_lanes, doubled, &even, &odd);
        columns[2] = (int32_t)even, columns[3] = (int32_t)odd;
        leafml_dsp_widen4(leafml_dsp_read4(s2), offset_lanes, doubled, &even, &odd);
        columns[4] = (int32_t)even, columns[5] = (int32_t)odd;
        leafml_dsp_widen4(leafml_dsp_read4(s3), offset_lanes, doubled, &even, &odd);
        columns[6] = (int32_t)even, columns[7] = (int32_t)odd;
    }
}

/* One output channel: its accumulators for the current block of 4 pixels,
 * next to the constants that turn them into int8 (gathered once per call). */
typedef struct {
    int32_t acc[4];           /* lane by lane */
    leafml_dsp_scale_t scale; /* fast mode only */
    int32_t bias;             /* doubled in fast mode */
} leafml_conv_channel_t;

/* One group of 4 filter values against the 4 pixel lanes, in assembly: LDM
 * brings a lane pair's 4 words in one instruction, which GCC would not. */
#define LEAFML_CONV_GROUP_ASM                                                                   \
    "ldr %[w0], [%[pw]], #4\n\t"                                                                \
    "sxtb16 %[w1], %[w0], ror #8\n\t"                                                           \
    "sxtb16 %[w0], %[w0]\n\t"                                                                   \
    "ldmia %[px]!, {r8, r9, r10, r11}\n\t"                                                      \
    "smlad %[a0], r8, %[w0], %[a0]\n\t"                                                         \
    "smlad %[a0], r9, %[w1], %[a0]\n\t"                                                         \
    "smlad %[a1], r10, %[w0], %[a1]\n\t"                                                        \
    "smlad %[a1], r11, %[w1], %[a1]\n\t"                                                        \
    "ldmia %[px]!, {r8, r9, r10, r11}\n\t"                                                      \
    "smlad %[a2], r8, %[w0], %[a2]\n\t"                                                         \
    "smlad %[a2], r9, %[w1], %[a2]\n\t"                                                         \
    "smlad %[a3], r10, %[w0], %[a3]\n\t"                                                        \
    "smlad %[a3], r11, %[w1], %[a3]\n\t"

/* One block: acc[j] = bias + filter . pixel lane j, for every output channel. */
LEAFML_DSP_NOINLINE static void leafml_conv_dots(const int32_t *columns, const int8_t *filter, int32_t depth,
                                                 leafml_conv_channel_t *channel, const leafml_conv_channel_t *end)
{
    const uint32_t quads = (uint32_t)depth >> 4; /* loop trips of 4 groups (16 values) */
    for (; channel != end; ++channel) {
        const uint32_t *x = (const uint32_t *)columns;
        int32_t a0 = channel->bias, a1 = a0, a2 = a0, a3 = a0;
        if (quads != 0) {
            uint32_t n = quads, w0, w1;
            __asm__("1:\n\t" LEAFML_CONV_GROUP_ASM LEAFML_CONV_GROUP_ASM LEAFML_CONV_GROUP_ASM LEAFML_CONV_GROUP_ASM
                    "subs %[n], %[n], #1\n\t"
                    "bne 1b"
                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [px] "+r"(x), [pw] "+r"(filter),
                      [n] "+r"(n), [w0] "=&r"(w0), [w1] "=&r"(w1)
                    :
                    : "r8", "r9", "r10", "r11", "cc", "memory");
        }
        if (depth & 15) {
            int32_t left = depth & 15;
            for (; left >= 4; left -= 4, filter += 4) {
                const uint32_t word = leafml_dsp_read4(filter);
                LEAFML_CONV_STEP(word);
            }
            if (left) {
                /* The last 1 to 3 values of the filter; the columns hold 0 beyond them. */
                uint32_t word = 0;
                memcpy(&word, filter, (size_t)left);
                filter += left;
                LEAFML_CONV_STEP(word);
            }
        }
        channel->acc[0] = a0, channel->acc[1] = a1, channel->acc[2] = a2, channel->acc[3] = a3;
    }
}

/* Fast mode, whole int8 range: each channel's 4 values to lane j's output pixel, out + step[j] bytes. */
LEAFML_DSP_NOINLINE static void leafml_conv_store_fast(const leafml_conv_channel_t *channel,
                                                       const leafml_conv_channel_t *end, int8_t *out,
                                                       const int32_t step[4])
{
    const int32_t step1 = step[1], step2 = step[2], step3 = step[3];
    for (; channel != end; ++channel, ++out) {
        const leafml_dsp_scale_t scale = channel->scale;
        const int32_t v0 = leafml_dsp_requantize(channel->acc[0], &scale);
        const int32_t v1 = leafml_dsp_requantize(channel->acc[1], &scale);
        const int32_t v2 = leafml_dsp_requantize(channel->acc[2], &scale);
        const int32_t v3 = leafml_dsp_requantize(channel->acc[3], &scale);
        out[0] = (int8_t)v0;
        out[step1] = (int8_t)v1;
        out[step2] = (int8_t)v2;
        out[step3] = (int8_t)v3;
    }
}

static void leafml_conv2d_dsp_s8(const leafml_conv_t *p, const int8_t *input, int8_t *output, int32_t *scratch,
                                 int32_t mode)
{
    const leafml_window_t *w = &p->window;
    const leafml_requant_t *q = &p->requant;
    const int32_t fast = mode != LEAFML_DSP_GENERAL, narrow = mode == LEAFML_DSP_FAST_CLAMPED;
    const int32_t depth = w->k_h * w->k_w * p->in_channels;
    const int32_t padded = (depth + 3) & ~3;
    const int32_t pixels = w->out_h * w->out_w;
    const int32_t pointwise = w->k_h == 1 && w->k_w == 1 && (p->in_channels & 3) == 0;
    leafml_conv_channel_t *channels = (leafml_conv_channel_t *)(void *)scratch;
    leafml_conv_channel_t *const channels_end = channels + p->out_channels;
    int32_t *columns = scratch + 8 * p->out_channels;
    int8_t *staging = (int8_t *)(columns + 2 * padded);
    int32_t b, first, j, oc;
    {
        const int32_t *bias = p->bias, *multiplier = q->multipliers, *exponent = q->shifts;
        const int32_t step = fast ? q->per_channel : 0, zero_point = q->output_offset;
        leafml_conv_channel_t *channel;
        for (channel = channels; channel != channels_end; ++channel) {
            channel->bias = bias != NULL ? *bias++ * (1 + fast) : 0;
            if (fast) {
                channel->scale = leafml_dsp_scale_of(*multiplier, *exponent, zero_point);
                multiplier += step, exponent += step;
            }
        }
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * w->in_h * w->in_w * p->in_channels;
        for (first = 0; first < pixels; first += 4) {
            /* A last block of fewer than 4 pixels repeats its last pixel, so
             * every lane computes and stores a real output. */
            int32_t step[4]; /* bytes from the block's first output pixel to lane j's */
            const int8_t *source[4]; /* a 1x1 window: lane j's input pixel */
            int8_t *out = output + (b * pixels + first) * p->out_channels;
            for (j = 0; j < 4; ++j) {
                const int32_t pixel = first + j < pixels ? first + j : pixels - 1;
                const int32_t oy = pixel / w->out_w, ox = pixel - oy * w->out_w;
                step[j] = (pixel - first) * p->out_channels;
                if (pointwise) {
                    source[j] = image + (oy * w->stride_h * w->in_w + ox * w->stride_w) * p->in_channels;
                } else {
                    leafml_conv_columns(p, image, pixel, columns + 2 * j, staging, fast);
                }
            }
            if (pointwise) {
                leafml_columns_widen4(columns, source, depth >> 2, leafml_dsp_lanes(q->input_offset), fast);
            }
            leafml_conv_dots(columns, p->weights, depth, channels, channels_end);
            if (fast && !narrow) {
                leafml_conv_store_fast(channels, channels_end, out, step);
                continue;
            }
            for (oc = 0; oc < p->out_channels; ++oc) {
                for (j = 0; j < 4; ++j) {
                    const int32_t acc = channels[oc].acc[j];
                    const int32_t value = fast ? leafml_dsp_clamp(leafml_dsp_requantize(acc, &channels[oc].scale), q, 1)
                                               : leafml_requantize(acc, q, oc);
                    out[oc + step[j]] = (int8_t)value;
                }
            }
        }
    }
}
#endif /* LEAFML_ARM_DSP */
