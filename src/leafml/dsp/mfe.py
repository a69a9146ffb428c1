"""The MFE block: log mel filterbank energies of each frame, [frames, mel_bins].

ln(mel energy + log_epsilon) exactly as the first half of the tf.signal MFCC
pipeline (mel.py); the defaults are the MLPerf Tiny keyword-spotting front
end (30 ms frames every 20 ms, 40 bands from 20 to 4000 Hz, epsilon 1e-6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from leafml.dsp.base import DspBlock, SignalSpec
from leafml.dsp.cgen import CProgram
from leafml.dsp.mel import MEL_KEYS, LogMel


@dataclass
class Mfe(DspBlock):
    """Log mel filterbank energies."""

    name: ClassVar[str] = "mfe"
    keys: ClassVar[tuple[str, ...]] = MEL_KEYS

    log_mel: LogMel

    @classmethod
    def from_table(cls, table: dict[str, Any], path: str, signal: SignalSpec) -> Mfe:
        return cls(LogMel.from_table(table, path, signal))

    def output_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        return (self.log_mel.frames(shape[0]), self.log_mel.mel_bins)

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.log_mel.run(x)

    def emit_c(self, program: CProgram, shape: tuple[int, int]) -> None:
        self.log_mel.emit_c(program, self.name, shape[0], dct=None)
