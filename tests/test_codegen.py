"""The C generator: host builds of the generated C equal the reference interpreter, byte for byte.

Rung 3 of the verification ladder for every operator alone, for edge cases
(odd sizes with SAME padding, dilation, RELU6, extreme multipliers), and for
a small CNN, in both rounding modes; plus a compile-only Cortex-M4 build.
"""

from __future__ import annotations

import doctest
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import leafml.codegen.cformat
from int8_graphs import GraphBuilder, quantize, random_int8, requant_probe
from leafml.codegen import CodegenError, generate_c
from leafml.firmware import find_tool
from leafml.firmware.host import run_host
from leafml.interpreter import prepare
from leafml.ir import Activation, Graph, OpType, Padding
from leafml.ops import get_op
from leafml.plan import check_plan, lower_bound
from leafml.quant.fixedpoint import ROUNDINGS

CORTEX_M4_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2"]
STRICT_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]


def calibrated(builder: GraphBuilder, overrides: dict[str, tuple[float, int]] | None = None, seed: int = 1) -> Graph:
    g = builder.build()
    shape = g.tensors[g.inputs[0]].shape
    calibration = np.random.default_rng(seed).uniform(-1.0, 1.0, (64, *shape[1:])).astype(np.float32)
    return quantize(g, calibration, overrides)


def small_cnn() -> Graph:
    """conv -> maxpool -> conv (stride 2, SAME) -> avgpool -> reshape -> FC."""
    return calibrated(
        GraphBuilder((1, 12, 12, 3), seed=7)
        .conv(8, 3, activation=Activation.RELU)
        .max_pool(2, 2)
        .conv(16, 3, stride=2, padding=Padding.SAME, activation=Activation.RELU6)
        .average_pool(3, 3)
        .reshape((1, -1))
        .fully_connected(10)
    )


CASES = {
    "conv_valid": lambda: calibrated(GraphBuilder((1, 8, 8, 3)).conv(4, 3)),
    "conv_same_odd_sizes_stride2": lambda: calibrated(
        GraphBuilder((1, 7, 9, 2)).conv(5, (4, 3), stride=2, padding=Padding.SAME)
    ),
    "conv_dilation2_same": lambda: calibrated(
        GraphBuilder((1, 9, 8, 3)).conv(4, 3, dilation=2, padding=Padding.SAME, activation=Activation.RELU)
    ),
    "conv_1x1_no_bias": lambda: calibrated(GraphBuilder((1, 5, 5, 6)).conv(8, 1, bias=False)),
    # A wide input range drives the conv past 6.0, and the output scale puts
    # 6.0 at int8 72, so the RELU6 clamp is inside the int8 range and hit.
    "conv_relu6_clamps": lambda: calibrated(
        GraphBuilder((1, 6, 6, 4)).conv(6, (1, 3), stride=(2, 1), activation=Activation.RELU6),
        overrides={"input": (0.1, 0), "conv": (0.03, -128)},
    ),
    "conv_large_multiplier": lambda: calibrated(
        GraphBuilder((1, 6, 6, 8)).conv(4, 3), overrides={"conv": (1e-5, 10)}
    ),
    "conv_small_multiplier": lambda: calibrated(
        GraphBuilder((1, 6, 6, 8)).conv(4, 3), overrides={"conv": (0.25, -7)}
    ),
    "fully_connected_relu": lambda: calibrated(GraphBuilder((1, 20)).fully_connected(12, Activation.RELU)),
    "fully_connected_no_bias": lambda: calibrated(GraphBuilder((1, 7)).fully_connected(3, bias=False)),
    "max_pool_same_odd": lambda: calibrated(GraphBuilder((1, 7, 7, 3)).max_pool(3, 2, Padding.SAME)),
    "max_pool_valid_relu": lambda: calibrated(GraphBuilder((1, 6, 8, 2)).max_pool((2, 3), (2, 1), Padding.VALID, Activation.RELU)),
    "average_pool_same_odd": lambda: calibrated(GraphBuilder((1, 7, 5, 4)).average_pool(3, 2, Padding.SAME)),
    "average_pool_valid": lambda: calibrated(GraphBuilder((1, 6, 9, 3)).average_pool((2, 3), (1, 2))),
    "reshape_of_input": lambda: calibrated(GraphBuilder((1, 3, 4, 2)).reshape((1, 24))),
    "reshape_then_fc": lambda: calibrated(GraphBuilder((1, 2, 3, 4)).reshape((1, -1)).fully_connected(5)),
    "softmax": lambda: calibrated(GraphBuilder((1, 10)).softmax(beta=1.0)),
    "fc_softmax": lambda: calibrated(GraphBuilder((1, 16)).fully_connected(10).softmax()),
    "requant_probe": lambda: requant_probe([2**-33, 2**-31.5, 2**-20, 0.37, 0.5, 0.9999, 1.0, 1.7, 2**5.5, 2**11.3]),
    "small_cnn": small_cnn,
}


def build_and_run(graph: Graph, rounding: str, tmp_path: Path, count: int = 96):
    model = generate_c(graph, tmp_path / "gen", rounding=rounding)
    x = random_int8(graph.tensors[graph.inputs[0]].shape, count)
    got = run_host(model.sources, [model.include_dir], x.reshape(count, -1), model.output_size, tmp_path / "build")
    want = graph.run(x, rounding=rounding)[0].reshape(count, -1)
    return model, got, want


@pytest.mark.requires_tools("cc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("case", list(CASES))
def test_host_build_equals_reference(case, rounding, tmp_path):
    graph = CASES[case]()
    model, got, want = build_and_run(graph, rounding, tmp_path)
    mismatched = np.argwhere(got != want)
    assert mismatched.size == 0, f"{len(mismatched)} bytes differ, first at {mismatched[0]}: C {got[tuple(mismatched[0])]}, reference {want[tuple(mismatched[0])]}"
    assert len(np.unique(want)) > 2, "degenerate case: the outputs hardly vary"
    check_plan(model.buffers, model.plan)


def test_requant_probe_hits_the_extreme_shifts():
    shifts = prepare(CASES["requant_probe"]())[0].shifts
    assert shifts.min() == -31 and shifts.max() >= 12


def test_small_cnn_model_facts(tmp_path):
    graph = small_cnn()
    model = generate_c(graph, tmp_path)
    assert model.macs == sum(get_op(n.op).macs(graph, n) for n in graph.nodes) > 0
    assert model.arena_bytes == model.plan.arena_bytes >= lower_bound(model.buffers)
    constant_bytes = sum(
        graph.tensors[name].nbytes for node in graph.nodes if node.op in (OpType.CONV_2D, OpType.FULLY_CONNECTED) for name in node.inputs[1:]
    )
    # Each conv adds an int32 multiplier and shift per channel; the per-tensor FC one of each.
    assert model.weight_bytes == constant_bytes + 8 * (8 + 16 + 1)
    header = model.header.read_text()
    assert "generated by leafml" in header and "do not edit" in header
    for macro, value in [("INPUT_SIZE", 12 * 12 * 3), ("OUTPUT_SIZE", 10), ("ARENA_SIZE", model.arena_bytes), ("OK", 0)]:
        assert re.search(rf"#define LEAFML_{macro} {value}\b", header), macro
    assert re.search(r"#define LEAFML_INPUT_SCALE [0-9.e-]+f\b", header)
    assert "int leafml_invoke(const int8_t *input, int8_t *output);" in header
    source = model.source.read_text()
    assert "static const int8_t node0_weights[216]" in source and "malloc" not in source
    assert source.count("leafml_conv2d_s8(") == 2
    runtime = model.runtime.read_text()
    assert "#define LEAFML_SINGLE_ROUNDING 0" in runtime and "leafml_softmax_s8" not in runtime


def test_runtime_holds_only_the_kernels_used(tmp_path):
    model = generate_c(CASES["max_pool_same_odd"](), tmp_path, rounding="single")
    runtime = model.runtime.read_text()
    assert "#define LEAFML_SINGLE_ROUNDING 1" in runtime
    assert "leafml_max_pool_s8" in runtime
    for absent in ("leafml_conv2d_s8", "leafml_average_pool_s8", "leafml_fully_connected_s8", "leafml_requantize"):
        assert absent not in runtime


def test_rejects_a_float_graph(tmp_path):
    with pytest.raises(CodegenError, match="needs an int8 graph.*float32"):
        generate_c(GraphBuilder((1, 4)).fully_connected(2).build(), tmp_path)


def test_rejects_an_operator_without_emitter(tmp_path, monkeypatch):
    from leafml.codegen import emitters

    monkeypatch.delitem(emitters.EMITTERS, OpType.MAX_POOL_2D)
    with pytest.raises(CodegenError, match="operator MAX_POOL_2D has no C emitter; generate_c supports CONV_2D"):
        generate_c(CASES["max_pool_same_odd"](), tmp_path)


def test_rejects_a_bad_prefix_and_rounding(tmp_path):
    graph = CASES["conv_valid"]()
    with pytest.raises(CodegenError, match="not a C identifier"):
        generate_c(graph, tmp_path, prefix="my-model")
    with pytest.raises(ValueError, match="unknown rounding mode"):
        generate_c(graph, tmp_path, rounding="nearest")


NULL_CHECK = """
#include <stdio.h>
#include "model.h"
int main(void)
{
    int8_t buffer[KWS_OUTPUT_SIZE > KWS_INPUT_SIZE ? KWS_OUTPUT_SIZE : KWS_INPUT_SIZE] = {0};
    int a = kws_invoke(NULL, buffer), b = kws_invoke(buffer, NULL), c = kws_invoke(buffer, buffer);
    printf("%d %d %d %d %d\\n", a, b, c, KWS_ERR_NULL, KWS_OK);
    return 0;
}
"""


@pytest.mark.requires_tools("cc")
def test_prefix_names_the_interface_and_null_is_an_error(tmp_path):
    model = generate_c(CASES["fc_softmax"](), tmp_path / "gen", prefix="kws")
    main = tmp_path / "main.c"
    main.write_text(NULL_CHECK)
    exe = tmp_path / "null_check"
    cc = find_tool("cc")
    subprocess.run([str(cc), *STRICT_FLAGS, f"-I{model.include_dir}", str(main), str(model.source), "-o", str(exe)], check=True)
    a, b, c, err_null, ok = map(int, subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split())
    assert (a, b, c) == (err_null, err_null, ok) and err_null != ok


@pytest.mark.requires_tools("cc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_kernels_compile_with_conversion_warnings(rounding, tmp_path):
    # Stricter than the runtime's contract; many firmware builds use these flags.
    graph = calibrated(GraphBuilder((1, 8, 8, 2)).conv(4, 3).max_pool(2, 2).average_pool(2, 1).reshape((1, -1)).fully_connected(6))
    model = generate_c(graph, tmp_path, rounding=rounding)
    extra = ["-O2", "-Wconversion", "-Wshadow", "-Wcast-qual", "-Wstrict-prototypes", "-Wmissing-prototypes"]
    cc = find_tool("cc")
    subprocess.run([str(cc), *STRICT_FLAGS, *extra, "-c", str(model.source), "-o", str(tmp_path / "model.o")], check=True)


@pytest.mark.requires_tools("arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_cortex_m4_compiles(rounding, tmp_path):
    graph = calibrated(
        GraphBuilder((1, 8, 8, 2)).conv(4, 3).max_pool(2, 2).average_pool(2, 1).reshape((1, -1)).fully_connected(6).softmax()
    )
    model = generate_c(graph, tmp_path, rounding=rounding)
    gcc = find_tool("arm-none-eabi-gcc")
    subprocess.run(
        [str(gcc), *CORTEX_M4_FLAGS, *STRICT_FLAGS, "-c", str(model.source), "-o", str(tmp_path / "model.o")], check=True
    )


def test_cformat_doctests():
    assert doctest.testmod(leafml.codegen.cformat).failed == 0


def test_an_output_that_is_the_input_needs_no_arena(tmp_path):
    model = generate_c(CASES["reshape_of_input"](), tmp_path)
    source = model.source.read_text()
    assert model.arena_bytes == 0 and "arena" not in source.split("int leafml_invoke")[0]
    assert "memmove(output, input, LEAFML_OUTPUT_SIZE);" in source  # the caller may pass one buffer for both
