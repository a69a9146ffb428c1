/* The gain that brings the window's largest |sample| (over every axis, after
 * the raw block's scale) to 1; a silent window keeps gain 1. */
static float leafml_dsp_peak_gain(const unsigned char *input, int32_t samples, int32_t axes)
{
    float peak = 0.0f;
    int32_t t, axis;
    for (t = 0; t < samples; ++t) {
        for (axis = 0; axis < axes; ++axis) {
            float value = leafml_dsp_scaled(input, t * axes + axis, axis);
            if (value < 0.0f) {
                value = -value;
            }
            if (value > peak) {
                peak = value;
            }
        }
    }
    return peak > 0.0f ? 1.0f / peak : 1.0f;
}
