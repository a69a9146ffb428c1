"""PAD: shapes and checks, the kernels, the peers, the .tflite operands and the generated C."""

from __future__ import annotations

import numpy as np
import pytest

from int8_graphs import assert_matches_peers, random_int8, run_generated_c, single_int8_op
from leafml.export.tflite_ops import TFLITE_OPS
from leafml.ir import GraphError, OpType
from leafml.ops import PadAttrs
from leafml.quant.fixedpoint import ROUNDINGS

QUANT = (0.1, -7)
CASES = [
    ((1, 4, 5, 3), ((0, 0), (1, 2), (0, 3), (0, 0))),  # image style: height and width
    ((1, 4, 5, 3), ((0, 0), (2, 2), (2, 2), (1, 4))),  # channels too
    ((1, 6, 5), ((0, 0), (3, 0), (1, 1))),
    ((1, 9), ((0, 0), (4, 5))),
    ((1, 2, 3, 2, 3), ((0, 0), (1, 0), (0, 1), (2, 0), (0, 2))),  # five axes, TFLite's most
]


def pad_graph(shape, paddings):
    return single_int8_op(OpType.PAD, PadAttrs(paddings), QUANT, QUANT, shape=shape)


@pytest.mark.parametrize("shape, paddings", CASES)
def test_int8_pads_with_the_output_zero_point(shape, paddings):
    graph = pad_graph(shape, paddings)
    x = random_int8(shape, 6)
    np.testing.assert_array_equal(graph.run(x)[0], np.pad(x, paddings, constant_values=QUANT[1]))


def test_float_pads_with_zero():
    graph = pad_graph(*CASES[2])
    for t in graph.tensors.values():
        t.dtype, t.quant = np.dtype(np.float32), None
    x = np.random.default_rng(0).normal(size=(3, 6, 5)).astype(np.float32)
    np.testing.assert_array_equal(graph.run(x)[0], np.pad(x, CASES[2][1]))


def test_padding_the_batch_axis_keeps_samples_apart():
    graph = pad_graph((1, 3), ((1, 1), (0, 0)))
    x = np.array([[1, 2, 3]], np.int8)
    np.testing.assert_array_equal(graph.run(x)[0], [[-7, -7, -7], [1, 2, 3], [-7, -7, -7]])


@pytest.mark.parametrize(
    "shape, paddings, message",
    [
        ((1, 4, 3), ((0, 0), (1, 1)), "need one .before, after. pair per axis"),
        ((1, 4, 3), ((0, 0), (-1, 1), (0, 0)), "must not be negative"),
        ((1, 2, 2, 2, 2, 2), ((0, 0),) * 6, "has 6 axes; TFLite pads at most 5"),
    ],
)
def test_malformed_paddings_are_refused(shape, paddings, message):
    with pytest.raises(GraphError, match=message):
        pad_graph(shape, paddings)


def test_output_must_keep_the_input_quantization():
    with pytest.raises(GraphError, match="must keep its input's scale and zero point"):
        single_int8_op(OpType.PAD, PadAttrs(CASES[3][1]), QUANT, (0.1, 0), shape=CASES[3][0])


def test_paddings_are_an_int32_operand_in_the_file():
    encoding = TFLITE_OPS[OpType.PAD]
    graph = pad_graph(*CASES[1])
    (paddings,) = encoding.extra_inputs(graph, graph.nodes[0])
    assert paddings.dtype == np.int32 and paddings.tolist() == [list(p) for p in CASES[1][1]]
    assert encoding.decode(encoding.encode(graph.nodes[0])[1], [None, paddings]) == (graph.nodes[0].attrs, [0])
    with pytest.raises(GraphError, match="PAD paddings must be a constant operand"):
        encoding.decode(None, [None, None])


@pytest.mark.parametrize("shape, paddings", CASES)
def test_peers_match_the_reference(shape, paddings):
    assert_matches_peers(pad_graph(shape, paddings), random_int8(shape, 20))


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_generated_c_equals_reference(rounding, tmp_path):
    for i, case in enumerate(CASES[1:]):
        graph = pad_graph(*case)
        x = random_int8(case[0], 20)
        want = graph.run(x, rounding=rounding)[0].reshape(len(x), -1)
        np.testing.assert_array_equal(run_generated_c(graph, x, rounding, tmp_path / str(i)), want)
