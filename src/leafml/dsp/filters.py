"""Low- and high-pass Butterworth filters: design and the two blocks.

The design is the textbook one, done here rather than borrowed: the analog
Butterworth prototype's poles on the left half of the unit circle, scaled
to the cutoff pre-warped so that the bilinear transform puts the -3 dB
point exactly at ``cutoff_hz``, mapped to the z-plane by the bilinear
transform, with all zeros at z = -1 (low-pass) or z = +1 (high-pass).
Poles are paired into second-order sections (a first-order one for odd
orders), least resonant first, each scaled to unity gain where the filter
passes (0 Hz or Nyquist), which is exactly the Butterworth gain there.

The coefficients are rounded to float32, the numbers the C holds, and both
numpy and C run the same sections in transposed direct form II, each window
from rest (zero state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from leafml.dsp.base import DspBlock, SignalSpec
from leafml.dsp.cgen import CProgram
from leafml.dsp.schema import MISSING, DspConfigError, integer, number

MAX_ORDER = 8


def butterworth_sections(order: int, cutoff_hz: float, sample_rate_hz: float, highpass: bool) -> np.ndarray:
    """Second-order sections [sections, 5] of (b0, b1, b2, a1, a2), a0 = 1, in float64.

    A first-order section (odd ``order``) has b2 = a2 = 0.  Requires
    0 < cutoff_hz < sample_rate_hz / 2.
    """
    k = 2.0 * sample_rate_hz
    warped = k * np.tan(np.pi * cutoff_hz / sample_rate_hz)  # rad/s
    # Prototype poles exp(i pi (2m + order + 1) / (2 order)), m = 0 .. order - 1, all in Re < 0.
    prototype = np.exp(1j * np.pi * (2 * np.arange(order) + order + 1) / (2 * order))
    analog = warped / prototype if highpass else warped * prototype
    poles = (k + analog) / (k - analog)
    # One pole of each conjugate pair, and the real pole of an odd order.
    upper = poles[poles.imag > 1e-12]
    real = poles[np.abs(poles.imag) <= 1e-12].real
    sections = []
    for r in real:
        # (1 +- z^-1) g / (1 - r z^-1), unity gain at z = +1 (low-pass) or z = -1 (high-pass).
        gain = (1.0 + r) / 2.0 if highpass else (1.0 - r) / 2.0
        sections.append([gain, -gain if highpass else gain, 0.0, -r, 0.0])
    for pole in sorted(upper, key=abs):
        a1, a2 = -2.0 * pole.real, abs(pole) ** 2
        # (1 +- z^-1)^2 has gain 4 at the pass-band edge, where the denominator has 1 + a1 + a2 (1 - a1 + a2).
        gain = (1.0 - a1 + a2) / 4.0 if highpass else (1.0 + a1 + a2) / 4.0
        sections.append([gain, -2.0 * gain if highpass else 2.0 * gain, gain, a1, a2])
    return np.array(sections)


def run_sections(x: np.ndarray, sections: np.ndarray) -> np.ndarray:
    """Filter ``x`` [N, samples, axes] along samples through ``sections``, from rest, in float64."""
    y = np.array(x, dtype=np.float64)
    for b0, b1, b2, a1, a2 in sections:
        s1 = np.zeros((y.shape[0], y.shape[2]))
        s2 = np.zeros_like(s1)
        for t in range(y.shape[1]):
            xt = y[:, t]
            yt = b0 * xt + s1
            s1 = b1 * xt - a1 * yt + s2
            s2 = b2 * xt - a2 * yt
            y[:, t] = yt
    return y


@dataclass
class ButterworthFilter(DspBlock):
    """A Butterworth filter of ``order`` with its -3 dB point at ``cutoff_hz``."""

    keys: ClassVar[tuple[str, ...]] = ("cutoff_hz", "order")
    highpass: ClassVar[bool]

    cutoff_hz: float
    order: int
    sample_rate_hz: float
    sections: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        designed = butterworth_sections(self.order, self.cutoff_hz, self.sample_rate_hz, self.highpass)
        self.sections = designed.astype(np.float32).astype(np.float64)

    @classmethod
    def from_table(cls, table: dict[str, Any], path: str, signal: SignalSpec) -> ButterworthFilter:
        cutoff = number(table.get("cutoff_hz", MISSING), f"{path}.cutoff_hz", low=0.0, low_open=True)
        if cutoff >= signal.nyquist_hz:
            raise DspConfigError(f"{path}.cutoff_hz", f"= {cutoff:g} Hz is not below the Nyquist frequency, "
                                 f"{signal.nyquist_hz:g} Hz; lower it")
        order = integer(table.get("order", MISSING), f"{path}.order", low=1, high=MAX_ORDER, default=2)
        return cls(cutoff, order, signal.sample_rate_hz)

    def run(self, x: np.ndarray) -> np.ndarray:
        return run_sections(x, self.sections)

    def emit_c(self, program: CProgram, shape: tuple[int, int]) -> None:
        samples, axes = shape
        program.need("biquad.h")
        if program.signal is None:
            program.signal = program.buffer("signal", samples * axes)
            program.call(f"leafml_dsp_fill_signal(input, {samples}, {axes}, {program.signal});")
        table = program.floats(f"{self.name}_sections", self.sections)
        program.call(f"leafml_dsp_biquad_cascade({program.signal}, {samples}, {axes}, {table}, {len(self.sections)});")


class Lowpass(ButterworthFilter):
    """Passes frequencies below ``cutoff_hz``."""

    name: ClassVar[str] = "lowpass"
    highpass: ClassVar[bool] = False


class Highpass(ButterworthFilter):
    """Passes frequencies above ``cutoff_hz``."""

    name: ClassVar[str] = "highpass"
    highpass: ClassVar[bool] = True
