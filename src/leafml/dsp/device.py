"""Generated DSP C run where it will run, with what it costs measured.

Both runs go through leafml.firmware's harnesses, which move raw bytes: a
small shim (a model.h and a ``leafml_invoke`` that calls ``<prefix>_run``)
stands in for a model, the windows are packed as the device's samples
(little-endian float32 or int16) and the features come back as float32
bytes.  On the host the build is rung 3's (``cc -std=c99 -Wall -Wextra
-Werror -O2``); on a Cortex-M core it is rung 4's, run in QEMU, where the
instructions of every window, the stack, and the flash and RAM of dsp.c's
own object file are measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leafml.dsp.base import DspError
from leafml.dsp.cgen import BANNER, DspSource
from leafml.firmware import SectionSizes, find_tool, run_cortex_m, run_host
from leafml.firmware.cortex_m import COMMON_FLAGS, section_sizes
from leafml.firmware.machines import get_core
from leafml.firmware.toolchain import compile_objects

_INT16 = np.iinfo(np.int16)


@dataclass(frozen=True)
class DspDeviceResult:
    """What one Cortex-M run of the generated DSP measured.

    features: float32 [N, rows, columns] computed on the core.
    instructions: per window, the instructions executed by one call,
        including the one branch of the test shim that makes it.
    stack_bytes: the deepest stack use of a call.
    sizes: text/data/bss of dsp.c's object alone, compiled for the core
        (flash = text + data, RAM = data + bss, stack excluded), bytes.
    core: the core's name ("cortex-m4").
    """

    features: np.ndarray
    instructions: list[int]
    stack_bytes: int
    sizes: SectionSizes
    core: str

    @property
    def flash_bytes(self) -> int:
        return self.sizes.flash

    @property
    def ram_bytes(self) -> int:
        return self.sizes.ram


def run_dsp_host(source: DspSource, windows: np.ndarray, work_dir: str | Path) -> np.ndarray:
    """Build ``source`` with the host cc (strict warnings as errors) and run it on
    every window of ``windows`` [N, samples, axes]; returns float32 [N, rows, columns]."""
    work = Path(work_dir)
    inputs = _pack(source, windows)
    outputs = run_host([source.source, _shim(source, work)], [source.source.parent, work / "shim"], inputs,
                       source.output_bytes, work)
    return _unpack(source, outputs)


def run_dsp_cortex_m(source: DspSource, windows: np.ndarray, work_dir: str | Path, core: str = "cortex-m4",
                     opt: str = "-O2", timeout_s: float = 300.0) -> DspDeviceResult:
    """Build ``source`` for ``core`` (a name of leafml.firmware.CORES), run it in
    QEMU on every window of ``windows`` [N, samples, axes] and measure it.

    The windows are compiled into the image (flash), so keep N small for a
    long window: a 1 s window of 16 kHz float32 samples is 64 KB.
    """
    work = Path(work_dir)
    inputs = _pack(source, windows)
    result = run_cortex_m(core, [source.source, _shim(source, work)], [source.source.parent, work / "shim"], inputs,
                          source.output_bytes, work, opt, timeout_s)
    gcc = find_tool("arm-none-eabi-gcc")
    flags = [*COMMON_FLAGS, *get_core(core).cpu_flags, opt, f"-I{source.source.parent}"]
    objects = compile_objects(gcc, flags, [source.source], work / "dsp_size", f"{get_core(core).title} DSP object")
    return DspDeviceResult(
        features=_unpack(source, result.outputs),
        instructions=result.instructions,
        stack_bytes=result.stack_bytes,
        sizes=section_sizes(objects),
        core=result.core,
    )


def _pack(source: DspSource, windows: np.ndarray) -> np.ndarray:
    """``windows`` as the device's samples, one row of bytes per window (int8, as the harness takes them)."""
    x = np.asarray(windows)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3 or x.shape[1] * x.shape[2] != source.input_elements or x.shape[0] == 0:
        raise DspError(f"windows should be [N, samples, axes] with {source.input_elements} values each, "
                       f"not {list(np.shape(windows))}")
    if source.input_ctype == "int16_t":
        if not np.all((x == np.round(x)) & (x >= _INT16.min) & (x <= _INT16.max)):
            raise DspError("this pipeline's input is int16 (dsp.input), but the windows hold values that are not "
                           "whole numbers from -32768 to 32767")
        samples = x.astype("<i2")
    else:
        samples = x.astype("<f4")
    return samples.reshape(len(x), -1).view(np.int8)


def _unpack(source: DspSource, outputs: np.ndarray) -> np.ndarray:
    rows, columns = source.feature_shape
    return np.ascontiguousarray(outputs).view("<f4").reshape(len(outputs), rows, columns).astype(np.float32)


def _shim(source: DspSource, work: Path) -> Path:
    """model.h and dsp_invoke.c that present ``<prefix>_run`` to the harness as leafml_invoke."""
    shim = work / "shim"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "model.h").write_text(
        f"/* {BANNER}: the DSP seen by leafml.firmware's harness as a model. */\n"
        "#ifndef LEAFML_DSP_SHIM_MODEL_H\n#define LEAFML_DSP_SHIM_MODEL_H\n"
        f"#define LEAFML_INPUT_SIZE {source.input_bytes}\n"
        f"#define LEAFML_OUTPUT_SIZE {source.output_bytes}\n"
        "int leafml_invoke(const void *input, void *output);\n"
        "#endif\n"
    )
    invoke = shim / "dsp_invoke.c"
    invoke.write_text(
        f"/* {BANNER} */\n"
        '#include "model.h"\n#include "dsp.h"\n\n'
        "/* A tail call: one branch instruction on top of the DSP's own. */\n"
        f"int leafml_invoke(const void *input, void *output)\n{{\n    return {source.prefix}_run(input, output);\n}}\n"
    )
    return invoke
