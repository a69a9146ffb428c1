"""Write a Graph as a .tflite flatbuffer.

The bytes are produced by the object API of ``schema_py_generated``, the
FlatBuffers binding of TFLite's ``schema.fbs`` that Google generates with
``flatc`` and ships inside ``ai-edge-litert``: leafml never lays out
flatbuffer bytes itself.  Each operator's option table comes from
:mod:`leafml.export.tflite_ops`, one row per operator, shared with the reader.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as fb

from leafml.export.tflite_ops import TFLITE_OPS, TfliteOp
from leafml.ir.graph import Graph, GraphError, Node, Tensor

TFLITE_SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"

TENSOR_TYPES = {np.dtype(np.float32): fb.TensorType.FLOAT32, np.dtype(np.int8): fb.TensorType.INT8, np.dtype(np.int32): fb.TensorType.INT32, np.dtype(np.uint8): fb.TensorType.UINT8}


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

    def opcode(self, encoding: TfliteOp, quantized: bool) -> int:
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
        encoding = TFLITE_OPS.get(node.op)
        if encoding is None:
            raise GraphError(f"the .tflite writer has no encoding for {node.op.value}; supported: {', '.join(o.value for o in TFLITE_OPS)}")
        op = fb.OperatorT()
        op.opcodeIndex = self.opcode(encoding, self.graph.tensors[node.inputs[0]].dtype == np.int8)
        inputs = [self.tensor(n) for n in node.inputs]
        for i, data in enumerate(encoding.extra_inputs(self.graph, node) if encoding.extra_inputs else []):
            inputs.append(self._add(f"{node.outputs[0]}/operand{len(node.inputs) + i}", data.shape, data.dtype, data, None))
        op.inputs = inputs
        op.outputs = [self.tensor(n) for n in node.outputs]
        op.builtinOptionsType, op.builtinOptions = encoding.encode(node)
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
