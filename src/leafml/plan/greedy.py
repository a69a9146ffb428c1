"""Greedy-by-size first-fit placement, the algorithm of TFLM's GreedyMemoryPlanner.

Buffers are placed largest first (ties: earlier birth, then name, so the plan
is deterministic).  Each one goes to the lowest aligned offset that does not
overlap any already placed buffer whose lifetime it shares: the gaps between
those neighbours are tried from the bottom up, and if none is large enough it
goes above the highest of them.  Placing large buffers first leaves the small
ones to fill holes.  The result is not optimal (the problem is NP-hard), but
it is usually close to :func:`~leafml.plan.buffers.lower_bound`.
"""

from __future__ import annotations

from leafml.plan.buffers import ALIGNMENT, Buffer, Plan, align_up


def greedy_by_size(buffers: list[Buffer], alignment: int = ALIGNMENT) -> Plan:
    """Place ``buffers`` in one arena; offsets are multiples of ``alignment`` bytes."""
    order = sorted(buffers, key=lambda b: (-b.size, b.first_use, b.name))
    placed: list[tuple[int, Buffer]] = []
    offsets: dict[str, int] = {}
    for buffer in order:
        neighbours = sorted(((off, other) for off, other in placed if other.size and buffer.lives_with(other)), key=lambda p: p[0])
        offset = 0
        for other_offset, other in neighbours:
            if offset + buffer.size <= other_offset:
                break  # the gap below this neighbour is large enough
            offset = max(offset, align_up(other_offset + other.size, alignment))
        offsets[buffer.name] = offset
        placed.append((offset, buffer))
    arena = max((offsets[b.name] + b.size for b in buffers), default=0)
    return Plan(offsets, align_up(arena, alignment), "greedy by size")
