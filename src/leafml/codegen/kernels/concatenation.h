/* CONCATENATION, int8 (needs strided_copy.h): each input is copied into its
 * slab of the output.  Inputs share the output's quantization, so bytes move
 * unchanged.  Same bytes as leafml.ops.concatenation. */

typedef struct {
    int32_t count;                      /* inputs */
    const int32_t *offsets;             /* where each input's first element lands in the output */
    const leafml_copy_t *const *parts;  /* how each input spreads over the output */
} leafml_concatenation_t;

static void leafml_concatenation_s8(const leafml_concatenation_t *p, const int8_t *const *inputs, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->count; ++i) {
        leafml_strided_copy_s8(p->parts[i], inputs[i], output + p->offsets[i]);
    }
}
