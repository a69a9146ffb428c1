"""The arena buffers of a graph: activation tensors with lifetimes in node indices.

A tensor is born at the node that writes it and dies at the last node that
reads it; a graph output lives to the last node, because the caller copies
it out after the whole graph has run.  An operator whose output aliases its
input (RESHAPE) adds no buffer: the output joins its input's buffer, which
then lives until the last reader of either.  Graph inputs are read where the
caller holds them, so they and their aliases take no arena space.
"""

from __future__ import annotations

from dataclasses import dataclass

from leafml.ir.graph import Graph
from leafml.ops import get_op
from leafml.plan.buffers import Buffer


@dataclass(frozen=True)
class GraphBuffers:
    """Arena buffers of a graph and, for every activation tensor, the buffer (or graph input) holding it."""

    buffers: list[Buffer]
    storage: dict[str, str]  # activation tensor name -> buffer name or graph input name


def graph_buffers(graph: Graph) -> GraphBuffers:
    """Buffers of the activation tensors of ``graph`` (sizes in bytes), aliases merged."""
    storage = {name: name for name in graph.inputs}
    born: dict[str, int] = {}
    dies: dict[str, int] = {}
    for index, node in enumerate(graph.nodes):
        for name in node.inputs:
            if name in storage:
                dies[storage[name]] = index
        out = node.outputs[0]
        if get_op(node.op).alias_input():
            storage[out] = storage[node.inputs[0]]
        else:
            storage[out] = out
            born[out] = dies[out] = index
    last = len(graph.nodes) - 1
    for name in graph.outputs:
        dies[storage[name]] = last
    buffers = [Buffer(name, graph.tensors[name].nbytes, born[name], dies[name]) for name in born]
    return GraphBuffers(buffers, storage)
