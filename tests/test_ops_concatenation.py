"""CONCATENATION: shapes and checks, the kernels, the peers, the .tflite options and the generated C."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb

from int8_graphs import add_int8_node, assert_matches_peers, int8_input, random_int8, run_generated_c, single_int8_op
from leafml.export.tflite_ops import TFLITE_OPS
from leafml.ir import GraphError, OpType, QuantParams
from leafml.ops import ConcatenationAttrs, StridedSliceAttrs
from leafml.quant.fixedpoint import ROUNDINGS

X_QUANT = (0.05, -3)


def constants(rng, shapes) -> list:
    return [(rng.integers(-128, 128, s).astype(np.int8), QuantParams(*X_QUANT)) for s in shapes]


def concat_graph(axis: int, x_shape, other_shapes, seed: int = 0):
    """``concat([x, constants...], axis)``, all with the same quantization."""
    rng = np.random.default_rng(seed)
    return single_int8_op(OpType.CONCATENATION, ConcatenationAttrs(axis), X_QUANT, X_QUANT, constants(rng, other_shapes), shape=x_shape)


def with_a_slice_of_itself():
    """``concat([x, x[..., ::-2]], -1)``: both operands are activations."""
    g = int8_input((1, 4, 5, 6), *X_QUANT)
    reverse_channels = StridedSliceAttrs((0, 0, 0, 0), (1, 4, 5, 0), (1, 1, 1, -2), begin_mask=8, end_mask=8)
    add_int8_node(g, OpType.STRIDED_SLICE, reverse_channels, ["x"], *X_QUANT, "s")
    return add_int8_node(g, OpType.CONCATENATION, ConcatenationAttrs(-1), ["x", "s"], *X_QUANT, "y").validate()


CASES = [
    (3, (1, 4, 5, 6), [(1, 4, 5, 2)]),
    (-1, (1, 4, 5, 6), [(1, 4, 5, 1), (1, 4, 5, 3)]),
    (1, (1, 2, 3, 4), [(1, 5, 3, 4)]),
    (-2, (1, 2, 3, 4), [(1, 2, 1, 4), (1, 2, 7, 4)]),
    (1, (1, 7), [(1, 2)]),
]


@pytest.mark.parametrize("axis, x_shape, others", CASES)
def test_int8_and_float_kernels_are_numpy_concatenate(axis, x_shape, others):
    graph = concat_graph(axis, x_shape, others)
    x = random_int8(x_shape, 5)
    parts = [x] + [np.broadcast_to(graph.tensors[n].data, (5, *graph.tensors[n].shape[1:])) for n in graph.nodes[0].inputs[1:]]
    want = np.concatenate(parts, axis=axis)
    np.testing.assert_array_equal(graph.run(x)[0], want)
    float_graph = concat_graph(axis, x_shape, others)
    for t in float_graph.tensors.values():
        t.dtype, t.quant = np.dtype(np.float32), None
        if t.data is not None:
            t.data = t.data.astype(np.float32)
    np.testing.assert_array_equal(float_graph.run(x.astype(np.float32))[0], want.astype(np.float32))


def test_concatenating_the_batch_axis_keeps_samples_apart():
    graph = concat_graph(0, (1, 3), [(2, 3)])
    x = np.array([[5, -7, 100]], np.int8)
    np.testing.assert_array_equal(graph.run(x)[0], np.concatenate([x, graph.tensors["c0"].data]))


def test_inputs_must_share_the_output_quantization():
    rng = np.random.default_rng(0)
    other = (rng.integers(-128, 128, (1, 4, 5, 2)).astype(np.int8), QuantParams(0.05, -2))
    with pytest.raises(GraphError, match="input 'c0' must have the output's scale and zero point .TFLM requires it.; requantize it first"):
        single_int8_op(OpType.CONCATENATION, ConcatenationAttrs(3), X_QUANT, X_QUANT, [other], shape=(1, 4, 5, 6))


@pytest.mark.parametrize(
    "axis, others, message",
    [
        (3, [(1, 4, 4, 2)], r"input 'c0' of shape \(1, 4, 4, 2\) does not match \(1, 4, 5, 6\) outside axis 3"),
        (4, [(1, 4, 5, 2)], "axis 4 is out of range for rank 4"),
        (3, [(1, 4, 5, 1)] * 10, r"has 11 inputs; expected \(1, 2, 3, 4, 5, 6, 7, 8, 9, 10\)"),
    ],
)
def test_malformed_concatenations_are_refused(axis, others, message):
    with pytest.raises(GraphError, match=message):
        concat_graph(axis, (1, 4, 5, 6), others)


def test_tflite_options_round_trip_and_fused_activations_are_refused():
    encoding = TFLITE_OPS[OpType.CONCATENATION]
    node = concat_graph(-2, (1, 2, 3, 4), [(1, 2, 1, 4)]).nodes[0]
    _, options = encoding.encode(node)
    assert encoding.decode(options, [None, None]) == (node.attrs, [0, 1])
    options.fusedActivationFunction = fb.ActivationFunctionType.RELU
    with pytest.raises(GraphError, match="fused activation is not supported"):
        encoding.decode(options, [None, None])


@pytest.mark.parametrize("axis, x_shape, others", CASES)
def test_peers_match_the_reference(axis, x_shape, others):
    assert_matches_peers(concat_graph(axis, x_shape, others, seed=1), random_int8(x_shape, 20))


def test_peers_with_two_activation_operands():
    assert_matches_peers(with_a_slice_of_itself(), random_int8((1, 4, 5, 6), 20))


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_generated_c_equals_reference(rounding, tmp_path):
    for i, graph in enumerate([with_a_slice_of_itself(), concat_graph(*CASES[3], seed=2)]):
        x = random_int8(graph.tensors["x"].shape, 20)
        want = graph.run(x, rounding=rounding)[0].reshape(len(x), -1)
        np.testing.assert_array_equal(run_generated_c(graph, x, rounding, tmp_path / str(i)), want)
