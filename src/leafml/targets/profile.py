"""Profile one generated model across boards: measure once per core, estimate per board.

The C library (``model.h``, ``model.c``, ``leafml_runtime.h``, as
`leafml.codegen.generate_c` writes it) is built for every distinct QEMU core
the chosen boards need and run there on a few random inputs; the exact
instruction count, the model's flash and static RAM (``arm-none-eabi-size``)
and its measured stack are that core's. Each board then gets its estimate
(`leafml.targets.estimate`), its fit (`leafml.targets.fit`) and, for the
MLPerf Tiny reference models, the published measurements of other stacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from leafml.errors import LeafmlError
from leafml.firmware import run_cortex_m
from leafml.targets.catalog import Board
from leafml.targets.estimate import Estimate, estimate
from leafml.targets.fit import Fit, fit_options, fits
from leafml.targets.mlperf import PublishedResult, published_results

__all__ = ["BoardProfile", "CModelFiles", "CoreMeasurement", "Profile", "ProfileError", "measure_cores",
           "profile_model", "read_c_model"]

# A few inputs: the count hardly depends on the data (ReLU and softmax
# branches), and every one costs a QEMU run of the whole model.
DEFAULT_INPUTS = 3


class ProfileError(LeafmlError):
    """The model to profile is not usable; the message names the file and the fix."""


@dataclass(frozen=True)
class CModelFiles:
    """A generated C model: its folder, sizes from model.h (bytes), int8 weight bytes."""

    folder: Path
    input_size: int
    output_size: int
    int8_weight_bytes: int

    @property
    def sources(self) -> list[Path]:
        return [self.folder / "model.c"]


@dataclass(frozen=True)
class CoreMeasurement:
    """What one QEMU core measured: instructions per inference, bytes of flash and RAM.

    ``ram_bytes`` is the model's static RAM (data + bss, the arena
    included) plus its measured stack; ``machine`` is the QEMU machine that
    ran it.
    """

    core: str
    machine: str
    instructions: tuple[int, ...]
    flash_bytes: int
    ram_bytes: int
    stack_bytes: int

    @property
    def mean_instructions(self) -> int:
        return int(round(float(np.mean(self.instructions))))


@dataclass(frozen=True)
class BoardProfile:
    """One board's row: the measurement it uses, the estimate, the fit and what to do."""

    board: Board
    measurement: CoreMeasurement
    estimate: Estimate
    fit: Fit
    options: tuple[str, ...]
    published: tuple[PublishedResult, ...]


@dataclass(frozen=True)
class Profile:
    """A model across boards; reserves in bytes are those the fit used."""

    model: str
    measurements: dict[str, CoreMeasurement]
    boards: tuple[BoardProfile, ...]
    flash_reserve_bytes: int
    ram_reserve_bytes: int


_DEFINE = re.compile(r"^#define\s+LEAFML_(INPUT|OUTPUT)_SIZE\s+(\d+)", re.MULTILINE)
_INT8_ARRAY = re.compile(r"static const int8_t \w+\[(\d+)\]")


def read_c_model(folder: Path) -> CModelFiles:
    """The generated C model in ``folder`` (model.h, model.c, leafml_runtime.h).

    Raises `ProfileError` naming the missing file, or model.h when it lacks
    the sizes `generate_c` writes.
    """
    for name in ("model.h", "model.c", "leafml_runtime.h"):
        if not (folder / name).is_file():
            raise ProfileError(f"{folder}: no {name}; give a folder written by leafml's C generator "
                               "(e.g. the c/ folder of `leafml demo`'s output)")
    sizes = dict(_DEFINE.findall((folder / "model.h").read_text(errors="replace")))
    if set(sizes) != {"INPUT", "OUTPUT"}:
        raise ProfileError(f"{folder / 'model.h'}: no LEAFML_INPUT_SIZE and LEAFML_OUTPUT_SIZE defines; "
                           "regenerate the C with leafml")
    weights = sum(int(n) for n in _INT8_ARRAY.findall((folder / "model.c").read_text(errors="replace")))
    return CModelFiles(folder, int(sizes["INPUT"]), int(sizes["OUTPUT"]), weights)


def measure_cores(model: CModelFiles, cores: Sequence[str], work_dir: Path,
                  n_inputs: int = DEFAULT_INPUTS, seed: int = 0) -> dict[str, CoreMeasurement]:
    """Build and run ``model`` on each QEMU core in ``cores``; build products go under ``work_dir``.

    The inputs are ``n_inputs`` random int8 vectors from ``seed``, the same
    for every core.
    """
    inputs = np.random.default_rng(seed).integers(-128, 128, size=(n_inputs, model.input_size), dtype=np.int8)
    measured = {}
    for core in dict.fromkeys(cores):
        run = run_cortex_m(core, model.sources, [model.folder], inputs, model.output_size, work_dir / core)
        measured[core] = CoreMeasurement(
            core=core,
            machine=run.machine,
            instructions=tuple(run.instructions),
            flash_bytes=run.model_sizes.flash,
            ram_bytes=run.model_sizes.ram + run.stack_bytes,
            stack_bytes=run.stack_bytes,
        )
    return measured


def profile_model(
    model: CModelFiles,
    boards: Sequence[Board],
    work_dir: Path,
    *,
    label: str,
    flash_reserve_bytes: int,
    ram_reserve_bytes: int,
    catalog: Sequence[Board] = (),
    tflite_bytes: bytes | None = None,
) -> Profile:
    """Measure ``model`` on the cores ``boards`` need and estimate it on each board.

    ``catalog`` is where a board that fits is looked for when one does not;
    ``tflite_bytes``, the model's .tflite when known, finds the published
    MLPerf Tiny measurements of the same model. ``label`` names the model in
    the report; reserves are bytes the rest of the firmware takes.
    """
    if not boards:
        raise ProfileError("no board to profile on; name one with --board (see `leafml boards`)")
    measurements = measure_cores(model, [b.core_model.measured_on for b in boards], work_dir)
    published = published_results(tflite_bytes) if tflite_bytes is not None else []
    rows = []
    for board in boards:
        measured = measurements[board.core_model.measured_on]
        fit = fits(board, measured.flash_bytes, measured.ram_bytes,
                   flash_reserve_bytes=flash_reserve_bytes, ram_reserve_bytes=ram_reserve_bytes)
        others = [b for b in catalog if b.id != board.id]
        options = fit_options(fit, model.int8_weight_bytes, others, flash_reserve_bytes=flash_reserve_bytes,
                              ram_reserve_bytes=ram_reserve_bytes)
        rows.append(BoardProfile(
            board=board,
            measurement=measured,
            estimate=estimate(board, measured.mean_instructions),
            fit=fit,
            options=tuple(options),
            published=tuple(r for r in published if r.board_id == board.id),
        ))
    return Profile(label, measurements, tuple(rows), flash_reserve_bytes, ram_reserve_bytes)
