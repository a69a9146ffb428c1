"""Post-training quantization follows the TFLite spec and stays close to float."""

import numpy as np
import pytest
import torch

from leafml import Quantizer, dequantize_array, from_torch, quantize_array
from leafml.ir import OpType
from leafml.quant.ptq import CalibrationError, activation_quant
from torch_models import cnn, images, nhwc


@pytest.fixture(scope="module")
def float_graph():
    return from_torch(cnn(), torch.zeros(1, 1, 12, 12))


@pytest.fixture(scope="module")
def quantizer(float_graph):
    return Quantizer(float_graph).fit(nhwc(images(64, seed=1)))


def test_quantized_graph_follows_the_spec(quantizer):
    g = quantizer.graph_.validate()
    assert g.is_quantized
    for node in g.nodes:
        out = g.tensors[node.outputs[0]]
        assert out.dtype == np.int8 and not out.quant.per_channel
        if node.op is OpType.CONV_2D:
            w, b = g.tensors[node.inputs[1]], g.tensors[node.inputs[2]]
            assert w.dtype == np.int8 and w.quant.axis == 0 and w.quant.scale.size == w.shape[0]
            assert np.all(w.quant.zero_point == 0) and w.data.min() >= -127
            assert b.dtype == np.int32
            np.testing.assert_allclose(b.quant.scale, g.tensors[node.inputs[0]].quant.scale[0] * w.quant.scale, rtol=1e-6)
        if node.op is OpType.FULLY_CONNECTED:
            assert g.tensors[node.inputs[1]].quant.scale.size == 1  # per-tensor, as the spec says
        if node.op is OpType.SOFTMAX:
            assert out.quant.scale[0] == np.float32(1 / 256) and out.quant.zero_point[0] == -128
        if node.op in (OpType.MAX_POOL_2D, OpType.AVERAGE_POOL_2D, OpType.RESHAPE):
            assert out.quant.scale[0] == g.tensors[node.inputs[0]].quant.scale[0]


def test_fit_does_not_touch_the_float_graph(float_graph, quantizer):
    assert not float_graph.is_quantized
    assert quantizer.graph_ is not float_graph
    assert set(quantizer.ranges_) >= set(float_graph.inputs)


def test_int8_outputs_track_the_float_outputs(float_graph, quantizer):
    g = quantizer.graph_
    x = nhwc(images(200, seed=2))
    xq = quantize_array(x, g.tensors[g.inputs[0]].quant)
    probs = dequantize_array(g.run(xq)[0], g.tensors[g.outputs[0]].quant)
    expected = float_graph.run(x)[0]
    err = np.abs(probs - expected)
    # The softmax output's step is 1/256; a few steps of error end to end.
    assert err.max() < 4 / 256 and err.mean() < 1 / 256, (err.max(), err.mean())


def test_activation_range_always_contains_zero():
    q = activation_quant(0.5, 2.0)
    assert q.zero_point[0] == -128
    q = activation_quant(-3.0, -1.0)
    assert q.zero_point[0] == 127
    assert activation_quant(0.0, 0.0).scale[0] == 1.0


def test_calibration_data_of_the_wrong_shape_is_refused(float_graph):
    with pytest.raises(CalibrationError, match=r"shape \(8, 1, 12, 12\); expected \(N, 12, 12, 1\) in NHWC"):
        Quantizer(float_graph).fit(images(8))
    with pytest.raises(CalibrationError, match="NaN"):
        Quantizer(float_graph).fit(np.full((2, 12, 12, 1), np.nan, np.float32))
    with pytest.raises(CalibrationError, match="2 arrays"):
        Quantizer(float_graph).fit([nhwc(images(2)), nhwc(images(2))])
