/* Radix-2 FFT of a real frame, as the power |X_k|^2 of its one-sided spectrum.
 *
 * A real frame of N = 2n values is read as n complex values (even samples
 * the real parts, odd samples the imaginary parts: the same memory), given a
 * complex FFT of size n in place, and then split into the n + 1 bins of the
 * real spectrum.  One table serves both steps: twiddles[2k], twiddles[2k+1]
 * hold cos and -sin of 2 pi k / N for k < n (N floats in all). */

/* In-place decimation-in-time FFT of n complex values (n a power of two). */
static void leafml_dsp_complex_fft(float *data, int32_t n, const float *twiddles)
{
    int32_t i, j = 0;
    int32_t span;
    /* Bit-reversed order first, so that the butterflies run in place. */
    for (i = 1; i < n; ++i) {
        int32_t bit = n >> 1;
        while (j & bit) {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if (i < j) {
            const float re = data[2 * i];
            const float im = data[2 * i + 1];
            data[2 * i] = data[2 * j];
            data[2 * i + 1] = data[2 * j + 1];
            data[2 * j] = re;
            data[2 * j + 1] = im;
        }
    }
    for (span = 1; span < n; span <<= 1) {
        /* exp(-2 pi i k / (2 span)) is entry k * n / span of the size-2n table. */
        const int32_t stride = n / span;
        int32_t k;
        for (k = 0; k < span; ++k) {
            const float w_re = twiddles[2 * k * stride];
            const float w_im = twiddles[2 * k * stride + 1];
            int32_t start;
            for (start = k; start < n; start += 2 * span) {
                float *a = data + 2 * start;
                float *b = data + 2 * (start + span);
                /* Locals: the stores through a and b would otherwise force reloads. */
                const float a_re = a[0];
                const float a_im = a[1];
                const float t_re = w_re * b[0] - w_im * b[1];
                const float t_im = w_re * b[1] + w_im * b[0];
                a[0] = a_re + t_re;
                a[1] = a_im + t_im;
                b[0] = a_re - t_re;
                b[1] = a_im - t_im;
            }
        }
    }
}

/* power[k] = |X_k|^2, k = 0..n, of the real frame of 2n values whose
 * n-point complex FFT leafml_dsp_complex_fft left in data.
 * With Z the complex FFT and W = exp(-2 pi i k / 2n):
 *   2 X_k = (Z_k + conj Z_{n-k}) - i W (Z_k - conj Z_{n-k}). */
static void leafml_dsp_real_fft_power(const float *data, int32_t n, const float *twiddles, float *power)
{
    int32_t k;
    const float sum = data[0] + data[1];
    const float difference = data[0] - data[1];
    power[0] = sum * sum;
    power[n] = difference * difference;
    for (k = 1; k < n; ++k) {
        const float a_re = data[2 * k];
        const float a_im = data[2 * k + 1];
        const float b_re = data[2 * (n - k)];
        const float b_im = data[2 * (n - k) + 1];
        const float w_re = twiddles[2 * k];
        const float w_im = twiddles[2 * k + 1];
        const float even_re = a_re + b_re;
        const float even_im = a_im - b_im;
        const float odd_re = a_im + b_im;
        const float odd_im = b_re - a_re;
        const float x_re = even_re + (w_re * odd_re - w_im * odd_im);
        const float x_im = even_im + (w_re * odd_im + w_im * odd_re);
        power[k] = 0.25f * (x_re * x_re + x_im * x_im);
    }
}
