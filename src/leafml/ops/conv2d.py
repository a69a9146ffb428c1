"""CONV_2D: NHWC input, OHWI weights, per-output-channel int8 requantization.

int8 semantics follow TFLite's ``reference_integer_ops::ConvPerChannel``:
``acc = bias[c] + sum(w * (x - input_zero_point))`` over in-bounds taps (a
padded tap contributes nothing), then per-channel requantization, the output
zero point, and the fused activation's clamp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Activation, Graph, GraphError, Node, OpType, Padding
from leafml.ops.base import InPlace, OpDef, Window, activation_range, apply_activation_float, check_weight, patches, window, xnnpack_activation_range
from leafml.quant.fixedpoint import Rounding, quantize_multipliers, requantize, requantize_float32


@dataclass(frozen=True)
class Conv2DAttrs:
    stride: tuple[int, int] = (1, 1)
    padding: Padding = Padding.VALID
    dilation: tuple[int, int] = (1, 1)
    activation: Activation = Activation.NONE


@dataclass(frozen=True, eq=False)  # eq=False: the fields are arrays
class RequantParams:
    """Integer-only parameters shared by the conv-like and fully-connected kernels.

    ``scales`` is set in ``"single"`` mode only: LiteRT runs these operators
    in XNNPACK, which requantizes with float32 scales; ``multipliers`` and
    ``shifts`` are TFLite's integer form, used in ``"double"`` mode.
    """

    input_offset: int  # added to every input value: -input_zero_point
    output_offset: int  # the output zero point
    multipliers: np.ndarray  # int32 significands, one per output channel (or one)
    shifts: np.ndarray  # int32 power-of-two exponents, same length
    act_min: int
    act_max: int
    scales: np.ndarray | None = None  # float32, one per output channel (or one)

    def requantize(self, acc: np.ndarray, rounding: Rounding) -> np.ndarray:
        """int32 accumulators (channel last) to int8 outputs."""
        if self.scales is not None:
            return requantize_float32(acc, self.scales, self.output_offset, self.act_min, self.act_max)
        return requantize(acc, self.multipliers, self.shifts, self.output_offset, self.act_min, self.act_max, rounding)


def conv_window(graph: Graph, node: Node) -> Window:
    attrs: Conv2DAttrs = node.attrs
    x = graph.tensors[node.inputs[0]]
    w = graph.tensors[node.inputs[1]]
    return window(x.shape[1], x.shape[2], w.shape[1], w.shape[2], attrs.stride, attrs.dilation, attrs.padding)


def weighted_requant(graph: Graph, node: Node, rounding: Rounding, channels: int) -> RequantParams:
    """Requantization of a conv-like or fully-connected node, per output channel.

    ``"double"``: TFLite's PopulateConvolutionQuantizationParams, the
    effective scale ``in_scale * w_scale[c] / out_scale`` computed in double
    from the float32 scales, TFLite's activation bounds.  ``"single"``: also
    XNNPACK's float32 scales (same product, in float32) and its bounds.
    """
    x, w, out = (graph.tensors[n] for n in (node.inputs[0], node.inputs[1], node.outputs[0]))
    assert x.quant and w.quant and out.quant
    w_scales = np.broadcast_to(w.quant.scale, (channels,)) if w.quant.per_channel else w.quant.scale
    offsets = (-x.quant.scalar_zero_point, out.quant.scalar_zero_point)
    if rounding == "single":
        scales = (x.quant.scale[0] * w_scales / out.quant.scale[0]).astype(np.float32)
        empty = np.zeros(0, np.int32)
        return RequantParams(*offsets, empty, empty, *xnnpack_activation_range(out, node.attrs.activation), scales=scales)
    reals = float(x.quant.scalar_scale) * w_scales.astype(np.float64) / float(out.quant.scalar_scale)
    return RequantParams(*offsets, *quantize_multipliers(reals), *activation_range(out, node.attrs.activation))


def check_int8_weights(graph: Graph, node: Node, channel_axis: int) -> None:
    """Quantized weights are int8 and symmetric; the bias is int32 with zero point 0."""
    w = graph.tensors[node.inputs[1]]
    label = f"{node.op.value} node {node.name or node.outputs}"
    if w.dtype != np.int8 or w.quant is None or np.any(w.quant.zero_point != 0):
        raise GraphError(f"{label}: weights {w.name!r} must be int8 with zero point 0")
    if w.quant.per_channel and w.quant.axis != channel_axis:
        raise GraphError(f"{label}: weights {w.name!r} must be quantized along axis {channel_axis}")
    if len(node.inputs) > 2:
        b = graph.tensors[node.inputs[2]]
        if b.dtype != np.int32:
            raise GraphError(f"{label}: bias {b.name!r} must be int32 in an int8 graph")


class Conv2D(OpDef):
    op = OpType.CONV_2D
    attrs_type = Conv2DAttrs
    num_inputs = (2, 3)

    def infer_shapes(self, graph, node):
        x = graph.tensors[node.inputs[0]]
        w = check_weight(graph, node, 1, 4)
        if len(x.shape) != 4:
            raise GraphError(f"CONV_2D input {x.name!r} must be NHWC, got shape {x.shape}")
        if w.shape[3] != x.shape[3]:
            raise GraphError(f"CONV_2D weights {w.name!r} expect {w.shape[3]} input channels, input has {x.shape[3]}")
        if len(node.inputs) > 2 and check_weight(graph, node, 2, 1).shape[0] != w.shape[0]:
            raise GraphError(f"CONV_2D bias {node.inputs[2]!r} does not have {w.shape[0]} elements")
        win = conv_window(graph, node)
        return [(x.shape[0], win.out_h, win.out_w, w.shape[0])]

    def check(self, graph, node):
        super().check(graph, node)
        if graph.tensors[node.inputs[0]].dtype == np.int8:
            check_int8_weights(graph, node, channel_axis=0)

    def run_float(self, graph, node, inputs):
        x, w = inputs[0], inputs[1]
        cols, _ = patches(x, conv_window(graph, node), 0.0)
        out = np.einsum("nhwijc,oijc->nhwo", cols, w, dtype=np.float64)
        if len(inputs) > 2:
            out = out + inputs[2]
        return apply_activation_float(out, node.attrs.activation).astype(np.float32)

    def prepare(self, graph, node, rounding: Rounding):
        return weighted_requant(graph, node, rounding, graph.tensors[node.inputs[1]].shape[0])

    def run_int8(self, graph, node, params: RequantParams, inputs, rounding):
        x, w = inputs[0].astype(np.int64), inputs[1].astype(np.int64)
        # Padding with the input zero point makes padded taps contribute 0 after the offset.
        cols, _ = patches(x, conv_window(graph, node), -params.input_offset)
        n, oh, ow = cols.shape[:3]
        acc = (cols + params.input_offset).reshape(n * oh * ow, -1) @ w.reshape(w.shape[0], -1).T
        if len(inputs) > 2:
            acc = acc + inputs[2].astype(np.int64)
        return params.requantize(acc, rounding).reshape(n, oh, ow, w.shape[0])

    def in_place(self, graph, node):
        # Output row r reads only the input rows under its window; the row walk covers one image.
        if graph.tensors[node.inputs[0]].shape[0] != 1:
            return ()
        w = conv_window(graph, node)
        return (InPlace(0, w, pixelwise=(w.k_h, w.k_w, w.stride_h, w.stride_w) == (1, 1, 1, 1)),)

    def macs(self, graph, node):
        out = graph.tensors[node.outputs[0]]
        w = graph.tensors[node.inputs[1]]
        return out.size * w.shape[1] * w.shape[2] * w.shape[3]
