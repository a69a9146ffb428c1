/* Low- and high-pass filters: cascades of second-order sections run over a
 * float copy of the window, in place.  Each window starts from rest (zero
 * state), as the numpy block does, so a window's features do not depend on
 * the one before. */

/* The window as the pipeline reads it (leafml_dsp_read), into signal. */
static void leafml_dsp_fill_signal(const unsigned char *input, int32_t samples, int32_t axes, float *signal)
{
    int32_t t, axis;
    for (t = 0; t < samples; ++t) {
        for (axis = 0; axis < axes; ++axis) {
            signal[t * axes + axis] = leafml_dsp_read(input, t * axes + axis, axis);
        }
    }
}

/* Each of `count` sections (b0, b1, b2, a1, a2; a0 = 1) in turn over every
 * axis of signal, in transposed direct form II. */
static void leafml_dsp_biquad_cascade(float *signal, int32_t samples, int32_t axes, const float *sections,
                                      int32_t count)
{
    int32_t section, axis, t;
    for (section = 0; section < count; ++section) {
        const float *c = sections + 5 * section;
        for (axis = 0; axis < axes; ++axis) {
            float s1 = 0.0f;
            float s2 = 0.0f;
            for (t = 0; t < samples; ++t) {
                const float x = signal[t * axes + axis];
                const float y = c[0] * x + s1;
                s1 = c[1] * x - c[3] * y + s2;
                s2 = c[2] * x - c[4] * y;
                signal[t * axes + axis] = y;
            }
        }
    }
}
