"""Read and validate a .tflite file into a :class:`TfliteModel`.

Validation follows what TFLite's own verifier and interpreter builder
require, so that a file leafml accepts is one LiteRT would load:

* schema version 3 and the ``TFL3`` identifier;
* every buffer, tensor, operator-code and subgraph index in range; -1 only
  as an operator input (TFLite's omitted optional operand: which operands
  may be omitted is the operator's business, so ``to_graph`` refuses an
  omitted operand that the operator's TFLITE_OPS row keeps);
* known tensor types; shapes non-negative, of bounded rank and size;
  constant data exactly ``elements * bits / 8`` bytes (sub-byte types
  packed, as TFLite stores them);
* quantization: one zero point per scale, per-channel scales matching the
  quantized dimension;
* operator code ``max(builtin_code, deprecated_builtin_code)`` (old files
  such as the MLPerf Tiny models leave ``builtin_code`` at 0, which is
  ADD), a known builtin, and a name for every CUSTOM operator;
* each subgraph's operators form a schedule: an operand is a constant, a
  subgraph input, a variable or the output of an earlier operator, and no
  tensor is written twice; subgraphs do not call each other in a cycle.

Beyond the unpack bounds of :mod:`.tflite_unpack`, the numeric vectors this
module reads (shapes, operands, scales, buffer contents) must together fit
in the file, so nothing downstream can be made to work on more data than
the file holds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from leafml.frontends.tflite_model import (
    BUILTIN_NAMES,
    ELEMENT_TYPES,
    TfliteFormatError,
    TfliteModel,
    TfliteOperator,
    TfliteSubgraph,
    TfliteTensor,
)
from leafml.frontends.tflite_unpack import unpack_model
from leafml.ir.graph import QuantParams

SCHEMA_VERSION = 3
# TFLite's kernels support at most 6-D tensors (TFLM fewer); 8 leaves room.
MAX_RANK = 8
# TFLite and TFLM compute tensor byte sizes in int32 in places.
MAX_TENSOR_BYTES = 2**31 - 1

QUANTIZATION_DETAILS = {code: name for name, code in vars(fb.QuantizationDetails).items() if not name.startswith("_")}


def read_tflite(data: bytes, source: str = "<bytes>") -> TfliteModel:
    """Parse and validate .tflite ``data``; ``source`` (a file name) prefixes every error message.

    Raises TfliteFormatError, one line naming what is wrong, for anything
    that is not a well-formed TFLite model.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"read_tflite takes bytes, not {type(data).__name__}")
    data = bytes(data)
    return _Reader(data, source, unpack_model(data, source)).model()


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", errors="replace")


def _indices(vector: Any) -> tuple[int, ...]:
    return () if vector is None else tuple(int(i) for i in vector)


class _Reader:
    def __init__(self, data: bytes, source: str, model: fb.ModelT):
        self.source = source
        self.fb = model
        self.bytes_left = len(data)
        self.buffers: list[np.ndarray | None] = []
        self.opcodes: list[tuple[str, int, int]] = []

    def fail(self, where: str, problem: str) -> TfliteFormatError:
        return TfliteFormatError(f"{self.source}: {where}{problem}")

    def account(self, vector: Any) -> Any:
        """Charge a decoded vector's bytes against the file's size (see the module docstring)."""
        if vector is not None:
            self.bytes_left -= np.asarray(vector).nbytes
            if self.bytes_left < 0:
                raise self.fail("", "its vectors add up to more bytes than the file holds (overlapping offsets); the file is corrupt or crafted")
        return vector

    # -- model ----------------------------------------------------------------
    def model(self) -> TfliteModel:
        m = self.fb
        if m.version != SCHEMA_VERSION:
            raise self.fail("", f"schema version {m.version}; TFLite and leafml read version {SCHEMA_VERSION} (re-export with a current converter)")
        if m.externalBuffers or m.externalBufferGroups:
            raise self.fail("", "keeps weights in external files (external buffers); export the model with its weights inside")
        self.buffers = [self.buffer(i, b) for i, b in enumerate(m.buffers or [])]
        self.opcodes = [self.opcode(i, oc) for i, oc in enumerate(m.operatorCodes or [])]
        if not m.subgraphs:
            raise self.fail("", "has no subgraph; a model needs at least one")
        subgraphs = tuple(self.subgraph(s, sg) for s, sg in enumerate(m.subgraphs))
        self.check_calls(subgraphs)
        self.check_signatures(subgraphs)
        for i, meta in enumerate(m.metadata or []):
            if meta is None or not 0 <= meta.buffer < len(self.buffers):
                raise self.fail("", f"metadata {i} refers to buffer {getattr(meta, 'buffer', None)} of {len(self.buffers)}")
        return TfliteModel(self.source, m.version, _text(m.description), subgraphs)

    def buffer(self, index: int, b: fb.BufferT | None) -> np.ndarray | None:
        if b is None:
            raise self.fail("", f"buffer {index} is missing")
        if b.offset > 1:
            raise self.fail("", f"buffer {index} stores its data outside the flatbuffer (the layout of models over 2 GB); leafml reads models whose weights are inside")
        data = self.account(b.data)
        if index == 0 and data is not None and data.size:
            raise self.fail("", "buffer 0 holds data; the schema reserves it as the empty buffer")
        return data if data is not None and data.size else None

    def opcode(self, index: int, oc: fb.OperatorCodeT | None) -> tuple[str, int, int]:
        if oc is None:
            raise self.fail("", f"operator code {index} is missing")
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if code not in BUILTIN_NAMES:
            raise self.fail("", f"operator code {index} is builtin operator {code}, which this TFLite schema does not know (convert with a TFLite version leafml supports)")
        name = BUILTIN_NAMES[code]
        if code == fb.BuiltinOperator.CUSTOM:
            name = _text(oc.customCode)
            if not name:
                raise self.fail("", f"operator code {index} is a CUSTOM operator without a name")
        if oc.version < 1:
            raise self.fail("", f"operator code {index} ({name}) has version {oc.version}; versions start at 1")
        return name, code, oc.version

    # -- subgraphs ------------------------------------------------------------
    def subgraph(self, s: int, sg: fb.SubGraphT | None) -> TfliteSubgraph:
        where = f"subgraph {s}: " if s else ""
        if sg is None:
            raise self.fail("", f"subgraph {s} is missing")
        tensors = tuple(self.tensor(where, i, t) for i, t in enumerate(sg.tensors or []))
        inputs = self.tensor_list(where, "subgraph input", sg.inputs, len(tensors))
        outputs = self.tensor_list(where, "subgraph output", sg.outputs, len(tensors))
        operators = tuple(self.operator(where, j, op, len(tensors)) for j, op in enumerate(sg.operators or []))
        self.check_schedule(where, tensors, operators, inputs, outputs)
        return TfliteSubgraph(s, _text(sg.name), tensors, operators, inputs, outputs)

    def tensor_list(self, where: str, what: str, vector: Any, count: int) -> tuple[int, ...]:
        indices = _indices(self.account(vector))
        for i in indices:
            if not 0 <= i < count:
                raise self.fail(where, f"{what} is tensor {i} of {count}")
        return indices

    def tensor(self, where: str, index: int, t: fb.TensorT | None) -> TfliteTensor:
        if t is None:
            raise self.fail(where, f"tensor {index} is missing")
        label = f"tensor {index} {_text(t.name)!r}"
        element = ELEMENT_TYPES.get(t.type)
        if element is None:
            raise self.fail(where, f"{label} has type {t.type}, which the TFLite schema does not define")
        shape = _indices(self.account(t.shape))
        if len(shape) > MAX_RANK:
            raise self.fail(where, f"{label} has rank {len(shape)}; leafml reads tensors of rank {MAX_RANK} or less")
        if any(d < 0 for d in shape):
            raise self.fail(where, f"{label} has a negative dimension in {shape}")
        elements = math.prod(shape)
        nbytes = None if element.bits is None else (elements * element.bits + 7) // 8
        if (nbytes if nbytes is not None else elements) > MAX_TENSOR_BYTES:
            raise self.fail(where, f"{label} of shape {shape} would need {nbytes or elements} bytes; TFLite tensors stay under 2 GiB")
        if not 0 <= t.buffer < len(self.buffers):
            raise self.fail(where, f"{label} refers to buffer {t.buffer} of {len(self.buffers)}")
        raw = self.buffers[t.buffer]
        sparse = t.sparsity is not None
        data = raw
        if raw is not None and not sparse and nbytes is not None:
            if raw.size != nbytes:
                raise self.fail(where, f"{label} holds {raw.size} bytes of data; its shape {shape} of {element.name} needs {nbytes}")
            if element.dtype is not None:
                data = raw.view(element.dtype).reshape(shape)
        quant, details = self.quantization(where, label, t.quantization, shape)
        return TfliteTensor(index, _text(t.name), shape, element, t.buffer, data, quant, details, sparse, bool(t.isVariable))

    def quantization(self, where: str, label: str, q: fb.QuantizationParametersT | None, shape: tuple[int, ...]):
        """``(QuantParams or None, name of unsupported QuantizationDetails or None)``."""
        if q is None:
            return None, None
        if q.detailsType != fb.QuantizationDetails.NONE:
            return None, QUANTIZATION_DETAILS.get(q.detailsType, f"QuantizationDetails {q.detailsType}")
        scale, zero_point = self.account(q.scale), self.account(q.zeroPoint)
        if scale is None or scale.size == 0:
            return None, None  # min/max only, or nothing: not quantized
        zero_points = 0 if zero_point is None else zero_point.size
        if zero_points != scale.size:
            raise self.fail(where, f"{label} has {scale.size} quantization scales but {zero_points} zero points")
        axis = q.quantizedDimension
        if scale.size > 1 and not (0 <= axis < len(shape) and shape[axis] == scale.size):
            raise self.fail(where, f"{label} has {scale.size} per-channel scales, which do not match dimension {axis} of its shape {shape}")
        return QuantParams(scale.astype(np.float32), zero_point.astype(np.int64), axis if scale.size > 1 else 0), None

    def operator(self, where: str, j: int, op: fb.OperatorT | None, count: int) -> TfliteOperator:
        if op is None:
            raise self.fail(where, f"operator {j} is missing")
        if not 0 <= op.opcodeIndex < len(self.opcodes):
            raise self.fail(where, f"operator {j} uses operator code {op.opcodeIndex} of {len(self.opcodes)}")
        name, code, version = self.opcodes[op.opcodeIndex]
        label = f"operator {j} ({name})"
        inputs = _indices(self.account(op.inputs))
        for position, i in enumerate(inputs):
            if not -1 <= i < count:
                raise self.fail(where, f"{label} input {position} is tensor {i} of {count}")
        outputs = self.tensor_list(where, f"{label} output", op.outputs, count)
        self.tensor_list(where, f"{label} intermediate", op.intermediates, count)
        if op.largeCustomOptionsOffset > 1:
            raise self.fail(where, f"{label} stores its custom options outside the flatbuffer (the layout of models over 2 GB), which leafml does not read")
        custom = self.account(op.customOptions)
        options = op.builtinOptions if op.builtinOptionsType != fb.BuiltinOptions.NONE else op.builtinOptions2
        return TfliteOperator(j, name, code, version, inputs, outputs, options, None if custom is None else custom.tobytes())

    def check_schedule(self, where, tensors, operators, inputs, outputs) -> None:
        """Operators in file order must be a valid execution order (TFLite runs them so)."""
        graph_inputs = set(inputs)
        available = graph_inputs | {t.index for t in tensors if t.is_constant or t.is_variable}
        producer: dict[int, int] = {}
        for op in operators:
            for i in op.inputs:
                if i >= 0 and i not in available:
                    raise self.fail(where, f"operator {op.index} ({op.name}) reads {tensors[i].label} before any operator produces it (a cycle, or operators out of order)")
            for o in op.outputs:
                t = tensors[o]
                if o in producer:
                    raise self.fail(where, f"operator {op.index} ({op.name}) writes {t.label}, already written by operator {producer[o]}")
                for clash, what in ((t.is_constant, "a constant"), (t.is_variable, "a variable"), (o in graph_inputs, "a subgraph input")):
                    if clash:
                        raise self.fail(where, f"operator {op.index} ({op.name}) writes {t.label}, which is {what}")
                producer[o] = op.index
                available.add(o)
        for o in outputs:
            if o not in available:
                raise self.fail(where, f"subgraph output {tensors[o].label} is never produced")

    # -- cross-subgraph references --------------------------------------------
    def check_calls(self, subgraphs: tuple[TfliteSubgraph, ...]) -> None:
        """Subgraph indices in option tables (WHILE, IF, CALL_ONCE...) are in range and never recurse."""
        calls: dict[int, list[int]] = {}
        for sub in subgraphs:
            where = f"subgraph {sub.index}: " if sub.index else ""
            targets = calls.setdefault(sub.index, [])
            for op in sub.operators:
                for field, value in (vars(op.options) if op.options is not None else {}).items():
                    if "ubgraph" not in field:  # condSubgraphIndex, branchSubgraphIndices, subgraph...
                        continue
                    for target in np.atleast_1d(np.asarray(value if value is not None else [], dtype=np.int64)).tolist():
                        if not 0 <= target < len(subgraphs):
                            raise self.fail(where, f"operator {op.index} ({op.name}) calls subgraph {target} of {len(subgraphs)}")
                        targets.append(target)
        _refuse_call_cycles(calls, self.fail)

    def check_signatures(self, subgraphs: tuple[TfliteSubgraph, ...]) -> None:
        for d, signature in enumerate(self.fb.signatureDefs or []):
            if signature is None or not 0 <= signature.subgraphIndex < len(subgraphs):
                raise self.fail("", f"signature {d} refers to subgraph {getattr(signature, 'subgraphIndex', None)} of {len(subgraphs)}")
            count = len(subgraphs[signature.subgraphIndex].tensors)
            for entry in (signature.inputs or []) + (signature.outputs or []):
                if entry is None or not 0 <= entry.tensorIndex < count:
                    raise self.fail("", f"signature {d} refers to tensor {getattr(entry, 'tensorIndex', None)} of {count}")


def _refuse_call_cycles(calls: dict[int, list[int]], fail) -> None:
    """Depth-first search with an explicit stack (a file must not be able to exhaust Python's)."""
    state: dict[int, str] = {}
    for root in calls:
        if root in state:
            continue
        path, stack = [root], [iter(calls[root])]
        state[root] = "open"
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = "done"
                stack.pop()
            elif state.get(target) == "open":
                cycle = " -> ".join(map(str, path[path.index(target):] + [target]))
                raise fail("", f"subgraphs call each other in a cycle ({cycle}); TFLite subgraphs cannot recurse")
            elif target not in state:
                state[target] = "open"
                path.append(target)
                stack.append(iter(calls[target]))
