/* Walking n-d index spaces: what the shape-generic kernels (strided copies,
 * broadcasting, reductions) share.  The generator merges dimensions that are
 * contiguous for every array involved, so at most LEAFML_MAX_DIMS remain and
 * most walks are one or two dimensions deep.  Kernels walk the "rows" (all
 * dimensions but the last) with these helpers and run the last dimension as
 * a plain loop. */

#define LEAFML_MAX_DIMS 6

/* Advance the row-major `index` over counts[0..rank); 0 once it wraps to all zeros. */
static inline int32_t leafml_nd_next(int32_t *index, const int32_t *counts, int32_t rank)
{
    int32_t d;
    for (d = rank - 1; d >= 0; --d) {
        if (++index[d] < counts[d]) {
            return 1;
        }
        index[d] = 0;
    }
    return 0;
}

/* The element offset of `index` in an array with element strides `steps`. */
static inline int32_t leafml_nd_offset(const int32_t *index, const int32_t *steps, int32_t rank)
{
    int32_t d;
    int32_t offset = 0;
    for (d = 0; d < rank; ++d) {
        offset += index[d] * steps[d];
    }
    return offset;
}
