"""Tests for leafml.firmware: host and Cortex-M4 (QEMU) builds of a toy model.

The toy stands in for generated code: a header-only runtime, a model.h with
the generated interface, and a leafml_invoke whose work scales with the
input size, uses float (so the FPU must be enabled) and returns status 3 when
the first input byte is -128.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from leafml.firmware import FirmwareError, ToolchainMissing, build_cortex_m4, run_cortex_m4, run_host
from leafml.firmware.qemu import marker_addresses, run_qemu

CORTEX_M_TOOLS = ("cc", "arm-none-eabi-gcc", "arm-none-eabi-size", "arm-none-eabi-nm", "qemu-system-arm")
needs_host = pytest.mark.requires_tools("cc")
needs_cortex_m = pytest.mark.requires_tools(*CORTEX_M_TOOLS)

APT_CROSS = "apt-get install -y --no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"

MODEL_H = """\
#ifndef MODEL_H
#define MODEL_H
#include <stdint.h>
#define LEAFML_INPUT_SIZE {input_size}
#define LEAFML_OUTPUT_SIZE {output_size}
int leafml_invoke(const int8_t *input, int8_t *output);
#endif
"""

RUNTIME_H = """\
#ifndef LEAFML_RUNTIME_H
#define LEAFML_RUNTIME_H
#include <stdint.h>
static inline int8_t leafml_sat8(int32_t v)
{
    return (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
}
#endif
"""

TOY_MODEL_C = """\
#include "model.h"
#include "leafml_runtime.h"

int leafml_invoke(const int8_t *input, int8_t *output)
{
    if (input[0] == -128) {
        return 3;
    }
    int32_t acc = 0;
    for (int i = 0; i < LEAFML_INPUT_SIZE; ++i) {
        acc += (int32_t)((float)input[i] * 0.5f);
    }
    for (int o = 0; o < LEAFML_OUTPUT_SIZE; ++o) {
        output[o] = leafml_sat8(acc + 3 * input[o % LEAFML_INPUT_SIZE]);
    }
    return 0;
}
"""


def toy_expected(inputs: np.ndarray, output_size: int) -> np.ndarray:
    """numpy twin of TOY_MODEL_C (C's float-to-int conversion truncates)."""
    x = inputs.astype(np.int32)
    acc = np.trunc(x * 0.5).astype(np.int32).sum(axis=1, keepdims=True)
    picked = x[:, np.arange(output_size) % x.shape[1]]
    return np.clip(acc + 3 * picked, -128, 127).astype(np.int8)


def write_model(directory: Path, input_size: int, output_size: int, model_c: str = TOY_MODEL_C) -> list[Path]:
    """Write model.h, leafml_runtime.h and model.c; return [model.c]."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.h").write_text(MODEL_H.format(input_size=input_size, output_size=output_size))
    (directory / "leafml_runtime.h").write_text(RUNTIME_H)
    (directory / "model.c").write_text(model_c)
    return [directory / "model.c"]


def invoke_body(statement: str) -> str:
    """A model.c whose leafml_invoke only runs `statement`."""
    return (
        '#include "model.h"\n'
        "int leafml_invoke(const int8_t *in, int8_t *out)\n"
        f"{{ (void)in; (void)out; {statement} }}\n"
    )


def toy_inputs(n: int, input_size: int, seed: int = 0) -> np.ndarray:
    # -128 is the toy's error trigger, so the random bytes avoid it.
    return np.random.default_rng(seed).integers(-127, 128, size=(n, input_size), dtype=np.int8)


# --- host (rung 3) --------------------------------------------------------


@needs_host
def test_host_outputs_match_numpy(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 64, 8)
    inputs = toy_inputs(20, 64)
    outputs = run_host(sources, [tmp_path / "src"], inputs, 8, tmp_path / "build")
    np.testing.assert_array_equal(outputs, toy_expected(inputs, 8))


@needs_host
def test_host_reports_nonzero_status(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 16, 4)
    inputs = toy_inputs(3, 16)
    inputs[1, 0] = -128
    with pytest.raises(FirmwareError, match="leafml_invoke returned 3 on input 1$"):
        run_host(sources, [tmp_path / "src"], inputs, 4, tmp_path / "build")


@needs_host
def test_host_reports_crash(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 16, 4, invoke_body("__builtin_trap();"))
    with pytest.raises(FirmwareError, match="host run failed: killed by SIG"):
        run_host(sources, [tmp_path / "src"], toy_inputs(1, 16), 4, tmp_path / "build")


@needs_host
def test_compile_error_is_one_line_naming_the_problem(tmp_path: Path) -> None:
    # -Wall -Wextra -Werror: an unused variable must fail the build.
    model_c = TOY_MODEL_C.replace("int32_t acc = 0;", "int32_t acc = 0; int unused;")
    sources = write_model(tmp_path / "src", 16, 4, model_c)
    with pytest.raises(FirmwareError) as caught:
        run_host(sources, [tmp_path / "src"], toy_inputs(1, 16), 4, tmp_path / "build")
    message = str(caught.value)
    assert "\n" not in message
    assert "model.c" in message and "unused" in message and "error" in message
    assert "unused" in caught.value.log


@needs_host
def test_output_size_mismatch_fails_the_build(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 16, 4)
    with pytest.raises(FirmwareError, match="LEAFML_OUTPUT_SIZE"):
        run_host(sources, [tmp_path / "src"], toy_inputs(1, 16), 5, tmp_path / "build")


def test_inputs_must_be_int8(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="int8"):
        run_host([], [], np.zeros((1, 4), dtype=np.float32), 4, tmp_path)


def test_missing_tool_message_is_one_line_with_apt_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainMissing) as caught:
        run_cortex_m4([], [], toy_inputs(1, 4), 4, tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("arm-none-eabi-gcc not found")
    assert message.endswith(APT_CROSS)

    with pytest.raises(ToolchainMissing, match=r"^cc not found.*apt-get install -y --no-install-recommends gcc$"):
        run_host([], [], toy_inputs(1, 4), 4, tmp_path)


# --- Cortex-M4 in QEMU (rung 4) --------------------------------------------


@needs_cortex_m
def test_cortex_m4_outputs_match_numpy_and_host(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 64, 8)
    inputs = toy_inputs(20, 64)
    result = run_cortex_m4(sources, [tmp_path / "src"], inputs, 8, tmp_path / "m4")
    np.testing.assert_array_equal(result.outputs, toy_expected(inputs, 8))
    np.testing.assert_array_equal(result.outputs, run_host(sources, [tmp_path / "src"], inputs, 8, tmp_path / "host"))

    assert len(result.instructions) == 20 and min(result.instructions) > 64
    assert 0 < result.model_sizes.text < result.sizes.text
    # The embedded inputs are part of the whole image's read-only data.
    assert result.sizes.text > result.model_sizes.text + inputs.size
    assert result.model_sizes.data == result.model_sizes.bss == 0
    assert result.sizes.flash == result.sizes.text + result.sizes.data
    assert result.sizes.ram == result.sizes.data + result.sizes.bss >= 8  # the harness's output buffer
    assert result.elf.exists()


@needs_cortex_m
def test_instruction_counts_are_deterministic(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 32, 8)
    # Rows 0 and 2 are equal, so their counts must be too.
    inputs = toy_inputs(3, 32)
    inputs[2] = inputs[0]
    first = run_cortex_m4(sources, [tmp_path / "src"], inputs, 8, tmp_path / "a")
    second = run_cortex_m4(sources, [tmp_path / "src"], inputs, 8, tmp_path / "b")
    assert first.instructions == second.instructions
    assert first.instructions[0] == first.instructions[2]


@needs_cortex_m
def test_instruction_count_grows_linearly_with_the_loop(tmp_path: Path) -> None:
    counts = []
    for input_size in (64, 128, 192):
        sources = write_model(tmp_path / f"src{input_size}", input_size, 8)
        # All-zero inputs: no data-dependent branch differs between sizes.
        inputs = np.zeros((1, input_size), dtype=np.int8)
        result = run_cortex_m4(sources, [tmp_path / f"src{input_size}"], inputs, 8, tmp_path / f"m4_{input_size}")
        counts.append(result.instructions[0])
    step = counts[1] - counts[0]
    assert step > 64  # at least one instruction per extra input byte
    assert counts[2] - counts[1] == step


@needs_cortex_m
def test_plugin_count_equals_singlestep_exec_trace(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 16, 4)
    inputs = toy_inputs(2, 16)
    result = run_cortex_m4(sources, [tmp_path / "src"], inputs, 4, tmp_path / "m4")

    # Independent count: one TB per instruction, every TB execution logged.
    log = tmp_path / "exec.log"
    run_qemu(result.elf, ["-singlestep", "-d", "exec,nochain", "-D", str(log)], timeout_s=60.0)
    start, end = marker_addresses(result.elf)
    trace_pc = re.compile(r"^Trace \d+: \S+ \[[0-9a-f]+/([0-9a-f]+)/")
    traced, executed, started_at = [], 0, None
    for line in log.read_text().splitlines():
        match = trace_pc.match(line)
        if match is None:
            continue
        pc = int(match.group(1), 16)
        if pc == end and started_at is not None:
            traced.append(executed - started_at)
            started_at = None
        if pc == start:
            started_at = executed
        executed += 1
    assert traced == result.instructions


@needs_cortex_m
def test_cortex_m4_reports_nonzero_status(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 16, 4)
    inputs = toy_inputs(3, 16)
    inputs[1, 0] = -128
    with pytest.raises(FirmwareError, match="leafml_invoke returned 3 on input 1$"):
        run_cortex_m4(sources, [tmp_path / "src"], inputs, 4, tmp_path / "m4")


@needs_cortex_m
def test_cortex_m4_reports_fault(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 16, 4, invoke_body("__builtin_trap();"))
    # __builtin_trap is UDF: a UsageFault, escalated to HardFault (exception 3).
    with pytest.raises(FirmwareError, match=r"Cortex-M4 run failed: leafml firmware: fault: exception 3 at pc=0x"):
        run_cortex_m4(sources, [tmp_path / "src"], toy_inputs(1, 16), 4, tmp_path / "m4")


@needs_cortex_m
def test_cortex_m4_hang_times_out(tmp_path: Path) -> None:
    sources = write_model(tmp_path / "src", 16, 4, invoke_body("for (;;) {}"))
    with pytest.raises(FirmwareError, match="did not finish within 1 s"):
        run_cortex_m4(sources, [tmp_path / "src"], toy_inputs(1, 16), 4, tmp_path / "m4", timeout_s=1.0)


@needs_cortex_m
def test_cortex_m4_link_error_names_the_symbol(tmp_path: Path) -> None:
    model_c = TOY_MODEL_C.replace("return 0;\n}", "return leafml_missing_helper();\n}")
    model_c = "int leafml_missing_helper(void);\n" + model_c
    sources = write_model(tmp_path / "src", 16, 4, model_c)
    with pytest.raises(FirmwareError, match="linking Cortex-M4 firmware failed: .*undefined reference to `leafml_missing_helper'"):
        build_cortex_m4(sources, [tmp_path / "src"], toy_inputs(1, 16), 4, tmp_path / "m4")


@needs_cortex_m
def test_stack_use_and_optimisation_level_are_measured(tmp_path: Path) -> None:
    # A 512-byte local scratch buffer: the measured stack must cover it.
    model_c = TOY_MODEL_C.replace(
        "int32_t acc = 0;",
        "volatile int8_t scratch[512];\n    for (int i = 0; i < 512; ++i) { scratch[i] = input[i % LEAFML_INPUT_SIZE]; }\n"
        "    int32_t acc = scratch[511] - scratch[511];",
    )
    sources = write_model(tmp_path / "src", 64, 8, model_c)
    inputs = toy_inputs(2, 64)
    o2 = run_cortex_m4(sources, [tmp_path / "src"], inputs, 8, tmp_path / "o2")
    o0 = run_cortex_m4(sources, [tmp_path / "src"], inputs, 8, tmp_path / "o0", opt="-O0")
    np.testing.assert_array_equal(o2.outputs, toy_expected(inputs, 8))
    np.testing.assert_array_equal(o0.outputs, o2.outputs)
    assert 512 <= o2.stack_bytes < 1024
    assert all(a > b for a, b in zip(o0.instructions, o2.instructions))


@needs_cortex_m
def test_stack_overflow_is_reported(tmp_path: Path) -> None:
    # 128 KiB of locals, all written, against the harness's 64 KiB stack.
    body = ("volatile int8_t big[131072]; for (int k = 0; k < 131072; ++k) { big[k] = in[k % 16]; } "
            "out[0] = big[0]; return 0;")
    sources = write_model(tmp_path / "src", 16, 4, invoke_body(body))
    with pytest.raises(FirmwareError, match="stack overflow"):
        run_cortex_m4(sources, [tmp_path / "src"], toy_inputs(1, 16), 4, tmp_path / "m4")
