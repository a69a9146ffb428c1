"""Every Cortex-M core leafml measures: generated int8 C built for it and run
in its QEMU machine must give the reference interpreter's bytes, with an
exact, deterministic instruction count. Small models, so the whole file runs
in a few seconds."""

from __future__ import annotations

import numpy as np
import pytest
from int8_graphs import GraphBuilder, quantize, random_int8
from test_firmware import invoke_body, toy_inputs, write_model

from leafml.codegen import generate_c
from leafml.firmware import CORES, FirmwareError, build_cortex_m, run_cortex_m
from leafml.ir import Activation

needs_cortex_m = pytest.mark.requires_tools("cc", "arm-none-eabi-gcc", "arm-none-eabi-size", "arm-none-eabi-nm",
                                            "arm-none-eabi-readelf", "qemu-system-arm")

# The QEMU machine each core runs on first, and the instruction set it
# compiles for (from the ELF's build attributes).
EXPECTED = {
    "cortex-m0": ("microbit", "v6S-M"),
    "cortex-m3": ("mps2-an385", "v7"),
    "cortex-m4": ("mps2-an386", "v7E-M"),
    "cortex-m7": ("mps2-an500", "v7E-M"),
    "cortex-m33": ("mps2-an505", "v8-M.mainline"),
    "cortex-m55": ("mps3-an547", "v8.1-M.mainline"),
}


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory):
    """A small int8 CNN (conv, pool, FC, softmax) as generated C, with inputs and reference outputs."""
    float_graph = (GraphBuilder((1, 8, 8, 2), seed=3)
                   .conv(6, 3, activation=Activation.RELU).max_pool(2, 2)
                   .reshape((1, -1)).fully_connected(5).softmax().build())
    calibration = np.random.default_rng(1).uniform(-1.0, 1.0, (64, 8, 8, 2)).astype(np.float32)
    graph = quantize(float_graph, calibration)
    cmodel = generate_c(graph, tmp_path_factory.mktemp("c"))
    inputs = random_int8((1, 8, 8, 2), 6, seed=5)
    expected = graph.run(inputs, rounding="double")[0].reshape(len(inputs), -1)
    return cmodel, inputs.reshape(len(inputs), -1), expected


def test_every_core_has_a_machine_and_flags():
    assert set(CORES) == set(EXPECTED)
    for name, core in CORES.items():
        assert core.machines[0].qemu_name == EXPECTED[name][0]
        assert any(flag == f"-mcpu={name}" for flag in core.cpu_flags)
        float_abi = "soft" if name in ("cortex-m0", "cortex-m3") else "hard"
        assert f"-mfloat-abi={float_abi}" in core.cpu_flags


@needs_cortex_m
@pytest.mark.parametrize("core", list(EXPECTED))
def test_generated_int8_c_is_bit_exact_on_every_core(tmp_path, int8_model, core):
    cmodel, inputs, expected = int8_model
    result = run_cortex_m(core, cmodel.sources, [cmodel.include_dir], inputs, expected.shape[1], tmp_path)
    np.testing.assert_array_equal(result.outputs, expected)
    assert (result.core, result.machine) == (core, EXPECTED[core][0])
    assert len(result.instructions) == len(inputs) and min(result.instructions) > 1000
    assert 0 < result.stack_bytes < 4096
    assert result.model_sizes.bss >= cmodel.arena_bytes


@needs_cortex_m
def test_counts_are_deterministic_and_the_thumb1_build_runs_more_instructions(tmp_path, int8_model):
    cmodel, inputs, expected = int8_model
    twice = np.concatenate([inputs[:2], inputs[:2]])
    counts = {core: run_cortex_m(core, cmodel.sources, [cmodel.include_dir], twice, expected.shape[1],
                                 tmp_path / core).instructions
              for core in ("cortex-m0", "cortex-m4")}
    for per_input in counts.values():
        assert per_input[:2] == per_input[2:]
    # ARMv6-M has no multiply-accumulate and few addressing modes.
    assert counts["cortex-m0"][0] > 1.2 * counts["cortex-m4"][0]


@needs_cortex_m
@pytest.mark.parametrize("core", list(EXPECTED))
def test_each_build_targets_its_instruction_set(tmp_path, int8_model, core):
    from leafml.firmware.toolchain import run_tool

    cmodel, inputs, expected = int8_model
    image = build_cortex_m(core, cmodel.sources, [cmodel.include_dir], inputs[:1], expected.shape[1], tmp_path)
    attributes = run_tool(["arm-none-eabi-readelf", "-A", str(image.elf)], "readelf", 30.0).stdout
    assert f"Tag_CPU_arch: {EXPECTED[core][1]}" in attributes
    assert ("Tag_ABI_VFP_args: VFP registers" in attributes) == (core not in ("cortex-m0", "cortex-m3"))


@needs_cortex_m
def test_cortex_m0_moves_to_a_bigger_machine_when_the_microbit_is_too_small(tmp_path):
    # 300 KB of constants: more than the micro:bit's 256 KiB of flash.
    big = invoke_body("out[0] = table[in[0] & 1]; out[1] = (int8_t)(in[1] + 1); return 0;").replace(
        '#include "model.h"\n', '#include "model.h"\nstatic const int8_t table[300000] = {1};\n')
    sources = write_model(tmp_path / "src", 16, 2, big)
    inputs = toy_inputs(2, 16)
    result = run_cortex_m("cortex-m0", sources, [tmp_path / "src"], inputs, 2, tmp_path / "m0")
    assert result.machine == "mps2-an385"
    np.testing.assert_array_equal(result.outputs[:, 1], (inputs[:, 1].astype(np.int16) + 1).astype(np.int8))
    assert result.model_sizes.text > 300000


@needs_cortex_m
def test_a_fault_names_the_core(tmp_path):
    sources = write_model(tmp_path / "src", 16, 4, invoke_body("__builtin_trap();"))
    with pytest.raises(FirmwareError, match=r"^Cortex-M0 run failed: leafml firmware: fault: exception 3 at pc=0x"):
        run_cortex_m("cortex-m0", sources, [tmp_path / "src"], toy_inputs(1, 16), 4, tmp_path / "m0")


def test_unknown_core_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(FirmwareError, match="no Cortex-M core named 'cortex-m85'; choose one of: cortex-m0,"):
        run_cortex_m("cortex-m85", [], [], toy_inputs(1, 4), 4, tmp_path)

