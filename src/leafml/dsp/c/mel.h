/* Log mel filterbank energies (MFE) and their cepstral coefficients (MFCC),
 * the tf.signal definition: per frame, the magnitude of the FFT of the
 * Hann-windowed frame, weighted into triangular mel bands, ln(energy +
 * epsilon), and for MFCC a DCT-II.  The mel weights are stored band by band,
 * only where nonzero: each band weighs the spectrum bins band_start[m] ..
 * band_start[m] + band_bins[m] - 1.  Needs float_math.h, frame.h, fft.h. */
typedef struct {
    int32_t frames;
    int32_t frame_length;
    int32_t frame_step;
    int32_t fft_length;
    const float *window;      /* [frame_length] */
    const float *twiddles;    /* [fft_length], see fft.h */
    int32_t mel_bins;
    int32_t first_bin;        /* the lowest bin any band weighs */
    int32_t end_bin;          /* one past the highest */
    const int32_t *band_start; /* [mel_bins] */
    const int32_t *band_bins; /* [mel_bins] */
    const float *weights;     /* the nonzero weights, band after band */
    float log_epsilon;
    int32_t coefficients;     /* 0 for MFE (store the log energies), else the MFCCs kept */
    const float *dct;         /* [coefficients][mel_bins], row c the c-th DCT-II basis vector */
    float *fft;               /* buffer [fft_length] */
    float *spectrum;          /* buffer [fft_length / 2 + 1] */
    float *log_mel;           /* buffer [mel_bins] */
} leafml_dsp_mel_t;

static void leafml_dsp_mel_features(const unsigned char *input, const leafml_dsp_mel_t *p, unsigned char *output)
{
    const int32_t half = p->fft_length / 2;
    int32_t frame, m, k, c;
    for (frame = 0; frame < p->frames; ++frame) {
        const float *weight = p->weights;
        leafml_dsp_load_frame(input, frame * p->frame_step, p->frame_length, 1, 0, p->window, p->fft_length, p->fft);
        leafml_dsp_complex_fft(p->fft, half, p->twiddles);
        leafml_dsp_real_fft_power(p->fft, half, p->twiddles, p->spectrum);
        /* Magnitudes only where a band will read them. */
        for (k = p->first_bin; k < p->end_bin; ++k) {
            p->spectrum[k] = leafml_dsp_sqrtf(p->spectrum[k]);
        }
        for (m = 0; m < p->mel_bins; ++m) {
            const float *bins = p->spectrum + p->band_start[m];
            float energy = 0.0f;
            for (k = 0; k < p->band_bins[m]; ++k) {
                energy += bins[k] * *weight++;
            }
            p->log_mel[m] = leafml_dsp_logf(energy + p->log_epsilon);
        }
        if (p->coefficients == 0) {
            for (m = 0; m < p->mel_bins; ++m) {
                leafml_dsp_store(output, frame * p->mel_bins + m, p->log_mel[m]);
            }
            continue;
        }
        for (c = 0; c < p->coefficients; ++c) {
            const float *basis = p->dct + c * p->mel_bins;
            float sum = 0.0f;
            for (m = 0; m < p->mel_bins; ++m) {
                sum += basis[m] * p->log_mel[m];
            }
            leafml_dsp_store(output, frame * p->coefficients + c, sum);
        }
    }
}
