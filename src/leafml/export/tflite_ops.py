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
    attrs = Conv2DAttrs((o.strideH, o.strideW), padding_of(o.padding), (o.dilationHFactor, o.dilationWFactor), activation_of(o.fusedActivationFunction))
    return attrs, list(range(len(operands)))


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
    attrs = PoolAttrs((o.filterHeight, o.filterWidth), (o.strideH, o.strideW), padding_of(o.padding), activation_of(o.fusedActivationFunction))
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


TFLITE_OPS: dict[OpType, TfliteOp] = {
    t.op: t
    for t in (
        TfliteOp(OpType.CONV_2D, fb.BuiltinOperator.CONV_2D, 3, _encode_conv, _decode_conv),
        TfliteOp(OpType.FULLY_CONNECTED, fb.BuiltinOperator.FULLY_CONNECTED, 4, _encode_fc, _decode_fc),
        TfliteOp(OpType.MAX_POOL_2D, fb.BuiltinOperator.MAX_POOL_2D, 2, _encode_pool, _decode_pool),
        TfliteOp(OpType.AVERAGE_POOL_2D, fb.BuiltinOperator.AVERAGE_POOL_2D, 2, _encode_pool, _decode_pool),
        TfliteOp(OpType.RESHAPE, fb.BuiltinOperator.RESHAPE, 1, _encode_reshape, _decode_reshape, _reshape_shape),
        TfliteOp(OpType.SOFTMAX, fb.BuiltinOperator.SOFTMAX, 2, _encode_softmax, _decode_softmax),
    )
}

BY_CODE: dict[int, TfliteOp] = {t.code: t for t in TFLITE_OPS.values()}
