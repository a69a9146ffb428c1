"""MEAN: shapes and checks, each runtime's int8 rescale, the peers, the .tflite operands and the generated C."""

from __future__ import annotations

import numpy as np
import pytest

from int8_graphs import assert_matches_peers, random_int8, run_generated_c, single_int8_op
from leafml.export.tflite_ops import TFLITE_OPS
from leafml.interpreter import prepare
from leafml.ir import GraphError, OpType
from leafml.ops import MeanAttrs
from leafml.ops.mean import MeanParams, XnnpackMeanParams
from leafml.quant.fixedpoint import ROUNDINGS

F32 = np.float32
SHAPE = (1, 5, 6, 7)
AXES = [(1, 2), (2, 1), (-3, -2), (1,), (3,), (1, 2, 3), (2, 3), (-1,)]


def mean_graph(axes, keep_dims, x=(0.05, 3), y=(0.02, -5), shape=SHAPE):
    return single_int8_op(OpType.MEAN, MeanAttrs(tuple(axes), keep_dims), x, y, shape=shape)


@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize("axes", AXES)
def test_shapes_and_closeness_to_the_float_mean(axes, keep_dims):
    graph = mean_graph(axes, keep_dims)
    x = random_int8(SHAPE, 20)
    real = (x.astype(np.float64) - 3) * F32(0.05)
    want = real.mean(axis=tuple(axes), keepdims=keep_dims) / F32(0.02) - 5
    for rounding in ROUNDINGS:
        got = graph.run(x, rounding=rounding)[0]
        assert got.shape == want.shape
        assert np.max(np.abs(got - np.clip(want, -128, 127))) <= 1.0


def test_mean_over_the_batch_axis_keeps_samples_apart():
    graph = mean_graph((0, 1), True, y=(0.05, 3))
    x = random_int8(SHAPE, 3)
    np.testing.assert_array_equal(graph.run(x)[0], np.concatenate([graph.run(s[None])[0] for s in x]))


@pytest.mark.parametrize(
    "axes, keep_dims, message",
    [
        ((1, -3), False, r"axes \(1, -3\) name an axis twice"),
        ((4,), False, r"axes \(4,\) are out of range for rank 4"),
        ((), False, "needs at least one axis"),
        ((0, 1, 2, 3), False, "gives a scalar; set keep_dims"),
    ],
)
def test_invalid_axes_are_refused(axes, keep_dims, message):
    with pytest.raises(GraphError, match=message):
        mean_graph(axes, keep_dims)


def test_double_params_divide_the_multiplier_by_the_count_in_fixed_point():
    # 1.0 is 2**30 * 2**(1 - 31); a count of 30 shifts it left by 4 and divides.
    graph = mean_graph((1, 2), True, x=(0.25, 3), y=(0.25, -5))
    assert prepare(graph, "double")[0] == MeanParams(sum_offset=-90, multiplier=(2**30 << 4) // 30, shift=-3, output_zero_point=-5)


def test_single_params_are_xnnpacks_float32_ones():
    graph = mean_graph((1, 2), True)
    params = prepare(graph, "single")[0]
    scale = F32(0.05) / F32(0.02) * (F32(1) / F32(30))
    assert params == XnnpackMeanParams(float(scale), float(F32(-5) - F32(30) * F32(3) * scale))


def test_axes_are_an_int32_operand_in_the_file():
    encoding = TFLITE_OPS[OpType.MEAN]
    graph = mean_graph((-3, -2), True)
    (axes,) = encoding.extra_inputs(graph, graph.nodes[0])
    assert axes.dtype == np.int32 and axes.tolist() == [-3, -2]
    assert encoding.decode(encoding.encode(graph.nodes[0])[1], [None, axes]) == (graph.nodes[0].attrs, [0])


@pytest.mark.parametrize("keep_dims", [True, False])
@pytest.mark.parametrize("axes", AXES)
def test_peers_match_their_rounding_modes(axes, keep_dims):
    rng = np.random.default_rng(len(axes) + 10 * keep_dims)
    for _ in range(4):
        x_scale = float(F32(2.0 ** rng.uniform(-8, 0)))
        y_scale = float(F32(x_scale * 2.0 ** rng.uniform(-3, 2)))
        x_zp, y_zp = (int(v) for v in rng.integers(-128, 128, 2))
        graph = mean_graph(axes, keep_dims, (x_scale, x_zp), (y_scale, y_zp))
        assert_matches_peers(graph, random_int8(SHAPE, 30))


def test_peers_on_a_global_average_of_many_pixels():
    graph = mean_graph((1, 2), True, x=(0.1, -128), y=(0.003, 17), shape=(1, 24, 24, 3))
    assert_matches_peers(graph, random_int8((1, 24, 24, 3), 12))


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_generated_c_equals_reference(rounding, tmp_path):
    for i, (axes, keep_dims) in enumerate([((1, 2), True), ((3, 1), False), ((2,), True)]):
        graph = mean_graph(axes, keep_dims)
        x = random_int8(SHAPE, 30)
        want = graph.run(x, rounding=rounding)[0].reshape(len(x), -1)
        np.testing.assert_array_equal(run_generated_c(graph, x, rounding, tmp_path / str(i)), want)
