"""The MFCC block: mel-frequency cepstral coefficients, [frames, coefficients].

The first ``coefficients`` of the DCT-II (HTK scaling, mel.py) of each
frame's log mel energies: tf.signal.mfccs_from_log_mel_spectrograms.  With
the defaults, a 1 s window at 16 kHz gives the 49 x 10 features of the
MLPerf Tiny keyword-spotting model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from leafml.dsp.base import DspBlock, SignalSpec
from leafml.dsp.cgen import CProgram
from leafml.dsp.mel import MEL_KEYS, LogMel, dct_matrix
from leafml.dsp.schema import MISSING, integer

DEFAULT_COEFFICIENTS = 10


@dataclass
class Mfcc(DspBlock):
    """Mel-frequency cepstral coefficients."""

    name: ClassVar[str] = "mfcc"
    keys: ClassVar[tuple[str, ...]] = (*MEL_KEYS, "coefficients")

    log_mel: LogMel
    coefficients: int

    @classmethod
    def from_table(cls, table: dict[str, Any], path: str, signal: SignalSpec) -> Mfcc:
        log_mel = LogMel.from_table(table, path, signal)
        coefficients = integer(table.get("coefficients", MISSING), f"{path}.coefficients", low=1,
                               high=log_mel.mel_bins, default=min(DEFAULT_COEFFICIENTS, log_mel.mel_bins))
        return cls(log_mel, coefficients)

    def dct(self) -> np.ndarray:
        """The DCT rows kept, [coefficients, mel_bins], rounded to float32."""
        return dct_matrix(self.coefficients, self.log_mel.mel_bins).astype(np.float32).astype(np.float64)

    def output_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        return (self.log_mel.frames(shape[0]), self.coefficients)

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.log_mel.run(x) @ self.dct().T

    def emit_c(self, program: CProgram, shape: tuple[int, int]) -> None:
        self.log_mel.emit_c(program, self.name, shape[0], dct=self.dct())
