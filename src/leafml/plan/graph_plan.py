"""A graph's memory plan: which nodes run in place, where each buffer goes, and how far from optimal that can be.

Choosing in-place nodes.  Every allowed way starts taken (the operator's
first); then, node by node, each alternative (not in place, or another
input) is tried and kept when the arena shrinks, or stays the same and the
alternative is cheaper to run: an element-wise kernel costs nothing extra
in place, a row walk costs a kernel call per band, so an element-wise node
stays in place on a tie and a row-walked one does not.  A node is walked
only where that lowers the arena.  The trials use the greedy
planner; the final plan uses the best strategy (:func:`leafml.plan.plan`).
Last, each row walk's scratch moves to the largest free stretch of the
arena at its step, and its bands widen to fill it: fewer kernel calls, the
same arena.

The lower bound is the peak, over steps, of the bytes that must be live at
that step with the most saving in-place choice *at that step*: an in-place
node saves the smaller of its input and output less its scratch at its own
step and never lowers another step's live bytes, so no choice of in-place
nodes and no placement can use less.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from leafml.ir.graph import Graph
from leafml.plan.buffers import ALIGNMENT, Buffer, Plan, align_up, format_plan, lower_bound
from leafml.plan.greedy import greedy_by_size
from leafml.plan.liveness import GraphBuffers, InPlaceStep, graph_buffers, in_place_options
from leafml.plan.strategy import plan


@dataclass(frozen=True)
class GraphPlan:
    """The arena of a graph: buffers, where each tensor lives, the in-place nodes, the offsets, and the lower bound."""

    buffers: list[Buffer]
    storage: dict[str, str]  # activation tensor -> buffer (or graph input) holding it
    in_place: dict[int, InPlaceStep]  # node index -> how it overwrites its input
    plan: Plan
    lower_bound: int  # bytes: no plan of this node order, with any in-place choice, needs fewer

    @property
    def arena_bytes(self) -> int:
        """The arena, scratch included, bytes."""
        return self.plan.arena_bytes

    def format(self, width: int = 64) -> str:
        """The plan as ASCII (see :func:`~leafml.plan.buffers.format_plan`) with the strategy, bound and in-place nodes."""
        lines = [
            f"arena {self.arena_bytes:,} bytes by {self.plan.strategy}; "
            f"lower bound for this node order {self.lower_bound:,} bytes (in-place choices counted)",
            format_plan(self.buffers, self.plan, width),
        ]
        for index, step in sorted(self.in_place.items()):
            how = "element by element" if step.rows is None else step.rows.describe()
            lines.append(f"node {index} writes its output over {step.input!r}: {how}")
        return "\n".join(lines)


def _cost(step: InPlaceStep | None) -> int:
    """Run-time cost rank of a way to run a node: element-wise in place < ordinary < row walk."""
    if step is None:
        return 1
    return 0 if step.rows is None else 2


def plan_graph(graph: Graph, alignment: int = ALIGNMENT) -> GraphPlan:
    """Choose the in-place nodes of ``graph`` and place its buffers; offsets are multiples of ``alignment`` bytes."""
    options = in_place_options(graph)
    chosen = {index: ways[0] for index, ways in options.items()}
    arena = greedy_by_size(graph_buffers(graph, chosen).buffers, alignment).arena_bytes
    for index, ways in options.items():
        for way in [None, *ways]:
            if way == chosen.get(index):
                continue
            trial = {i: w for i, w in chosen.items() if i != index}
            if way is not None:
                trial[index] = way
            buffers = graph_buffers(graph, trial).buffers
            if align_up(lower_bound(buffers), alignment) > arena:
                continue  # its peak alone is larger
            trial_arena = greedy_by_size(buffers, alignment).arena_bytes
            if trial_arena < arena or (trial_arena == arena and _cost(way) < _cost(chosen.get(index))):
                chosen, arena = trial, trial_arena
    located = graph_buffers(graph, chosen)
    placed = plan(located.buffers, alignment)
    buffers, in_place, offsets = _widen_bands(located, placed, alignment)
    return GraphPlan(buffers, located.storage, in_place, replace(placed, offsets=offsets), schedule_lower_bound(graph))


def _widen_bands(located: GraphBuffers, placed: Plan, alignment: int) -> tuple[list[Buffer], dict[int, InPlaceStep], dict[str, int]]:
    """Move each row walk's scratch to the largest free stretch of the arena at its step and widen its bands to fill it.

    Wider bands mean fewer kernel calls for the same arena: a scratch lives
    at its own step only, so the stretch is free whatever else the plan holds.
    """
    buffers, in_place, offsets = list(located.buffers), dict(located.in_place), dict(placed.offsets)
    for index, step in located.in_place.items():
        if step.rows is None:
            continue
        taken = sorted((offsets[b.name], offsets[b.name] + b.size) for b in buffers if b.size and b.name != step.scratch and b.first_use <= index <= b.last_use)
        stretches, free_from = [], 0
        for start, end in taken:
            stretches.append((free_from, start))
            free_from = max(free_from, align_up(end, alignment))
        stretches.append((free_from, placed.arena_bytes))
        start, end = max(stretches, key=lambda s: s[1] - s[0])
        rows = step.rows.widest(end - start)
        in_place[index] = replace(step, rows=rows)
        offsets[step.scratch] = start
        buffers = [Buffer(b.name, rows.scratch_bytes, index, index) if b.name == step.scratch else b for b in buffers]
    return buffers, in_place, offsets


def schedule_lower_bound(graph: Graph) -> int:
    """Bytes no memory plan of ``graph``'s node order can go below, whatever nodes run in place."""
    plain = graph_buffers(graph)
    live = [0] * len(graph.nodes)
    for b in plain.buffers:
        for step in range(b.first_use, b.last_use + 1):
            live[step] += b.size
    sizes = {b.name: b.size for b in plain.buffers}
    for index, ways in in_place_options(graph).items():
        out = graph.tensors[graph.nodes[index].outputs[0]].nbytes
        live[index] -= max(min(sizes[plain.storage[way.input]], out) - way.scratch_bytes for way in ways)
    return max(live, default=0)
