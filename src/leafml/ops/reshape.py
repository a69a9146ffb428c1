"""RESHAPE: the same bytes under a new shape (an alias in the generated C)."""

from __future__ import annotations

from dataclasses import dataclass

from leafml.ir.graph import GraphError, OpType
from leafml.ops.base import OpDef, check_same_quant


@dataclass(frozen=True)
class ReshapeAttrs:
    shape: tuple[int, ...]


class Reshape(OpDef):
    op = OpType.RESHAPE
    attrs_type = ReshapeAttrs

    def infer_shapes(self, graph, node):
        x = graph.tensors[node.inputs[0]]
        shape = list(node.attrs.shape)
        if shape.count(-1) > 1 or any(d == 0 or d < -1 for d in shape):
            raise GraphError(f"RESHAPE to {tuple(shape)} is not a valid shape")
        known = 1
        for d in shape:
            known *= d if d != -1 else 1
        if -1 in shape:
            if x.size % known:
                raise GraphError(f"RESHAPE cannot fit {x.size} elements into {tuple(shape)}")
            shape[shape.index(-1)] = x.size // known
        elif known != x.size:
            raise GraphError(f"RESHAPE of {x.size} elements to {tuple(shape)} ({known} elements)")
        return [tuple(shape)]

    def check(self, graph, node):
        super().check(graph, node)
        check_same_quant(graph, node)

    def run_float(self, graph, node, inputs):
        # The leading axis is the batch the interpreter runs, not the declared one.
        return inputs[0].reshape((-1, *graph.tensors[node.outputs[0]].shape[1:]))

    def run_int8(self, graph, node, params, inputs, rounding):
        return self.run_float(graph, node, inputs)

    def alias_input(self):
        return True
