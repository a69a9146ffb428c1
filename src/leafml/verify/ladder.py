"""The verification ladder: every back end must give the reference interpreter's bytes.

Rungs, in the order they run (each compares the outputs byte for byte):

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

from leafml.interpreter import Session
from leafml.ir.graph import Graph
from leafml.verify.peers import PEER_ROUNDING, run_litert, run_tflm

RUNGS = ("litert", "tflm", "host_c", "qemu_cortex_m4")


@dataclass(frozen=True)
class RungResult:
    """One rung's verdict: equal bytes or not, and how far apart."""

    name: str
    passed: bool
    mismatched_bytes: int
    max_abs_diff: int | float  # in the output's units: quantization steps, or real values for float outputs
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
    """Byte-for-byte comparison of two output batches of the same element type."""
    got, expected = np.ascontiguousarray(got).reshape(expected.shape), np.ascontiguousarray(expected)
    if got.dtype != expected.dtype:
        raise TypeError(f"rung {name} gave {got.dtype} outputs; the reference gives {expected.dtype}")
    mismatched = int(np.count_nonzero(got.view(np.uint8) != expected.view(np.uint8)))
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64)).max(initial=0)
    max_abs_diff = float(diff) if expected.dtype.kind == "f" else int(diff)
    return RungResult(name, mismatched == 0, mismatched, max_abs_diff, len(expected))


def _from_bytes(raw: np.ndarray, like: np.ndarray) -> np.ndarray:
    """The output bytes a C build wrote, read as the reference's element type and shape."""
    return np.ascontiguousarray(raw).view(like.dtype).reshape(like.shape)


def _reference(graph: Graph, inputs: np.ndarray, rounding: str) -> np.ndarray:
    """The reference interpreter's outputs; a streaming graph runs ``inputs`` as one stream of calls, never reset."""
    if graph.variables:
        # Like the peers' one interpreter and the C's static state, kept across the whole batch.
        return Session(graph, rounding).invoke(inputs)[0]
    return graph.run(inputs, rounding=rounding)[0]


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
    """Run ``inputs`` (the graph input's dtype, batch first, graph layout) down the requested rungs.

    A graph with variables (a streaming model) takes ``inputs`` as one
    sequence of calls in order, with its state kept from call to call in
    every back end.  ``model_bytes`` is the graph's .tflite (for an
    imported model, the original file); ``c_sources`` and
    ``c_include_dirs`` are the generated C library, built for ``c_rounding``.
    ``on_rung(name)`` is called before each rung starts.  Build products go
    under ``work_dir``.
    """
    from leafml.firmware.cortex_m import run_cortex_m4
    from leafml.firmware.host import run_host

    unknown = set(rungs) - set(RUNGS)
    if unknown:
        raise ValueError(f"unknown rung(s) {', '.join(sorted(unknown))}; the ladder has {', '.join(RUNGS)}")
    reference = {mode: _reference(graph, inputs, mode) for mode in {"single", "double", c_rounding}}
    # The C harnesses move bytes: float32 or uint8 I/O travels as its raw bytes.
    flat_inputs = np.ascontiguousarray(inputs).reshape(len(inputs), -1).view(np.int8)
    output_size = reference["double"][0].nbytes
    result = LadderResult()
    for name in (r for r in RUNGS if r in rungs):
        if on_rung:
            on_rung(name)
        if name == "litert":
            got, expected = run_litert(model_bytes, inputs), reference[PEER_ROUNDING["litert"]]
        elif name == "tflm":
            got, expected = run_tflm(model_bytes, inputs), reference[PEER_ROUNDING["tflm"]]
        elif name == "host_c":
            expected = reference[c_rounding]
            got = _from_bytes(run_host(c_sources, c_include_dirs, flat_inputs, output_size, work_dir / "host"), expected)
        else:
            result.firmware = run_cortex_m4(c_sources, c_include_dirs, flat_inputs, output_size, work_dir / "cortex_m4")
            expected = reference[c_rounding]
            got = _from_bytes(result.firmware.outputs, expected)
        result.rungs[name] = compare(name, got, expected)
    return result
