/* Element-wise int8 operators as a 256-entry table: LOGISTIC, TANH, RELU,
 * RELU6, LEAKY_RELU, HARD_SWISH and QUANTIZE between 8-bit types.  Twin of
 * leafml.ops.activations.LookupTable: the generator computes each table with
 * the runtime's own arithmetic (fixed point for TFLM, XNNPACK's for LiteRT),
 * so the kernel is the same for every operator and rounding mode.
 *
 * static inline: quantize.h builds on this file, and a model whose only such
 * node is a float conversion leaves the function unused. */

/* output[i] = table[input[i] + 128] for i < size.  A table holds output bytes
 * (a uint8 output's values as their int8 bit patterns), and output may be
 * input itself. */
static inline void leafml_lookup_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t size)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        output[i] = table[input[i] + 128];
    }
}
