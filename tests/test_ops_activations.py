"""Element-wise activations: checks, float kernels, int8 tables, the C twin and both peer runtimes.

An int8 element-wise kernel is a table over the 256 possible inputs, so a
one-op model fed all 256 values checks it exhaustively for one quantization.
Every operator is checked that way over many quantization parameter sets:
``"double"`` against TFLM, ``"single"`` against LiteRT's default resolver
(which hands LOGISTIC, TANH and LEAKY_RELU to XNNPACK).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb

from leafml.codegen import generate_c
from leafml.export.tflite_ops import TFLITE_OPS
from leafml.firmware.host import run_host
from leafml.ir import Graph, GraphError, Node, OpType, QuantParams, Tensor
from leafml.ops import LeakyReluAttrs, get_op
from leafml.ops.activations import LOGISTIC_QUANT, TANH_QUANT, _logistic_q0_31, _tanh_q0_31
from leafml.ops.quantize import LookupTable
from leafml.verify.peers import run_litert, run_tflm

ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
FIXED_OUTPUT = {OpType.LOGISTIC: LOGISTIC_QUANT, OpType.TANH: TANH_QUANT}
INT8_OPS = [OpType.LOGISTIC, OpType.TANH, OpType.RELU, OpType.RELU6, OpType.LEAKY_RELU, OpType.HARD_SWISH]


def one_op(op: OpType, x_quant=None, y_quant=None, attrs=None, shape=(1, 256)) -> Graph:
    """``op`` alone; float32 without quantization parameters, int8 with them."""
    g = Graph()
    for name, quant in (("x", x_quant), ("y", y_quant)):
        dtype = np.float32 if quant is None else np.int8
        g.add_tensor(Tensor(name, shape, dtype, quant=None if quant is None else QuantParams(*quant)))
    g.nodes.append(Node(op, ["x"], ["y"], attrs))
    g.inputs, g.outputs = ["x"], ["y"]
    return g.validate()


def quant_cases(op: OpType, count: int, seed: int):
    """(input quant, output quant, attrs) triples: random ones, then the edges XNNPACK and TFLM care about."""
    rng = np.random.default_rng(seed)

    def random_quant(low=-8.0, high=3.0):
        return float(np.float32(2.0 ** rng.uniform(low, high))), int(rng.integers(-128, 128))

    cases = []
    for _ in range(count):
        x_quant, y_quant = random_quant(), random_quant()
        if op is OpType.HARD_SWISH:  # its kernel needs output scale > input scale / 128
            y_quant = (max(y_quant[0], x_quant[0] / 64), y_quant[1])
        cases.append((x_quant, FIXED_OUTPUT.get(op, y_quant), LeakyReluAttrs(float(rng.uniform(-1.5, 1.5))) if op is OpType.LEAKY_RELU else None))
    # Scale ratios exactly at XNNPACK's bounds 1/256 and 128 (inclusive) and
    # just beyond, alpha 0 (which XNNPACK refuses), zero points at the int8 ends.
    for ratio in (2.0**-8, 2.0**-8 * 0.999, 2.0**7, 2.0**7 * 1.001, 1.0):
        x_quant, y_quant = (2.0**-7, -128), (float(np.float32(2.0**-7 / ratio)), 127)
        if op is OpType.HARD_SWISH:
            y_quant = (max(y_quant[0], 2.0**-13), y_quant[1])
        for alpha in (0.0, 0.5, -0.25):
            cases.append((x_quant, FIXED_OUTPUT.get(op, y_quant), LeakyReluAttrs(alpha) if op is OpType.LEAKY_RELU else None))
    if op is OpType.HARD_SWISH:
        # Shifts of 16 and more, where TFLite's int16 rounding shift no longer rounds.
        cases += [((0.0046, 37), (2.94, -54), None), ((0.0046, -3), (2.94, 40), None), ((1e-7, 0), (1e-7, 3), None)]
    return cases


# -- checks --------------------------------------------------------------------------
@pytest.mark.parametrize("op", [OpType.LOGISTIC, OpType.TANH])
def test_int8_output_quantization_is_the_spec_s(op):
    with pytest.raises(GraphError, match=f"{op.value} node .* must have scale 2\\*\\*-\\d and zero point"):
        one_op(op, (0.1, 0), (1 / 255, FIXED_OUTPUT[op][1]))
    with pytest.raises(GraphError, match="zero point"):
        one_op(op, (0.1, 0), (float(FIXED_OUTPUT[op][0]), 5))


@pytest.mark.parametrize("op", [OpType.LOGISTIC, OpType.TANH])
def test_int8_input_scale_needs_tflm_s_fixed_point_range(op):
    one_op(op, (2.0**-28, 0), FIXED_OUTPUT[op])
    with pytest.raises(GraphError, match="at least 2\\*\\*-28"):
        one_op(op, (2.0**-29, 0), FIXED_OUTPUT[op])


def test_hard_swish_output_scale_must_exceed_input_scale_over_128():
    one_op(OpType.HARD_SWISH, (1.0, 0), (1.0 / 120, 0))
    with pytest.raises(GraphError, match="input scale / 128"):
        one_op(OpType.HARD_SWISH, (1.0, 0), (1.0 / 130, 0))


def test_leaky_relu_needs_its_alpha():
    with pytest.raises(GraphError, match="expected LeakyReluAttrs"):
        one_op(OpType.LEAKY_RELU, (0.1, 0), (0.1, 0))


def test_int8_and_float_do_not_mix():
    g = Graph()
    g.add_tensor(Tensor("x", (1, 4), np.int8, quant=QuantParams(0.1, 0)))
    g.add_tensor(Tensor("y", (1, 4)))
    g.nodes.append(Node(OpType.RELU, ["x"], ["y"]))
    g.inputs, g.outputs = ["x"], ["y"]
    with pytest.raises(GraphError, match="must be int8 with per-tensor quantization"):
        g.validate()


# -- float kernels -------------------------------------------------------------------
SPECIAL_FLOATS = [0.0, -0.0, 1e-40, -3.0, 3.0, 6.0, -9.0, -9.000001, 16.619047, 16.61905, 100.0, -100.0, np.inf, -np.inf, np.nan]
FLOAT_CASES = [(OpType.LOGISTIC, None), (OpType.TANH, None), (OpType.RELU, None), (OpType.RELU6, None),
               (OpType.LEAKY_RELU, LeakyReluAttrs(0.1)), (OpType.LEAKY_RELU, LeakyReluAttrs(-0.7)), (OpType.HARD_SWISH, None)]


def float_inputs(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((40, 64)) * 6).astype(np.float32)
    x[0, : len(SPECIAL_FLOATS)] = SPECIAL_FLOATS
    x[1] = np.linspace(-12, 20, 64, dtype=np.float32)
    return x


@pytest.mark.parametrize("op, attrs", FLOAT_CASES, ids=lambda v: getattr(v, "value", str(v)))
def test_float_kernels_are_tflm_bit_for_bit(op, attrs):
    g = one_op(op, attrs=attrs, shape=(1, 64))
    x = float_inputs(1)
    np.testing.assert_array_equal(run_tflm(g.to_tflite(), x).view(np.uint32), g.run(x)[0].view(np.uint32))


@pytest.mark.parametrize("op, attrs", FLOAT_CASES, ids=lambda v: getattr(v, "value", str(v)))
def test_float_kernels_are_close_to_litert_s_xnnpack(op, attrs):
    # XNNPACK approximates sigmoid, tanh and hard-swish in float32: not bit-exact.
    g = one_op(op, attrs=attrs, shape=(1, 64))
    x = float_inputs(2)[2:]
    np.testing.assert_allclose(run_litert(g.to_tflite(), x), g.run(x)[0], rtol=2e-4, atol=1e-6)


# -- the fixed-point transcendentals ---------------------------------------------------
def test_gemmlowp_logistic_and_tanh_are_accurate():
    a = np.arange(-(2**31) + 1, 2**31, 9973 * 1021, dtype=np.int64)  # Q4.27 over [-16, 16)
    x = a / 2.0**27
    # 1e-7 is 2**-23: far below the half step (2**-9) of an int8 output.
    assert np.max(np.abs(_logistic_q0_31(a) / 2.0**31 - 1 / (1 + np.exp(-x)))) < 1e-7
    assert np.max(np.abs(_tanh_q0_31(a) / 2.0**31 - np.tanh(x))) < 1e-7
    assert _logistic_q0_31(np.array([0]))[0] == 2**30 and _tanh_q0_31(np.array([0]))[0] == 0


# -- int8: the tables against the peers ----------------------------------------------------
@pytest.mark.parametrize("op", INT8_OPS, ids=lambda op: op.value)
def test_int8_matches_tflm_double_and_litert_single_on_every_input(op):
    differing = 0
    for x_quant, y_quant, attrs in quant_cases(op, 60, seed=INT8_OPS.index(op)):
        g = one_op(op, x_quant, y_quant, attrs)
        model = g.to_tflite()
        tflm, litert = run_tflm(model, ALL_INT8), run_litert(model, ALL_INT8)
        label = f"{op.value} {x_quant} -> {y_quant} {attrs}"
        np.testing.assert_array_equal(tflm, g.run(ALL_INT8, rounding="double")[0], err_msg=label)
        np.testing.assert_array_equal(litert, g.run(ALL_INT8, rounding="single")[0], err_msg=label)
        differing += np.count_nonzero(tflm != litert)
    # The runtimes run different kernels for three of them, the same for two.
    if op in (OpType.LOGISTIC, OpType.RELU6, OpType.LEAKY_RELU):
        assert differing > 0
    if op in (OpType.RELU, OpType.HARD_SWISH):
        assert differing == 0


def test_int8_tables_serve_any_shape():
    g = one_op(OpType.TANH, (0.05, 3), TANH_QUANT, shape=(1, 2, 4, 32))
    x = np.random.default_rng(3).integers(-128, 128, (5, 2, 4, 32)).astype(np.int8)
    for rounding in ("double", "single"):
        table = get_op(OpType.TANH).prepare(g, g.nodes[0], rounding).table
        np.testing.assert_array_equal(g.run(x, rounding=rounding)[0], table[x.astype(int) + 128])
    np.testing.assert_array_equal(run_tflm(g.to_tflite(), x), g.run(x, rounding="double")[0])


def test_tables_are_read_only():
    g = one_op(OpType.RELU, (0.1, 0), (0.1, 0))
    params = get_op(OpType.RELU).prepare(g, g.nodes[0], "double")
    assert isinstance(params, LookupTable) and params.table.dtype == np.int8 and not params.table.flags.writeable


def test_relu6_with_its_own_output_scale_splits_the_runtimes():
    # TFLM's RELU6 clamps in the input's quantization and copies the value;
    # LiteRT requantizes: input 100 (5.0 real) is 100 in TFLM, 50 in LiteRT.
    g = one_op(OpType.RELU6, (0.05, 0), (0.1, 0))
    x = np.array([[100, 127, -5] + [0] * 253], np.int8)
    model = g.to_tflite()
    assert run_tflm(model, x)[0, :3].tolist() == g.run(x, rounding="double")[0][0, :3].tolist() == [100, 120, 0]
    assert run_litert(model, x)[0, :3].tolist() == g.run(x, rounding="single")[0][0, :3].tolist() == [50, 60, 0]


def test_logistic_where_xnnpack_and_tflm_round_apart():
    # Input 17 - 16 = 1 step of 2**-7: sigmoid(0.0078126) * 256 = 128.49999...,
    # which XNNPACK's double exp rounds down and TFLM's fixed point up.
    g = one_op(OpType.LOGISTIC, (0.007812566123902798, 16), LOGISTIC_QUANT)
    model = g.to_tflite()
    x = np.full((1, 256), 17, np.int8)
    assert run_litert(model, x)[0, 0] == g.run(x, rounding="single")[0][0, 0] == 0
    assert run_tflm(model, x)[0, 0] == g.run(x, rounding="double")[0][0, 0] == 1
    assert math.isclose(256 / (1 + math.exp(-0.007812566123902798)), 128.5, abs_tol=1e-4)


# -- the .tflite rows ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "op, attrs, options_type, version",
    [
        (OpType.LOGISTIC, None, fb.BuiltinOptions.NONE, 2),
        (OpType.TANH, None, fb.BuiltinOptions.NONE, 2),
        (OpType.RELU, None, fb.BuiltinOptions.NONE, 2),
        (OpType.RELU6, None, fb.BuiltinOptions.NONE, 2),
        (OpType.LEAKY_RELU, LeakyReluAttrs(0.3), fb.BuiltinOptions.LeakyReluOptions, 1),
        (OpType.HARD_SWISH, None, fb.BuiltinOptions.HardSwishOptions, 1),
    ],
    ids=lambda v: getattr(v, "value", None),
)
def test_tflite_rows_encode_and_decode(op, attrs, options_type, version):
    y_quant = FIXED_OUTPUT.get(op, (0.1, -3))
    model = fb.ModelT.InitFromPackedBuf(one_op(op, (0.1, 2), y_quant, attrs).to_tflite(), 0)
    operator = model.subgraphs[0].operators[0]
    code = model.operatorCodes[operator.opcodeIndex]
    assert (code.builtinCode, code.version, operator.builtinOptionsType) == (TFLITE_OPS[op].code, version, options_type)
    decoded, kept = TFLITE_OPS[op].decode(operator.builtinOptions, [None])
    assert kept == [0] and decoded == (None if attrs is None else LeakyReluAttrs(float(np.float32(0.3))))


def test_leaky_relu_decode_needs_its_options():
    with pytest.raises(GraphError, match="LEAKY_RELU operator has no LeakyReluOptions table"):
        TFLITE_OPS[OpType.LEAKY_RELU].decode(None, [None])


# -- the C twin ---------------------------------------------------------------------------
def activation_chain() -> Graph:
    """Every activation in a row, int8, 37 elements (not a multiple of anything)."""
    g = Graph()
    quants = {"x": (0.08, 5), "logistic": LOGISTIC_QUANT, "leaky": (0.004, -60), "tanh": TANH_QUANT,
              "relu": (0.006, -128), "relu6": (0.004, -100), "hard_swish": (0.003, -20)}
    for name, quant in quants.items():
        g.add_tensor(Tensor(name, (1, 37), np.int8, quant=QuantParams(*quant)))
    names = list(quants)
    ops = [(OpType.LOGISTIC, None), (OpType.LEAKY_RELU, LeakyReluAttrs(0.2)), (OpType.TANH, None),
           (OpType.RELU, None), (OpType.RELU6, None), (OpType.HARD_SWISH, None)]
    for (op, attrs), source, target in zip(ops, names, names[1:]):
        g.nodes.append(Node(op, [source], [target], attrs, name=target))
    g.inputs, g.outputs = ["x"], [names[-1]]
    return g.validate()


@pytest.mark.requires_tools("cc")
@pytest.mark.parametrize("rounding", ["double", "single"])
def test_c_tables_equal_the_reference(tmp_path: Path, rounding):
    g = activation_chain()
    x = np.concatenate([np.resize(ALL_INT8, (8, 37)), np.random.default_rng(4).integers(-128, 128, (24, 37))]).astype(np.int8)
    model = generate_c(g, tmp_path / "c", rounding=rounding)
    got = run_host(model.sources, [model.include_dir], x, model.output_size, tmp_path / "build")
    np.testing.assert_array_equal(got, g.run(x, rounding=rounding)[0])
    # One table per node, nothing else: the kernels are integer only.
    assert model.weight_bytes == 6 * 256
