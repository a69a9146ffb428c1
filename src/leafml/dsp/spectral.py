"""The spectral analysis block: RMS, spectral peaks, band powers and FFT
magnitudes of each axis, for motion, vibration and other sensor windows.

Per axis, the window (after raw scaling and filters) is cut into frames
(the whole window by default), each Hann-windowed (periodic) and
zero-padded to ``fft_length``, and the power spectrum is averaged over the
frames.  Power is one-sided and scaled so that the bins add up to the mean
square of the signal (Parseval): bin k holds
``c_k * mean_frames |X_k|^2 / (fft_length * sum(w^2))`` with c_k = 1 at 0 Hz
and Nyquist and 2 between, in (signal unit)^2.  From it, per axis, in this
order whatever the order of ``features``:

* ``rms``: sqrt(mean(x^2)) over the window's samples (1 value);
* ``peaks``: the ``peak_count`` largest local maxima of the power over bins
  1 .. fft_length/2 - 1 (above the left neighbour, not below the right),
  largest first (equal ones: lower bin first), each as its bin's frequency
  (Hz, no interpolation) and magnitude sqrt(power); missing ones are 0, 0
  (2 * peak_count values);
* ``band_powers``: the power summed over the bins of each band
  ``band_edges_hz[i] <= f < band_edges_hz[i + 1]`` (the last band also
  takes its upper edge), in (unit)^2 (one value per band);
* ``magnitudes``: sqrt(power) of every bin, 0 Hz to Nyquist
  (fft_length/2 + 1 values).

The features are ``[axes, values per axis]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from leafml.codegen.cformat import c_float
from leafml.dsp.base import DspBlock, SignalSpec
from leafml.dsp.cgen import CProgram
from leafml.dsp.framing import FRAME_KEYS, FrameSpec
from leafml.dsp.schema import MISSING, DspConfigError, integer, number, string_list

FEATURES = ("rms", "peaks", "band_powers", "magnitudes")
MAX_PEAKS = 8  # LEAFML_DSP_MAX_PEAKS in c/spectral.h
DEFAULT_BANDS = 4  # equal bands from 0 Hz to Nyquist when band_edges_hz is not given


@dataclass
class Spectral(DspBlock):
    """Spectral features of every axis (see the module docstring)."""

    name: ClassVar[str] = "spectral"
    keys: ClassVar[tuple[str, ...]] = (*FRAME_KEYS, "features", "peak_count", "band_edges_hz")

    frame: FrameSpec
    sample_rate_hz: float
    features: tuple[str, ...]
    peak_count: int
    band_edges_hz: tuple[float, ...]

    @classmethod
    def from_table(cls, table: dict[str, Any], path: str, signal: SignalSpec) -> Spectral:
        frame = FrameSpec.from_table(table, path, signal, default_length_ms=None, default_stride_ms=None)
        listed = string_list(table.get("features", MISSING), f"{path}.features", FEATURES,
                             default=("rms", "peaks", "band_powers"))
        if not listed:
            raise DspConfigError(f"{path}.features", f"is empty; list some of: {', '.join(FEATURES)}")
        features = tuple(name for name in FEATURES if name in listed)
        for key, feature in (("peak_count", "peaks"), ("band_edges_hz", "band_powers")):
            if key in table and feature not in features:
                raise DspConfigError(f"{path}.{key}", f"applies only when {path}.features lists {feature!r}; "
                                     "add it there or remove this key")
        peak_count = integer(table.get("peak_count", MISSING), f"{path}.peak_count", low=1, high=MAX_PEAKS, default=3)
        edges = _band_edges(table.get("band_edges_hz", MISSING), f"{path}.band_edges_hz", signal, frame)
        return cls(frame, signal.sample_rate_hz, features, peak_count if "peaks" in features else 0,
                   edges if "band_powers" in features else ())

    @property
    def bin_hz(self) -> float:
        """Width of one FFT bin, Hz."""
        return self.sample_rate_hz / self.frame.fft_length

    def band_bins(self) -> list[tuple[int, int]]:
        """(first bin, bin count) of each band."""
        return _band_bins(self.band_edges_hz, self.bin_hz, self.frame.spectrum_bins)

    def values_per_axis(self) -> int:
        """Features per axis: the columns of the output."""
        return (("rms" in self.features) + 2 * self.peak_count + len(self.band_edges_hz[1:])
                + self.frame.spectrum_bins * ("magnitudes" in self.features))

    def output_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        return (shape[1], self.values_per_axis())

    def bin_scales(self) -> np.ndarray:
        """Per bin, what turns |X_k|^2 into power: c_k / (fft_length * sum(w^2)),
        c_k = 1 at 0 Hz and Nyquist and 2 between (one-sided)."""
        scales = np.full(self.frame.spectrum_bins, 2.0 / (self.frame.fft_length * np.sum(self.frame.window() ** 2)))
        scales[[0, -1]] /= 2.0
        return scales

    def run(self, x: np.ndarray) -> np.ndarray:
        n, _, axes = x.shape
        out = np.empty((n, axes, self.values_per_axis()))
        for axis in range(axes):
            signal = x[:, :, axis]
            power = np.mean(np.abs(self.frame.spectra(signal)) ** 2, axis=1) * self.bin_scales()
            parts = []
            if "rms" in self.features:
                parts.append(np.sqrt(np.mean(signal**2, axis=1, keepdims=True)))
            if self.peak_count:
                parts.append(np.stack([self._peaks(row) for row in power]))
            if self.band_edges_hz:
                bands = [power[:, first : first + count].sum(axis=1) for first, count in self.band_bins()]
                parts.append(np.stack(bands, axis=1))
            if "magnitudes" in self.features:
                parts.append(np.sqrt(power))
            out[:, axis] = np.concatenate(parts, axis=1)
        return out

    def _peaks(self, power: np.ndarray) -> np.ndarray:
        inner = power[1:-1]
        candidates = np.flatnonzero((inner > power[:-2]) & (inner >= power[2:])) + 1
        order = np.argsort(-power[candidates], kind="stable")[: self.peak_count]
        chosen = candidates[order]
        pairs = np.zeros((self.peak_count, 2))
        pairs[: len(chosen), 0] = chosen * self.bin_hz
        pairs[: len(chosen), 1] = np.sqrt(power[chosen])
        return pairs.ravel()

    def emit_c(self, program: CProgram, shape: tuple[int, int]) -> None:
        samples, axes = shape
        frame = self.frame
        program.need("float_math.h", "frame.h", "fft.h", "spectral.h")
        bins = self.band_bins()
        fields: dict[str, object] = {
            "samples": samples,
            "axes": axes,
            **frame.c_fields(program, "spectral", samples),
            # The kernel sums the frames' |X_k|^2: the mean's 1 / frames goes into the scale.
            "edge_scale": c_float(self.bin_scales()[0] / frame.count(samples)),
            "rms": int("rms" in self.features),
            "inverse_samples": c_float(1.0 / samples),
            "peaks": self.peak_count,
            "bin_hz": c_float(self.bin_hz),
            "bands": len(bins),
            "band_start": program.ints("spectral_band_start", [b[0] for b in bins]) if bins else "NULL",
            "band_bins": program.ints("spectral_band_bins", [b[1] for b in bins]) if bins else "NULL",
            "magnitudes": int("magnitudes" in self.features),
            "values_per_axis": self.values_per_axis(),
            "fft": program.buffer("spectral_fft", frame.fft_length),
            "frame_power": program.buffer("spectral_frame_power", frame.spectrum_bins),
            "power": program.buffer("spectral_power", frame.spectrum_bins),
        }
        params = program.struct("leafml_dsp_spectral_t", "spectral", fields)
        program.call(f"leafml_dsp_spectral_features(input, {params}, output);")


def _band_edges(value: Any, path: str, signal: SignalSpec, frame: FrameSpec) -> tuple[float, ...]:
    nyquist = signal.nyquist_hz
    if value is MISSING:
        return tuple(np.linspace(0.0, nyquist, DEFAULT_BANDS + 1))
    if not isinstance(value, list) or len(value) < 2:
        raise DspConfigError(path, f"should be a list of at least two frequencies from 0 to {nyquist:g} Hz, "
                             f"got {value!r}")
    edges = tuple(number(v, path, low=0.0, high=nyquist) for v in value)
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise DspConfigError(path, f"should rise strictly, got {list(value)}")
    bin_hz = signal.sample_rate_hz / frame.fft_length
    for (first, count), low, high in zip(_band_bins(edges, bin_hz, frame.spectrum_bins), edges, edges[1:]):
        if count == 0:
            raise DspConfigError(path, f"has a band {low:g}..{high:g} Hz that holds no FFT bin "
                                 f"(bins are {bin_hz:g} Hz apart); widen it or raise fft_length")
    return edges


def _band_bins(edges: tuple[float, ...], bin_hz: float, spectrum_bins: int) -> list[tuple[int, int]]:
    frequencies = np.arange(spectrum_bins) * bin_hz
    bands = []
    for i, (low, high) in enumerate(zip(edges, edges[1:])):
        last = i == len(edges) - 2
        inside = np.flatnonzero((frequencies >= low) & ((frequencies <= high) if last else (frequencies < high)))
        bands.append((int(inside[0]), len(inside)) if len(inside) else (0, 0))
    return bands
