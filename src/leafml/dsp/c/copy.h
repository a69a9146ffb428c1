/* Raw features: the window itself, samples x axes, through the sample hook. */
static void leafml_dsp_copy_signal(const unsigned char *input, int32_t samples, int32_t axes, unsigned char *output)
{
    int32_t t, axis;
    for (t = 0; t < samples; ++t) {
        for (axis = 0; axis < axes; ++axis) {
            leafml_dsp_store(output, t * axes + axis, leafml_dsp_sample(input, t * axes + axis, axis));
        }
    }
}
