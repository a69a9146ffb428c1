"""``plan``: the smallest arena of the strategies, with the name of the one that found it.

Greedy by size always runs (fast, usually at the lower bound).  When it
misses the lower bound and there are few buffers, branch and bound over
placement orders searches for better, within a fixed node budget.
"""

from __future__ import annotations

from dataclasses import replace

from leafml.plan.buffers import ALIGNMENT, Buffer, Plan, align_up, lower_bound
from leafml.plan.exact import branch_and_bound
from leafml.plan.greedy import greedy_by_size

EXACT_MAX_BUFFERS = 40  # beyond this the search rarely finishes within its budget


def plan(buffers: list[Buffer], alignment: int = ALIGNMENT) -> Plan:
    """Offsets (bytes, multiples of ``alignment``) for ``buffers`` in the smallest arena found.

    ``Plan.strategy`` names the strategy and whether the arena is proven optimal.
    """
    greedy = greedy_by_size(buffers, alignment)
    if greedy.arena_bytes <= align_up(lower_bound(buffers), alignment):
        return replace(greedy, strategy="greedy by size (optimal: at the lower bound)")
    if sum(1 for b in buffers if b.size) > EXACT_MAX_BUFFERS:
        return greedy
    exact, proven = branch_and_bound(buffers, alignment)
    if exact.arena_bytes < greedy.arena_bytes:
        return replace(exact, strategy="branch and bound" + (" (optimal)" if proven else " (best found within its budget)"))
    return replace(greedy, strategy="greedy by size" + (" (optimal: proven by branch and bound)" if proven else ""))
