"""The raw block: samples as they come, scaled.

Each sample of axis a becomes ``sample * scale[a]`` (an int16 input is
converted to float first, so ``scale = 3.0517578125e-05`` (1/32768) maps it
to [-1, 1)).  With ``peak_normalize`` the window is then divided by its
largest absolute value over all axes (a silent window is left as it is),
as the MLPerf Tiny keyword-spotting features were made.  Without a feature
block after it, these samples are the features, ``[samples, axes]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from leafml.dsp.base import DspBlock, SignalSpec
from leafml.dsp.cgen import CProgram
from leafml.dsp.schema import MISSING, DspConfigError, boolean, number


@dataclass
class Raw(DspBlock):
    """Per-axis scale, then optional peak normalisation of the window."""

    name: ClassVar[str] = "raw"
    keys: ClassVar[tuple[str, ...]] = ("scale", "peak_normalize")

    scale: tuple[float, ...]  # one factor per axis
    peak_normalize: bool = False

    @classmethod
    def from_table(cls, table: dict[str, Any], path: str, signal: SignalSpec) -> Raw:
        value = table.get("scale", MISSING)
        if isinstance(value, list):
            if len(value) != signal.axes:
                raise DspConfigError(f"{path}.scale", f"lists {len(value)} factors for {signal.axes} axes; "
                                     "give one number, or one per axis")
            scale = tuple(number(v, f"{path}.scale", low=0.0, low_open=True) for v in value)
        else:
            scale = (number(value, f"{path}.scale", low=0.0, low_open=True, default=1.0),) * signal.axes
        # float32, the factor the C multiplies by.
        scale = tuple(float(np.float32(factor)) for factor in scale)
        return cls(scale, boolean(table.get("peak_normalize", MISSING), f"{path}.peak_normalize", default=False))

    def run(self, x: np.ndarray) -> np.ndarray:
        y = x * np.asarray(self.scale)
        if self.peak_normalize:
            peak = np.abs(y).max(axis=(1, 2), keepdims=True)
            y = y / np.where(peak > 0, peak, 1.0)
        return y

    def emit_c(self, program: CProgram, shape: tuple[int, int]) -> None:
        if len(set(self.scale)) == 1:
            program.scale = self.scale[0]
        else:
            program.scale_table = program.floats("scale", np.array(self.scale))
        if self.peak_normalize:
            program.need("peak.h")
            program.use_peak_gain()
            program.call(f"leafml_dsp_gain = leafml_dsp_peak_gain(input, {shape[0]}, {shape[1]});")
