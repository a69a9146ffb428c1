/* A strided n-d copy of int8 elements (needs nd.h): STRIDED_SLICE alone, and
 * the data movement of PAD and CONCATENATION.  Element (i0, ..., ik) goes
 * from src[sum i * src_steps] to dst[sum i * dst_steps]; source steps may be
 * negative (a reversed slice).  Same bytes as leafml.ops.strided_slice. */

typedef struct {
    int32_t rank;                       /* dimensions in use, 1..LEAFML_MAX_DIMS */
    int32_t counts[LEAFML_MAX_DIMS];    /* elements along each dimension */
    int32_t src_steps[LEAFML_MAX_DIMS]; /* element strides in the source */
    int32_t dst_steps[LEAFML_MAX_DIMS]; /* element strides in the destination */
} leafml_copy_t;

static void leafml_strided_copy_s8(const leafml_copy_t *c, const int8_t *src, int8_t *dst)
{
    const int32_t last = c->rank - 1;
    const int32_t length = c->counts[last];
    const int32_t src_step = c->src_steps[last];
    const int32_t dst_step = c->dst_steps[last];
    int32_t index[LEAFML_MAX_DIMS] = {0};
    do {
        const int8_t *from = src + leafml_nd_offset(index, c->src_steps, last);
        int8_t *to = dst + leafml_nd_offset(index, c->dst_steps, last);
        int32_t i;
        if (src_step == 1 && dst_step == 1) {
            memcpy(to, from, (size_t)length);
        } else {
            for (i = 0; i < length; ++i) {
                to[i * dst_step] = from[i * src_step];
            }
        }
    } while (leafml_nd_next(index, c->counts, last));
}
