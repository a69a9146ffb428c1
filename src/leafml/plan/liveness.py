"""The arena buffers of a graph: activation tensors with lifetimes in node indices.

A tensor is born at the node that writes it and dies at the last node that
reads it; a graph output lives to the last node, because the caller copies
it out after the whole graph has run.  An operator whose output aliases its
input (RESHAPE) adds no buffer: the output joins its input's buffer, which
then lives until the last reader of either.  Graph inputs are read where the
caller holds them, so they and their aliases take no arena space.

A node run *in place* also adds no buffer for its output: the output joins
the buffer of the input it overwrites (the buffer takes the larger of the
two sizes), and a node computed row by row adds a scratch buffer that lives
at its step only.  :func:`in_place_options` lists where that is allowed:
the operator must offer it (:meth:`~leafml.ops.base.OpDef.in_place`), the
input must be in the arena and die at the node, no other input of the node
may share its bytes, and it must save bytes.  Because an overwritten input
is dead, one node's choice never makes another's unsafe, so the options can
be taken or left one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from leafml.ir.graph import Graph
from leafml.ops import get_op
from leafml.plan.buffers import Buffer
from leafml.plan.rows import RowSchedule, row_schedule


@dataclass(frozen=True)
class InPlaceStep:
    """A node that writes its output over the bytes of its input tensor ``input``."""

    input: str
    rows: RowSchedule | None = None  # None: element-wise; else computed one output row at a time
    scratch: str | None = None  # the name of the scratch buffer of a row walk

    @property
    def scratch_bytes(self) -> int:
        """Bytes of scratch the node needs while it runs (0 for element-wise)."""
        return 0 if self.rows is None else self.rows.scratch_bytes


@dataclass(frozen=True)
class GraphBuffers:
    """Arena buffers of a graph and, for every activation tensor, the buffer (or graph input) holding it."""

    buffers: list[Buffer]
    storage: dict[str, str]  # activation tensor name -> buffer name or graph input name
    in_place: dict[int, InPlaceStep]  # node index -> how the node overwrites its input


def _alias_storage(graph: Graph) -> dict[str, str]:
    """Tensor -> the tensor whose bytes hold it, when only aliases (no in-place nodes) share bytes."""
    storage = {name: name for name in graph.inputs}
    for node in graph.nodes:
        out = node.outputs[0]
        storage[out] = storage[node.inputs[0]] if get_op(node.op).alias_input() else out
    return storage


def _scratch_name(graph: Graph, index: int) -> str:
    name = f"scratch of node {index}"
    while name in graph.tensors:  # a tensor could carry any name
        name += "'"
    return name


def in_place_options(graph: Graph) -> dict[int, list[InPlaceStep]]:
    """For each node that may overwrite an input: the ways it may, in the operator's order of preference."""
    storage = _alias_storage(graph)
    last_read: dict[str, int] = {}
    for index, node in enumerate(graph.nodes):
        for name in node.inputs:
            if name in storage:
                last_read[storage[name]] = index
    pinned = set(graph.inputs) | {storage[name] for name in graph.outputs}  # the caller's bytes, or copied out at the end
    options: dict[int, list[InPlaceStep]] = {}
    for index, node in enumerate(graph.nodes):
        out = graph.tensors[node.outputs[0]]
        for way in get_op(node.op).in_place(graph, node):
            name = node.inputs[way.input_index]
            held = storage[name]
            if held in pinned or last_read[held] != index:
                continue
            if any(other != name and storage.get(other) == held for other in node.inputs):
                continue  # another operand reads these bytes under another shape
            rows = None
            if way.window is not None:
                rows = row_schedule(way.window, graph.tensors[name].nbytes, out.nbytes, way.pixelwise)
                if rows is None:
                    continue
            step = InPlaceStep(name, rows, None if rows is None else _scratch_name(graph, index))
            if min(graph.tensors[held].nbytes, out.nbytes) > step.scratch_bytes:
                options.setdefault(index, []).append(step)
    return options


def graph_buffers(graph: Graph, in_place: Mapping[int, InPlaceStep] | None = None) -> GraphBuffers:
    """Buffers of the activation tensors of ``graph`` (sizes in bytes), aliases and ``in_place`` nodes merged.

    ``in_place`` holds steps from :func:`in_place_options` (by default none).
    """
    in_place = dict(in_place or {})
    storage = {name: name for name in graph.inputs}
    born: dict[str, int] = {}
    dies: dict[str, int] = {}
    size: dict[str, int] = {}
    scratch: list[Buffer] = []
    for index, node in enumerate(graph.nodes):
        for name in node.inputs:
            if name in storage:
                dies[storage[name]] = index
        out = node.outputs[0]
        step = in_place.get(index)
        if get_op(node.op).alias_input():
            storage[out] = storage[node.inputs[0]]
        elif step is not None:
            held = storage[step.input]
            storage[out] = held
            size[held] = max(size[held], graph.tensors[out].nbytes)
            if step.rows is not None:
                assert step.scratch is not None
                scratch.append(Buffer(step.scratch, step.rows.scratch_bytes, index, index))
        else:
            storage[out] = out
            born[out] = dies[out] = index
            size[out] = graph.tensors[out].nbytes
    last = len(graph.nodes) - 1
    for name in graph.outputs:
        dies[storage[name]] = last
    buffers = [Buffer(name, size[name], born[name], dies[name]) for name in born] + scratch
    return GraphBuffers(buffers, storage, in_place)
