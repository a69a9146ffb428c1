"""MEAN over a set of axes, keeping them as size 1 or dropping them.

Axes may be negative (counted from the end) and must not repeat.  Both int8
kernels sum the raw int8 values of each group of ``count`` elements in
int32; they differ in how they rescale the sum, because the two runtimes do:

``"double"``: TFLM's ``reference_ops::QuantizedMeanOrSum`` (:class:`MeanParams`)
    ``clamp(rescale(sum - input_zero_point * count) + output_zero_point)``,
    where the multiplier of ``input_scale / output_scale`` is divided by
    ``count`` in fixed point (shifted left by ``floor(log2(count))``, at most
    32 and at most ``31 + shift``, then integer division) and the rescale is
    gemmlowp's double rounding.
``"single"``: XNNPACK's qs8 mean, which LiteRT delegates every int8 MEAN to (:class:`XnnpackMeanParams`)
    ``clamp(round_half_even(float32(sum) * scale + zero_point))`` in float32,
    with ``scale = (input_scale / output_scale) * (1 / count)`` and
    ``zero_point = output_zero_point - (count * input_zero_point) * scale``,
    each operation rounded to float32 in that order.  (Without XNNPACK,
    LiteRT's own kernel would take a third way for keep_dims means over
    axes 1 and 2 of a 4-D tensor.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Graph, GraphError, Node, OpType
from leafml.ops.base import OpDef
from leafml.quant.fixedpoint import Rounding, multiply_by_quantized_multiplier, quantize_multiplier

F32 = np.float32


@dataclass(frozen=True)
class MeanAttrs:
    axes: tuple[int, ...]
    keep_dims: bool = False


@dataclass(frozen=True)
class MeanParams:
    """TFLite's int8 MEAN: integer only."""

    sum_offset: int  # -input_zero_point * (elements per output), added to each raw int8 sum
    multiplier: int  # Q0.31 significand (possibly below 2**30) and power-of-two exponent
    shift: int
    output_zero_point: int


@dataclass(frozen=True)
class XnnpackMeanParams:
    """XNNPACK's qs8 mean: float32 ``scale`` and ``zero_point`` applied to the int32 sum."""

    scale: float  # float32 values
    zero_point: float


def reduced_axes(graph: Graph, node: Node) -> tuple[int, ...]:
    """The reduced axes as sorted non-negative indices; GraphError when out of range or repeated."""
    rank = len(graph.tensors[node.inputs[0]].shape)
    axes = node.attrs.axes
    if not axes:
        raise GraphError("MEAN needs at least one axis")
    if any(not -rank <= a < rank for a in axes):
        raise GraphError(f"MEAN axes {axes} are out of range for rank {rank}")
    resolved = sorted({a % rank for a in axes})
    if len(resolved) != len(axes):
        raise GraphError(f"MEAN axes {axes} name an axis twice")
    return tuple(resolved)


def _reference_params(graph: Graph, node: Node, count: int) -> MeanParams:
    x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    multiplier, shift = quantize_multiplier(float(x.quant.scale[0]) / float(out.quant.scale[0]))
    count_shift = min(count.bit_length() - 1, 32, 31 + shift)
    return MeanParams(
        sum_offset=-x.quant.scalar_zero_point * count,
        multiplier=(multiplier << count_shift) // count,
        shift=shift - count_shift,
        output_zero_point=out.quant.scalar_zero_point,
    )


def _xnnpack_params(graph: Graph, node: Node, count: int) -> XnnpackMeanParams:
    x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    scale = x.quant.scale[0] / out.quant.scale[0] * (F32(1.0) / F32(count))
    zero_point = F32(out.quant.scalar_zero_point) - F32(count) * F32(x.quant.scalar_zero_point) * scale
    return XnnpackMeanParams(float(scale), float(zero_point))


class Mean(OpDef):
    op = OpType.MEAN
    attrs_type = MeanAttrs

    def infer_shapes(self, graph, node):
        shape = graph.tensors[node.inputs[0]].shape
        axes = reduced_axes(graph, node)
        if node.attrs.keep_dims:
            return [tuple(1 if i in axes else d for i, d in enumerate(shape))]
        kept = tuple(d for i, d in enumerate(shape) if i not in axes)
        if not kept:
            raise GraphError(f"MEAN over every axis of {shape} without keep_dims gives a scalar; set keep_dims")
        return [kept]

    def run_float(self, graph, node, inputs):
        return self._per_sample(graph, node, inputs[0], lambda x, axes: x.astype(np.float64).mean(axis=axes)).astype(np.float32)

    def prepare(self, graph, node, rounding: Rounding):
        shape = graph.tensors[node.inputs[0]].shape
        axes = reduced_axes(graph, node)
        count = int(np.prod([shape[a] for a in axes], dtype=np.int64))
        return _xnnpack_params(graph, node, count) if rounding == "single" else _reference_params(graph, node, count)

    def run_int8(self, graph, node, params: MeanParams | XnnpackMeanParams, inputs, rounding):
        def mean(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
            total = x.astype(np.int64).sum(axis=axes)
            if isinstance(params, XnnpackMeanParams):
                out = np.rint(total.astype(np.float32) * F32(params.scale) + F32(params.zero_point))
            else:
                scaled = multiply_by_quantized_multiplier(total + params.sum_offset, params.multiplier, params.shift, rounding)
                out = scaled + params.output_zero_point
            return np.clip(out, -128, 127).astype(np.int8)

        return self._per_sample(graph, node, inputs[0], mean)

    def _per_sample(self, graph, node, x, reduce) -> np.ndarray:
        # A leading sample axis keeps samples of a batch-1 graph apart when axis 0 is reduced.
        samples = x.reshape((-1, *graph.tensors[node.inputs[0]].shape))
        out = reduce(samples, tuple(a + 1 for a in reduced_axes(graph, node)))
        return out.reshape((-1, *graph.tensors[node.outputs[0]].shape[1:]))

    def macs(self, graph, node):
        return graph.tensors[node.inputs[0]].size
