"""SOFTMAX over the last axis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import OpType
from leafml.ops.base import OpDef


@dataclass(frozen=True)
class SoftmaxAttrs:
    beta: float = 1.0


class Softmax(OpDef):
    op = OpType.SOFTMAX
    attrs_type = SoftmaxAttrs

    def infer_shapes(self, graph, node):
        return [graph.tensors[node.inputs[0]].shape]

    def run_float(self, graph, node, inputs):
        x = inputs[0].astype(np.float64) * node.attrs.beta
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
