"""DEPTHWISE_CONV_2D: shapes and checks, the numpy kernels against direct loops,
the two peer runtimes, the .tflite options, and the generated C; last, a
depthwise-separable block of all the operators of issue 3 part 2 on the peers
and on a Cortex-M4 in QEMU."""

from __future__ import annotations

import numpy as np
import pytest

from int8_graphs import add_int8_node, assert_matches_peers, int8_input, random_int8, run_generated_c, single_int8_op
from leafml.codegen import generate_c
from leafml.export.tflite_ops import TFLITE_OPS
from leafml.firmware import run_cortex_m4
from leafml.interpreter import prepare
from leafml.ir import Activation, GraphError, OpType, Padding, QuantParams
from leafml.ops import ConcatenationAttrs, DepthwiseConv2DAttrs, ElementwiseAttrs, MeanAttrs, PadAttrs, StridedSliceAttrs, get_op
from leafml.ops.base import window
from leafml.quant.fixedpoint import ROUNDINGS, requantize
from leafml.verify.peers import run_litert

DEPTHWISE = get_op(OpType.DEPTHWISE_CONV_2D)
F32 = np.float32

# Geometries real models use and the corners of TFLite's window rules.
CONFIGS = [
    dict(channels=3, multiplier=1, size=(6, 7), kernel=(3, 3)),
    dict(channels=4, multiplier=2, size=(7, 5), kernel=(3, 3), stride=(2, 2), padding=Padding.SAME),
    dict(channels=2, multiplier=3, size=(8, 8), kernel=(3, 2), dilation=(2, 1), padding=Padding.SAME, activation=Activation.RELU),
    dict(channels=5, multiplier=1, size=(9, 6), kernel=(5, 5), stride=(1, 2), padding=Padding.SAME, activation=Activation.RELU6),
    dict(channels=8, multiplier=1, size=(4, 4), kernel=(1, 1), per_channel=False),
    dict(channels=1, multiplier=4, size=(5, 9), kernel=(2, 4), stride=(2, 3), dilation=(1, 2)),
]


def depthwise_graph(
    seed: int, channels: int, multiplier: int, size, kernel, stride=(1, 1), padding=Padding.VALID, dilation=(1, 1), activation=Activation.NONE, per_channel=True
):
    """An int8 one-op graph with random weights and bias and an output scale that spreads the outputs."""
    rng = np.random.default_rng(seed)
    out_channels = channels * multiplier
    x_scale = float(np.float32(2.0 ** rng.uniform(-7, -2)))
    w_scales = (2.0 ** rng.uniform(-9, -5, out_channels if per_channel else 1)).astype(np.float32)
    zeros = np.zeros(w_scales.size, dtype=np.int64)
    b_scales = (np.float32(x_scale) * w_scales).astype(np.float32)
    constants = [
        (rng.integers(-127, 128, (1, *kernel, out_channels)).astype(np.int8), QuantParams(w_scales, zeros, axis=3)),
        (rng.integers(-3000, 3000, out_channels).astype(np.int32), QuantParams(b_scales, zeros)),
    ]
    y_scale = float(np.float32(x_scale * np.median(w_scales) * 80 * np.sqrt(kernel[0] * kernel[1])))
    attrs = DepthwiseConv2DAttrs(stride, padding, dilation, activation, multiplier)
    x_zp, y_zp = (int(v) for v in rng.integers(-100, 100, 2))
    return single_int8_op(OpType.DEPTHWISE_CONV_2D, attrs, (x_scale, x_zp), (y_scale, y_zp), constants, shape=(1, *size, channels))


def direct_accumulators(graph, x: np.ndarray, input_offset) -> np.ndarray:
    """bias + sum of (x + input_offset) * w over in-bounds taps, by explicit loops over every output."""
    node = graph.nodes[0]
    a: DepthwiseConv2DAttrs = node.attrs
    w = graph.tensors[node.inputs[1]].data[0].astype(np.float64)
    bias = graph.tensors[node.inputs[2]].data
    n, h, wd, c = x.shape
    win = window(h, wd, w.shape[0], w.shape[1], a.stride, a.dilation, a.padding)
    acc = np.zeros((n, win.out_h, win.out_w, w.shape[2]))
    for oy in range(win.out_h):
        for ox in range(win.out_w):
            for o in range(w.shape[2]):
                total = np.full(n, float(bias[o]))
                for ky in range(w.shape[0]):
                    for kx in range(w.shape[1]):
                        y, xx = oy * a.stride[0] - win.pad_top + ky * a.dilation[0], ox * a.stride[1] - win.pad_left + kx * a.dilation[1]
                        if 0 <= y < h and 0 <= xx < wd:
                            total += (x[:, y, xx, o // a.depth_multiplier] + input_offset) * w[ky, kx, o]
                acc[:, oy, ox, o] = total
    return acc


@pytest.mark.parametrize("config", CONFIGS[:3])
def test_double_kernel_equals_direct_loops_and_tflite_requantization(config):
    graph = depthwise_graph(1, **config)
    x = random_int8(graph.tensors["x"].shape, 12)
    params = prepare(graph, "double")[0]
    acc = direct_accumulators(graph, x.astype(np.float64), params.input_offset).astype(np.int64)
    want = requantize(acc, params.multipliers, params.shifts, params.output_offset, params.act_min, params.act_max, "double")
    np.testing.assert_array_equal(graph.run(x, rounding="double")[0], want)


@pytest.mark.parametrize("config", CONFIGS[:3])
def test_single_kernel_equals_direct_loops_and_xnnpack_requantization(config):
    graph = depthwise_graph(1, **config)
    x = random_int8(graph.tensors["x"].shape, 12)
    params = prepare(graph, "single")[0]
    assert params.scales is not None and params.multipliers.size == 0
    scales = graph.tensors["x"].quant.scale[0] * graph.tensors["c0"].quant.scale / graph.tensors["y"].quant.scale[0]
    np.testing.assert_array_equal(params.scales, scales)  # float32 all the way
    acc = direct_accumulators(graph, x.astype(np.float64), params.input_offset)
    want = np.clip(np.rint(acc.astype(np.float32) * scales) + params.output_offset, params.act_min, params.act_max)
    np.testing.assert_array_equal(graph.run(x, rounding="single")[0], want.astype(np.int8))


def test_single_rounds_ties_to_even_where_tflite_rounds_up():
    # Seed and sample found by search: float32(acc) * scale is exactly -16.5
    # (TFLite's integer rounding says -17, XNNPACK's float32 one -16).
    graph = depthwise_graph(11, **CONFIGS[0])
    x = random_int8(graph.tensors["x"].shape, 30, 1)[12:13]
    single, double = (graph.run(x, rounding=r)[0][0, 2, 4, 0] for r in ("single", "double"))
    zero_point = graph.tensors["y"].quant.scalar_zero_point
    assert (single - zero_point, double - zero_point) == (-16, -17)
    assert run_litert(graph.to_tflite(), x)[0, 2, 4, 0] == single


def test_float_kernel_equals_direct_loops():
    graph = depthwise_graph(2, **CONFIGS[2])
    for name in graph.nodes[0].inputs[1:]:  # the same numbers as floats
        t = graph.tensors[name]
        t.data, t.dtype, t.quant = t.data.astype(np.float32), np.dtype(np.float32), None
    x = np.random.default_rng(3).normal(size=(5, *graph.tensors["x"].shape[1:])).astype(np.float32)
    node = graph.nodes[0]
    got = DEPTHWISE.run_float(graph, node, [x] + [graph.tensors[n].data for n in node.inputs[1:]])
    np.testing.assert_allclose(got, np.maximum(direct_accumulators(graph, x, 0.0), 0.0), rtol=1e-5, atol=1e-5)


def test_output_channels_follow_the_multiplier_and_macs_count_taps():
    graph = depthwise_graph(0, **CONFIGS[1])
    assert graph.tensors["y"].shape == (1, 4, 3, 8)
    assert DEPTHWISE.macs(graph, graph.nodes[0]) == 4 * 3 * 8 * 9


def test_bias_is_required():
    graph = depthwise_graph(0, **CONFIGS[0])
    graph.nodes[0].inputs.pop()
    with pytest.raises(GraphError, match="has no bias; TFLM needs one, so add a zero bias"):
        graph.validate()


def test_weights_must_match_channels_times_multiplier():
    graph = depthwise_graph(0, **CONFIGS[1])
    node = graph.nodes[0]
    node.attrs = DepthwiseConv2DAttrs(depth_multiplier=3)
    with pytest.raises(GraphError, match=r"must be \[1, KH, KW, 12\] for 4 input channels and depth multiplier 3"):
        graph.validate()


def test_weights_must_be_quantized_along_the_last_axis():
    graph = depthwise_graph(0, **CONFIGS[0])  # 3x3 kernel, 3 channels: axis 1 has as many entries as axis 3
    graph.tensors["c0"].quant.axis = 1
    with pytest.raises(GraphError, match="axis 3"):
        graph.validate()


def test_tflite_options_round_trip():
    encoding = TFLITE_OPS[OpType.DEPTHWISE_CONV_2D]
    graph = depthwise_graph(0, **CONFIGS[2])
    node = graph.nodes[0]
    _, options = encoding.encode(node)
    attrs, kept = encoding.decode(options, [None, graph.tensors["c0"].data, graph.tensors["c1"].data])
    assert (attrs, kept) == (node.attrs, [0, 1, 2])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("config", CONFIGS)
def test_peers_match_their_rounding_modes(config, seed):
    graph = depthwise_graph(10 + seed, **config)
    assert_matches_peers(graph, random_int8(graph.tensors["x"].shape, 30, seed))


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("config", [CONFIGS[1], CONFIGS[2], CONFIGS[4]])
def test_generated_c_equals_reference(config, rounding, tmp_path):
    graph = depthwise_graph(5, **config)
    x = random_int8(graph.tensors["x"].shape, 40)
    want = graph.run(x, rounding=rounding)[0].reshape(len(x), -1)
    assert len(np.unique(want)) > 20
    np.testing.assert_array_equal(run_generated_c(graph, x, rounding, tmp_path), want)


def separable_block():
    """pad -> depthwise (x2 channels) -> every other channel -> times x -> plus x -> twice -> global mean."""
    rng = np.random.default_rng(7)
    g = int8_input((1, 8, 8, 4), 0.05, 3)
    add_int8_node(g, OpType.PAD, PadAttrs(((0, 0), (1, 1), (1, 1), (0, 0))), ["x"], 0.05, 3, "p")
    w_scales = (2.0 ** rng.uniform(-8, -6, 8)).astype(np.float32)
    g.add_constant("w", rng.integers(-127, 128, (1, 3, 3, 8)).astype(np.int8), QuantParams(w_scales, np.zeros(8, np.int64), axis=3))
    g.add_constant("b", rng.integers(-500, 500, 8).astype(np.int32), QuantParams(F32(0.05) * w_scales, np.zeros(8, np.int64)))
    depthwise = DepthwiseConv2DAttrs(activation=Activation.RELU6, depth_multiplier=2)
    add_int8_node(g, OpType.DEPTHWISE_CONV_2D, depthwise, ["p", "w", "b"], 0.004, -128, "d")
    add_int8_node(g, OpType.STRIDED_SLICE, StridedSliceAttrs((0, 0, 0, 0), (1, 8, 8, 8), (1, 1, 1, 2)), ["d"], 0.004, -128, "s")
    add_int8_node(g, OpType.MUL, ElementwiseAttrs(), ["s", "x"], 0.0015, 0, "m")
    add_int8_node(g, OpType.ADD, ElementwiseAttrs(Activation.RELU), ["m", "x"], 0.04, -20, "a")
    add_int8_node(g, OpType.CONCATENATION, ConcatenationAttrs(3), ["a", "a"], 0.04, -20, "c")
    return add_int8_node(g, OpType.MEAN, MeanAttrs((1, 2), True), ["c"], 0.01, -60, "y").validate()


def test_separable_block_matches_the_peers():
    assert_matches_peers(separable_block(), random_int8((1, 8, 8, 4), 30))


@pytest.mark.requires_tools("arm-none-eabi-gcc", "qemu-system-arm")
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_cortex_m4_runs_a_separable_block_bit_exactly(rounding, tmp_path):
    graph = separable_block()
    x = random_int8((1, 8, 8, 4), 8)
    model = generate_c(graph, tmp_path / "gen", rounding=rounding)
    result = run_cortex_m4(model.sources, [model.include_dir], x.reshape(len(x), -1), model.output_size, tmp_path / "m4")
    want = graph.run(x, rounding=rounding)[0].reshape(len(x), -1)
    assert len(np.unique(want)) > 5
    np.testing.assert_array_equal(result.outputs, want)
