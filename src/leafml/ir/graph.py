"""The intermediate representation: a graph of tensors and nodes.

A :class:`Graph` is what every stage of leafml reads and writes: the frontends
build it, the quantizer rewrites it, the reference interpreter, the .tflite
writer and the C generator consume it.  Layout conventions follow TFLite so
that export is a renaming, not a transformation:

* activations are NHWC;
* CONV_2D weights are OHWI, FULLY_CONNECTED weights are [out, in];
* biases are 1-D; int8 graphs keep them as int32 with scale in*w per channel.

A tensor with ``data`` is a constant (weights, biases); every other tensor is
produced by exactly one node or is a graph input.  ``validate()`` checks every
invariant and is called after every pass in the tests.

A streaming graph also has *variables*: state kept from one call to the
next (TFLite's resource variables).  ``Graph.variables`` maps each name to a
Tensor whose ``data`` is the initial value; READ_VARIABLE and
ASSIGN_VARIABLE nodes name the variable they read or overwrite.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leafml.errors import LeafmlError


class OpType(enum.Enum):
    """Operators the IR knows; each has one module in :mod:`leafml.ops`."""

    CONV_2D = "CONV_2D"
    DEPTHWISE_CONV_2D = "DEPTHWISE_CONV_2D"
    FULLY_CONNECTED = "FULLY_CONNECTED"
    MAX_POOL_2D = "MAX_POOL_2D"
    AVERAGE_POOL_2D = "AVERAGE_POOL_2D"
    RESHAPE = "RESHAPE"
    SOFTMAX = "SOFTMAX"
    ADD = "ADD"
    MUL = "MUL"
    CONCATENATION = "CONCATENATION"
    PAD = "PAD"
    MEAN = "MEAN"
    STRIDED_SLICE = "STRIDED_SLICE"
    LOGISTIC = "LOGISTIC"
    TANH = "TANH"
    RELU = "RELU"
    RELU6 = "RELU6"
    LEAKY_RELU = "LEAKY_RELU"
    HARD_SWISH = "HARD_SWISH"
    QUANTIZE = "QUANTIZE"
    DEQUANTIZE = "DEQUANTIZE"
    # Streaming state: TFLite's resource variables (VAR_HANDLE + CALL_ONCE
    # initialisation) become graph variables read and assigned by these.
    READ_VARIABLE = "READ_VARIABLE"
    ASSIGN_VARIABLE = "ASSIGN_VARIABLE"


class Activation(enum.Enum):
    """A fused activation: applied to an operator's output before it is stored."""

    NONE = "NONE"
    RELU = "RELU"
    RELU6 = "RELU6"


class Padding(enum.Enum):
    """TFLite's padding rules (SAME pads the extra row/column at the end)."""

    SAME = "SAME"
    VALID = "VALID"


DTYPES = (np.dtype(np.float32), np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.int32))


class GraphError(LeafmlError, ValueError):
    """A graph breaks an invariant of the IR; the message names the tensor or node."""


@dataclass
class QuantParams:
    """Affine quantization ``real = scale * (q - zero_point)``.

    ``scale`` and ``zero_point`` are 1-D; one element means per-tensor, more
    mean per-channel along ``axis``.  Scales are float32 because that is what
    a .tflite file stores and what TFLite's integer math starts from.
    """

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 0

    def __post_init__(self) -> None:
        self.scale = np.atleast_1d(np.asarray(self.scale, dtype=np.float32))
        self.zero_point = np.atleast_1d(np.asarray(self.zero_point, dtype=np.int64))

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    @property
    def scalar_scale(self) -> float:
        """The per-tensor scale; an error for per-channel parameters."""
        if self.per_channel:
            raise GraphError("per-channel quantization has no single scale")
        return float(self.scale[0])

    @property
    def scalar_zero_point(self) -> int:
        if self.per_channel:
            raise GraphError("per-channel quantization has no single zero point")
        return int(self.zero_point[0])


@dataclass
class Tensor:
    """A named n-d array: an activation, a graph input/output or a constant."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype = np.dtype(np.float32)
    data: np.ndarray | None = None
    quant: QuantParams | None = None

    def __post_init__(self) -> None:
        self.shape = tuple(int(d) for d in self.shape)
        self.dtype = np.dtype(self.dtype)

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        """Storage in bytes."""
        return self.size * self.dtype.itemsize


@dataclass
class Node:
    """One operator application: input and output tensor names plus attributes.

    ``attrs`` is the operator's attribute dataclass from :mod:`leafml.ops`
    (``None`` for operators without attributes).
    """

    op: OpType
    inputs: list[str]
    outputs: list[str]
    attrs: Any = None
    name: str = ""


@dataclass
class Graph:
    """Tensors by name, nodes in execution order, the graph's I/O names, and its variables by name."""

    tensors: dict[str, Tensor] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    variables: dict[str, Tensor] = field(default_factory=dict)  # state kept between calls; data: the initial value

    # -- building -----------------------------------------------------------
    def add_tensor(self, tensor: Tensor) -> Tensor:
        if tensor.name in self.tensors:
            raise GraphError(f"tensor {tensor.name!r} is defined twice")
        self.tensors[tensor.name] = tensor
        return tensor

    def add_constant(self, name: str, data: np.ndarray, quant: QuantParams | None = None) -> Tensor:
        data = np.ascontiguousarray(data)
        return self.add_tensor(Tensor(name, data.shape, data.dtype, data, quant))

    def unique_name(self, base: str) -> str:
        """``base`` or ``base_N``, whichever is not yet taken."""
        if base not in self.tensors:
            return base
        n = 1
        while f"{base}_{n}" in self.tensors:
            n += 1
        return f"{base}_{n}"

    def copy(self) -> Graph:
        """A deep copy: passes rewrite copies, never the graph they were given."""
        tensors = {name: _copy_tensor(t) for name, t in self.tensors.items()}
        nodes = [dataclasses.replace(n, inputs=list(n.inputs), outputs=list(n.outputs)) for n in self.nodes]
        variables = {name: _copy_tensor(t) for name, t in self.variables.items()}
        return Graph(tensors, nodes, list(self.inputs), list(self.outputs), variables)

    # -- queries ------------------------------------------------------------
    def producer(self, tensor_name: str) -> Node | None:
        for node in self.nodes:
            if tensor_name in node.outputs:
                return node
        return None

    def consumers(self, tensor_name: str) -> list[Node]:
        return [node for node in self.nodes if tensor_name in node.inputs]

    @property
    def is_quantized(self) -> bool:
        """True when every activation tensor is int8 (a fully integer graph)."""
        return all(self.tensors[n].dtype == np.int8 for n in self.inputs + self.outputs)

    def activation_tensors(self) -> list[Tensor]:
        """Non-constant tensors in first-definition order (inputs first)."""
        seen: dict[str, Tensor] = {n: self.tensors[n] for n in self.inputs}
        for node in self.nodes:
            for name in node.outputs:
                seen.setdefault(name, self.tensors[name])
        return list(seen.values())

    # -- invariants ---------------------------------------------------------
    def validate(self) -> Graph:
        """Check every invariant; raise :class:`GraphError` naming the culprit.

        Checked: names are consistent; dtypes are known; constants match their
        declared shape and dtype; every variable has an initial value of its
        declared shape and dtype; every non-constant tensor is a graph input or
        produced by exactly one earlier node (so the node list is a valid
        schedule and the graph has no cycles); graph outputs are produced;
        quantization parameters are well formed; and each node's attributes,
        operand types and shapes satisfy its operator's rule (READ_VARIABLE
        and ASSIGN_VARIABLE: the variable exists and the values match it).
        """
        from leafml.ops import get_op  # ops depend on ir; import late

        for name, t in self.tensors.items():
            _check_tensor("tensor", name, t)
        for name, t in self.variables.items():
            _check_tensor("variable", name, t)
            if t.data is None:
                raise GraphError(f"variable {name!r} has no initial value (its data)")
        if not self.inputs or not self.outputs:
            raise GraphError("a graph needs at least one input and one output")
        defined = set()
        for name in self.inputs:
            if name not in self.tensors:
                raise GraphError(f"graph input {name!r} is not a tensor")
            if self.tensors[name].is_constant:
                raise GraphError(f"graph input {name!r} is a constant")
            defined.add(name)
        for index, node in enumerate(self.nodes):
            label = f"node {index} ({node.op.value})"
            for name in node.inputs:
                if name not in self.tensors:
                    raise GraphError(f"{label} reads unknown tensor {name!r}")
                if not self.tensors[name].is_constant and name not in defined:
                    raise GraphError(f"{label} reads {name!r} before it is produced (cycle or bad order)")
            for name in node.outputs:
                if name not in self.tensors:
                    raise GraphError(f"{label} writes unknown tensor {name!r}")
                if name in defined or self.tensors[name].is_constant:
                    raise GraphError(f"{label} writes {name!r}, which already has a value")
                defined.add(name)
            get_op(node.op).check(self, node)
        for name in self.outputs:
            if name not in defined:
                raise GraphError(f"graph output {name!r} is never produced")
        return self

    def infer_shapes(self) -> Graph:
        """Recompute every node output's shape from its inputs, in order."""
        from leafml.ops import get_op

        for node in self.nodes:
            shapes = get_op(node.op).infer_shapes(self, node)
            for name, shape in zip(node.outputs, shapes):
                self.tensors[name].shape = tuple(shape)
        return self

    # -- back ends (thin wrappers over the library calls) ---------------------
    def run(self, *inputs: np.ndarray, rounding: str = "double") -> list[np.ndarray]:
        """Execute with the numpy reference interpreter; see :mod:`leafml.interpreter`."""
        from leafml.interpreter import run

        return run(self, list(inputs), rounding=rounding)

    def to_tflite(self) -> bytes:
        """Serialise to a .tflite flatbuffer; see :mod:`leafml.export.tflite`."""
        from leafml.export.tflite import write_tflite

        return write_tflite(self)


def _copy_tensor(t: Tensor) -> Tensor:
    return dataclasses.replace(
        t,
        data=None if t.data is None else t.data.copy(),
        quant=None if t.quant is None else QuantParams(t.quant.scale.copy(), t.quant.zero_point.copy(), t.quant.axis),
    )


def _check_tensor(kind: str, name: str, t: Tensor) -> None:
    """The rules every tensor and variable follows; ``kind`` names which it is in messages."""
    if name != t.name:
        raise GraphError(f"{kind} stored under {name!r} is named {t.name!r}")
    if t.dtype not in DTYPES:
        raise GraphError(f"{kind} {name!r} has unsupported dtype {t.dtype}")
    if any(d <= 0 for d in t.shape):
        raise GraphError(f"{kind} {name!r} has a non-positive dimension in {t.shape}")
    if t.data is not None and (t.data.shape != t.shape or t.data.dtype != t.dtype):
        what = "constant" if kind == "tensor" else f"{kind} initial value"
        raise GraphError(f"{what} {name!r} holds {t.data.dtype}{t.data.shape}, declared {t.dtype}{t.shape}")
    if t.quant is not None:
        _check_quant(t)


def _check_quant(t: Tensor) -> None:
    q = t.quant
    assert q is not None
    if q.scale.shape != q.zero_point.shape:
        raise GraphError(f"tensor {t.name!r}: {q.scale.size} scales but {q.zero_point.size} zero points")
    if not np.all(np.isfinite(q.scale)) or np.any(q.scale <= 0):
        raise GraphError(f"tensor {t.name!r} has a non-positive or non-finite scale")
    if q.per_channel:
        if not 0 <= q.axis < len(t.shape) or t.shape[q.axis] != q.scale.size:
            raise GraphError(f"tensor {t.name!r}: {q.scale.size} channel scales do not match axis {q.axis} of {t.shape}")
    if t.dtype == np.int8 and np.any((q.zero_point < -128) | (q.zero_point > 127)):
        raise GraphError(f"tensor {t.name!r} has an int8 zero point outside [-128, 127]")
