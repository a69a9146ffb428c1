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

A few operators are lowered here instead (:data:`LOWERED_HERE`):

* Streaming state.  TFLite keeps it in resource variables: ``VAR_HANDLE``
  names one (by container and shared name) and gives a resource tensor,
  ``READ_VARIABLE``/``ASSIGN_VARIABLE`` read and overwrite it, and a first
  ``CALL_ONCE`` runs an initialisation subgraph on the first invoke.  That
  subgraph is evaluated here, once: it may only assign constants to
  variables, which become the initial values of ``Graph.variables``.
  CALL_ONCE and VAR_HANDLE leave no node; READ_VARIABLE and ASSIGN_VARIABLE
  become IR nodes naming the variable.
* ``SPLIT_V`` (constant sizes and axis) becomes one STRIDED_SLICE per
  output: both only copy int8 bytes, so the results are the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from leafml.errors import LeafmlError
from leafml.export.tflite_ops import BY_CODE, TfliteOp, constant_operand, require_options
from leafml.frontends.tflite_model import BUILTIN_NAMES, TfliteFormatError, TfliteModel, TfliteOperator, TfliteSubgraph, TfliteTensor
from leafml.frontends.tflite_reader import read_tflite
from leafml.frontends.tflite_unpack import FILE_IDENTIFIER, MAX_FILE_BYTES
from leafml.ir.graph import DTYPES, Graph, GraphError, Node, OpType, QuantParams, Tensor
from leafml.ops import StridedSliceAttrs, VariableAttrs

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
    return to_graph(read_tflite(read_model_file(model), str(model)), subgraph)


def read_model_file(path: str | Path) -> bytes:
    """The bytes of a .tflite file; TfliteFormatError (one line) when it cannot be read."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            # Bounded reads, the rest only after a TFLite header: the path
            # may be a device or pipe that never ends.
            data = file.read(8)
            if data[4:8] == FILE_IDENTIFIER:
                data += file.read(MAX_FILE_BYTES)
    except OSError as e:
        raise TfliteFormatError(f"{path}: cannot read the file ({e.strerror or e}); check the path and its permissions") from e
    return data


def supported_operators() -> list[str]:
    """Names of the TFLite builtin operators leafml imports, sorted."""
    return sorted(BUILTIN_NAMES[code] for code in {*BY_CODE, *LOWERED_HERE})


def to_graph(model: TfliteModel, subgraph: int = 0) -> Graph:
    """The IR Graph of one subgraph of ``model`` (0 is the model's main graph), validated."""
    if not 0 <= subgraph < len(model.subgraphs):
        raise TfliteFormatError(f"{model.source}: has no subgraph {subgraph}; its subgraphs are 0..{len(model.subgraphs) - 1}")
    sub = model.subgraphs[subgraph]
    _refuse_unsupported(model, sub)
    return _Importer(model, sub).graph()


def _refuse_unsupported(model: TfliteModel, sub: TfliteSubgraph) -> None:
    offenders: dict[str, int] = {}
    for op in sub.operators:
        if op.is_custom or (op.code not in BY_CODE and op.code not in LOWERED_HERE):
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

    def __init__(self, model: TfliteModel, sub: TfliteSubgraph):
        self.model = model
        self.source = model.source
        self.sub = sub
        self.ir = Graph()
        self.names: dict[int, str] = {}
        # Variables are keyed by (container, shared name), as TFLite keys them.
        self.handles: dict[int, tuple[str, str]] = {}  # resource tensor of a VAR_HANDLE -> its variable
        self.variables: dict[tuple[str, str], str] = {}  # initialised variable -> its name in the IR
        self.state_used = False  # a READ_VARIABLE or ASSIGN_VARIABLE came before

    def graph(self) -> Graph:
        self.ir.inputs = [self.tensor(i) for i in self.sub.inputs]
        for op in self.sub.operators:
            if op.code in LOWERED_HERE:
                LOWERED_HERE[op.code](self, op)
            else:
                self.lower(op, BY_CODE[op.code])
        self.ir.outputs = [self.tensor(i) for i in self.sub.outputs]
        # An initialiser may set variables this subgraph never touches; they would only cost RAM.
        used = {node.attrs.variable for node in self.ir.nodes if node.op in (OpType.READ_VARIABLE, OpType.ASSIGN_VARIABLE)}
        self.ir.variables = {name: v for name, v in self.ir.variables.items() if name in used}
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
        name = self.ir.unique_name(t.name or f"tensor{index}")
        self.ir.add_tensor(_ir_tensor(t, name, self.source))
        self.names[index] = name
        return name

    # -- lowered here (LOWERED_HERE) --------------------------------------------------
    def arity(self, op: TfliteOperator, inputs: int, outputs: int, where: str) -> None:
        if len(op.inputs) != inputs or len(op.outputs) != outputs or any(i < 0 for i in op.inputs):
            raise TfliteFormatError(
                f"{where}: {op.label} has operands {list(op.inputs)} and {len(op.outputs)} outputs; {op.name} takes {inputs} operand(s) and gives {outputs}"
            )

    def options(self, op: TfliteOperator, kind: type, where: str) -> Any:
        try:
            return require_options(op.options, kind, op.name)
        except GraphError as e:
            raise GraphError(f"{where}: {op.label}: {e}") from e

    def variable_key(self, op: TfliteOperator, where: str) -> tuple[str, str]:
        """The (container, shared name) a VAR_HANDLE names."""
        self.arity(op, 0, 1, where)
        o = self.options(op, fb.VarHandleOptionsT, where)
        return _text(o.container), _text(o.sharedName)

    def var_handle(self, op: TfliteOperator) -> None:
        self.handles[op.outputs[0]] = self.variable_key(op, self.source)

    def call_once(self, op: TfliteOperator) -> None:
        """Evaluate the initialisation subgraph now: what it assigns become the variables' initial values."""
        self.arity(op, 0, 0, self.source)
        if self.state_used:
            raise GraphError(
                f"{self.source}: {op.label} comes after a READ_VARIABLE or ASSIGN_VARIABLE, so it would reset the state in the middle of the first call; "
                "leafml needs the initialisation first (re-export the model)"
            )
        init = self.model.subgraphs[self.options(op, fb.CallOnceOptionsT, self.source).initSubgraphIndex]
        where = f"{self.source}: subgraph {init.index} (run by {op.label})"
        handles: dict[int, tuple[str, str]] = {}
        for init_op in init.operators:
            if init_op.code == fb.BuiltinOperator.VAR_HANDLE:
                handles[init_op.outputs[0]] = self.variable_key(init_op, where)
                continue
            if init_op.code != fb.BuiltinOperator.ASSIGN_VARIABLE:
                raise GraphError(f"{where}: {init_op.label} is not VAR_HANDLE or ASSIGN_VARIABLE; leafml evaluates initialisation subgraphs that only assign constants")
            self.arity(init_op, 2, 0, where)
            resource, value = (init.tensors[i] for i in init_op.inputs)
            if resource.index not in handles:
                raise GraphError(f"{where}: {init_op.label} assigns to {resource.label}, which no VAR_HANDLE before it produced; leafml follows variables through VAR_HANDLE only")
            if not value.is_constant:
                raise GraphError(f"{where}: {init_op.label} assigns {value.label}, computed at run time; leafml needs constant initial values")
            key = handles[resource.index]
            name = self.variables.get(key) or _unique(self.ir.variables, "/".join(part for part in key if part) or "variable")
            self.ir.variables[name] = _ir_tensor(value, name, where)
            self.variables[key] = name

    def variable(self, op: TfliteOperator) -> str:
        """The IR name of the variable whose resource tensor is ``op``'s first operand."""
        key = self.handles.get(op.inputs[0])
        if key is None:
            raise GraphError(
                f"{self.source}: {op.label} uses {self.sub.tensors[op.inputs[0]].label} as a variable, but no VAR_HANDLE before it produced that tensor; "
                "leafml follows variables through VAR_HANDLE only"
            )
        if key not in self.variables:
            raise GraphError(
                f"{self.source}: {op.label} uses variable {key[1]!r} before it has a value; "
                "leafml needs a CALL_ONCE first whose subgraph assigns it a constant initial value"
            )
        self.state_used = True
        return self.variables[key]

    def read_variable(self, op: TfliteOperator) -> None:
        self.arity(op, 1, 1, self.source)
        variable = self.variable(op)
        out = self.tensor(op.outputs[0])
        self.ir.nodes.append(Node(OpType.READ_VARIABLE, [], [out], VariableAttrs(variable), name=out))

    def assign_variable(self, op: TfliteOperator) -> None:
        self.arity(op, 2, 0, self.source)
        variable = self.variable(op)
        value = self.ir.tensors[self.tensor(op.inputs[1])]
        # The IR's node has an output: the value under a second name (an alias, no bytes).
        quant = None if value.quant is None else QuantParams(value.quant.scale.copy(), value.quant.zero_point.copy(), value.quant.axis)
        alias = Tensor(self.ir.unique_name(f"{variable}/assigned"), value.shape, value.dtype, quant=quant)
        self.ir.add_tensor(alias)
        self.ir.nodes.append(Node(OpType.ASSIGN_VARIABLE, [value.name], [alias.name], VariableAttrs(variable), name=alias.name))

    def split_v(self, op: TfliteOperator) -> None:
        """One STRIDED_SLICE per output, each a consecutive range of the split axis."""
        self.arity(op, 3, len(op.outputs), self.source)
        operands = [self.sub.tensors[i].data for i in op.inputs]
        try:
            sizes = [int(s) for s in constant_operand(operands, 1, "SPLIT_V", "size_splits")]
            axes = constant_operand(operands, 2, "SPLIT_V", "axis")
        except GraphError as e:
            raise GraphError(f"{self.source}: {op.label}: {e}") from e
        x = self.ir.tensors[self.tensor(op.inputs[0])]
        rank = len(x.shape)
        problem = None
        if axes.size != 1 or not -rank <= int(axes[0]) < rank:
            problem = f"has axis {axes.tolist()}; a {rank}-D input needs one axis in [{-rank}, {rank})"
        elif not sizes or len(sizes) != len(op.outputs) or sizes.count(-1) > 1 or any(s < -1 for s in sizes):
            problem = f"has size_splits {sizes} for {len(op.outputs)} outputs; it needs one size each, at most one of them -1"
        if problem is None:
            axis = int(axes[0]) % rank
            known = sum(s for s in sizes if s != -1)
            sizes = [x.shape[axis] - known if s == -1 else s for s in sizes]
            if sum(sizes) != x.shape[axis] or min(sizes) < 0:
                problem = f"splits axis {axis} of {x.shape[axis]} elements into sizes {sizes}"
        if problem is not None:
            raise GraphError(f"{self.source}: {op.label} {problem}")
        start = 0
        for index, size in zip(op.outputs, sizes):
            begin, end = [0] * rank, list(x.shape)
            begin[axis], end[axis] = start, start + size
            out = self.tensor(index)
            self.ir.nodes.append(Node(OpType.STRIDED_SLICE, [x.name], [out], StridedSliceAttrs(tuple(begin), tuple(end), (1,) * rank), name=out))
            start += size


# TFLite operators the importer lowers itself rather than through a TFLITE_OPS row.
LOWERED_HERE: dict[int, Callable[[_Importer, TfliteOperator], None]] = {
    fb.BuiltinOperator.CALL_ONCE: _Importer.call_once,
    fb.BuiltinOperator.VAR_HANDLE: _Importer.var_handle,
    fb.BuiltinOperator.READ_VARIABLE: _Importer.read_variable,
    fb.BuiltinOperator.ASSIGN_VARIABLE: _Importer.assign_variable,
    fb.BuiltinOperator.SPLIT_V: _Importer.split_v,
}


def _ir_tensor(t: TfliteTensor, name: str, where: str) -> Tensor:
    """An IR Tensor named ``name`` for the file's tensor ``t``; GraphError for what the IR cannot hold."""
    problem = None
    if t.type.dtype is None or t.type.dtype.newbyteorder("=") not in DTYPES:
        problem = f"is {t.type.name}; leafml's IR holds {', '.join(d.name.upper() for d in DTYPES)} tensors"
    elif t.sparse:
        problem = "is stored in TFLite's sparse format; re-convert the model without sparsity"
    elif t.quant_details is not None:
        problem = f"uses {t.quant_details}, which leafml does not read; quantize per tensor or per channel"
    elif t.is_variable:
        problem = "is a variable tensor (TFLite's older kind of state); leafml imports state kept in resource variables (VAR_HANDLE)"
    if problem is not None:
        raise GraphError(f"{where}: {t.label} {problem}")
    dtype = t.type.dtype.newbyteorder("=")
    data = None if t.data is None else t.data.astype(dtype, copy=False)
    quant = None if t.quant is None else QuantParams(t.quant.scale, t.quant.zero_point, t.quant.axis)
    return Tensor(name, t.shape, dtype, data, quant)


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value or ""


def _unique(names: dict[str, Any], base: str) -> str:
    """``base`` or ``base_N``, whichever ``names`` does not hold yet."""
    name, n = base, 0
    while name in names:
        n += 1
        name = f"{base}_{n}"
    return name
