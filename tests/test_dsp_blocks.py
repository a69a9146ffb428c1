"""The numpy DSP blocks: each checked against an independent statement of
its definition (TensorFlow's tf.signal steps written out again here,
scipy's Butterworth design and filter, Parseval)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.fft
import scipy.signal

from leafml.dsp import DspError, DspPipeline, RecordingTooShort
from leafml.dsp.filters import butterworth_sections, run_sections
from leafml.dsp.framing import periodic_hann, piece_count
from leafml.dsp.mel import dct_matrix, mel_weight_matrix

KWS = {"sample_rate_hz": 16000, "window_ms": 1000, "blocks": ["mfcc"]}


# -- tf.signal, written out from TensorFlow's sources --------------------------
def tf_hann(length: int) -> np.ndarray:
    """window_ops._raised_cosine_window(periodic=True, a=b=0.5) in float32."""
    if length == 1:
        return np.ones(1, dtype=np.float32)
    even = 1 - length % 2
    n = np.float32(length + even - 1)
    return (0.5 - 0.5 * np.cos(np.float32(2 * np.pi) * np.arange(length, dtype=np.float32) / n)).astype(np.float32)


def tf_mel_matrix(mel_bins, spectrum_bins, rate, low, high) -> np.ndarray:
    """mel_ops.linear_to_mel_weight_matrix, step by step, in float32 as TF builds it."""
    f32 = np.float32

    def to_mel(hz):
        return f32(1127.0) * np.log(f32(1.0) + hz / f32(700.0))

    linear = np.linspace(f32(0), f32(rate) / f32(2), spectrum_bins, dtype=np.float32)[1:]
    bins_mel = to_mel(linear)[:, None]
    edges = np.linspace(to_mel(f32(low)), to_mel(f32(high)), mel_bins + 2, dtype=np.float32)
    triples = np.stack([edges[i : i + 3] for i in range(mel_bins)])
    lower, center, upper = (triples[:, i][None, :] for i in range(3))
    weights = np.maximum(f32(0), np.minimum((bins_mel - lower) / (center - lower), (upper - bins_mel) / (upper - center)))
    return np.pad(weights, [[1, 0], [0, 0]])


def tf_dct2_htk(x: np.ndarray) -> np.ndarray:
    """dct_ops.dct(type=2, norm=None) via the 2N-point rfft, times rsqrt(2N) (mfcc_ops)."""
    n = x.shape[-1]
    scale = 2.0 * np.exp(-1j * np.arange(n) * np.pi * 0.5 / n)
    return np.real(np.fft.rfft(x, 2 * n)[..., :n] * scale) / np.sqrt(2.0 * n)


def tf_mfcc(x: np.ndarray) -> np.ndarray:
    """MLPerf Tiny KWS get_dataset.py: stft(480, 320) -> abs -> mel(40, 20..4000) -> log(+1e-6) -> mfcc[:10]."""
    frames = np.stack([x[s : s + 480] for s in range(0, len(x) - 480 + 1, 320)])
    spectrum = np.abs(np.fft.rfft(frames * tf_hann(480), 512))
    mel = spectrum @ tf_mel_matrix(40, 257, 16000, 20.0, 4000.0)
    return tf_dct2_htk(np.log(mel + 1e-6))[:, :10]


def test_hann_window_is_tensorflows_periodic_one_even_for_odd_lengths():
    for length in (1, 2, 7, 480, 481):
        assert np.allclose(periodic_hann(length), tf_hann(length), atol=1e-6)
    # TF's periodic window of odd length is the symmetric one.
    assert np.allclose(periodic_hann(5), [0.0, 0.5, 1.0, 0.5, 0.0])
    assert np.allclose(periodic_hann(4), [0.0, 0.5, 1.0, 0.5])


def test_mel_matrix_is_tensorflows():
    for args in ((40, 257, 16000, 20.0, 4000.0), (20, 129, 8000, 125.0, 3800.0), (64, 513, 16000, 0.0, 8000.0)):
        ours = mel_weight_matrix(*args)
        assert ours.shape == (args[1], args[0])
        assert np.abs(ours - tf_mel_matrix(*args)).max() < 2e-5
        # HTK: the 0 Hz bin weighs into no band, even when low_hz is 0.
        assert not ours[0].any()


def test_mfcc_dct_is_htk_scaled_not_orthonormal():
    x = np.random.default_rng(0).normal(size=(5, 40))
    ours = x @ dct_matrix(40, 40).T
    assert np.allclose(ours, tf_dct2_htk(x))
    ortho = scipy.fft.dct(x, type=2, norm="ortho")
    assert np.allclose(ours[:, 1:], ortho[:, 1:])
    assert np.allclose(ours[:, 0], np.sqrt(2.0) * ortho[:, 0])


def test_mfcc_block_is_the_tf_signal_pipeline():
    rng = np.random.default_rng(1)
    # Speech-like: loud in the middle, quiet at the ends, so small mel energies count too.
    clips = rng.normal(size=(3, 16000)) * np.hanning(16000) * np.array([[1.0], [0.01], [1e-4]])
    features = DspPipeline.from_config(KWS).run(clips)
    assert features.shape == (3, 49, 10) and features.dtype == np.float32
    for clip, ours in zip(clips, features):
        assert np.abs(ours - tf_mfcc(clip)).max() < 1e-4


def test_mfe_block_is_the_log_mel_half():
    table = {**KWS, "blocks": ["mfe"]}
    clip = np.random.default_rng(2).normal(size=16000)
    log_mel = DspPipeline.from_config(table).run(clip[None])[0]
    assert log_mel.shape == (49, 40)
    assert np.allclose(tf_dct2_htk(log_mel.astype(np.float64))[:, :10], tf_mfcc(clip), atol=1e-4)


def test_frame_and_window_counts_drop_the_tail():
    assert piece_count(16000, 480, 320) == 49
    assert piece_count(479, 480, 320) == 0
    pipeline = DspPipeline.from_config({"sample_rate_hz": 10, "window_ms": 1000, "window_stride_ms": 500, "axes": 2})
    recording = np.arange(60).reshape(30, 2)
    windows = pipeline.windows(recording)
    assert windows.shape == (5, 10, 2)
    assert np.array_equal(windows[1], recording[5:15])
    with pytest.raises(RecordingTooShort, match="shorter than one window"):
        pipeline.windows(recording[:9])


@pytest.mark.parametrize("highpass", [False, True])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 8])
def test_butterworth_design_is_scipys(order, highpass):
    for cutoff, rate in ((5.0, 100.0), (100.0, 16000.0), (3000.0, 8000.0)):
        ours = butterworth_sections(order, cutoff, rate, highpass)
        theirs = scipy.signal.butter(order, cutoff, btype="highpass" if highpass else "lowpass", fs=rate, output="sos")
        as_sos = np.hstack([ours[:, :3], np.ones((len(ours), 1)), ours[:, 3:]])
        _, h_ours = scipy.signal.sosfreqz(as_sos, worN=256, fs=rate)
        _, h_theirs = scipy.signal.sosfreqz(theirs, worN=256, fs=rate)
        assert np.abs(h_ours - h_theirs).max() < 1e-9
        # -3 dB at the cutoff, as the pre-warping promises.
        _, at_cutoff = scipy.signal.sosfreqz(as_sos, worN=[cutoff], fs=rate)
        assert abs(abs(at_cutoff[0]) - np.sqrt(0.5)) < 1e-9


def test_filter_runs_as_scipys_sosfilt_from_rest():
    sections = butterworth_sections(4, 20.0, 100.0, highpass=False)
    x = np.random.default_rng(3).normal(size=(2, 200, 3))
    as_sos = np.hstack([sections[:, :3], np.ones((len(sections), 1)), sections[:, 3:]])
    assert np.allclose(run_sections(x, sections), scipy.signal.sosfilt(as_sos, x, axis=1), atol=1e-12)


def test_filter_block_uses_the_float32_coefficients_of_the_c():
    table = {"sample_rate_hz": 16000, "window_ms": 10, "blocks": ["highpass"], "highpass": {"cutoff_hz": 20, "order": 2}}
    block = DspPipeline.from_config(table).blocks[0]
    assert np.array_equal(block.sections, block.sections.astype(np.float32))


def test_spectral_power_is_scaled_by_parseval():
    table = {"sample_rate_hz": 100, "window_ms": 1280, "blocks": ["spectral"],
             "spectral": {"features": ["band_powers", "magnitudes"], "band_edges_hz": [0, 50]}}
    pipeline = DspPipeline.from_config(table)
    x = np.random.default_rng(4).normal(size=(3, 128))
    features = pipeline.run(x)[:, 0].astype(np.float64)
    window = periodic_hann(128)
    windowed_mean_square = np.sum((x * window) ** 2, axis=1) / np.sum(window**2)
    assert np.allclose(features[:, 0], windowed_mean_square, rtol=1e-6)
    assert np.allclose(np.sum(features[:, 1:] ** 2, axis=1), windowed_mean_square, rtol=1e-5)


def test_spectral_rms_and_peaks_of_tones():
    rate, samples = 100.0, 256
    t = np.arange(samples) / rate
    # Tones on bin centres (bin = 100/256 Hz) on two axes, the second twice as loud.
    tones = [25 * rate / samples, 60 * rate / samples]
    axis0 = 1.0 * np.sin(2 * np.pi * tones[0] * t) + 0.5 * np.sin(2 * np.pi * tones[1] * t)
    axis1 = 2.0 * np.sin(2 * np.pi * tones[1] * t)
    table = {"sample_rate_hz": rate, "window_ms": samples * 10, "axes": 2, "blocks": ["spectral"],
             "spectral": {"features": ["rms", "peaks"], "peak_count": 3}}
    features = DspPipeline.from_config(table).run(np.stack([axis0, axis1], axis=1)[None])[0]
    assert features.shape == (2, 1 + 2 * 3)
    assert np.isclose(features[0, 0], np.sqrt(0.5 * (1.0**2 + 0.5**2)), rtol=1e-3)
    assert np.isclose(features[1, 0], np.sqrt(2.0), rtol=1e-3)
    assert np.allclose(features[0, [1, 3]], tones) and features[0, 2] > features[0, 4]
    # One tone: the other "peaks" are rounding noise.
    assert np.isclose(features[1, 1], tones[1]) and np.all(features[1, [4, 6]] < 1e-6 * features[1, 2])
    silent = DspPipeline.from_config(table).run(np.zeros((1, samples, 2)))[0]
    assert not silent.any()


def test_raw_scale_and_peak_normalisation():
    table = {"sample_rate_hz": 10, "window_ms": 500, "axes": 2, "blocks": ["raw"],
             "raw": {"scale": [2.0, 0.5], "peak_normalize": True}}
    pipeline = DspPipeline.from_config(table)
    x = np.array([[[1, 4], [-2, 0], [0, 8], [1, 1], [0, 0]], np.zeros((5, 2))], dtype=np.int16)
    features = pipeline.run(x)
    # Scaled: axis 0 doubles, axis 1 halves; the window's peak |value| is then 4.
    assert np.array_equal(features[0], np.array([[2, 2], [-4, 0], [0, 4], [2, 0.5], [0, 0]]) / 4)
    assert not features[1].any()


def test_normalize_learns_from_training_windows_and_keeps_its_state():
    table = {"sample_rate_hz": 10, "window_ms": 300, "axes": 2, "blocks": ["normalize"]}
    rng = np.random.default_rng(5)
    training = rng.normal(3.0, 2.0, size=(500, 3, 2))
    training[:, 0, 0] = 7.0  # constant: only centred
    pipeline = DspPipeline.from_config(table)
    with pytest.raises(DspError, match="no statistics yet"):
        pipeline.run(training)
    features = pipeline.fit(training).run(training)
    assert np.allclose(features.mean(axis=0), 0.0, atol=1e-6)
    assert np.allclose(features.std(axis=0).ravel()[1:], 1.0, atol=1e-5)
    assert features[0, 0, 0] == 0.0

    state = json.loads(json.dumps(pipeline.fitted_state()))
    restored = DspPipeline.from_config(table).load_fitted_state(state)
    assert np.array_equal(restored.run(training), features)
    with pytest.raises(DspError, match="fit the pipeline again"):
        DspPipeline.from_config({**table, "axes": 1}).load_fitted_state(state)


def test_windows_of_the_wrong_shape_are_refused_in_one_line():
    pipeline = DspPipeline.from_config(KWS)
    for bad in (np.zeros((2, 8000)), np.zeros((2, 16000, 2)), np.zeros((0, 16000)), np.array([["a"] * 16000])):
        with pytest.raises(DspError) as caught:
            pipeline.run(bad)
        assert "\n" not in str(caught.value)
