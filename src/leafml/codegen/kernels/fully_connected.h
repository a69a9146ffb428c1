/* FULLY_CONNECTED, int8: input read as [batches][in_features], weights
 * [out_features][in_features], int32 bias, per-tensor (or per-channel)
 * requantization.  Same arithmetic as TFLite's
 * reference_integer_ops::FullyConnected and leafml.ops.fully_connected. */

typedef struct {
    int32_t batches;
    int32_t in_features;
    int32_t out_features;
    const int8_t *weights; /* [out_features][in_features] */
    const int32_t *bias;   /* [out_features], or NULL */
    leafml_requant_t requant;
} leafml_fully_connected_t;

static void leafml_fully_connected_s8(const leafml_fully_connected_t *p, const int8_t *input, int8_t *output)
{
    int32_t b, o, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *row = input + b * p->in_features;
        for (o = 0; o < p->out_features; ++o) {
            const int8_t *weights = p->weights + o * p->in_features;
            int32_t acc = p->bias != NULL ? p->bias[o] : 0;
            for (i = 0; i < p->in_features; ++i) {
                acc += (row[i] + p->requant.input_offset) * weights[i];
            }
            *output++ = leafml_requantize(acc, &p->requant, o);
        }
    }
}
