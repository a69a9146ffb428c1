"""The .tflite frontend: a TFLite flatbuffer -> leafml's IR.

Two steps, usable apart::

    model = read_tflite(data, "model.tflite")   # every operator, checked, supported or not
    graph = to_graph(model)                      # IR Graph, validated
    graph = load_tflite("model.tflite")          # both

Operators are translated by the rows of
:data:`leafml.export.tflite_ops.TFLITE_OPS`, the table the writer uses, so
a new operator row is importable without touching this module.  Options
that TFLite stores as constant operands (RESHAPE's shape...) become IR
attributes and their operands are dropped; tensors no kept operand uses
never enter the graph.  Constants stay read-only views of the file's bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from leafml.errors import LeafmlError
from leafml.export.tflite_ops import BY_CODE, TfliteOp
from leafml.frontends.tflite_model import BUILTIN_NAMES, TfliteFormatError, TfliteModel, TfliteOperator, TfliteSubgraph
from leafml.frontends.tflite_reader import read_tflite
from leafml.frontends.tflite_unpack import FILE_IDENTIFIER, MAX_FILE_BYTES
from leafml.ir.graph import DTYPES, Graph, GraphError, Node, QuantParams, Tensor

__all__ = ["TfliteFormatError", "TfliteModel", "UnsupportedOperatorError", "load_tflite", "read_tflite", "supported_operators", "to_graph"]


class UnsupportedOperatorError(LeafmlError):
    """A model uses operators leafml cannot import; ``offenders`` maps each name to its count."""

    def __init__(self, message: str, offenders: dict[str, int]):
        super().__init__(message)
        self.offenders = offenders


def load_tflite(model: str | os.PathLike | bytes, subgraph: int = 0) -> Graph:
    """Read a .tflite file (a path, or its bytes) and import ``subgraph`` as a validated IR Graph.

    Raises TfliteFormatError for an unreadable or malformed file,
    UnsupportedOperatorError naming every operator leafml lacks, and
    GraphError for what the IR cannot hold (a dtype, sparse weights...).
    """
    if isinstance(model, (bytes, bytearray, memoryview)):
        return to_graph(read_tflite(model), subgraph)
    path = Path(model)
    try:
        with path.open("rb") as file:
            # Bounded reads, the rest only after a TFLite header: the path
            # may be a device or pipe that never ends.
            data = file.read(8)
            if data[4:8] == FILE_IDENTIFIER:
                data += file.read(MAX_FILE_BYTES)
    except OSError as e:
        raise TfliteFormatError(f"{path}: cannot read the file ({e.strerror or e}); check the path and its permissions") from e
    return to_graph(read_tflite(data, str(path)), subgraph)


def supported_operators() -> list[str]:
    """Names of the TFLite builtin operators leafml imports, sorted."""
    return sorted(BUILTIN_NAMES[code] for code in BY_CODE)


def to_graph(model: TfliteModel, subgraph: int = 0) -> Graph:
    """The IR Graph of one subgraph of ``model`` (0 is the model's main graph), validated."""
    if not 0 <= subgraph < len(model.subgraphs):
        raise TfliteFormatError(f"{model.source}: has no subgraph {subgraph}; its subgraphs are 0..{len(model.subgraphs) - 1}")
    sub = model.subgraphs[subgraph]
    _refuse_unsupported(model, sub)
    return _Importer(model.source, sub).graph()


def _refuse_unsupported(model: TfliteModel, sub: TfliteSubgraph) -> None:
    offenders: dict[str, int] = {}
    for op in sub.operators:
        if op.is_custom or op.code not in BY_CODE:
            name = f"{op.name} (custom)" if op.is_custom else op.name
            offenders[name] = offenders.get(name, 0) + 1
    if offenders:
        listed = ", ".join(f"{name} x{count}" for name, count in offenders.items())
        raise UnsupportedOperatorError(
            f"{model.source}: leafml cannot import {listed}; it supports {', '.join(supported_operators())} (re-export the model with those operators)",
            offenders,
        )


class _Importer:
    """Builds the Graph operator by operator; IR tensors are created when first used."""

    def __init__(self, source: str, sub: TfliteSubgraph):
        self.source = source
        self.sub = sub
        self.ir = Graph()
        self.names: dict[int, str] = {}

    def graph(self) -> Graph:
        self.ir.inputs = [self.tensor(i) for i in self.sub.inputs]
        for op in self.sub.operators:
            self.lower(op, BY_CODE[op.code])
        self.ir.outputs = [self.tensor(i) for i in self.sub.outputs]
        try:
            return self.ir.validate()
        except GraphError as e:
            raise GraphError(f"{self.source}: {e}") from e

    def lower(self, op: TfliteOperator, row: TfliteOp) -> None:
        """One TFLite operator -> one IR node, through the operator's TFLITE_OPS row."""
        operands = [self.sub.tensors[i].data if i >= 0 else None for i in op.inputs]
        try:
            attrs, keep = row.decode(op.options, operands)
        except GraphError as e:
            raise GraphError(f"{self.source}: {op.label}: {e}") from e
        for position, index in enumerate(op.inputs):
            if position not in keep and index >= 0 and not self.sub.tensors[index].is_constant:
                raise GraphError(f"{self.source}: {op.label} computes operand {position}, {self.sub.tensors[index].label}, at run time; leafml needs it constant")
        for position in keep:
            if position >= len(op.inputs) or op.inputs[position] < 0:
                raise TfliteFormatError(f"{self.source}: {op.label} omits its required operand {position}")
        inputs = [self.tensor(op.inputs[p]) for p in keep]
        self.refuse_hybrid(op, inputs)
        outputs = [self.tensor(o) for o in op.outputs]
        self.ir.nodes.append(Node(row.op, inputs, outputs, attrs, name=outputs[0] if outputs else ""))

    def refuse_hybrid(self, op: TfliteOperator, inputs: list[str]) -> None:
        # Dynamic-range ("hybrid") models keep float activations but int8
        # weights that the kernel dequantizes; leafml's float kernels do not.
        tensors = [self.ir.tensors[name] for name in inputs]
        if tensors and tensors[0].dtype == np.float32:
            for t in tensors[1:]:
                if t.is_constant and t.quant is not None and t.dtype != np.float32:
                    raise GraphError(
                        f"{self.source}: {op.label} has float activations but {t.dtype} weights {t.name!r} (a dynamic-range quantized model); "
                        "convert the model with full-integer quantization, or without quantization"
                    )

    def tensor(self, index: int) -> str:
        """The IR name of tensor ``index``, adding the tensor to the graph on first use."""
        if index in self.names:
            return self.names[index]
        t = self.sub.tensors[index]
        problem = None
        if t.type.dtype is None or t.type.dtype.newbyteorder("=") not in DTYPES:
            problem = f"is {t.type.name}; leafml's IR holds {', '.join(d.name.upper() for d in DTYPES)} tensors"
        elif t.sparse:
            problem = "is stored in TFLite's sparse format; re-convert the model without sparsity"
        elif t.quant_details is not None:
            problem = f"uses {t.quant_details}, which leafml does not read; quantize per tensor or per channel"
        elif t.is_variable:
            problem = "is a variable (state kept between runs); leafml imports stateless graphs"
        if problem is not None:
            raise GraphError(f"{self.source}: {t.label} {problem}")
        dtype = t.type.dtype.newbyteorder("=")
        data = None if t.data is None else t.data.astype(dtype, copy=False)
        quant = None if t.quant is None else QuantParams(t.quant.scale, t.quant.zero_point, t.quant.axis)
        name = self.ir.unique_name(t.name or f"tensor{index}")
        self.ir.add_tensor(Tensor(name, t.shape, dtype, data, quant))
        self.names[index] = name
        return name
