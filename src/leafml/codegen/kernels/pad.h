/* PAD, int8 (needs strided_copy.h): fill the output with the pad value (the
 * output zero point), then copy the input into its interior.  Same bytes as
 * leafml.ops.pad. */

typedef struct {
    int32_t output_size; /* bytes */
    int32_t value;       /* the pad byte */
    int32_t offset;      /* where the input's first element lands in the output */
    leafml_copy_t interior;
} leafml_pad_t;

static void leafml_pad_s8(const leafml_pad_t *p, const int8_t *input, int8_t *output)
{
    memset(output, p->value, (size_t)p->output_size);
    leafml_strided_copy_s8(&p->interior, input, output + p->offset);
}
