/* Elementwise binary operators with TFLite's broadcasting (needs nd.h).
 * The output is walked in order; each input is read with its own element
 * strides, 0 along the dimensions it broadcasts.  A row function computes
 * the last dimension; ADD (add.h) and MUL (mul.h) supply theirs. */

typedef struct {
    int32_t rank;                    /* dimensions in use, 1..LEAFML_MAX_DIMS */
    int32_t counts[LEAFML_MAX_DIMS]; /* output elements along each dimension */
    int32_t steps1[LEAFML_MAX_DIMS]; /* element strides of input 1 (0: broadcast) */
    int32_t steps2[LEAFML_MAX_DIMS]; /* element strides of input 2 */
} leafml_broadcast_t;

/* Computes out[i] = f(in1[i * step1], in2[i * step2]) for i < length. */
typedef void (*leafml_binary_row_fn)(const int8_t *in1, int32_t step1, const int8_t *in2, int32_t step2,
                                     int8_t *out, int32_t length, const void *params);

static void leafml_broadcast_s8(const leafml_broadcast_t *b, const int8_t *in1, const int8_t *in2, int8_t *out,
                                leafml_binary_row_fn row, const void *params)
{
    const int32_t last = b->rank - 1;
    const int32_t length = b->counts[last];
    int32_t index[LEAFML_MAX_DIMS] = {0};
    do {
        row(in1 + leafml_nd_offset(index, b->steps1, last), b->steps1[last],
            in2 + leafml_nd_offset(index, b->steps2, last), b->steps2[last], out, length, params);
        out += length;
    } while (leafml_nd_next(index, b->counts, last));
}
