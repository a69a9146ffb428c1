"""C for the nodes the memory plan runs in place (:func:`leafml.plan.plan_graph`).

An element-wise node needs nothing of its own: its input and output are the
same arena address, and its kernel reads each element before it writes it.

A node computed band by band (a convolution, :mod:`leafml.plan.rows`)
becomes a loop (``kernels/in_place.h``): a copy of the node's params, whose
window the row walk narrows to one band of output rows at a time, and
inside the loop the operator's ordinary kernel call.  That call is the node's own
emitter's statement, written through a :class:`ModelSource` that names the
walk's pointers and the params copy, so a node in place runs exactly the
kernel it would run otherwise.

Some Cortex-M DSP kernels may write over their own input as they stand
(:data:`DSP_IN_PLACE`); where ``LEAFML_ARM_DSP`` is 1 such a node is one
plain call with the same address for input and output, and only the
portable build walks it.  The arena keeps the walk's scratch either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from leafml.codegen.cformat import c_struct
from leafml.codegen.emitters import EMITTERS, ModelSource
from leafml.ir.graph import Node, OpType
from leafml.plan import GraphPlan, InPlaceStep

ROW_WALK_KERNEL = "in_place.h"


@dataclass(frozen=True)
class DirectDsp:
    """A DSP kernel that may write over its own input as it stands, as its kernel file states."""

    call: str  # the start of its call: present in the emitter's statement when the emitter chose it
    allows: Callable[[Node], bool]  # the nodes for which the kernel file's statement holds


DSP_IN_PLACE = {
    # kernels/depthwise_conv.h: with depth multiplier 1, a channel's outputs overwrite only that
    # channel's bytes, which its int16 plane already holds.
    OpType.DEPTHWISE_CONV_2D: DirectDsp("leafml_depthwise_conv2d_dsp_s8(", lambda node: node.attrs.depth_multiplier == 1),
}


class _RowWalkSource(ModelSource):
    """Declares into ``src``; the node's data input and output are the walk's pointers, its windowed params the walk's copy."""

    def __init__(self, src: ModelSource, node: Node):
        super().__init__(src.graph, src.storage, src.offsets)
        self.declarations = src.declarations
        self.node = node
        self.params: tuple[str, str] | None = None  # C type and name of the params struct holding the window

    def pointer(self, tensor: str) -> str:
        if tensor == self.node.inputs[0]:
            return "walk.input"
        if tensor == self.node.outputs[0]:
            return "walk.output"
        return super().pointer(tensor)

    def struct(self, ctype: str, name: str, fields: dict[str, object]) -> str:
        address = super().struct(ctype, name, fields)
        if "window" not in fields:
            return address
        assert self.params is None, f"node {name}: two params structs hold a window"
        self.params = (ctype, name)
        return "&band"


def emit_node(src: ModelSource, index: int, node: Node, params: Any, memory: GraphPlan) -> str:
    """The C statement running node ``index``: its operator's emitter's, inside a row walk where the plan says so."""
    step = memory.in_place.get(index)
    if step is None or step.rows is None:
        return EMITTERS[node.op].emit(src, index, node, params)
    walk = _row_walk(src, index, node, params, step)
    direct = DSP_IN_PLACE.get(node.op)
    if direct is None or not direct.allows(node):
        return walk
    # The emitter again, for the call alone: its declarations (the same names and values) stay out of model.c.
    call = EMITTERS[node.op].emit(ModelSource(src.graph, src.storage, src.offsets), index, node, params)
    if direct.call not in call:
        return walk
    return (
        "#if LEAFML_ARM_DSP /* the DSP kernel writes over its own input: one call (its #else is never compiled) */\n"
        f"    {call}\n    #else\n    {walk}\n    #endif"
    )


def _row_walk(src: ModelSource, index: int, node: Node, params: Any, step: InPlaceStep) -> str:
    """The node's kernel call inside a row walk over the bytes it overwrites."""
    assert step.rows is not None and step.scratch is not None
    walk_src = _RowWalkSource(src, node)
    call = EMITTERS[node.op].emit(walk_src, index, node, params)
    src.const_bytes += walk_src.const_bytes
    assert walk_src.params is not None, f"{node.op.value}: its emitter declares no params struct with a window"
    ctype, name = walk_src.params
    # Block scope: a build that runs the DSP kernel directly compiles none of the walk.
    rows = c_struct("leafml_rows_t", "rows", {
        "pixel_rows": int(step.rows.pixel_rows),
        "band_rows": step.rows.band_rows,
        "delay": step.rows.delay,
        "in_row_bytes": step.rows.in_row_bytes,
        "out_row_bytes": step.rows.out_row_bytes,
    })
    buffer, scratch = src.pointer(step.input), f"arena.bytes + {src.offsets[step.scratch]}"
    lines = [
        f"{{ /* in place: {step.rows.describe()} */",
        *(f"    {line}" for line in rows.splitlines()),
        f"    {ctype} band = {name};",
        "    leafml_row_walk_t walk;",
        f"    leafml_row_walk_begin(&walk, &rows, &band.window, {buffer}, {scratch});",
        "    while (leafml_row_walk_next(&walk, &band.window)) {",
        f"        {call}",
        "    }",
        "}",
    ]
    return "\n    ".join(lines)


def in_place_kernels(memory: GraphPlan) -> list[str]:
    """The kernel files the in-place nodes add to ``leafml_runtime.h``."""
    return [ROW_WALK_KERNEL] if any(step.rows is not None for step in memory.in_place.values()) else []
