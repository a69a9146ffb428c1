/* One Hann-windowed, zero-padded frame of one axis, read through the
 * pipeline's leafml_dsp_sample hook (the input, or the filtered signal):
 * buffer[j] = sample(start + j) * window[j] for j < length, then zeros up to
 * fft_length. */
static void leafml_dsp_load_frame(const unsigned char *input, int32_t start, int32_t length, int32_t axes,
                                  int32_t axis, const float *window, int32_t fft_length, float *buffer)
{
    int32_t j;
    for (j = 0; j < length; ++j) {
        buffer[j] = leafml_dsp_sample(input, (start + j) * axes + axis, axis) * window[j];
    }
    for (; j < fft_length; ++j) {
        buffer[j] = 0.0f;
    }
}
