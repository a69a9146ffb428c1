"""How each IR operator appears in a .tflite file, both ways: one row per operator.

The writer (:mod:`leafml.export.tflite`) encodes a node's attributes into the
schema's option table; the reader (:mod:`leafml.frontends.tflite`) decodes
them back.  Some TFLite operators carry static parameters as constant operands
(RESHAPE's shape, PAD's paddings, MEAN's axes...): in the IR they are
attributes, so ``decode`` also says which operands remain IR inputs, and
``extra_inputs`` gives the writer the constant operands to append.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from leafml.ir.graph import Activation, Graph, GraphError, Node, OpType, Padding
from leafml.ops import Conv2DAttrs, FullyConnectedAttrs, PoolAttrs, ReshapeAttrs, SoftmaxAttrs
from leafml.ops import ConcatenationAttrs, DepthwiseConv2DAttrs, ElementwiseAttrs, MeanAttrs, PadAttrs, StridedSliceAttrs
from leafml.ops import LeakyReluAttrs

ACTIVATIONS = {Activation.NONE: fb.ActivationFunctionType.NONE, Activation.RELU: fb.ActivationFunctionType.RELU, Activation.RELU6: fb.ActivationFunctionType.RELU6}
PADDINGS = {Padding.SAME: fb.Padding.SAME, Padding.VALID: fb.Padding.VALID}
ACTIVATION_OF = {v: k for k, v in ACTIVATIONS.items()}
PADDING_OF = {v: k for k, v in PADDINGS.items()}

# The constant data of each operand of an operator in the file (None where not constant).
Operands = list[np.ndarray | None]


def activation_of(code: int) -> Activation:
    """The IR activation of a schema fused-activation code; GraphError for unsupported ones."""
    try:
        return ACTIVATION_OF[code]
    except KeyError:
        raise GraphError(f"fused activation code {code} is not supported (NONE, RELU and RELU6 are)") from None


def padding_of(code: int) -> Padding:
    try:
        return PADDING_OF[code]
    except KeyError:
        raise GraphError(f"padding code {code} is not SAME or VALID") from None


def require_options(options: Any, kind: type, op: str) -> Any:
    """The decoded option table, or GraphError when the file stores none of the right kind."""
    if not isinstance(options, kind):
        raise GraphError(f"{op} operator has no {kind.__name__.removesuffix('T')} table")
    return options


def positive(values: tuple[int, ...], what: str, op: str) -> tuple[int, ...]:
    """``values`` (strides, dilations, window sizes) when all are at least 1; GraphError otherwise."""
    if any(v < 1 for v in values):
        raise GraphError(f"{op} {what} {'x'.join(map(str, values))} must be positive")
    return values


@dataclass(frozen=True)
class TfliteOp:
    """One operator's encoding.

    ``encode(node) -> (BuiltinOptions type, options object)``;
    ``decode(options, operands) -> (attrs, indices of operands that stay IR inputs)``;
    ``extra_inputs(graph, node) -> constant operands the writer appends``.
    """

    op: OpType
    code: int  # BuiltinOperator
    int8_version: int  # the version TFLite assigns to the int8 kernel
    encode: Callable[[Node], tuple[int, Any]]
    decode: Callable[[Any, Operands], tuple[Any, list[int]]]
    extra_inputs: Callable[[Graph, Node], list[np.ndarray]] | None = None


# -- CONV_2D ----------------------------------------------------------------------
def _encode_conv(node: Node):
    a = node.attrs
    o = fb.Conv2DOptionsT()
    o.padding, o.fusedActivationFunction = PADDINGS[a.padding], ACTIVATIONS[a.activation]
    o.strideH, o.strideW = a.stride
    o.dilationHFactor, o.dilationWFactor = a.dilation
    return fb.BuiltinOptions.Conv2DOptions, o


def _decode_conv(options, operands):
    o = require_options(options, fb.Conv2DOptionsT, "CONV_2D")
    stride = positive((o.strideH, o.strideW), "stride", "CONV_2D")
    dilation = positive((o.dilationHFactor, o.dilationWFactor), "dilation", "CONV_2D")
    attrs = Conv2DAttrs(stride, padding_of(o.padding), dilation, activation_of(o.fusedActivationFunction))
    # An optional bias may be recorded as operand index -1 (no tensor): drop it.
    return attrs, [i for i in range(len(operands)) if i < 2 or operands[i] is not None]


# -- pooling ----------------------------------------------------------------------
def _encode_pool(node: Node):
    a = node.attrs
    o = fb.Pool2DOptionsT()
    o.padding, o.fusedActivationFunction = PADDINGS[a.padding], ACTIVATIONS[a.activation]
    o.strideH, o.strideW = a.stride
    o.filterHeight, o.filterWidth = a.filter
    return fb.BuiltinOptions.Pool2DOptions, o


def _decode_pool(options, operands):
    o = require_options(options, fb.Pool2DOptionsT, "pooling")
    window = positive((o.filterHeight, o.filterWidth), "filter", "pooling"), positive((o.strideH, o.strideW), "stride", "pooling")
    attrs = PoolAttrs(*window, padding_of(o.padding), activation_of(o.fusedActivationFunction))
    return attrs, [0]


# -- FULLY_CONNECTED --------------------------------------------------------------
def _encode_fc(node: Node):
    o = fb.FullyConnectedOptionsT()
    o.fusedActivationFunction = ACTIVATIONS[node.attrs.activation]
    o.keepNumDims = False
    return fb.BuiltinOptions.FullyConnectedOptions, o


def _decode_fc(options, operands):
    o = require_options(options, fb.FullyConnectedOptionsT, "FULLY_CONNECTED")
    if o.weightsFormat != fb.FullyConnectedOptionsWeightsFormat.DEFAULT:
        raise GraphError("FULLY_CONNECTED with shuffled weights is not supported")
    # An optional bias may be recorded as operand index -1 (no tensor): drop it.
    keep = [i for i in range(len(operands)) if i < 2 or operands[i] is not None]
    return FullyConnectedAttrs(activation_of(o.fusedActivationFunction)), keep


# -- RESHAPE -----------------------------------------------------------------------
def _encode_reshape(node: Node):
    o = fb.ReshapeOptionsT()
    o.newShape = list(node.attrs.shape)
    return fb.BuiltinOptions.ReshapeOptions, o


def _decode_reshape(options, operands):
    # The target shape is the constant second operand when there is one,
    # else the option table's newShape.
    if len(operands) > 1 and operands[1] is not None:
        shape = tuple(int(d) for d in np.asarray(operands[1]).ravel())
    elif isinstance(options, fb.ReshapeOptionsT) and options.newShape is not None:
        shape = tuple(int(d) for d in options.newShape)
    else:
        raise GraphError("RESHAPE has neither a constant shape operand nor a newShape option")
    return ReshapeAttrs(shape), [0]


def _reshape_shape(graph: Graph, node: Node) -> list[np.ndarray]:
    # LiteRT prefers the target shape as a second, constant int32 operand.
    return [np.array(graph.tensors[node.outputs[0]].shape, dtype=np.int32)]


# -- SOFTMAX ------------------------------------------------------------------------
def _encode_softmax(node: Node):
    o = fb.SoftmaxOptionsT()
    o.beta = node.attrs.beta
    return fb.BuiltinOptions.SoftmaxOptions, o


def _decode_softmax(options, operands):
    return SoftmaxAttrs(float(require_options(options, fb.SoftmaxOptionsT, "SOFTMAX").beta)), [0]


# -- DEPTHWISE_CONV_2D ---------------------------------------------------------------
def _encode_depthwise(node: Node):
    a = node.attrs
    o = fb.DepthwiseConv2DOptionsT()
    o.padding, o.fusedActivationFunction = PADDINGS[a.padding], ACTIVATIONS[a.activation]
    o.strideH, o.strideW = a.stride
    o.dilationHFactor, o.dilationWFactor = a.dilation
    o.depthMultiplier = a.depth_multiplier
    return fb.BuiltinOptions.DepthwiseConv2DOptions, o


def _decode_depthwise(options, operands):
    o = require_options(options, fb.DepthwiseConv2DOptionsT, "DEPTHWISE_CONV_2D")
    attrs = DepthwiseConv2DAttrs(
        positive((o.strideH, o.strideW), "stride", "DEPTHWISE_CONV_2D"),
        padding_of(o.padding),
        positive((o.dilationHFactor, o.dilationWFactor), "dilation", "DEPTHWISE_CONV_2D"),
        activation_of(o.fusedActivationFunction),
        positive((o.depthMultiplier,), "depth multiplier", "DEPTHWISE_CONV_2D")[0],
    )
    # The bias is always a constant: None at index 2 is an absent one (operand -1).
    return attrs, [i for i in range(len(operands)) if i < 2 or operands[i] is not None]


# -- ADD, MUL ----------------------------------------------------------------------------
def _encode_add(node: Node):
    o = fb.AddOptionsT()
    o.fusedActivationFunction = ACTIVATIONS[node.attrs.activation]
    return fb.BuiltinOptions.AddOptions, o


def _decode_add(options, operands):
    o = require_options(options, fb.AddOptionsT, "ADD")
    return ElementwiseAttrs(activation_of(o.fusedActivationFunction)), [0, 1]


def _encode_mul(node: Node):
    o = fb.MulOptionsT()
    o.fusedActivationFunction = ACTIVATIONS[node.attrs.activation]
    return fb.BuiltinOptions.MulOptions, o


def _decode_mul(options, operands):
    o = require_options(options, fb.MulOptionsT, "MUL")
    return ElementwiseAttrs(activation_of(o.fusedActivationFunction)), [0, 1]


# -- CONCATENATION -------------------------------------------------------------------------
def _encode_concatenation(node: Node):
    o = fb.ConcatenationOptionsT()
    o.axis = node.attrs.axis
    return fb.BuiltinOptions.ConcatenationOptions, o


def _decode_concatenation(options, operands):
    o = require_options(options, fb.ConcatenationOptionsT, "CONCATENATION")
    if o.fusedActivationFunction != fb.ActivationFunctionType.NONE:
        raise GraphError("CONCATENATION with a fused activation is not supported (TFLM refuses it)")
    return ConcatenationAttrs(o.axis), list(range(len(operands)))


# -- constant operands: PAD's paddings, MEAN's axes, STRIDED_SLICE's begin/end/strides ----
def constant_operand(operands: Operands, index: int, op: str, what: str) -> np.ndarray:
    """Operand ``index`` as a flat int64 array; GraphError when it is missing or not a constant."""
    if index >= len(operands) or operands[index] is None:
        raise GraphError(f"{op} {what} must be a constant operand")
    return np.asarray(operands[index]).astype(np.int64).ravel()


def _encode_pad(node: Node):
    return fb.BuiltinOptions.PadOptions, fb.PadOptionsT()


def _decode_pad(options, operands):
    flat = constant_operand(operands, 1, "PAD", "paddings")
    return PadAttrs(tuple((int(b), int(a)) for b, a in flat.reshape(-1, 2))), [0]


def _pad_paddings(graph: Graph, node: Node) -> list[np.ndarray]:
    return [np.array(node.attrs.paddings, dtype=np.int32)]


def _encode_mean(node: Node):
    o = fb.ReducerOptionsT()
    o.keepDims = node.attrs.keep_dims
    return fb.BuiltinOptions.ReducerOptions, o


def _decode_mean(options, operands):
    o = require_options(options, fb.ReducerOptionsT, "MEAN")
    return MeanAttrs(tuple(int(a) for a in constant_operand(operands, 1, "MEAN", "axes")), bool(o.keepDims)), [0]


def _mean_axes(graph: Graph, node: Node) -> list[np.ndarray]:
    return [np.array(node.attrs.axes, dtype=np.int32)]


def _encode_strided_slice(node: Node):
    a = node.attrs
    o = fb.StridedSliceOptionsT()
    o.beginMask, o.endMask, o.ellipsisMask = a.begin_mask, a.end_mask, a.ellipsis_mask
    o.newAxisMask, o.shrinkAxisMask, o.offset = a.new_axis_mask, a.shrink_axis_mask, a.offset
    return fb.BuiltinOptions.StridedSliceOptions, o


def _decode_strided_slice(options, operands):
    o = require_options(options, fb.StridedSliceOptionsT, "STRIDED_SLICE")
    begin, end, strides = (
        tuple(int(v) for v in constant_operand(operands, i, "STRIDED_SLICE", what)) for i, what in ((1, "begin"), (2, "end"), (3, "strides"))
    )
    masks = (o.beginMask, o.endMask, o.ellipsisMask, o.newAxisMask, o.shrinkAxisMask)
    return StridedSliceAttrs(begin, end, strides, *masks, bool(o.offset)), [0]


def _strided_slice_operands(graph: Graph, node: Node) -> list[np.ndarray]:
    a = node.attrs
    begin, end, strides = list(a.begin), list(a.end), list(a.strides)
    if not (a.ellipsis_mask or a.new_axis_mask):
        # TFLM reads one entry per axis: spell out the whole axes LiteRT adds for missing entries.
        for size in graph.tensors[node.inputs[0]].shape[len(begin) :]:
            begin, end, strides = [*begin, 0], [*end, size], [*strides, 1]
    return [np.array(v, dtype=np.int32) for v in (begin, end, strides)]

# -- element-wise activations, QUANTIZE, DEQUANTIZE: no attributes but LEAKY_RELU's alpha --
def _encode_no_options(node: Node):
    return fb.BuiltinOptions.NONE, None


def _encode_empty(kind: int, options: type) -> Callable[[Node], tuple[int, Any]]:
    # The operators whose schema has an (empty) option table: the converter writes it.
    return lambda node: (kind, options())


def _decode_no_attrs(options, operands):
    return None, [0]


def _encode_leaky_relu(node: Node):
    o = fb.LeakyReluOptionsT()
    o.alpha = node.attrs.alpha
    return fb.BuiltinOptions.LeakyReluOptions, o


def _decode_leaky_relu(options, operands):
    return LeakyReluAttrs(float(require_options(options, fb.LeakyReluOptionsT, "LEAKY_RELU").alpha)), [0]


TFLITE_OPS: dict[OpType, TfliteOp] = {
    t.op: t
    for t in (
        TfliteOp(OpType.CONV_2D, fb.BuiltinOperator.CONV_2D, 3, _encode_conv, _decode_conv),
        TfliteOp(OpType.FULLY_CONNECTED, fb.BuiltinOperator.FULLY_CONNECTED, 4, _encode_fc, _decode_fc),
        TfliteOp(OpType.MAX_POOL_2D, fb.BuiltinOperator.MAX_POOL_2D, 2, _encode_pool, _decode_pool),
        TfliteOp(OpType.AVERAGE_POOL_2D, fb.BuiltinOperator.AVERAGE_POOL_2D, 2, _encode_pool, _decode_pool),
        TfliteOp(OpType.RESHAPE, fb.BuiltinOperator.RESHAPE, 1, _encode_reshape, _decode_reshape, _reshape_shape),
        TfliteOp(OpType.SOFTMAX, fb.BuiltinOperator.SOFTMAX, 2, _encode_softmax, _decode_softmax),
        TfliteOp(OpType.DEPTHWISE_CONV_2D, fb.BuiltinOperator.DEPTHWISE_CONV_2D, 3, _encode_depthwise, _decode_depthwise),
        TfliteOp(OpType.ADD, fb.BuiltinOperator.ADD, 2, _encode_add, _decode_add),
        TfliteOp(OpType.MUL, fb.BuiltinOperator.MUL, 2, _encode_mul, _decode_mul),
        TfliteOp(OpType.CONCATENATION, fb.BuiltinOperator.CONCATENATION, 2, _encode_concatenation, _decode_concatenation),
        TfliteOp(OpType.PAD, fb.BuiltinOperator.PAD, 2, _encode_pad, _decode_pad, _pad_paddings),
        TfliteOp(OpType.MEAN, fb.BuiltinOperator.MEAN, 2, _encode_mean, _decode_mean, _mean_axes),
        TfliteOp(OpType.STRIDED_SLICE, fb.BuiltinOperator.STRIDED_SLICE, 2, _encode_strided_slice, _decode_strided_slice, _strided_slice_operands),
        TfliteOp(OpType.LOGISTIC, fb.BuiltinOperator.LOGISTIC, 2, _encode_no_options, _decode_no_attrs),
        TfliteOp(OpType.TANH, fb.BuiltinOperator.TANH, 2, _encode_no_options, _decode_no_attrs),
        TfliteOp(OpType.RELU, fb.BuiltinOperator.RELU, 2, _encode_no_options, _decode_no_attrs),
        TfliteOp(OpType.RELU6, fb.BuiltinOperator.RELU6, 2, _encode_no_options, _decode_no_attrs),
        TfliteOp(OpType.LEAKY_RELU, fb.BuiltinOperator.LEAKY_RELU, 1, _encode_leaky_relu, _decode_leaky_relu),
        TfliteOp(OpType.HARD_SWISH, fb.BuiltinOperator.HARD_SWISH, 1, _encode_empty(fb.BuiltinOptions.HardSwishOptions, fb.HardSwishOptionsT), _decode_no_attrs),
        TfliteOp(OpType.QUANTIZE, fb.BuiltinOperator.QUANTIZE, 1, _encode_empty(fb.BuiltinOptions.QuantizeOptions, fb.QuantizeOptionsT), _decode_no_attrs),
        TfliteOp(OpType.DEQUANTIZE, fb.BuiltinOperator.DEQUANTIZE, 2, _encode_empty(fb.BuiltinOptions.DequantizeOptions, fb.DequantizeOptionsT), _decode_no_attrs),
    )
}

BY_CODE: dict[int, TfliteOp] = {t.code: t for t in TFLITE_OPS.values()}
