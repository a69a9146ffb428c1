"""STRIDED_SLICE: ``x[begin:end:stride, ...]`` with TFLite's masks; data movement only.

The attributes are the .tflite file's, field for field: ``begin``, ``end`` and
``strides`` (one entry per sliced axis, negative indices count from the end)
and the bit masks, bit ``i`` for entry ``i``:

* ``begin_mask`` / ``end_mask``: ignore ``begin[i]`` / ``end[i]`` and take
  the axis from its first / to its last element (in the stride's direction);
* ``shrink_axis_mask``: take the single element ``begin[i]`` and drop the axis;
* ``ellipsis_mask``: entry ``i`` stands for as many whole axes as the entries
  leave unnamed;
* ``new_axis_mask``: entry ``i`` inserts an axis of size 1;
* ``offset``: ``end[i]`` is a size counted from ``begin[i]``.

:func:`resolve` turns them into one plain range per axis exactly as LiteRT's
kernel does (``BuildStridedSliceParams``, ``StartForAxis``, ``EndForAxis``).
TFLM implements the first three masks only, on at most four axes, so a file
using the others runs in LiteRT but not in TFLM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Graph, GraphError, Node, OpType
from leafml.ops.base import OpDef, check_same_quant


@dataclass(frozen=True)
class StridedSliceAttrs:
    begin: tuple[int, ...]
    end: tuple[int, ...]
    strides: tuple[int, ...]
    begin_mask: int = 0
    end_mask: int = 0
    ellipsis_mask: int = 0
    new_axis_mask: int = 0
    shrink_axis_mask: int = 0
    offset: bool = False


@dataclass(frozen=True)
class AxisRange:
    """The elements ``start, start + stride, ...`` before ``stop`` of one axis of the (new-axis-extended) input."""

    size: int  # the axis size (1 for an inserted axis)
    start: int
    stop: int  # exclusive; -1 means "through element 0" when stride < 0
    stride: int
    shrink: bool  # taken as one element and dropped from the output
    inserted: bool  # a new axis of size 1, not in the input

    @property
    def count(self) -> int:
        return len(range(self.start, self.stop, self.stride))


def _bit(mask: int, i: int) -> bool:
    return bool(mask >> i & 1)


def resolve(shape: tuple[int, ...], a: StridedSliceAttrs) -> list[AxisRange]:
    """One :class:`AxisRange` per axis of the input with new axes inserted; GraphError for an invalid slice."""
    if not len(a.begin) == len(a.end) == len(a.strides):
        counts = f"{len(a.begin)}, {len(a.end)} and {len(a.strides)}"
        raise GraphError(f"STRIDED_SLICE begin, end and strides have {counts} entries; they must match")
    if any(s == 0 for s in a.strides):
        raise GraphError(f"STRIDED_SLICE strides {a.strides} contain 0")
    if a.offset and (a.ellipsis_mask or a.new_axis_mask):
        raise GraphError("STRIDED_SLICE with offset cannot also use ellipsis_mask or new_axis_mask")
    count = len(a.begin)
    added = sum(1 for i in range(count) if _bit(a.new_axis_mask, i) and not _bit(a.ellipsis_mask, i))
    dims = len(shape) + added
    # Which axes of the extended input the ellipsis covers, and which are new.
    ellipsis, new = set(), set()
    ellipsis_start, expanded = dims, 0
    i = 0
    while i < dims:
        if _bit(a.ellipsis_mask, i):
            ellipsis_start = i
            ellipsis_end = max(i + 1, min(i + 1 + added + len(shape) - count, dims))
            expanded = ellipsis_end - ellipsis_start - 1
            ellipsis.update(range(i, ellipsis_end))
            i = ellipsis_end
            continue
        if _bit(a.new_axis_mask, i - expanded):
            new.add(i)
        i += 1
    ranges, inserted = [], 0
    for i in range(dims):
        if i in new:
            ranges.append(AxisRange(1, 0, 1, 1, False, True))
            inserted += 1
            continue
        size = shape[i - inserted]
        if i in ellipsis or i >= count + expanded:
            ranges.append(AxisRange(size, 0, size, 1, False, False))
            continue
        entry = i - (expanded if i > ellipsis_start else 0)
        ranges.append(_axis_range(size, a, entry))
    return ranges


def _axis_range(size: int, a: StridedSliceAttrs, entry: int) -> AxisRange:
    stride = a.strides[entry]
    low, high = (0, size) if stride > 0 else (-1, size - 1)
    start = a.begin[entry] + size if a.begin[entry] < 0 else a.begin[entry]
    start = min(max(start, low), high)
    if _bit(a.begin_mask, entry):
        start = 0 if stride > 0 else size - 1
    if _bit(a.shrink_axis_mask, entry):
        if not -size <= a.begin[entry] < size:
            raise GraphError(f"STRIDED_SLICE shrinks an axis of size {size} at index {a.begin[entry]}, which is out of range")
        return AxisRange(size, start, start + 1, 1, True, False)
    stop = a.end[entry] + start if a.offset else a.end[entry]
    stop = stop + size if stop < 0 else stop
    stop = min(max(stop, low), high)
    if _bit(a.end_mask, entry):
        stop = size if stride > 0 else -1
    r = AxisRange(size, start, stop, stride, False, False)
    if a.offset and r.count != a.end[entry]:
        raise GraphError(f"STRIDED_SLICE offset slice of {a.end[entry]} elements from {a.begin[entry]} runs past an axis of size {size}")
    return r


def slice_ranges(graph: Graph, node: Node) -> list[AxisRange]:
    return resolve(graph.tensors[node.inputs[0]].shape, node.attrs)


class StridedSlice(OpDef):
    op = OpType.STRIDED_SLICE
    attrs_type = StridedSliceAttrs

    def infer_shapes(self, graph, node):
        shape = tuple(r.count for r in slice_ranges(graph, node) if not r.shrink)
        if not shape or 0 in shape:
            raise GraphError(f"STRIDED_SLICE of {graph.tensors[node.inputs[0]].shape} gives the empty shape {shape}")
        return [shape]

    def check(self, graph, node):
        super().check(graph, node)
        check_same_quant(graph, node)

    def run_float(self, graph, node, inputs):
        ranges = slice_ranges(graph, node)
        # A leading sample axis keeps samples of a batch-1 graph apart; inserted axes have size 1.
        samples = inputs[0].reshape((-1, *(r.size for r in ranges)))
        picked = samples[np.ix_(np.arange(len(samples)), *(np.arange(r.start, r.stop, r.stride) for r in ranges))]
        return picked.reshape((-1, *graph.tensors[node.outputs[0]].shape[1:]))

    def run_int8(self, graph, node, params, inputs, rounding):
        return self.run_float(graph, node, inputs)
