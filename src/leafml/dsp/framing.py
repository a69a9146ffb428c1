"""Cutting signals into overlapping pieces.

Two levels use the same rule (TensorFlow's ``tf.signal.frame`` with
``pad_end=False``: a piece starts every ``step`` samples and only whole
pieces are kept):

* windows: a long recording cut into the model's inputs
  (``dsp.window_ms``, ``dsp.window_stride_ms``), `split_windows`;
* frames: a window cut into the short-time spectra of the spectral, MFE and
  MFCC blocks (``frame_length_ms``, ``frame_stride_ms``), `FrameSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from leafml.dsp.base import SignalSpec
from leafml.dsp.schema import MISSING, DspConfigError, duration_samples, integer
from leafml.errors import LeafmlError

if TYPE_CHECKING:
    from leafml.dsp.cgen import CProgram

# Beyond this the FFT buffer alone (4 bytes a value) outgrows a microcontroller's RAM.
MAX_FFT_LENGTH = 16384
FRAME_KEYS = ("frame_length_ms", "frame_stride_ms", "fft_length")


class RecordingTooShort(LeafmlError, ValueError):
    """A recording shorter than one window."""


def piece_count(samples: int, length: int, step: int) -> int:
    """How many whole pieces of ``length`` samples, one every ``step``, fit in ``samples``."""
    return 0 if samples < length else 1 + (samples - length) // step


def split_windows(recording: np.ndarray, length: int, step: int) -> np.ndarray:
    """The windows of ``length`` samples, one every ``step`` samples, of ``recording``.

    ``recording`` is ``[samples, axes]``; the result is a read-only view
    ``[windows, length, axes]``.  A tail shorter than a window is dropped,
    as on the device, which runs only on whole windows.
    """
    count = piece_count(recording.shape[0], length, step)
    if count == 0:
        raise RecordingTooShort(f"a recording of {recording.shape[0]} samples is shorter than one window "
                                f"({length} samples); record longer or shorten dsp.window_ms")
    view = np.lib.stride_tricks.sliding_window_view(recording, length, axis=0)[::step]
    return view.transpose(0, 2, 1)


def periodic_hann(length: int) -> np.ndarray:
    """tf.signal.hann_window(length, periodic=True), in float64.

    0.5 - 0.5 cos(2 pi k / n) with n = length for an even length, and
    n = length - 1 for an odd one: TensorFlow makes a "periodic" window of
    odd length symmetric, and the MFCC definition follows it.
    """
    if length == 1:
        return np.ones(1)
    n = length if length % 2 == 0 else length - 1
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / n)


def fft_twiddles(fft_length: int) -> np.ndarray:
    """cos and -sin of 2 pi k / fft_length for k < fft_length / 2, interleaved: c/fft.h's table."""
    angle = 2.0 * np.pi * np.arange(fft_length // 2) / fft_length
    return np.stack([np.cos(angle), -np.sin(angle)], axis=1).ravel()


def next_power_of_two(n: int) -> int:
    """The smallest power of two >= n (tf.signal.stft's default fft_length)."""
    return 1 << max(0, (n - 1).bit_length())


@dataclass(frozen=True)
class FrameSpec:
    """Short-time frames of a window: ``length`` and ``step`` in samples, each
    frame Hann-windowed and zero-padded to ``fft_length`` (a power of two)."""

    length: int
    step: int
    fft_length: int

    @property
    def spectrum_bins(self) -> int:
        """Bins of the one-sided spectrum, 0 Hz to Nyquist: fft_length / 2 + 1."""
        return self.fft_length // 2 + 1

    def count(self, samples: int) -> int:
        """Frames in a window of ``samples``."""
        return piece_count(samples, self.length, self.step)

    def frames(self, x: np.ndarray) -> np.ndarray:
        """``x`` [N, samples] as [N, frames, length] (a view)."""
        view = np.lib.stride_tricks.sliding_window_view(x, self.length, axis=1)
        return view[:, :: self.step][:, : self.count(x.shape[1])]

    def window(self) -> np.ndarray:
        """The periodic Hann window rounded to float32, the numbers the C multiplies by (as float64)."""
        return periodic_hann(self.length).astype(np.float32).astype(np.float64)

    def spectra(self, x: np.ndarray) -> np.ndarray:
        """The complex one-sided FFT of every Hann-windowed frame of ``x`` [N, samples]:
        [N, frames, spectrum_bins] (tf.signal.stft)."""
        return np.fft.rfft(self.frames(x) * self.window(), n=self.fft_length, axis=-1)

    def c_fields(self, program: CProgram, block: str, samples: int) -> dict[str, object]:
        """The frame fields that the spectral and mel kernels' parameter structs
        share; the window and twiddle tables go into ``program`` under ``block``'s name."""
        return {
            "frames": self.count(samples),
            "frame_length": self.length,
            "frame_step": self.step,
            "fft_length": self.fft_length,
            "window": program.floats(f"{block}_window", self.window()),
            "twiddles": program.floats(f"{block}_twiddles", fft_twiddles(self.fft_length)),
        }

    @classmethod
    def from_table(cls, table: dict[str, Any], path: str, signal: SignalSpec, *,
                   default_length_ms: float | None, default_stride_ms: float | None) -> FrameSpec:
        """Read frame_length_ms (default ``default_length_ms``, or the whole
        window when None), frame_stride_ms (default ``default_stride_ms``, or
        the frame length when None) and fft_length (default: the next power
        of two) from a block's table."""
        rate = signal.sample_rate_hz
        length_path = f"{path}.frame_length_ms"
        if default_length_ms is None and "frame_length_ms" not in table:
            length = signal.samples
        else:
            length = duration_samples(table.get("frame_length_ms", MISSING), length_path, rate,
                                      default_ms=default_length_ms)
        if length > signal.samples:
            raise DspConfigError(length_path, f"gives {length} samples, more than the window's "
                                 f"{signal.samples}; shorten the frame or lengthen dsp.window_ms")
        if not 2 <= length <= MAX_FFT_LENGTH:
            raise DspConfigError(length_path, f"gives {length} samples; a frame needs 2 to {MAX_FFT_LENGTH} "
                                 "(what one FFT may hold on a microcontroller)")
        if default_stride_ms is None and "frame_stride_ms" not in table:
            step = length
        else:
            step = duration_samples(table.get("frame_stride_ms", MISSING), f"{path}.frame_stride_ms", rate,
                                    default_ms=default_stride_ms)
        fft_length = integer(table.get("fft_length", MISSING), f"{path}.fft_length", low=2, high=MAX_FFT_LENGTH,
                             default=next_power_of_two(length))
        if fft_length & (fft_length - 1) or fft_length < length:
            raise DspConfigError(f"{path}.fft_length", f"should be a power of two >= the frame's {length} samples, "
                                 f"got {fft_length}")
        return cls(length, step, fft_length)
