"""What every DSP block provides.

A block maps a batch of 2-D float64 arrays to another: a signal is
``[N, samples, axes]`` (the axes of one time step side by side, the way a
sensor delivers them), features are ``[N, rows, columns]``.  Blocks compute
in float64 and the pipeline rounds its result to float32, so the numpy
output is the definition and the float32 C twin is measured against it.

Like an operator in ``leafml.ops``, a block is its parameters plus the
tables derived from them (window, filter coefficients, mel weights), and it
writes those tables into the generated C once, as constants, so numpy and C
start from the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from leafml.errors import LeafmlError

if TYPE_CHECKING:
    from leafml.dsp.cgen import CProgram


class DspError(LeafmlError, ValueError):
    """A pipeline used in a way it cannot be (wrong input shape, normalize not fitted, ...)."""


@dataclass(frozen=True)
class SignalSpec:
    """The signal a block reads: its sample rate (Hz), samples per window and axes."""

    sample_rate_hz: float
    samples: int
    axes: int

    @property
    def nyquist_hz(self) -> float:
        return self.sample_rate_hz / 2.0


class DspBlock:
    """Base class of the blocks; ``name`` is the block's key in ``dsp.blocks``."""

    name: ClassVar[str]
    # The keys of the block's own table, [dsp.<name>].
    keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_table(cls, table: dict[str, Any], path: str, signal: SignalSpec) -> DspBlock:
        """The block configured by its [dsp.<name>] ``table`` (keys already
        checked against ``keys``) for the ``signal`` it will read; raises
        `DspConfigError` naming the key at fault."""
        raise NotImplementedError

    def output_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        """The [rows, columns] of one output for one input of ``shape``."""
        return shape

    def run(self, x: np.ndarray) -> np.ndarray:
        """The block applied to a float64 batch ``x``, in float64."""
        raise NotImplementedError

    def emit_c(self, program: CProgram, shape: tuple[int, int]) -> None:
        """Add the block's constants, buffers and call for an input of ``shape`` to ``program``."""
        raise NotImplementedError
