"""STRIDED_SLICE: TFLite's index rules against Python's slicing, the checks, the peers and the generated C."""

from __future__ import annotations

import numpy as np
import pytest

from int8_graphs import assert_matches_peers, random_int8, run_generated_c, single_int8_op
from leafml.export.tflite_ops import TFLITE_OPS
from leafml.ir import GraphError, OpType
from leafml.ops import StridedSliceAttrs
from leafml.ops.strided_slice import resolve
from leafml.quant.fixedpoint import ROUNDINGS
from leafml.verify.peers import PeerError, run_tflm

QUANT = (0.05, 3)
SHAPE = (1, 6, 7, 5)
A = StridedSliceAttrs

# (attrs, the same slice in numpy) on SHAPE; TFLM runs the first five.
CASES = [
    (A((0, 1, -6, 0), (1, -1, 4, 5), (1, 1, 2, 2), end_mask=8), np.s_[0:1, 1:-1, -6:4:2, 0::2]),
    (A((0, 5, 0, -1), (1, 0, 7, 0), (1, -2, 3, -1), end_mask=8), np.s_[0:1, 5:0:-2, 0:7:3, -1::-1]),
    (A((0, 2, 0, 0), (1, 3, 7, 5), (1, 1, 1, 1), shrink_axis_mask=2), np.s_[0:1, 2, 0:7, 0:5]),
    (A((0, -100, 1, 4), (1, 100, 3, 0), (1, 3, 1, -1), begin_mask=1, end_mask=1), np.s_[:, -100:100:3, 1:3, 4:0:-1]),
    (A((0, 0, 0), (1, 4, 2), (1, 1, 1)), np.s_[0:1, 0:4, 0:2]),  # fewer entries than axes
    (A((0, 1), (0, 4), (1, 1), ellipsis_mask=1), np.s_[..., 1:4]),
    (A((0, 0, 1), (1, 0, 4), (1, 1, 1), new_axis_mask=2), np.s_[0:1, None, 1:4]),
    (A((0, 1, 2, 0), (1, 3, 4, 5), (1, 1, 1, 1), offset=True), np.s_[0:1, 1:4, 2:6, 0:5]),
]
TFLM_CASES = CASES[:5]


def slice_graph(attrs: StridedSliceAttrs, shape=SHAPE):
    return single_int8_op(OpType.STRIDED_SLICE, attrs, QUANT, QUANT, shape=shape)


@pytest.mark.parametrize("attrs, index", CASES)
def test_slices_like_python(attrs, index):
    x = random_int8(SHAPE, 2)[:1]
    np.testing.assert_array_equal(slice_graph(attrs).run(x)[0], x[index])


def test_random_slices_match_python():
    # begin/end anywhere in [-9, 9] (clamped like Python), strides of either sign, masks per axis.
    rng = np.random.default_rng(0)
    x = random_int8(SHAPE, 2)[:1]
    checked = 0
    for _ in range(400):
        begin, end = (tuple(int(v) for v in rng.integers(-9, 10, 4)) for _ in range(2))
        strides = tuple(int(v) * int(rng.choice([-1, 1])) for v in rng.integers(1, 4, 4))
        begin_mask, end_mask = (int(v) for v in rng.integers(0, 16, 2))
        index = tuple(
            slice(None if begin_mask >> i & 1 else b, None if end_mask >> i & 1 else e, s) for i, (b, e, s) in enumerate(zip(begin, end, strides))
        )
        if 0 in x[index].shape:
            continue  # the IR has no empty tensors
        np.testing.assert_array_equal(slice_graph(A(begin, end, strides, begin_mask, end_mask)).run(x)[0], x[index])
        checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    "attrs, message",
    [
        (A((0, 0), (1, 1, 1), (1, 1)), "begin, end and strides have 2, 3 and 2 entries"),
        (A((0, 0), (1, 1), (1, 0)), r"strides \(1, 0\) contain 0"),
        (A((0, 6), (1, 7), (1, 1), shrink_axis_mask=2), "shrinks an axis of size 6 at index 6, which is out of range"),
        (A((0, 3), (1, 3), (1, 1)), r"gives the empty shape \(1, 0, 7, 5\)"),
        (A((0, 5), (1, 3), (1, 1), offset=True), "offset slice of 3 elements from 5 runs past an axis of size 6"),
        (A((0,), (1,), (1,), ellipsis_mask=1, offset=True), "cannot also use ellipsis_mask or new_axis_mask"),
    ],
)
def test_invalid_slices_are_refused(attrs, message):
    with pytest.raises(GraphError, match=message):
        slice_graph(attrs)


def test_output_must_keep_the_input_quantization():
    with pytest.raises(GraphError, match="must keep its input's scale and zero point"):
        single_int8_op(OpType.STRIDED_SLICE, CASES[0][0], QUANT, (0.05, 2), shape=SHAPE)


def test_slice_operands_round_trip_through_the_file():
    encoding = TFLITE_OPS[OpType.STRIDED_SLICE]
    for attrs, _ in CASES:
        graph = slice_graph(attrs)
        operands = encoding.extra_inputs(graph, graph.nodes[0])
        assert all(o.dtype == np.int32 for o in operands)
        decoded, kept = encoding.decode(encoding.encode(graph.nodes[0])[1], [None, *operands])
        assert kept == [0] and resolve(SHAPE, decoded) == resolve(SHAPE, attrs)


def test_the_file_names_every_axis_for_tflm():
    graph = slice_graph(CASES[4][0])  # three entries for four axes
    begin, end, strides = TFLITE_OPS[OpType.STRIDED_SLICE].extra_inputs(graph, graph.nodes[0])
    assert (begin.tolist(), end.tolist(), strides.tolist()) == ([0, 0, 0, 0], [1, 4, 2, 5], [1, 1, 1, 1])


@pytest.mark.parametrize("attrs, index", TFLM_CASES)
def test_both_peers_match_the_reference(attrs, index):
    assert_matches_peers(slice_graph(attrs), random_int8(SHAPE, 10))


@pytest.mark.parametrize("attrs, index", CASES[5:])
def test_litert_runs_ellipsis_new_axis_and_offset_and_tflm_refuses_them(attrs, index):
    graph = slice_graph(attrs)
    assert_matches_peers(graph, random_int8(SHAPE, 10), tflm=False)
    with pytest.raises(PeerError, match="TFLM could not load the model"):
        run_tflm(graph.to_tflite(), random_int8(SHAPE, 2))


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_generated_c_equals_reference(rounding, tmp_path):
    for i, (attrs, _) in enumerate(CASES):
        graph = slice_graph(attrs)
        x = random_int8(SHAPE, 10)
        want = graph.run(x, rounding=rounding)[0].reshape(len(x), -1)
        np.testing.assert_array_equal(run_generated_c(graph, x, rounding, tmp_path / str(i)), want)
