"""FULLY_CONNECTED: ``[batch, in] x [out, in]^T + bias``.

The input may have any shape whose size is a multiple of ``in``; like TFLite
(``keep_num_dims=False``) it is read as ``[size / in, in]``.  The TFLite spec
quantizes these weights per tensor; per-channel weights (which TFLM also
accepts) are handled too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Activation, GraphError, OpType
from leafml.ops.base import OpDef, activation_range, apply_activation_float, check_weight
from leafml.ops.conv2d import RequantParams, check_int8_weights, weighted_requant
from leafml.quant.fixedpoint import Rounding, quantize_multiplier


@dataclass(frozen=True)
class FullyConnectedAttrs:
    activation: Activation = Activation.NONE


class FullyConnected(OpDef):
    op = OpType.FULLY_CONNECTED
    attrs_type = FullyConnectedAttrs
    num_inputs = (2, 3)

    def infer_shapes(self, graph, node):
        x = graph.tensors[node.inputs[0]]
        w = check_weight(graph, node, 1, 2)
        if x.size % w.shape[1]:
            raise GraphError(f"FULLY_CONNECTED input {x.name!r} of {x.size} elements is not a multiple of {w.shape[1]}")
        if len(node.inputs) > 2 and check_weight(graph, node, 2, 1).shape[0] != w.shape[0]:
            raise GraphError(f"FULLY_CONNECTED bias {node.inputs[2]!r} does not have {w.shape[0]} elements")
        return [(x.size // w.shape[1], w.shape[0])]

    def check(self, graph, node):
        super().check(graph, node)
        if graph.tensors[node.inputs[0]].dtype == np.int8:
            check_int8_weights(graph, node, channel_axis=0)

    def run_float(self, graph, node, inputs):
        w = inputs[1]
        out = inputs[0].reshape(-1, w.shape[1]).astype(np.float64) @ w.T.astype(np.float64)
        if len(inputs) > 2:
            out = out + inputs[2]
        return apply_activation_float(out, node.attrs.activation).astype(np.float32)

    def prepare(self, graph, node, rounding: Rounding):
        w = graph.tensors[node.inputs[1]]
        assert w.quant is not None
        if w.quant.per_channel or rounding == "single":
            return weighted_requant(graph, node, rounding, w.shape[0])
        x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
        assert x.quant and out.quant
        # TFLite's GetQuantizedConvolutionMultipler multiplies the two scales
        # in float32 before widening to double; matching it matters for exactness.
        product = float(np.float32(x.quant.scalar_scale) * np.float32(w.quant.scalar_scale))
        multiplier, shift = quantize_multiplier(product / float(out.quant.scalar_scale))
        act_min, act_max = activation_range(out, node.attrs.activation)
        return RequantParams(
            -x.quant.scalar_zero_point,
            out.quant.scalar_zero_point,
            np.array([multiplier], dtype=np.int32),
            np.array([shift], dtype=np.int32),
            act_min,
            act_max,
        )

    def run_int8(self, graph, node, params: RequantParams, inputs, rounding):
        w = inputs[1].astype(np.int64)
        acc = (inputs[0].reshape(-1, w.shape[1]).astype(np.int64) + params.input_offset) @ w.T
        if len(inputs) > 2:
            acc = acc + inputs[2].astype(np.int64)
        return params.requantize(acc, rounding)

    def macs(self, graph, node):
        w = graph.tensors[node.inputs[1]]
        return graph.tensors[node.outputs[0]].shape[0] * w.shape[0] * w.shape[1]
