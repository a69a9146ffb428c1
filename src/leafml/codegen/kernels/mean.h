/* MEAN, int8 (needs nd.h, and fixedpoint.h or round_half_even.h by rounding
 * mode); same bytes as leafml.ops.mean.
 *
 * Each output sums its group of input elements (the `reduced` walk) in
 * int32; the outputs follow the `kept` walk in order.  The rescale of the
 * sum is the runtime's: TFLite's integer reference (TFLM) with double
 * rounding, XNNPACK's float32 one (LiteRT) with single rounding. */

typedef struct {
    int32_t rank;                    /* dimensions in use, 1..LEAFML_MAX_DIMS */
    int32_t counts[LEAFML_MAX_DIMS]; /* elements along each dimension */
    int32_t steps[LEAFML_MAX_DIMS];  /* element strides in the input */
} leafml_walk_t;

typedef struct {
    leafml_walk_t kept;    /* one output per element */
    leafml_walk_t reduced; /* the elements summed into one output */
#if LEAFML_SINGLE_ROUNDING
    float scale;      /* output = round(sum * scale + zero_point), float32 */
    float zero_point;
#else
    int32_t sum_offset; /* -input zero point * elements per output */
    int32_t multiplier;
    int32_t shift;
    int32_t output_zero_point;
#endif
} leafml_mean_t;

static int32_t leafml_mean_sum(const leafml_walk_t *w, const int8_t *input)
{
    const int32_t last = w->rank - 1;
    int32_t index[LEAFML_MAX_DIMS] = {0};
    int32_t sum = 0;
    do {
        const int8_t *row = input + leafml_nd_offset(index, w->steps, last);
        int32_t i;
        for (i = 0; i < w->counts[last]; ++i) {
            sum += row[i * w->steps[last]];
        }
    } while (leafml_nd_next(index, w->counts, last));
    return sum;
}

static void leafml_mean_s8(const leafml_mean_t *p, const int8_t *input, int8_t *output)
{
    int32_t index[LEAFML_MAX_DIMS] = {0};
    do {
        const int32_t sum = leafml_mean_sum(&p->reduced, input + leafml_nd_offset(index, p->kept.steps, p->kept.rank));
#if LEAFML_SINGLE_ROUNDING
        /* Two float32 roundings, in XNNPACK's order, then round half to even. */
        const float scaled = (float)sum * p->scale;
        float y = scaled + p->zero_point;
        y = y < -128.0f ? -128.0f : (y > 127.0f ? 127.0f : y);
        *output++ = (int8_t)leafml_round_half_even(y);
#else
        int32_t y = leafml_mul_by_quantized_multiplier(sum + p->sum_offset, p->multiplier, p->shift) + p->output_zero_point;
        y = y < -128 ? -128 : y;
        *output++ = (int8_t)(y > 127 ? 127 : y);
#endif
    } while (leafml_nd_next(index, p->kept.counts, p->kept.rank));
}
