"""CONCATENATION of tensors along one axis.

``axis`` may be negative (counted from the end, as in a .tflite file).  The
int8 form moves bytes only: every input must carry the output's scale and
zero point, because TFLM refuses anything else (LiteRT would requantize, so
the one form both runtimes run the same is the byte copy).  TFLM also refuses
a fused activation and more than ten inputs, so the IR has neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Graph, GraphError, Node, OpType
from leafml.ops.base import OpDef

MAX_INPUTS = 10  # TFLM's kMaxInputNum


@dataclass(frozen=True)
class ConcatenationAttrs:
    axis: int


def concat_axis(graph: Graph, node: Node) -> int:
    """The concatenation axis as a non-negative index; GraphError when out of range."""
    rank = len(graph.tensors[node.inputs[0]].shape)
    axis = node.attrs.axis
    if not -rank <= axis < rank:
        raise GraphError(f"CONCATENATION axis {axis} is out of range for rank {rank}")
    return axis % rank


class Concatenation(OpDef):
    op = OpType.CONCATENATION
    attrs_type = ConcatenationAttrs
    num_inputs = tuple(range(1, MAX_INPUTS + 1))

    def infer_shapes(self, graph, node):
        axis = concat_axis(graph, node)
        shapes = [graph.tensors[n].shape for n in node.inputs]
        first = shapes[0]
        for name, shape in zip(node.inputs[1:], shapes[1:]):
            if len(shape) != len(first) or any(a != b for i, (a, b) in enumerate(zip(shape, first)) if i != axis):
                raise GraphError(f"CONCATENATION input {name!r} of shape {shape} does not match {first} outside axis {axis}")
        return [(*first[:axis], sum(s[axis] for s in shapes), *first[axis + 1 :])]

    def check(self, graph, node):
        super().check(graph, node)
        out = graph.tensors[node.outputs[0]]
        for name in node.inputs[1:]:
            t = graph.tensors[name]
            if t.dtype != out.dtype:
                raise GraphError(f"CONCATENATION input {name!r} is {t.dtype}; the output is {out.dtype}")
        if out.quant is None:
            return
        for name in node.inputs:
            q = graph.tensors[name].quant
            if q is None or q.per_channel or (q.scale[0], q.zero_point[0]) != (out.quant.scale[0], out.quant.zero_point[0]):
                raise GraphError(
                    f"CONCATENATION input {name!r} must have the output's scale and zero point (TFLM requires it); requantize it first"
                )

    def run_float(self, graph, node, inputs):
        return self._concatenate(graph, node, inputs)

    def run_int8(self, graph, node, params, inputs, rounding):
        return self._concatenate(graph, node, inputs)

    def _concatenate(self, graph: Graph, node: Node, inputs: list[np.ndarray]) -> np.ndarray:
        # Each array gets a leading sample axis: the interpreter may run many
        # samples of a batch-1 graph at once, and constants have none.
        samples = [x.reshape((-1, *graph.tensors[n].shape)) for n, x in zip(node.inputs, inputs)]
        count = max(len(s) for s in samples)
        samples = [np.broadcast_to(s, (count, *s.shape[1:])) for s in samples]
        out = np.concatenate(samples, axis=concat_axis(graph, node) + 1)
        return out.reshape((-1, *out.shape[2:]))
