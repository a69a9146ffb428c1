"""What every operator module provides, and the geometry they share.

An operator is a subclass of :class:`OpDef` registered for one
:class:`~leafml.ir.OpType`.  Like a TFLM kernel it is split in two: a
``prepare`` step that does all the scale arithmetic once and returns a small
params object of integers, and kernels that only do integer math over arrays
with those params.  The C generator emits the same params as constants, so the
numpy kernel and the C kernel start from identical numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from leafml.ir.graph import Activation, Graph, GraphError, Node, OpType, Padding, Tensor
from leafml.quant.fixedpoint import Rounding, quantize_value


class OpDef:
    """Base class of operator definitions; subclasses override what applies."""

    op: ClassVar[OpType]
    attrs_type: ClassVar[type | None] = None
    num_inputs: ClassVar[tuple[int, ...]] = (1,)  # allowed input counts

    # -- structure ------------------------------------------------------------
    def infer_shapes(self, graph: Graph, node: Node) -> list[tuple[int, ...]]:
        """Output shapes from input shapes and attributes."""
        raise NotImplementedError

    def check(self, graph: Graph, node: Node) -> None:
        """Raise GraphError if the node is malformed (arity, attrs, dtypes, shapes)."""
        label = f"{node.op.value} node {node.name or node.outputs}"
        if len(node.inputs) not in self.num_inputs:
            raise GraphError(f"{label} has {len(node.inputs)} inputs; expected {self.num_inputs}")
        if len(node.outputs) != 1:
            raise GraphError(f"{label} has {len(node.outputs)} outputs; expected 1")
        if self.attrs_type is not None and not isinstance(node.attrs, self.attrs_type):
            raise GraphError(f"{label} has attrs {type(node.attrs).__name__}; expected {self.attrs_type.__name__}")
        expected = self.infer_shapes(graph, node)
        actual = graph.tensors[node.outputs[0]].shape
        if tuple(expected[0]) != actual:
            raise GraphError(f"{label} output {node.outputs[0]!r} has shape {actual}; its inputs give {tuple(expected[0])}")
        self.check_activation_dtypes(graph, node, label)

    def check_activation_dtypes(self, graph: Graph, node: Node, label: str) -> None:
        """The data input and the output: both int8 with per-tensor quantization, or both float32.

        Only the operators that convert between the two (QUANTIZE,
        DEQUANTIZE) override this.
        """
        quantized = graph.tensors[node.inputs[0]].dtype == np.int8
        for name in [node.inputs[0], *node.outputs]:
            t = graph.tensors[name]
            if quantized and (t.dtype != np.int8 or t.quant is None or t.quant.per_channel):
                raise GraphError(f"{label}: activation {name!r} must be int8 with per-tensor quantization")
            if not quantized and t.dtype != np.float32:
                raise GraphError(f"{label}: activation {name!r} is {t.dtype}; a float graph uses float32")

    # -- execution ------------------------------------------------------------
    def run_float(self, graph: Graph, node: Node, inputs: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def prepare(self, graph: Graph, node: Node, rounding: Rounding) -> Any:
        """Integer params for the int8 kernel; scale math happens only here."""
        return None

    def run_int8(self, graph: Graph, node: Node, params: Any, inputs: list[np.ndarray], rounding: Rounding) -> np.ndarray:
        raise NotImplementedError

    # -- cost -----------------------------------------------------------------
    def macs(self, graph: Graph, node: Node) -> int:
        """Multiply-accumulates of one execution (0 for data movement)."""
        return 0

    def alias_input(self) -> bool:
        """True if the output may share the input's memory (same bytes, no copy)."""
        return False

    def in_place(self, graph: Graph, node: Node) -> tuple[InPlace, ...]:
        """The ways the node's C kernel may write its output over one of its inputs (none by default).

        An operator lists a way only when its kernel's data dependencies make
        it safe; :mod:`leafml.plan` decides whether a way is used (the input
        must die at the node) and what scratch it costs.
        """
        return ()


# -- shared geometry ----------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """A 2-D sliding window as TFLite resolves it for one input size."""

    in_h: int
    in_w: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    out_h: int
    out_w: int
    pad_top: int
    pad_left: int


@dataclass(frozen=True)
class InPlace:
    """One way a kernel may write its output over the bytes of its data input ``input_index``.

    ``window`` None, element-wise: the kernel walks the elements in order,
    reads input element i before it writes output element i, and no output
    element is wider than an input element, so each write lands on input
    bytes already read.  ``window`` set: output row r reads only the input
    rows under its window, so the kernel can run a band of output rows at a
    time on the input rows under it (:mod:`leafml.plan.rows` schedules the
    bands and their scratch); ``pixelwise`` adds that output pixel p reads
    only input pixel p, so a band may be any run of pixels.
    """

    input_index: int
    window: Window | None = None
    pixelwise: bool = False


def _out_and_pad(size: int, k: int, stride: int, dilation: int, padding: Padding) -> tuple[int, int]:
    effective = (k - 1) * dilation + 1
    if padding is Padding.SAME:
        out = (size + stride - 1) // stride
    else:
        out = (size - effective + stride) // stride
    total = max((out - 1) * stride + effective - size, 0)
    return out, total // 2  # SAME puts the odd extra pixel at the end


def window(in_h: int, in_w: int, k_h: int, k_w: int, stride: tuple[int, int], dilation: tuple[int, int], padding: Padding) -> Window:
    """Resolve output size and leading padding exactly like TFLite."""
    out_h, pad_top = _out_and_pad(in_h, k_h, stride[0], dilation[0], padding)
    out_w, pad_left = _out_and_pad(in_w, k_w, stride[1], dilation[1], padding)
    if out_h <= 0 or out_w <= 0:
        raise GraphError(f"a {k_h}x{k_w} window does not fit a {in_h}x{in_w} input with {padding.value} padding")
    return Window(in_h, in_w, k_h, k_w, stride[0], stride[1], dilation[0], dilation[1], out_h, out_w, pad_top, pad_left)


def patches(x: np.ndarray, w: Window, pad_value: int | float) -> tuple[np.ndarray, np.ndarray]:
    """Gather windows of an NHWC array: ``[N, OH, OW, KH, KW, C]`` and an in-bounds mask ``[OH, OW, KH, KW]``."""
    rows = (np.arange(w.out_h) * w.stride_h - w.pad_top)[:, None] + (np.arange(w.k_h) * w.dilation_h)[None, :]
    cols = (np.arange(w.out_w) * w.stride_w - w.pad_left)[:, None] + (np.arange(w.k_w) * w.dilation_w)[None, :]
    r = rows[:, None, :, None]
    c = cols[None, :, None, :]
    valid = (r >= 0) & (r < w.in_h) & (c >= 0) & (c < w.in_w)
    padded = np.pad(
        x,
        ((0, 0), (w.pad_top, max(0, int(rows.max()) + 1 - w.in_h)), (w.pad_left, max(0, int(cols.max()) + 1 - w.in_w)), (0, 0)),
        constant_values=pad_value,
    )
    return padded[:, r + w.pad_top, c + w.pad_left, :], np.broadcast_to(valid, (w.out_h, w.out_w, w.k_h, w.k_w))


# -- shared activation handling -----------------------------------------------
def apply_activation_float(x: np.ndarray, activation: Activation) -> np.ndarray:
    if activation is Activation.RELU:
        return np.maximum(x, 0.0)
    if activation is Activation.RELU6:
        return np.clip(x, 0.0, 6.0)
    return x


def activation_range(output: Tensor, activation: Activation) -> tuple[int, int]:
    """The int8 clamp bounds of a fused activation, like TFLite's Prepare."""
    assert output.quant is not None
    scale, zp = output.quant.scalar_scale, output.quant.scalar_zero_point
    low, high = -128, 127
    if activation in (Activation.RELU, Activation.RELU6):
        low = max(low, quantize_value(0.0, scale, zp))
    if activation is Activation.RELU6:
        high = min(high, quantize_value(6.0, scale, zp))
    return low, high


def xnnpack_activation_range(output: Tensor, activation: Activation) -> tuple[int, int]:
    """XNNPACK's int8 clamp bounds of a fused activation (LiteRT, ``"single"`` mode).

    ``rint(bound / scale + zero_point)`` in float32: halves go to even where
    TFLite's :func:`activation_range` rounds them away from zero.
    """
    assert output.quant is not None
    scale, zero_point = output.quant.scale[0], np.float32(output.quant.scalar_zero_point)

    def quantized(bound: float) -> int:
        return int(np.rint(np.clip(np.float32(bound) / scale + zero_point, -128, 127)))

    low = quantized(0.0) if activation in (Activation.RELU, Activation.RELU6) else -128
    return low, quantized(6.0) if activation is Activation.RELU6 else 127


def check_same_quant(graph: Graph, node: Node) -> None:
    """Operators that move values without rescaling keep their input's quantization."""
    x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    if x.quant is None:
        return
    if out.quant is None or (out.quant.scalar_scale, out.quant.scalar_zero_point) != (x.quant.scalar_scale, x.quant.scalar_zero_point):
        raise GraphError(f"{node.op.value} output {out.name!r} must keep its input's scale and zero point")


def check_weight(graph: Graph, node: Node, index: int, rank: int) -> Tensor:
    """The constant operand ``index`` of a node, checked for rank and dtype."""
    t = graph.tensors[node.inputs[index]]
    label = f"{node.op.value} node {node.name or node.outputs}"
    if not t.is_constant:
        raise GraphError(f"{label}: operand {t.name!r} must be a constant")
    if len(t.shape) != rank:
        raise GraphError(f"{label}: operand {t.name!r} has rank {len(t.shape)}; expected {rank}")
    return t
