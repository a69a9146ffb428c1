"""DEPTHWISE_CONV_2D: each input channel convolved with its own filters.

Weights are TFLite's ``[1, KH, KW, C * M]`` for ``C`` input channels and a
depth multiplier ``M``: output channel ``c * M + m`` reads only input channel
``c``.  ``M`` is an attribute, as in a .tflite file (both runtimes loop over
the option's value, not the shapes), and it must agree with the weights.

A bias is required: TFLM's kernel crashes without one (and a zero bias is
the same operator), and XNNPACK, where LiteRT runs it, refuses one without.

int8 arithmetic: ``acc = bias[o] + sum(w * (x - input_zero_point))`` over
the in-bounds taps (a padded tap contributes nothing), then per output
channel (weights quantized along axis 3):

``"double"`` (TFLM): TFLite's ``reference_integer_ops::DepthwiseConvPerChannel``
    requantizes with gemmlowp's double rounding.
``"single"`` (LiteRT, which hands the node to XNNPACK)
    XNNPACK requantizes in float32 (``float32(acc) * scale[o]``, rounded half
    to even), with XNNPACK's activation bounds.
Both are the conv's :class:`~leafml.ops.conv2d.RequantParams`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Activation, Graph, GraphError, Node, OpType, Padding
from leafml.ops.base import InPlace, OpDef, Window, apply_activation_float, check_weight, patches, window
from leafml.ops.conv2d import RequantParams, check_int8_weights, weighted_requant
from leafml.quant.fixedpoint import Rounding

WEIGHT_CHANNEL_AXIS = 3


@dataclass(frozen=True)
class DepthwiseConv2DAttrs:
    stride: tuple[int, int] = (1, 1)
    padding: Padding = Padding.VALID
    dilation: tuple[int, int] = (1, 1)
    activation: Activation = Activation.NONE
    depth_multiplier: int = 1


def depthwise_window(graph: Graph, node: Node) -> Window:
    attrs: DepthwiseConv2DAttrs = node.attrs
    x = graph.tensors[node.inputs[0]]
    w = graph.tensors[node.inputs[1]]
    return window(x.shape[1], x.shape[2], w.shape[1], w.shape[2], attrs.stride, attrs.dilation, attrs.padding)


class DepthwiseConv2D(OpDef):
    op = OpType.DEPTHWISE_CONV_2D
    attrs_type = DepthwiseConv2DAttrs
    num_inputs = (2, 3)  # two only to say why the bias is missing

    def infer_shapes(self, graph, node):
        if len(node.inputs) == 2:
            raise GraphError(f"DEPTHWISE_CONV_2D node {node.name or node.outputs} has no bias; TFLM needs one, so add a zero bias")
        x = graph.tensors[node.inputs[0]]
        w = check_weight(graph, node, 1, 4)
        if len(x.shape) != 4:
            raise GraphError(f"DEPTHWISE_CONV_2D input {x.name!r} must be NHWC, got shape {x.shape}")
        channels = x.shape[3] * node.attrs.depth_multiplier
        if w.shape[0] != 1 or w.shape[3] != channels:
            raise GraphError(
                f"DEPTHWISE_CONV_2D weights {w.name!r} of shape {w.shape} must be [1, KH, KW, {channels}]"
                f" for {x.shape[3]} input channels and depth multiplier {node.attrs.depth_multiplier}"
            )
        if check_weight(graph, node, 2, 1).shape[0] != w.shape[3]:
            raise GraphError(f"DEPTHWISE_CONV_2D bias {node.inputs[2]!r} does not have {w.shape[3]} elements")
        win = depthwise_window(graph, node)
        return [(x.shape[0], win.out_h, win.out_w, w.shape[3])]

    def check(self, graph, node):
        super().check(graph, node)
        if graph.tensors[node.inputs[0]].dtype == np.int8:
            check_int8_weights(graph, node, channel_axis=WEIGHT_CHANNEL_AXIS)

    def _accumulate(self, graph: Graph, node: Node, x: np.ndarray, w: np.ndarray, pad_value, dtype) -> np.ndarray:
        # Taps [N, OH, OW, KH, KW, C] against weights [KH, KW, C, M].
        cols, _ = patches(x, depthwise_window(graph, node), pad_value)
        k_h, k_w, channels = w.shape[1], w.shape[2], x.shape[3]
        filters = w.reshape(k_h, k_w, channels, -1)
        acc = np.einsum("nhwijc,ijcm->nhwcm", cols, filters, dtype=dtype)
        return acc.reshape(*acc.shape[:3], -1)  # output channel c * M + m

    def run_float(self, graph, node, inputs):
        out = self._accumulate(graph, node, inputs[0], inputs[1], 0.0, np.float64) + inputs[2]
        return apply_activation_float(out, node.attrs.activation).astype(np.float32)

    def prepare(self, graph, node, rounding: Rounding):
        return weighted_requant(graph, node, rounding, graph.tensors[node.inputs[1]].shape[3])

    def run_int8(self, graph, node, params: RequantParams, inputs, rounding):
        # Offset first, then pad with 0: a padded tap contributes nothing, as in TFLite.
        shifted = inputs[0].astype(np.int64) + params.input_offset
        acc = self._accumulate(graph, node, shifted, inputs[1].astype(np.int64), 0, np.int64) + inputs[2].astype(np.int64)
        return params.requantize(acc, rounding)

    def in_place(self, graph, node):
        # Output row r reads only the input rows under its window; the row walk covers one image.
        if graph.tensors[node.inputs[0]].shape[0] != 1:
            return ()
        return (InPlace(0, depthwise_window(graph, node)),)

    def macs(self, graph, node):
        w = graph.tensors[node.inputs[1]]
        return graph.tensors[node.outputs[0]].size * w.shape[1] * w.shape[2]
