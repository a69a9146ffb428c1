"""Operator definitions, one module each, in one registry keyed by OpType."""

from __future__ import annotations

from leafml.ir.graph import GraphError, OpType
from leafml.ops.base import OpDef
from leafml.ops.conv2d import Conv2D, Conv2DAttrs
from leafml.ops.fully_connected import FullyConnected, FullyConnectedAttrs
from leafml.ops.pooling import AveragePool2D, MaxPool2D, PoolAttrs
from leafml.ops.reshape import Reshape, ReshapeAttrs
from leafml.ops.softmax import Softmax, SoftmaxAttrs
from leafml.ops.concatenation import Concatenation, ConcatenationAttrs
from leafml.ops.depthwise_conv2d import DepthwiseConv2D, DepthwiseConv2DAttrs
from leafml.ops.elementwise import Add, ElementwiseAttrs, Mul
from leafml.ops.mean import Mean, MeanAttrs
from leafml.ops.pad import Pad, PadAttrs
from leafml.ops.strided_slice import StridedSlice, StridedSliceAttrs
from leafml.ops.activations import HardSwish, LeakyRelu, LeakyReluAttrs, Logistic, Relu, Relu6, Tanh
from leafml.ops.quantize import Dequantize, Quantize
from leafml.ops.variables import AssignVariable, ReadVariable, VariableAttrs

OPS: dict[OpType, OpDef] = {op.op: op for op in (Conv2D(), FullyConnected(), MaxPool2D(), AveragePool2D(), Reshape(), Softmax(), DepthwiseConv2D(), Add(), Mul(), Concatenation(), Pad(), Mean(), StridedSlice(), Logistic(), Tanh(), Relu(), Relu6(), LeakyRelu(), HardSwish(), Quantize(), Dequantize(), ReadVariable(), AssignVariable())}


def get_op(op: OpType) -> OpDef:
    """The definition of ``op``; GraphError for an operator without one."""
    try:
        return OPS[op]
    except KeyError:
        raise GraphError(f"operator {op} has no definition in leafml.ops") from None


__all__ = ["OPS", "Conv2DAttrs", "FullyConnectedAttrs", "OpDef", "PoolAttrs", "ReshapeAttrs", "SoftmaxAttrs", "ConcatenationAttrs", "DepthwiseConv2DAttrs", "ElementwiseAttrs", "MeanAttrs", "PadAttrs", "StridedSliceAttrs", "LeakyReluAttrs", "VariableAttrs", "get_op"]
