"""Rung 3 of the verification ladder: build generated C with the host
compiler, strict warnings as errors, and run it on a batch of inputs."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np

from .harness import FIRMWARE_DIR, check_inputs, size_defines
from .toolchain import FirmwareError, compile_objects, find_tool, link, run_tool

HOST_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]


def run_host(
    sources: list[Path],
    include_dirs: list[Path],
    inputs: np.ndarray,
    output_size: int,
    work_dir: Path,
    timeout_s: float = 60.0,
) -> np.ndarray:
    """Build `sources` with the host `cc` and run leafml_invoke on every input.

    `sources` are the model's C files (defining leafml_invoke), `include_dirs`
    where model.h and the runtime header are found; `inputs` is int8
    [N, input_size], `output_size` the model's output in bytes.  Build
    products go to `work_dir`; the run may take at most `timeout_s` seconds.
    Returns the outputs as int8 [N, output_size].  Raises `FirmwareError` on a
    compile error, a nonzero leafml_invoke status, a crash or a timeout.
    """
    inputs = check_inputs(inputs)
    cc = find_tool("cc")
    work_dir.mkdir(parents=True, exist_ok=True)

    flags = [*HOST_CFLAGS, *size_defines(inputs.shape[1], output_size)]
    flags += [f"-I{d}" for d in include_dirs]
    exe = work_dir / "leafml_host"
    all_sources = [*sources, FIRMWARE_DIR / "host_harness.c"]
    objects = compile_objects(cc, flags, all_sources, work_dir / "host", "host build")
    link(cc, objects, [], exe, "host build")

    input_file = work_dir / "inputs.bin"
    output_file = work_dir / "outputs.bin"
    input_file.write_bytes(inputs.tobytes())
    result = run_tool([str(exe), str(input_file), str(output_file)], "host run", timeout_s)
    if result.returncode != 0:
        raise FirmwareError(f"host run failed: {_failure(result.returncode, result.stderr)}", result.stderr)

    outputs = np.fromfile(output_file, dtype=np.int8)
    expected = inputs.shape[0] * output_size
    if outputs.size != expected:
        raise FirmwareError(f"host run wrote {outputs.size} output bytes, expected {expected}")
    return outputs.reshape(inputs.shape[0], output_size)


def _failure(returncode: int, stderr: str) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {returncode}"
