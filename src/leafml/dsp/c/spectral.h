/* Spectral analysis, per axis: RMS, the strongest spectral peaks, band
 * powers and the magnitude of every bin, from the power spectrum averaged
 * over the window's Hann-windowed frames.  Power is one-sided and scaled so
 * that the bins add up to the mean square of the signal (Parseval): bin k
 * holds scale_k * mean_frames |X_k|^2, scale_k = 1 / (fft_length * sum(w^2))
 * at 0 Hz and Nyquist and twice that between.  Values per axis, in order:
 * [rms] [frequency (Hz), magnitude] * peaks, band powers, magnitudes of bins
 * 0 .. fft_length / 2.  Needs float_math.h, frame.h, fft.h. */

/* The most peaks the block reports (its config refuses more). */
#define LEAFML_DSP_MAX_PEAKS 8

typedef struct {
    int32_t samples;
    int32_t axes;
    int32_t frames;
    int32_t frame_length;
    int32_t frame_step;
    int32_t fft_length;
    const float *window;      /* [frame_length] */
    const float *twiddles;    /* [fft_length], see fft.h */
    float edge_scale;         /* scale_0 / frames: 1 / (fft_length * sum(w^2) * frames) */
    int32_t rms;              /* 1: report the RMS */
    float inverse_samples;    /* 1 / samples */
    int32_t peaks;            /* peaks reported, 0 .. LEAFML_DSP_MAX_PEAKS */
    float bin_hz;             /* sample rate / fft_length */
    int32_t bands;
    const int32_t *band_start; /* [bands] first bin of each band */
    const int32_t *band_bins; /* [bands] bins in each band */
    int32_t magnitudes;       /* 1: report every bin's magnitude, sqrt(power) */
    int32_t values_per_axis;
    float *fft;               /* buffer [fft_length] */
    float *frame_power;       /* buffer [fft_length / 2 + 1] */
    float *power;             /* buffer [fft_length / 2 + 1] */
} leafml_dsp_spectral_t;

/* Store the `count` largest local maxima of power[1 .. half - 1] (a bin
 * above its left neighbour and not below its right one) as frequency and
 * magnitude pairs from `index` on, the largest first and, between equal
 * ones, the lower bin first; missing peaks are stored as 0, 0. */
static void leafml_dsp_store_peaks(unsigned char *output, int32_t index, const float *power, int32_t half,
                                   int32_t count, float bin_hz)
{
    int32_t bins[LEAFML_DSP_MAX_PEAKS];
    float powers[LEAFML_DSP_MAX_PEAKS];
    int32_t found = 0;
    int32_t k, i;
    for (k = 1; k < half; ++k) {
        const float p = power[k];
        int32_t position = found;
        if (!(p > power[k - 1] && p >= power[k + 1])) {
            continue;
        }
        while (position > 0 && p > powers[position - 1]) {
            --position;
        }
        if (position >= count) {
            continue;
        }
        for (i = found < count ? found : count - 1; i > position; --i) {
            bins[i] = bins[i - 1];
            powers[i] = powers[i - 1];
        }
        bins[position] = k;
        powers[position] = p;
        if (found < count) {
            ++found;
        }
    }
    for (i = 0; i < count; ++i) {
        leafml_dsp_store(output, index + 2 * i, i < found ? (float)bins[i] * bin_hz : 0.0f);
        leafml_dsp_store(output, index + 2 * i + 1, i < found ? leafml_dsp_sqrtf(powers[i]) : 0.0f);
    }
}

static void leafml_dsp_spectral_features(const unsigned char *input, const leafml_dsp_spectral_t *p,
                                         unsigned char *output)
{
    const int32_t half = p->fft_length / 2;
    int32_t axis, t, frame, k, band;
    for (axis = 0; axis < p->axes; ++axis) {
        int32_t index = axis * p->values_per_axis;
        if (p->rms) {
            float sum = 0.0f;
            for (t = 0; t < p->samples; ++t) {
                const float x = leafml_dsp_sample(input, t * p->axes + axis, axis);
                sum += x * x;
            }
            leafml_dsp_store(output, index++, leafml_dsp_sqrtf(sum * p->inverse_samples));
        }
        for (k = 0; k <= half; ++k) {
            p->power[k] = 0.0f;
        }
        for (frame = 0; frame < p->frames; ++frame) {
            leafml_dsp_load_frame(input, frame * p->frame_step, p->frame_length, p->axes, axis, p->window,
                                  p->fft_length, p->fft);
            leafml_dsp_complex_fft(p->fft, half, p->twiddles);
            leafml_dsp_real_fft_power(p->fft, half, p->twiddles, p->frame_power);
            for (k = 0; k <= half; ++k) {
                p->power[k] += p->frame_power[k];
            }
        }
        for (k = 0; k <= half; ++k) {
            p->power[k] *= (k == 0 || k == half) ? p->edge_scale : 2.0f * p->edge_scale;
        }
        if (p->peaks > 0) {
            leafml_dsp_store_peaks(output, index, p->power, half, p->peaks, p->bin_hz);
            index += 2 * p->peaks;
        }
        for (band = 0; band < p->bands; ++band) {
            float sum = 0.0f;
            for (k = 0; k < p->band_bins[band]; ++k) {
                sum += p->power[p->band_start[band] + k];
            }
            leafml_dsp_store(output, index++, sum);
        }
        if (p->magnitudes) {
            for (k = 0; k <= half; ++k) {
                leafml_dsp_store(output, index++, leafml_dsp_sqrtf(p->power[k]));
            }
        }
    }
}
