"""PAD: constant padding before and after each axis.

Float tensors pad with 0.0; int8 tensors with the output zero point (the
quantized 0.0), as TFLite's PAD does without a constant-value operand.  The
output keeps the input's quantization: the op moves bytes, never rescales.
TFLite's kernels take at most five axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import GraphError, OpType
from leafml.ops.base import OpDef, check_same_quant

MAX_RANK = 5  # TFLite's PadKernelMaxDimensionCount


@dataclass(frozen=True)
class PadAttrs:
    paddings: tuple[tuple[int, int], ...]  # (before, after) elements per axis


class Pad(OpDef):
    op = OpType.PAD
    attrs_type = PadAttrs

    def infer_shapes(self, graph, node):
        x = graph.tensors[node.inputs[0]]
        paddings = node.attrs.paddings
        if len(paddings) != len(x.shape) or any(len(p) != 2 for p in paddings):
            raise GraphError(f"PAD paddings {paddings} need one (before, after) pair per axis of {x.shape}")
        if any(before < 0 or after < 0 for before, after in paddings):
            raise GraphError(f"PAD paddings {paddings} must not be negative")
        if len(x.shape) > MAX_RANK:
            raise GraphError(f"PAD input {x.name!r} has {len(x.shape)} axes; TFLite pads at most {MAX_RANK}")
        return [tuple(d + before + after for d, (before, after) in zip(x.shape, paddings))]

    def check(self, graph, node):
        super().check(graph, node)
        check_same_quant(graph, node)

    def run_float(self, graph, node, inputs):
        return self._pad(graph, node, inputs[0], 0.0)

    def prepare(self, graph, node, rounding):
        return graph.tensors[node.outputs[0]].quant.scalar_zero_point

    def run_int8(self, graph, node, params: int, inputs, rounding):
        return self._pad(graph, node, inputs[0], params)

    def _pad(self, graph, node, x: np.ndarray, value) -> np.ndarray:
        # A leading sample axis keeps samples of a batch-1 graph apart when the batch axis is padded too.
        samples = x.reshape((-1, *graph.tensors[node.inputs[0]].shape))
        out = np.pad(samples, ((0, 0), *node.attrs.paddings), constant_values=value)
        return out.reshape((-1, *out.shape[2:]))
