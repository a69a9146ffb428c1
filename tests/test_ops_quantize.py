"""QUANTIZE and DEQUANTIZE, and graphs with float or uint8 ends: checks, peers, interpreter, generated C.

``"double"`` is checked against TFLM and ``"single"`` against LiteRT's
default resolver on one-op models over many quantization parameter sets,
with float inputs crowded around the rounding ties where the runtimes'
algorithms part.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb

from leafml.codegen import CodegenError, generate_c
from leafml.export.tflite_ops import TFLITE_OPS
from leafml.firmware import find_tool, run_cortex_m4
from leafml.firmware.host import run_host
from leafml.interpreter import prepare
from leafml.ir import Graph, GraphError, Node, OpType, QuantParams, Tensor
from leafml.ops import LeakyReluAttrs, ReshapeAttrs, get_op
from leafml.ops.quantize import AffineQuantizeParams, DequantizeParams, LookupTable, SplitLookupTable, affine_quantize
from leafml.verify.peers import run_litert, run_tflm

ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def conversion(op: OpType, x: tuple, y: tuple, shape=(1, 256)) -> Graph:
    """``op`` alone; ``x`` and ``y`` are (dtype, quant or None)."""
    g = Graph()
    for name, (dtype, quant) in (("x", x), ("y", y)):
        g.add_tensor(Tensor(name, shape, dtype, quant=None if quant is None else QuantParams(*quant)))
    g.nodes.append(Node(op, ["x"], ["y"]))
    g.inputs, g.outputs = ["x"], ["y"]
    return g.validate()


def random_quant(rng: np.random.Generator, low=-9.0, high=3.0, zero_points=(-128, 128)) -> tuple[float, int]:
    return float(np.float32(2.0 ** rng.uniform(low, high))), int(rng.integers(*zero_points))


def near_ties(rng: np.random.Generator, scale: float, shape: tuple[int, int]) -> np.ndarray:
    """Floats at (k + 1/2) * scale, some moved one ulp either way, and some anywhere."""
    x = ((rng.integers(-300, 300, shape) + 0.5) * np.float32(scale)).astype(np.float32)
    step = rng.choice([-1, 0, 1], shape)
    x = np.where(step == 0, x, np.nextafter(x, np.where(step > 0, np.inf, -np.inf).astype(np.float32)))
    x[1] = rng.normal(0.0, 100 * scale, shape[1])
    x[0, :4] = [0.0, -0.0, 1e-40, 128.5 * scale]
    return x.astype(np.float32)


# -- checks ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x, y",
    [
        ((np.float32, None), (np.uint8, (0.1, 128))),
        ((np.int8, (0.1, 0)), (np.float32, None)),
        ((np.uint8, (0.1, 0)), (np.int8, (0.1, 0))),
    ],
)
def test_quantize_supports_tflm_s_type_pairs_only(x, y):
    with pytest.raises(GraphError, match="QUANTIZE supports float32 -> int8, int8 -> int8 and int8 -> uint8"):
        conversion(OpType.QUANTIZE, x, y)


def test_uint8_zero_point_range_and_per_tensor_quantization():
    conversion(OpType.QUANTIZE, (np.int8, (0.1, 0)), (np.uint8, (0.1, 255)))
    with pytest.raises(GraphError, match="must be in \\[0, 255\\]"):
        conversion(OpType.QUANTIZE, (np.int8, (0.1, 0)), (np.uint8, (0.1, -1)))
    g = Graph()
    g.add_tensor(Tensor("x", (1, 2), np.float32))
    g.add_tensor(Tensor("y", (1, 2), np.int8, quant=QuantParams([0.1, 0.2], [0, 0], axis=1)))
    g.nodes.append(Node(OpType.QUANTIZE, ["x"], ["y"]))
    g.inputs, g.outputs = ["x"], ["y"]
    with pytest.raises(GraphError, match="needs per-tensor quantization"):
        g.validate()


def test_dequantize_is_int8_to_float32():
    conversion(OpType.DEQUANTIZE, (np.int8, (0.1, 0)), (np.float32, None))
    with pytest.raises(GraphError, match="DEQUANTIZE supports int8 -> float32"):
        conversion(OpType.DEQUANTIZE, (np.int8, (0.1, 0)), (np.int8, (0.1, 0)))


# -- float32 -> int8 ---------------------------------------------------------------------
def test_each_mode_breaks_ties_like_its_runtime():
    # 2.5 and -2.5 steps: TFLM rounds away from zero, XNNPACK to even.
    x = np.array([2.5, -2.5, 3.5, 0.5, -0.5], np.float32)
    assert affine_quantize(AffineQuantizeParams(1.0, 0, "double"), x).tolist() == [3, -3, 4, 1, -1]
    assert affine_quantize(AffineQuantizeParams(1.0, 0, "single"), x).tolist() == [2, -2, 4, 0, 0]


def test_each_mode_divides_like_its_runtime():
    # x / 0.1f and x * (1 / 0.1f) round differently in float32: 1.55f / 0.1f
    # is 15.499999, 1.55f * (1 / 0.1f) is 15.5 (then even: 16).
    x = np.array([1.55], np.float32)
    assert affine_quantize(AffineQuantizeParams(0.1, 0, "double"), x).tolist() == [15]
    assert affine_quantize(AffineQuantizeParams(0.1, 0, "single"), x).tolist() == [16]


def test_out_of_range_values_saturate():
    x = np.array([np.inf, -np.inf, 3e38, -3e38, np.nan], np.float32)
    assert affine_quantize(AffineQuantizeParams(0.1, -5, "double"), x).tolist() == [127, -128, 127, -128, -128]
    assert affine_quantize(AffineQuantizeParams(0.1, -5, "single"), x).tolist() == [127, -128, 127, -128, 127]


def test_float_to_int8_matches_both_runtimes():
    rng = np.random.default_rng(1)
    differing = 0
    for _ in range(60):
        quant = random_quant(rng)
        g = conversion(OpType.QUANTIZE, (np.float32, None), (np.int8, quant), shape=(1, 200))
        x = near_ties(rng, quant[0], (16, 200))
        model = g.to_tflite()
        tflm, litert = run_tflm(model, x), run_litert(model, x)
        np.testing.assert_array_equal(tflm, g.run(x, rounding="double")[0], err_msg=str(quant))
        np.testing.assert_array_equal(litert, g.run(x, rounding="single")[0], err_msg=str(quant))
        differing += np.count_nonzero(tflm != litert)
    assert differing > 0


def test_litert_non_finite_inputs_follow_xnnpack():
    g = conversion(OpType.QUANTIZE, (np.float32, None), (np.int8, (0.1, -5)), shape=(1, 5))
    x = np.array([[np.inf, -np.inf, 3e38, -3e38, np.nan]], np.float32)
    np.testing.assert_array_equal(run_litert(g.to_tflite(), x), g.run(x, rounding="single")[0])


# -- int8 -> int8 / uint8 ------------------------------------------------------------------
def requantize_cases(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        x_quant = random_quant(rng, -8, 2)
        yield x_quant, random_quant(rng, -8, 2), np.int8
        # Ratios beyond XNNPACK's [1/256, 128], where LiteRT runs its own kernel.
        yield x_quant, (x_quant[0] * float(rng.choice([1 / 300, 300])), int(rng.integers(-128, 128))), np.int8
        yield x_quant, random_quant(rng, -8, 2, zero_points=(0, 256)), np.uint8
    # microWakeWord's last node: the same scale, the zero point moved by 128.
    yield (0.02, -7), (0.02, 121), np.uint8


@pytest.mark.parametrize("size", [256, 37, 16, 7])
def test_requantize_matches_both_runtimes(size):
    rng = np.random.default_rng(size)
    differing = 0
    for x_quant, y_quant, out_dtype in requantize_cases(size, 20):
        g = conversion(OpType.QUANTIZE, (np.int8, x_quant), (out_dtype, y_quant), shape=(1, size))
        x = np.concatenate([np.resize(ALL_INT8, (1, size)), rng.integers(-128, 128, (7, size))]).astype(np.int8)
        x[1] = np.resize(ALL_INT8[0, ::-1], size)
        model = g.to_tflite()
        tflm, litert = run_tflm(model, x), run_litert(model, x)
        label = f"{x_quant} -> {out_dtype.__name__} {y_quant}"
        np.testing.assert_array_equal(tflm, g.run(x, rounding="double")[0], err_msg=label)
        np.testing.assert_array_equal(litert, g.run(x, rounding="single")[0], err_msg=label)
        differing += np.count_nonzero(tflm != litert)
    assert differing > 0


def test_single_mode_keeps_litert_s_block_and_tail_tables():
    g = conversion(OpType.QUANTIZE, (np.int8, (0.05, -20)), (np.uint8, (0.3, 100)), shape=(1, 37))
    params = get_op(OpType.QUANTIZE).prepare(g, g.nodes[0], "single")
    assert isinstance(params, SplitLookupTable) and params.split(37) == 32
    # -125 - -20 = -105 steps of about 1/6 give a tie after the high multiply:
    # rounded up in the blocks, away from zero in the tail.
    assert params.body.lookup(np.array([-125]))[0] == 100 - 17 and params.tail.lookup(np.array([-125]))[0] == 100 - 18
    assert isinstance(get_op(OpType.QUANTIZE).prepare(g, g.nodes[0], "double"), LookupTable)


def test_micro_wake_word_s_final_shift_is_exact():
    g = conversion(OpType.QUANTIZE, (np.int8, (0.02, -7)), (np.uint8, (0.02, 121)))
    for rounding in ("double", "single"):
        out = g.run(ALL_INT8, rounding=rounding)[0]
        assert out.dtype == np.uint8 and (out.astype(int) - ALL_INT8).tolist() == [[128] * 256]


# -- int8 -> float32 --------------------------------------------------------------------------
def test_dequantize_matches_both_runtimes():
    rng = np.random.default_rng(2)
    for _ in range(40):
        quant = random_quant(rng)
        g = conversion(OpType.DEQUANTIZE, (np.int8, quant), (np.float32, None))
        model, expected = g.to_tflite(), g.run(ALL_INT8)[0].view(np.uint32)
        np.testing.assert_array_equal(run_tflm(model, ALL_INT8).view(np.uint32), expected)
        np.testing.assert_array_equal(run_litert(model, ALL_INT8).view(np.uint32), expected)


@pytest.mark.parametrize("op, options_type, version", [(OpType.QUANTIZE, fb.BuiltinOptions.QuantizeOptions, 1), (OpType.DEQUANTIZE, fb.BuiltinOptions.DequantizeOptions, 2)])
def test_tflite_rows_encode_and_decode(op, options_type, version):
    ends = ((np.int8, (0.1, 0)), (np.uint8, (0.1, 128)) if op is OpType.QUANTIZE else (np.float32, None))
    model = fb.ModelT.InitFromPackedBuf(conversion(op, *ends).to_tflite(), 0)
    operator = model.subgraphs[0].operators[0]
    code = model.operatorCodes[operator.opcodeIndex]
    assert (code.builtinCode, code.version, operator.builtinOptionsType) == (TFLITE_OPS[op].code, version, options_type)
    assert model.subgraphs[0].tensors[operator.outputs[0]].type == (fb.TensorType.UINT8 if op is OpType.QUANTIZE else fb.TensorType.FLOAT32)
    assert TFLITE_OPS[op].decode(operator.builtinOptions, [None]) == (None, [0])


# -- graphs with float ends ------------------------------------------------------------------
def float_ends_graph(output: str = "float32") -> Graph:
    """float32 -> QUANTIZE -> LOGISTIC -> RESHAPE -> LEAKY_RELU -> QUANTIZE -> DEQUANTIZE (or uint8) out; 37 elements."""
    g = Graph()
    tensors = [("x", np.float32, None), ("q", np.int8, (0.05, 3)), ("s", np.int8, (1 / 256, -128)),
               ("r", np.int8, (1 / 256, -128)), ("k", np.int8, (0.003, -60)), ("u", np.int8, (0.007, 11))]
    for name, dtype, quant in tensors:
        g.add_tensor(Tensor(name, (1, 37), dtype, quant=None if quant is None else QuantParams(*quant)))
    g.nodes += [
        Node(OpType.QUANTIZE, ["x"], ["q"]),
        Node(OpType.LOGISTIC, ["q"], ["s"]),
        Node(OpType.RESHAPE, ["s"], ["r"], ReshapeAttrs((1, 37))),
        Node(OpType.LEAKY_RELU, ["r"], ["k"], LeakyReluAttrs(0.2)),
        Node(OpType.QUANTIZE, ["k"], ["u"]),
    ]
    if output == "float32":
        g.add_tensor(Tensor("y", (1, 37), np.float32))
        g.nodes.append(Node(OpType.DEQUANTIZE, ["u"], ["y"]))
    else:
        g.add_tensor(Tensor("y", (1, 37), np.uint8, quant=QuantParams(0.01, 100)))
        g.nodes.append(Node(OpType.QUANTIZE, ["u"], ["y"]))
    g.inputs, g.outputs = ["x"], ["y"]
    return g.validate()


def float_inputs(count: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0.0, 3.0, (count, 37)).astype(np.float32)
    x[0, :5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    return x


def test_the_interpreter_runs_an_int8_body_between_float_ends():
    g = float_ends_graph()
    params = prepare(g, "double")
    assert isinstance(params[0], AffineQuantizeParams) and isinstance(params[-1], DequantizeParams)
    x = float_inputs(20)
    # The same steps by hand: the body's integer kernels, not float ones.
    q = affine_quantize(params[0], x)
    s = params[1].lookup(q)
    k = params[3].lookup(s)
    u = params[4].lookup(k)
    expected = (u.astype(np.float32) - 11) * np.float32(0.007)
    np.testing.assert_array_equal(g.run(x)[0], expected)


@pytest.mark.parametrize("rounding", ["double", "single"])
def test_float_ends_match_the_runtimes(rounding):
    g = float_ends_graph()
    x = float_inputs(30)[1:]  # TFLM's float -> int conversion of infinities and NaN is undefined
    run = run_tflm if rounding == "double" else run_litert
    np.testing.assert_array_equal(run(g.to_tflite(), x).view(np.uint32), g.run(x, rounding=rounding)[0].view(np.uint32))


def test_a_float_node_has_no_c_kernel(tmp_path: Path):
    g = Graph()
    g.add_tensor(Tensor("x", (1, 4), np.float32))
    g.add_tensor(Tensor("y", (1, 4), np.float32))
    g.nodes.append(Node(OpType.RELU, ["x"], ["y"]))
    g.inputs, g.outputs = ["x"], ["y"]
    with pytest.raises(CodegenError, match="RELU node .* computes in float32; generate_c needs an int8 graph"):
        generate_c(g.validate(), tmp_path)


@pytest.mark.parametrize("output, c_type", [("float32", "float"), ("uint8", "uint8_t")])
def test_model_h_names_the_element_types(tmp_path: Path, output, c_type):
    header = generate_c(float_ends_graph(output), tmp_path).header.read_text()
    assert f"int leafml_invoke(const float *input, {c_type} *output);" in header
    assert "typedef float leafml_input_t;" in header and f"typedef {c_type} leafml_output_t;" in header
    assert "#define LEAFML_INPUT_SIZE 148 /* bytes: float32 [1, 37] */" in header
    assert "#define LEAFML_INPUT_ELEMENTS 37" in header and "#define LEAFML_INPUT_SCALE" not in header
    assert bool(re.search(r"#define LEAFML_OUTPUT_SCALE ", header)) == (output == "uint8")


@pytest.mark.requires_tools("cc")
@pytest.mark.parametrize("output", ["float32", "uint8"])
@pytest.mark.parametrize("rounding", ["double", "single"])
def test_host_c_with_float_and_uint8_ends_equals_the_reference(tmp_path: Path, rounding, output):
    g = float_ends_graph(output)
    x = float_inputs(40)
    model = generate_c(g, tmp_path / "c", rounding=rounding)
    # The harness moves bytes: float inputs go in as their bytes, outputs come back as bytes.
    got = run_host(model.sources, [model.include_dir], x.view(np.int8), model.output_size, tmp_path / "build")
    expected = g.run(x, rounding=rounding)[0]
    np.testing.assert_array_equal(got.view(expected.dtype), expected)


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("compiler, flags", [("cc", []), ("arm-none-eabi-gcc", ["-mcpu=cortex-m0", "-mthumb"])])
def test_float_and_uint8_ends_build_pedantic(tmp_path: Path, compiler, flags):
    # Cortex-M0: no FPU, no unaligned access; the float kernels must still build.
    for output in ("float32", "uint8"):
        for rounding in ("double", "single"):
            model = generate_c(float_ends_graph(output), tmp_path / f"{output}_{rounding}", rounding=rounding)
            command = [find_tool(compiler), "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", *flags]
            subprocess.run([*command, "-c", str(model.source), "-o", str(tmp_path / f"{output}_{rounding}.o")], check=True)


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc", "qemu-system-arm")
def test_cortex_m4_with_float_ends_equals_the_reference(tmp_path: Path):
    g = float_ends_graph()
    x = float_inputs(12)
    for rounding in ("double", "single"):
        model = generate_c(g, tmp_path / rounding, rounding=rounding)
        result = run_cortex_m4(model.sources, [model.include_dir], x.view(np.int8), model.output_size, tmp_path / f"m4_{rounding}")
        np.testing.assert_array_equal(result.outputs.view(np.float32), g.run(x, rounding=rounding)[0])
