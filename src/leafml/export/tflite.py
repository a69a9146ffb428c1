"""Write a Graph as a .tflite flatbuffer.

The bytes are produced by the object API of ``schema_py_generated``, the
FlatBuffers binding of TFLite's ``schema.fbs`` that Google generates with
``flatc`` and ships inside ``ai-edge-litert``: leafml never lays out
flatbuffer bytes itself.  The tables below translate leafml's IR names into
the schema's enums and option tables; one row per operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as fb

from leafml.ir.graph import Activation, Graph, GraphError, Node, OpType, Padding, Tensor

TFLITE_SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"

TENSOR_TYPES = {np.dtype(np.float32): fb.TensorType.FLOAT32, np.dtype(np.int8): fb.TensorType.INT8, np.dtype(np.int32): fb.TensorType.INT32}
ACTIVATIONS = {Activation.NONE: fb.ActivationFunctionType.NONE, Activation.RELU: fb.ActivationFunctionType.RELU, Activation.RELU6: fb.ActivationFunctionType.RELU6}
PADDINGS = {Padding.SAME: fb.Padding.SAME, Padding.VALID: fb.Padding.VALID}


def _conv_options(node: Node):
    a = node.attrs
    options = fb.Conv2DOptionsT()
    options.padding, options.fusedActivationFunction = PADDINGS[a.padding], ACTIVATIONS[a.activation]
    options.strideH, options.strideW = a.stride
    options.dilationHFactor, options.dilationWFactor = a.dilation
    return fb.BuiltinOptions.Conv2DOptions, options


def _pool_options(node: Node):
    a = node.attrs
    options = fb.Pool2DOptionsT()
    options.padding, options.fusedActivationFunction = PADDINGS[a.padding], ACTIVATIONS[a.activation]
    options.strideH, options.strideW = a.stride
    options.filterHeight, options.filterWidth = a.filter
    return fb.BuiltinOptions.Pool2DOptions, options


def _fc_options(node: Node):
    options = fb.FullyConnectedOptionsT()
    options.fusedActivationFunction = ACTIVATIONS[node.attrs.activation]
    options.keepNumDims = False
    return fb.BuiltinOptions.FullyConnectedOptions, options


def _reshape_options(node: Node):
    options = fb.ReshapeOptionsT()
    options.newShape = list(node.attrs.shape)
    return fb.BuiltinOptions.ReshapeOptions, options


def _softmax_options(node: Node):
    options = fb.SoftmaxOptionsT()
    options.beta = node.attrs.beta
    return fb.BuiltinOptions.SoftmaxOptions, options


@dataclass(frozen=True)
class OpEncoding:
    """How one IR operator appears in the schema."""

    code: int  # BuiltinOperator
    options: Callable[[Node], tuple[int, object]]
    int8_version: int  # the operator version TFLite assigns to its int8 kernel


ENCODINGS: dict[OpType, OpEncoding] = {
    OpType.CONV_2D: OpEncoding(fb.BuiltinOperator.CONV_2D, _conv_options, 3),
    OpType.FULLY_CONNECTED: OpEncoding(fb.BuiltinOperator.FULLY_CONNECTED, _fc_options, 4),
    OpType.MAX_POOL_2D: OpEncoding(fb.BuiltinOperator.MAX_POOL_2D, _pool_options, 2),
    OpType.AVERAGE_POOL_2D: OpEncoding(fb.BuiltinOperator.AVERAGE_POOL_2D, _pool_options, 2),
    OpType.RESHAPE: OpEncoding(fb.BuiltinOperator.RESHAPE, _reshape_options, 1),
    OpType.SOFTMAX: OpEncoding(fb.BuiltinOperator.SOFTMAX, _softmax_options, 2),
}


def _quantization(t: Tensor):
    if t.quant is None:
        return None
    q = fb.QuantizationParametersT()
    q.scale = [float(s) for s in t.quant.scale]
    q.zeroPoint = [int(z) for z in t.quant.zero_point]
    q.quantizedDimension = t.quant.axis
    return q


class _Writer:
    def __init__(self, graph: Graph):
        self.graph = graph
        self.tensor_index: dict[str, int] = {}
        self.tensors: list = []
        self.buffers = [fb.BufferT()]  # buffer 0 is the empty buffer by convention
        self.opcodes: list = []
        self.opcode_index: dict[tuple[int, int], int] = {}

    def tensor(self, name: str) -> int:
        if name not in self.tensor_index:
            t = self.graph.tensors[name]
            self.tensor_index[name] = self._add(t.name, t.shape, t.dtype, t.data, _quantization(t))
        return self.tensor_index[name]

    def _add(self, name: str, shape, dtype, data: np.ndarray | None, quantization) -> int:
        ft = fb.TensorT()
        ft.name = name
        ft.shape = np.array(shape, dtype=np.int32)
        ft.type = TENSOR_TYPES[np.dtype(dtype)]
        ft.quantization = quantization
        if data is not None:
            buf = fb.BufferT()
            buf.data = np.frombuffer(np.ascontiguousarray(data, dtype=dtype).astype(np.dtype(dtype).newbyteorder("<")).tobytes(), dtype=np.uint8)
            self.buffers.append(buf)
            ft.buffer = len(self.buffers) - 1
        self.tensors.append(ft)
        return len(self.tensors) - 1

    def opcode(self, encoding: OpEncoding, quantized: bool) -> int:
        version = encoding.int8_version if quantized else 1
        key = (encoding.code, version)
        if key not in self.opcode_index:
            oc = fb.OperatorCodeT()
            oc.builtinCode = encoding.code
            # Readers older than schema v3a look only at the deprecated byte field.
            oc.deprecatedBuiltinCode = min(encoding.code, fb.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
            oc.version = version
            self.opcode_index[key] = len(self.opcodes)
            self.opcodes.append(oc)
        return self.opcode_index[key]

    def operator(self, node: Node) -> object:
        encoding = ENCODINGS.get(node.op)
        if encoding is None:
            raise GraphError(f"the .tflite writer has no encoding for {node.op.value}; supported: {', '.join(o.value for o in ENCODINGS)}")
        op = fb.OperatorT()
        op.opcodeIndex = self.opcode(encoding, self.graph.tensors[node.inputs[0]].dtype == np.int8)
        inputs = [self.tensor(n) for n in node.inputs]
        if node.op is OpType.RESHAPE:
            # LiteRT prefers the target shape as a second, constant int32 operand.
            shape = np.array(self.graph.tensors[node.outputs[0]].shape, dtype=np.int32)
            inputs.append(self._add(f"{node.outputs[0]}/shape", shape.shape, np.int32, shape, None))
        op.inputs = inputs
        op.outputs = [self.tensor(n) for n in node.outputs]
        op.builtinOptionsType, op.builtinOptions = encoding.options(node)
        return op

    def model(self) -> object:
        subgraph = fb.SubGraphT()
        subgraph.inputs = [self.tensor(n) for n in self.graph.inputs]
        subgraph.operators = [self.operator(node) for node in self.graph.nodes]
        subgraph.outputs = [self.tensor(n) for n in self.graph.outputs]
        subgraph.tensors = self.tensors
        subgraph.name = "main"
        model = fb.ModelT()
        model.version = TFLITE_SCHEMA_VERSION
        model.description = "written by leafml"
        model.operatorCodes = self.opcodes
        model.subgraphs = [subgraph]
        model.buffers = self.buffers
        return model


def write_tflite(graph: Graph) -> bytes:
    """Serialise ``graph`` (float or int8) to .tflite bytes.

    The graph is validated first; an operator without a schema encoding is a
    GraphError naming it.
    """
    graph.validate()
    model = _Writer(graph).model()
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())
