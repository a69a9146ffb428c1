"""MAX_POOL_2D and AVERAGE_POOL_2D over NHWC tensors.

Only in-bounds taps count (padding never enters a max or an average), and
int8 outputs reuse the input's quantization, as the TFLite spec requires.
The int8 average rounds half away from zero like TFLite's reference kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Activation, GraphError, OpType, Padding
from leafml.ops.base import OpDef, activation_range, check_same_quant, apply_activation_float, patches, window


@dataclass(frozen=True)
class PoolAttrs:
    filter: tuple[int, int]
    stride: tuple[int, int]
    padding: Padding = Padding.VALID
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class PoolParams:
    act_min: int
    act_max: int


def pool_window(graph, node):
    x = graph.tensors[node.inputs[0]]
    a: PoolAttrs = node.attrs
    return window(x.shape[1], x.shape[2], a.filter[0], a.filter[1], a.stride, (1, 1), a.padding)


class _Pool(OpDef):
    attrs_type = PoolAttrs

    def infer_shapes(self, graph, node):
        x = graph.tensors[node.inputs[0]]
        if len(x.shape) != 4:
            raise GraphError(f"{node.op.value} input {x.name!r} must be NHWC, got shape {x.shape}")
        win = pool_window(graph, node)
        return [(x.shape[0], win.out_h, win.out_w, x.shape[3])]

    def check(self, graph, node):
        super().check(graph, node)
        check_same_quant(graph, node)

    def prepare(self, graph, node, rounding):
        return PoolParams(*activation_range(graph.tensors[node.outputs[0]], node.attrs.activation))


class MaxPool2D(_Pool):
    op = OpType.MAX_POOL_2D

    def run_float(self, graph, node, inputs):
        cols, _ = patches(inputs[0], pool_window(graph, node), -np.inf)
        return apply_activation_float(cols.max(axis=(3, 4)), node.attrs.activation).astype(np.float32)

    def run_int8(self, graph, node, params: PoolParams, inputs, rounding):
        cols, _ = patches(inputs[0].astype(np.int64), pool_window(graph, node), -(2**31))
        return np.clip(cols.max(axis=(3, 4)), params.act_min, params.act_max).astype(np.int8)


class AveragePool2D(_Pool):
    op = OpType.AVERAGE_POOL_2D

    def run_float(self, graph, node, inputs):
        cols, valid = patches(inputs[0], pool_window(graph, node), 0.0)
        count = valid.sum(axis=(2, 3))[None, :, :, None]
        return apply_activation_float(cols.sum(axis=(3, 4)) / count, node.attrs.activation).astype(np.float32)

    def run_int8(self, graph, node, params: PoolParams, inputs, rounding):
        cols, valid = patches(inputs[0].astype(np.int64), pool_window(graph, node), 0)
        acc = cols.sum(axis=(3, 4))
        count = valid.sum(axis=(2, 3))[None, :, :, None].astype(np.int64)
        half = count // 2
        # C's truncating division, applied to |acc| +- half.
        rounded = np.where(acc > 0, (acc + half) // count, -((-acc + half) // count))
        return np.clip(rounded, params.act_min, params.act_max).astype(np.int8)
