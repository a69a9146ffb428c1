"""C emitters of the shape-generic operators: ADD, MUL, CONCATENATION, PAD, MEAN, STRIDED_SLICE.

Their kernels (``kernels/nd.h`` and the files building on it) take *walks*:
element counts per dimension and, for every array involved, one element
stride per dimension.  :func:`merge_walk` first drops dimensions of one
element and merges neighbours that are contiguous in every array, so a walk
is as shallow as the data allows (a whole-tensor copy is one dimension).

>>> merge_walk([1, 4, 5, 3], [60, 15, 3, 1], [0, 3, 0, 1])
([4, 5, 3], [[15, 3, 1], [3, 0, 1]])
>>> merge_walk([2, 3], [3, 1])
([6], [[1]])
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from leafml.codegen.cformat import c_float, c_int
from leafml.ir.graph import Node
from leafml.ops.concatenation import concat_axis
from leafml.ops.elementwise import AddParams, MulParams, XnnpackAddParams, XnnpackMulParams
from leafml.ops.mean import MeanParams, XnnpackMeanParams, reduced_axes
from leafml.ops.strided_slice import slice_ranges

if TYPE_CHECKING:  # emitters.py imports this module for its table
    from leafml.codegen.emitters import ModelSource

MAX_DIMS = 6  # LEAFML_MAX_DIMS in kernels/nd.h

# The C struct and row function of each elementwise params type.
BINARY_KERNELS: dict[type, tuple[str, str]] = {
    AddParams: ("leafml_add_t", "leafml_add_row"),
    XnnpackAddParams: ("leafml_add_xnnpack_t", "leafml_add_xnnpack_row"),
    MulParams: ("leafml_mul_t", "leafml_mul_row"),
    XnnpackMulParams: ("leafml_mul_xnnpack_t", "leafml_mul_xnnpack_row"),
}


def strides(shape: tuple[int, ...]) -> list[int]:
    """Row-major element strides of ``shape``."""
    out = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        out[d] = out[d + 1] * shape[d + 1]
    return out


def merge_walk(counts: list[int] | tuple[int, ...], *steps: list[int]) -> tuple[list[int], list[list[int]]]:
    """``counts`` and per-array ``steps`` with one-element dimensions dropped and contiguous neighbours merged."""
    merged: list[tuple[int, list[int]]] = []
    for d, count in enumerate(counts):
        if count == 1:
            continue
        inner = [s[d] for s in steps]
        if merged and all(outer == step * count for outer, step in zip(merged[-1][1], inner)):
            merged[-1] = (merged[-1][0] * count, inner)
        else:
            merged.append((count, inner))
    merged = merged or [(1, [0] * len(steps))]
    if len(merged) > MAX_DIMS:
        from leafml.codegen.generate import CodegenError  # generate.py imports the emitters

        raise CodegenError(f"a walk over {tuple(counts)} keeps {len(merged)} dimensions; the C kernels take at most {MAX_DIMS}")
    return [c for c, _ in merged], [[s[i] for _, s in merged] for i in range(len(steps))]


def c_ints(values: list[int]) -> str:
    """A brace-enclosed C initializer list of integers."""
    return "{" + ", ".join(c_int(v) for v in values) + "}"


def float_array(src: ModelSource, name: str, values: np.ndarray) -> str:
    """Declare a ``static const float`` array (9 significant digits give back each float32) and return its name."""
    values = np.asarray(values, dtype=np.float32)
    lines = "".join(f"    {', '.join(map(c_float, values[i : i + 8]))},\n" for i in range(0, values.size, 8))
    src.declarations.append(f"static const float {name}[{values.size}] = {{\n{lines}}};")
    src.const_bytes += values.nbytes
    return name


def _walk(counts, steps_by_field: dict[str, list[int]]) -> dict[str, object]:
    merged_counts, merged_steps = merge_walk(counts, *steps_by_field.values())
    fields: dict[str, object] = {"rank": len(merged_counts), "counts": c_ints(merged_counts)}
    fields.update({name: c_ints(s) for name, s in zip(steps_by_field, merged_steps)})
    return fields


def _operand(src: ModelSource, index: int, node: Node, position: int) -> str:
    """The C pointer to input ``position`` of a node: an activation's address, or a declared constant."""
    t = src.graph.tensors[node.inputs[position]]
    if t.is_constant:
        return src.array(f"node{index}_operand{position}", "int8_t", t.data)
    return src.pointer(t.name)


def _fields(params: Any) -> dict[str, object]:
    """A params dataclass as C initializer fields; floats become float32 literals."""
    return {k: c_float(v) if isinstance(v, float) else v for k, v in dataclasses.asdict(params).items()}


def emit_binary(src: ModelSource, index: int, node: Node, params: Any) -> str:
    """ADD and MUL: a broadcast walk over the output and the row function of the params' algorithm."""
    out_shape = src.graph.tensors[node.outputs[0]].shape

    def steps(name: str) -> list[int]:
        shape = src.graph.tensors[name].shape
        aligned = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
        return [s if d == o else 0 for s, d, o in zip(strides(aligned), aligned, out_shape)]

    steps_by_input = {"steps1": steps(node.inputs[0]), "steps2": steps(node.inputs[1])}
    walk = src.struct("leafml_broadcast_t", f"node{index}_broadcast", _walk(out_shape, steps_by_input))
    ctype, row = BINARY_KERNELS[type(params)]
    struct = src.struct(ctype, f"node{index}", _fields(params))
    operands = ", ".join(_operand(src, index, node, i) for i in range(2))
    return f"leafml_broadcast_s8({walk}, {operands}, {src.pointer(node.outputs[0])}, {row}, {struct});"


def emit_concatenation(src: ModelSource, index: int, node: Node, params: None) -> str:
    """One strided copy per input into its slab of the output."""
    graph = src.graph
    axis = concat_axis(graph, node)
    out_strides = strides(graph.tensors[node.outputs[0]].shape)
    parts, offsets, position = [], [], 0
    for i, name in enumerate(node.inputs):
        shape = graph.tensors[name].shape
        spread = _walk(shape, {"src_steps": strides(shape), "dst_steps": out_strides})
        parts.append(src.struct("leafml_copy_t", f"node{index}_part{i}", spread))
        offsets.append(position * out_strides[axis])
        position += shape[axis]
    src.declarations.append(f"static const leafml_copy_t *const node{index}_parts[{len(parts)}] = {{{', '.join(parts)}}};")
    offsets_name = src.array(f"node{index}_offsets", "int32_t", np.array(offsets))
    fields = {"count": len(parts), "offsets": offsets_name, "parts": f"node{index}_parts"}
    struct = src.struct("leafml_concatenation_t", f"node{index}", fields)
    inputs = ", ".join(_operand(src, index, node, i) for i in range(len(node.inputs)))
    return f"leafml_concatenation_s8({struct}, (const int8_t *const[]){{{inputs}}}, {src.pointer(node.outputs[0])});"


def emit_pad(src: ModelSource, index: int, node: Node, params: int) -> str:
    """Fill with the pad value (``params``, the output zero point), copy the input into the interior."""
    x, out = (src.graph.tensors[n] for n in (node.inputs[0], node.outputs[0]))
    out_strides = strides(out.shape)
    fields = {
        "output_size": out.size,
        "value": params,
        "offset": sum(before * s for (before, _), s in zip(node.attrs.paddings, out_strides)),
        "interior": _walk(x.shape, {"src_steps": strides(x.shape), "dst_steps": out_strides}),
    }
    struct = src.struct("leafml_pad_t", f"node{index}", fields)
    return f"leafml_pad_s8({struct}, {src.pointer(x.name)}, {src.pointer(out.name)});"


def emit_mean(src: ModelSource, index: int, node: Node, params: MeanParams | XnnpackMeanParams) -> str:
    """A walk over the kept axes (one output each) and one over the reduced axes (summed)."""
    shape = src.graph.tensors[node.inputs[0]].shape
    axes = reduced_axes(src.graph, node)
    in_strides = strides(shape)

    def walk(reduced: bool) -> dict[str, object]:
        dims = [d for d in range(len(shape)) if (d in axes) == reduced]
        return _walk([shape[d] for d in dims], {"steps": [in_strides[d] for d in dims]})

    struct = src.struct("leafml_mean_t", f"node{index}", {"kept": walk(False), "reduced": walk(True), **_fields(params)})
    return f"leafml_mean_s8({struct}, {src.pointer(node.inputs[0])}, {src.pointer(node.outputs[0])});"


def emit_strided_slice(src: ModelSource, index: int, node: Node, params: None) -> str:
    """A strided copy from the slice's first element; shrunk and inserted axes have one element and vanish."""
    ranges = slice_ranges(src.graph, node)
    extended = strides(tuple(r.size for r in ranges))  # the input with inserted axes of size 1
    start = sum(r.start * s for r, s in zip(ranges, extended) if not r.inserted)
    counts = [r.count for r in ranges]
    fields = _walk(counts, {"src_steps": [r.stride * s for r, s in zip(ranges, extended)], "dst_steps": strides(tuple(counts))})
    struct = src.struct("leafml_copy_t", f"node{index}", fields)
    return f"leafml_strided_copy_s8({struct}, {src.pointer(node.inputs[0])} + {start}, {src.pointer(node.outputs[0])});"
