"""The normalize block: each feature standardised with the mean and standard
deviation it has over the training windows.

``fit`` learns ``mean_`` and ``std_`` (population std, per feature, over
the windows); a feature that is constant in training keeps std 1, so it is
only centred.  The C stores the mean and 1 / std as float32 tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from leafml.dsp.base import DspBlock, DspError, SignalSpec
from leafml.dsp.cgen import CProgram


@dataclass
class Normalize(DspBlock):
    """(feature - mean_) / std_, per feature; learned by `fit`."""

    name: ClassVar[str] = "normalize"
    keys: ClassVar[tuple[str, ...]] = ()

    mean_: np.ndarray | None = None
    std_: np.ndarray | None = None

    @classmethod
    def from_table(cls, table: dict[str, Any], path: str, signal: SignalSpec) -> Normalize:
        return cls()

    def fit(self, features: np.ndarray) -> Normalize:
        """Learn the statistics of ``features`` [N, rows, columns] (the blocks before this one); returns self."""
        std = features.std(axis=0)
        self.mean_ = features.mean(axis=0)
        self.std_ = np.where(std > 0, std, 1.0)
        return self

    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean_, std_); raises `DspError` before `fit`."""
        if self.mean_ is None or self.std_ is None:
            raise DspError("the normalize block has no statistics yet; fit the pipeline on training windows first "
                           "(DspPipeline.fit)")
        return self.mean_, self.std_

    def run(self, x: np.ndarray) -> np.ndarray:
        mean, std = self.statistics()
        if x.shape[1:] != mean.shape:
            raise DspError(f"the normalize block was fitted on features {mean.shape}, not {x.shape[1:]}; fit it again")
        return (x - mean) / std

    def emit_c(self, program: CProgram, shape: tuple[int, int]) -> None:
        mean, std = self.statistics()
        program.normalization = (program.floats("normalize_mean", mean),
                                 program.floats("normalize_inverse_std", 1.0 / std))
