"""ADD and MUL: broadcasting, each runtime's int8 algorithm, the peers, the .tflite options and the generated C."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from int8_graphs import add_int8_node, assert_matches_peers, int8_input, random_int8, run_generated_c, single_int8_op
from leafml.export.tflite_ops import TFLITE_OPS
from leafml.interpreter import prepare
from leafml.ir import Activation, GraphError, OpType, QuantParams
from leafml.ops import ElementwiseAttrs, get_op
from leafml.ops.elementwise import AddParams, MulParams, XnnpackAddParams, XnnpackMulParams, add_params, mul_params, xnnpack_add_params
from leafml.quant.fixedpoint import ROUNDINGS
from leafml.verify.peers import run_litert, run_tflm

F32 = np.float32
# (input, constant operand) shapes: same, scalar, per channel, both sides broadcast, trailing 1.
BROADCASTS = [
    ((1, 4, 5, 6), (1, 4, 5, 6)),
    ((1, 4, 5, 6), (1,)),
    ((1, 4, 5, 6), (6,)),
    ((1, 4, 5, 6), (1, 1, 1, 6)),
    ((1, 4, 1, 6), (1, 1, 5, 6)),
    ((1, 3, 5, 2), (1, 3, 1, 1)),
]
ACTIVATIONS = [Activation.NONE, Activation.RELU, Activation.RELU6]


def output_scale(op: OpType, s1: float, s2: float, rng, in_xnnpack_range: bool) -> float:
    """An output scale that spreads the outputs, inside or outside the scale ratios XNNPACK takes."""
    if op is OpType.ADD:
        return float(F32(max(s1, s2) * 2.0 ** (rng.uniform(-1.0, 1.5) if in_xnnpack_range else rng.uniform(-11.0, -8.5))))
    return float(F32(s1 * s2 * 2.0 ** (rng.uniform(2.0, 7.0) if in_xnnpack_range else rng.uniform(-14.5, -8.5))))


def binary_graph(op: OpType, seed: int, shapes, activation=Activation.NONE, in_xnnpack_range=True):
    """``x op constant`` with random scales and zero points."""
    rng = np.random.default_rng(seed)
    s1, s2 = (float(F32(2.0 ** rng.uniform(-8, 0))) for _ in range(2))
    z1, z2, zo = (int(z) for z in rng.integers(-100, 100, 3))
    constant = (rng.integers(-128, 128, shapes[1]).astype(np.int8), QuantParams(s2, z2))
    so = output_scale(op, s1, s2, rng, in_xnnpack_range)
    return single_int8_op(op, ElementwiseAttrs(activation), (s1, z1), (so, zo), [constant], shape=shapes[0])


def two_activations_graph(seed: int, final: OpType, in_xnnpack_range=True):
    """``a = x + c1``, ``b = x * c2``, ``y = a final b``: the last node reads two activations."""
    rng = np.random.default_rng(seed)
    g = int8_input((1, 4, 5, 6), 0.05, 3)
    g.add_constant("c1", rng.integers(-128, 128, (1, 1, 1, 6)).astype(np.int8), QuantParams(0.02, -5))
    g.add_constant("c2", rng.integers(-128, 128, (1, 4, 5, 6)).astype(np.int8), QuantParams(0.01, 9))
    add_int8_node(g, OpType.ADD, ElementwiseAttrs(Activation.RELU), ["x", "c1"], 0.04, -100, "a")
    add_int8_node(g, OpType.MUL, ElementwiseAttrs(), ["x", "c2"], 0.004, 7, "b")
    so = output_scale(final, 0.04, 0.004, rng, in_xnnpack_range)
    return add_int8_node(g, final, ElementwiseAttrs(Activation.RELU6), ["a", "b"], so, -3, "y").validate()


# -- structure --------------------------------------------------------------------
@pytest.mark.parametrize("shapes", BROADCASTS)
def test_output_shape_is_the_broadcast_shape(shapes):
    graph = binary_graph(OpType.ADD, 0, shapes)
    assert graph.tensors["y"].shape == np.broadcast_shapes(*shapes)


def test_operands_that_do_not_broadcast_are_refused():
    with pytest.raises(GraphError, match=r"operands of shapes \(1, 4, 5, 6\) and \(1, 5, 1, 6\) do not broadcast"):
        binary_graph(OpType.MUL, 0, ((1, 4, 5, 6), (1, 5, 1, 6)))


def test_add_output_scale_too_fine_for_tflite_is_refused():
    with pytest.raises(GraphError, match="ADD output factor .* is not below 1; make the output scale larger"):
        single_int8_op(OpType.ADD, ElementwiseAttrs(), (1.0, 0), (1e-7, 0), [(np.ones((1, 1), np.int8), QuantParams(1.0, 0))], shape=(1, 4))


def test_mul_factor_that_overflows_tflm_is_refused():
    with pytest.raises(GraphError, match=r"MUL rescale factor 65536 is 2\*\*15 or more"):
        single_int8_op(OpType.MUL, ElementwiseAttrs(), (1.0, 0), (2.0**-16, 0), [(np.ones((1, 1), np.int8), QuantParams(1.0, 0))], shape=(1, 4))


@pytest.mark.parametrize("op, numpy_op", [(OpType.ADD, np.add), (OpType.MUL, np.multiply)])
def test_float_kernels(op, numpy_op):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 4, 1, 6)).astype(np.float32), rng.normal(size=(1, 5, 6)).astype(np.float32)
    graph = binary_graph(op, 0, ((1, 4, 1, 6), (1, 5, 6)), Activation.RELU6)
    got = get_op(op).run_float(graph, graph.nodes[0], [a, b])
    np.testing.assert_array_equal(got, np.clip(numpy_op(a, b), 0, 6))


# -- the params of each runtime -------------------------------------------------------------
def test_add_params_are_tflites():
    # Equal scales: each input factor is 1/2, the output factor 2 / 2**20.
    graph = single_int8_op(OpType.ADD, ElementwiseAttrs(), (0.5, 3), (0.5, -2), [(np.ones((1, 4), np.int8), QuantParams(0.5, 7))], shape=(1, 4))
    assert add_params(graph, graph.nodes[0]) == AddParams(-3, -7, -2, 20, 2**30, 0, 2**30, 0, 2**30, -18, -128, 127)


def test_xnnpack_add_params():
    # Ratios 1 and 1/4: the larger has exponent 0, so the shift is 20 and its multiplier 2**20.
    graph = single_int8_op(OpType.ADD, ElementwiseAttrs(), (0.5, 3), (0.5, -2), [(np.ones((1, 4), np.int8), QuantParams(0.125, 7))], shape=(1, 4))
    bias = 2**19 - 2**20 * 3 - 2**18 * 7
    assert xnnpack_add_params(graph, graph.nodes[0]) == XnnpackAddParams(2**20, 2**18, 20, bias, -2, -128, 127)


def test_mul_factor_is_double_in_tflm_and_float32_in_litert():
    graph = single_int8_op(OpType.MUL, ElementwiseAttrs(), (0.1, 0), (0.7, 0), [(np.ones((1, 4), np.int8), QuantParams(0.3, 0))], shape=(1, 4))
    node = graph.nodes[0]
    assert (mul_params(graph, node, "double").multiplier, mul_params(graph, node, "single").multiplier) == (1472560321, 1472560256)


@pytest.mark.parametrize("op, inside, outside", [(OpType.ADD, XnnpackAddParams, AddParams), (OpType.MUL, XnnpackMulParams, MulParams)])
def test_single_follows_xnnpack_only_inside_its_scale_ratios(op, inside, outside):
    for in_range, kind in ((True, inside), (False, outside)):
        graph = binary_graph(op, 1, BROADCASTS[0], in_xnnpack_range=in_range)
        assert type(prepare(graph, "single")[0]) is kind
        assert type(prepare(graph, "double")[0]) is outside


def test_relu6_bound_rounds_half_to_even_in_litert():
    # 6 / 12 = 0.5 exactly: TFLite's Prepare rounds it away from zero (bound 1),
    # XNNPACK to even (bound 0), and each runtime clamps accordingly.
    zeros = (np.zeros((1, 1), np.int8), QuantParams(0.5, 0))
    graph = single_int8_op(OpType.ADD, ElementwiseAttrs(Activation.RELU6), (0.5, 0), (12.0, 0), [zeros], shape=(1, 4))
    x = np.full((1, 4), 127, np.int8)
    model = graph.to_tflite()
    assert run_tflm(model, x).max() == graph.run(x, rounding="double")[0].max() == 1
    assert run_litert(model, x).max() == graph.run(x, rounding="single")[0].max() == 0


# -- the peers ------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shapes", BROADCASTS)
@pytest.mark.parametrize("op", [OpType.ADD, OpType.MUL])
def test_peers_match_their_rounding_modes(op, shapes, activation):
    for seed in range(3):
        graph = binary_graph(op, seed, shapes, activation)
        assert_matches_peers(graph, random_int8(shapes[0], 40, seed))


@pytest.mark.parametrize("op", [OpType.ADD, OpType.MUL])
def test_outside_xnnpack_single_is_litert_reference_kernel(op):
    # There LiteRT's default resolver runs its NEON-on-SSE kernel, which
    # rounds differently and wraps at 16 bits; the reference resolver is
    # TFLite's kernel, what "single" gives.
    for seed, shapes in enumerate(BROADCASTS):
        graph = binary_graph(op, seed, shapes, ACTIVATIONS[seed % 3], in_xnnpack_range=False)
        x = random_int8(shapes[0], 30, seed)
        assert_matches_peers(graph, x, litert=False)
        interpreter = Interpreter(model_content=graph.to_tflite(), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        interpreter.allocate_tensors()
        for sample, want in zip(x, graph.run(x, rounding="single")[0]):
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], sample[None])
            interpreter.invoke()
            np.testing.assert_array_equal(interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0], want)


@pytest.mark.parametrize("final", [OpType.ADD, OpType.MUL])
def test_peers_with_two_activation_operands(final):
    graph = two_activations_graph(0, final)
    assert_matches_peers(graph, random_int8((1, 4, 5, 6), 60))


@pytest.mark.parametrize("op", [OpType.ADD, OpType.MUL])
def test_tflite_options_round_trip(op):
    encoding = TFLITE_OPS[op]
    node = binary_graph(op, 0, BROADCASTS[1], Activation.RELU6).nodes[0]
    attrs, kept = encoding.decode(encoding.encode(node)[1], [None, np.zeros(1, np.int8)])
    assert (attrs, kept) == (node.attrs, [0, 1])


# -- the generated C -------------------------------------------------------------------------
@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("final, in_range", [(OpType.ADD, True), (OpType.MUL, True), (OpType.ADD, False), (OpType.MUL, False)])
def test_generated_c_equals_reference(final, in_range, rounding, tmp_path):
    graph = two_activations_graph(1, final, in_range)
    x = random_int8((1, 4, 5, 6), 60)
    want = graph.run(x, rounding=rounding)[0].reshape(len(x), -1)
    # Scales outside XNNPACK's ratios saturate nearly every output: that case checks the other C path only.
    assert len(np.unique(want)) > 10 or not in_range
    np.testing.assert_array_equal(run_generated_c(graph, x, rounding, tmp_path), want)


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_generated_c_broadcasts_a_constant(rounding, tmp_path):
    graph = binary_graph(OpType.MUL, 2, ((1, 3, 5, 2), (1, 3, 1, 1)), Activation.RELU)
    x = random_int8((1, 3, 5, 2), 40)
    np.testing.assert_array_equal(run_generated_c(graph, x, rounding, tmp_path), graph.run(x, rounding=rounding)[0].reshape(len(x), -1))
