"""The verification ladder: every back end must give the reference interpreter's bytes.

Rungs, in the order they run (each compares int8 outputs byte for byte):

``litert``          the .tflite in LiteRT        == reference, single rounding
``tflm``            the .tflite in TFLM          == reference, double rounding
``host_c``          generated C, host ``cc``      == reference, the C's rounding
``qemu_cortex_m4``  generated C, Cortex-M4 QEMU  == reference, the C's rounding

A rung whose tools are missing raises ``ToolchainMissing`` (the caller
decides whether that is fatal); a rung that runs and disagrees is recorded
as failed with the number of differing bytes, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from leafml.ir.graph import Graph
from leafml.verify.peers import PEER_ROUNDING, run_litert, run_tflm

RUNGS = ("litert", "tflm", "host_c", "qemu_cortex_m4")


@dataclass(frozen=True)
class RungResult:
    """One rung's verdict: equal bytes or not, and how far apart."""

    name: str
    passed: bool
    mismatched_bytes: int
    max_abs_diff: int
    samples: int


@dataclass
class LadderResult:
    """Verdicts by rung, plus the Cortex-M4 measurements when that rung ran."""

    rungs: dict[str, RungResult] = field(default_factory=dict)
    firmware: object | None = None  # leafml.firmware.cortex_m.FirmwareResult

    @property
    def parity(self) -> dict[str, bool | None]:
        """One boolean per rung of :data:`RUNGS`; None for a rung that did not run."""
        return {name: (self.rungs[name].passed if name in self.rungs else None) for name in RUNGS}

    @property
    def all_passed(self) -> bool:
        return bool(self.rungs) and all(r.passed for r in self.rungs.values())


def compare(name: str, got: np.ndarray, expected: np.ndarray) -> RungResult:
    """Byte-for-byte comparison of two int8 output batches."""
    got = np.asarray(got).reshape(expected.shape)
    diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
    return RungResult(name, bool(np.all(diff == 0)), int(np.count_nonzero(diff)), int(diff.max(initial=0)), len(expected))


def run_ladder(
    graph: Graph,
    model_bytes: bytes,
    inputs: np.ndarray,
    c_sources: list[Path],
    c_include_dirs: list[Path],
    work_dir: Path,
    *,
    c_rounding: str = "double",
    rungs: tuple[str, ...] = RUNGS,
    on_rung: Callable[[str], None] | None = None,
) -> LadderResult:
    """Run ``inputs`` (int8, batch first, graph layout) down the requested rungs.

    ``model_bytes`` is the graph's .tflite; ``c_sources`` and
    ``c_include_dirs`` are the generated C library, built for ``c_rounding``.
    ``on_rung(name)`` is called before each rung starts.  Build products go
    under ``work_dir``.
    """
    from leafml.firmware.cortex_m import run_cortex_m4
    from leafml.firmware.host import run_host

    unknown = set(rungs) - set(RUNGS)
    if unknown:
        raise ValueError(f"unknown rung(s) {', '.join(sorted(unknown))}; the ladder has {', '.join(RUNGS)}")
    reference = {mode: graph.run(inputs, rounding=mode)[0] for mode in {"single", "double", c_rounding}}
    flat_inputs = inputs.reshape(len(inputs), -1)
    output_size = int(np.prod(reference["double"].shape[1:]))
    result = LadderResult()
    for name in (r for r in RUNGS if r in rungs):
        if on_rung:
            on_rung(name)
        if name == "litert":
            got, expected = run_litert(model_bytes, inputs), reference[PEER_ROUNDING["litert"]]
        elif name == "tflm":
            got, expected = run_tflm(model_bytes, inputs), reference[PEER_ROUNDING["tflm"]]
        elif name == "host_c":
            got = run_host(c_sources, c_include_dirs, flat_inputs, output_size, work_dir / "host")
            expected = reference[c_rounding]
        else:
            result.firmware = run_cortex_m4(c_sources, c_include_dirs, flat_inputs, output_size, work_dir / "cortex_m4")
            got, expected = result.firmware.outputs, reference[c_rounding]
        result.rungs[name] = compare(name, got, expected)
    return result
