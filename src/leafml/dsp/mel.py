"""Mel filterbank and DCT as TensorFlow's ``tf.signal`` defines them, and the
log-mel front half that the MFE and MFCC blocks share.

The features of the MLPerf Tiny keyword-spotting model were made with (its
``get_dataset.py``)::

    stfts = tf.signal.stft(x, frame_length, frame_step, fft_length=None,
                           window_fn=tf.signal.hann_window)
    mel = tf.tensordot(tf.abs(stfts), tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins, stfts.shape[-1], sample_rate, lower_edge_hertz, upper_edge_hertz), 1)
    mfccs = tf.signal.mfccs_from_log_mel_spectrograms(tf.math.log(mel + 1e-6))[..., :count]

and this module follows TensorFlow's sources for each step (read from
tensorflow/python/ops/signal: spectral_ops.py, window_ops.py, mel_ops.py,
mfcc_ops.py, dct_ops.py):

* frames without end padding, a periodic Hann window (symmetric for an odd
  length), fft_length the next power of two (framing.py);
* the magnitude |X_k|, not the power;
* the mel scale of HTK, mel(f) = 1127 ln(1 + f / 700); the band edges are
  mel_bins + 2 points spaced evenly in mel from low_hz to high_hz; band m
  rises linearly *in mel* from edge m to edge m + 1 and falls to edge m + 2,
  and bin k at frequency k * (sample_rate / 2) / (bins - 1) gets
  max(0, min(rise, fall)); the 0 Hz bin gets no weight at all (HTK);
* the natural log of energy + epsilon;
* DCT-II scaled by sqrt(2 / mel_bins) for *every* coefficient, HTK's
  scaling: TensorFlow takes its unnormalised DCT-II (2 sum x_m cos(pi k
  (2m + 1) / 2M)) times rsqrt(2M).  This is the orthonormal DCT except for
  coefficient 0, which is sqrt(2) larger than the orthonormal one.

TensorFlow builds the mel matrix in float32; here it is built in float64 and
rounded to float32, the numbers the C stores, like the window and the DCT.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from leafml.codegen.cformat import c_float
from leafml.dsp.base import SignalSpec
from leafml.dsp.cgen import CProgram
from leafml.dsp.framing import FRAME_KEYS, FrameSpec
from leafml.dsp.schema import MISSING, DspConfigError, integer, number

MEL_KEYS = (*FRAME_KEYS, "mel_bins", "low_hz", "high_hz", "log_epsilon")
MAX_MEL_BINS = 256
# The MLPerf Tiny keyword-spotting front end, the defaults of the MFE and MFCC blocks.
DEFAULT_FRAME_LENGTH_MS = 30.0
DEFAULT_FRAME_STRIDE_MS = 20.0
DEFAULT_MEL_BINS = 40
DEFAULT_LOW_HZ = 20.0
DEFAULT_HIGH_HZ = 4000.0
DEFAULT_LOG_EPSILON = 1e-6


def hertz_to_mel(frequency_hz: np.ndarray | float) -> np.ndarray:
    """HTK's mel scale, 1127 ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(frequency_hz, dtype=np.float64) / 700.0)


def mel_weight_matrix(mel_bins: int, spectrum_bins: int, sample_rate_hz: float, low_hz: float,
                      high_hz: float) -> np.ndarray:
    """tf.signal.linear_to_mel_weight_matrix: [spectrum_bins, mel_bins], float64.

    Requires 0 <= low_hz < high_hz <= sample_rate_hz / 2.
    """
    # TF excludes the 0 Hz bin and pads its row back as zeros.
    frequencies = np.linspace(0.0, sample_rate_hz / 2.0, spectrum_bins)[1:]
    bins_mel = hertz_to_mel(frequencies)[:, None]
    edges = np.linspace(hertz_to_mel(low_hz), hertz_to_mel(high_hz), mel_bins + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, mel_bins)), weights])


def dct_matrix(coefficients: int, mel_bins: int) -> np.ndarray:
    """[coefficients, mel_bins]: row k is sqrt(2 / M) cos(pi k (2m + 1) / 2M),
    tf.signal.mfccs_from_log_mel_spectrograms' DCT-II."""
    k = np.arange(coefficients)[:, None]
    m = np.arange(mel_bins)[None, :]
    return np.sqrt(2.0 / mel_bins) * np.cos(np.pi * k * (2 * m + 1) / (2 * mel_bins))


def _float32(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float32).astype(np.float64)


@dataclass(frozen=True)
class LogMel:
    """Frames -> magnitude spectrum -> mel bands -> ln(energy + log_epsilon)."""

    frame: FrameSpec
    sample_rate_hz: float
    mel_bins: int
    low_hz: float
    high_hz: float
    log_epsilon: float

    @classmethod
    def from_table(cls, table: dict[str, Any], path: str, signal: SignalSpec) -> LogMel:
        """The mel keys of an MFE or MFCC block's table (MEL_KEYS)."""
        if signal.axes != 1:
            raise DspConfigError("dsp.axes", f"= {signal.axes}, but the {path.split('.')[-1]} block reads "
                                 "one axis (audio); set dsp.axes = 1 or use the spectral block")
        frame = FrameSpec.from_table(table, path, signal, default_length_ms=DEFAULT_FRAME_LENGTH_MS,
                                     default_stride_ms=DEFAULT_FRAME_STRIDE_MS)
        nyquist = signal.nyquist_hz
        mel_bins = integer(table.get("mel_bins", MISSING), f"{path}.mel_bins", low=1, high=MAX_MEL_BINS,
                           default=DEFAULT_MEL_BINS)
        low = number(table.get("low_hz", MISSING), f"{path}.low_hz", low=0.0, high=nyquist,
                     default=min(DEFAULT_LOW_HZ, nyquist / 2))
        high = number(table.get("high_hz", MISSING), f"{path}.high_hz", low=0.0, high=nyquist,
                      default=min(DEFAULT_HIGH_HZ, nyquist))
        if low >= high:
            raise DspConfigError(f"{path}.low_hz", f"= {low:g} Hz is not below high_hz = {high:g} Hz; lower it")
        epsilon = number(table.get("log_epsilon", MISSING), f"{path}.log_epsilon", low=0.0, low_open=True,
                         default=DEFAULT_LOG_EPSILON)
        return cls(frame, signal.sample_rate_hz, mel_bins, low, high, epsilon)

    def weights(self) -> np.ndarray:
        """The mel weight matrix [spectrum_bins, mel_bins], rounded to float32."""
        return _float32(mel_weight_matrix(self.mel_bins, self.frame.spectrum_bins, self.sample_rate_hz,
                                          self.low_hz, self.high_hz))

    def frames(self, samples: int) -> int:
        """Frames, the rows of the features, in a window of ``samples``."""
        return self.frame.count(samples)

    def run(self, x: np.ndarray) -> np.ndarray:
        """[N, samples, 1] -> log-mel energies [N, frames, mel_bins], float64."""
        magnitude = np.abs(self.frame.spectra(x[:, :, 0]))
        # float32 like the C's epsilon, so a silent band gives the same ln.
        return np.log(magnitude @ self.weights() + float(np.float32(self.log_epsilon)))

    def emit_c(self, program: CProgram, name: str, samples: int, dct: np.ndarray | None) -> None:
        """Add the mel kernel's call to ``program``; ``dct`` [coefficients, mel_bins] for MFCC, None for MFE."""
        program.need("float_math.h", "frame.h", "fft.h", "mel.h")
        weights = self.weights()
        starts, counts, nonzero = [], [], []
        for band in weights.T:
            bins = np.flatnonzero(band)
            first = int(bins[0]) if len(bins) else 0
            count = int(bins[-1]) + 1 - first if len(bins) else 0
            starts.append(first)
            counts.append(count)
            nonzero.extend(band[first : first + count])
        used = [(s, s + c) for s, c in zip(starts, counts) if c]
        fields: dict[str, object] = {
            **self.frame.c_fields(program, name, samples),
            "mel_bins": self.mel_bins,
            "first_bin": min((s for s, _ in used), default=0),
            "end_bin": max((e for _, e in used), default=0),
            "band_start": program.ints(f"{name}_band_start", starts),
            "band_bins": program.ints(f"{name}_band_bins", counts),
            "weights": program.floats(f"{name}_weights", np.array(nonzero)) if nonzero else "NULL",
            "log_epsilon": c_float(self.log_epsilon),
            "coefficients": 0 if dct is None else len(dct),
            "dct": "NULL" if dct is None else program.floats(f"{name}_dct", dct),
            "fft": program.buffer(f"{name}_fft", self.frame.fft_length),
            "spectrum": program.buffer(f"{name}_spectrum", self.frame.spectrum_bins),
            "log_mel": program.buffer(f"{name}_log_mel", self.mel_bins),
        }
        params = program.struct("leafml_dsp_mel_t", name, fields)
        program.call(f"leafml_dsp_mel_features(input, {params}, output);")
