"""Memory planning: place activation buffers in one static arena.

``plan(buffers)`` is the one entry point; today it runs the greedy-by-size
first-fit strategy.  Every plan, whatever made it, must pass
``check_plan``, and ``lower_bound`` says how far from optimal it can be.
"""

from __future__ import annotations

from leafml.plan.buffers import ALIGNMENT, Buffer, Plan, PlanError, align_up, check_plan, format_plan, lower_bound
from leafml.plan.greedy import greedy_by_size
from leafml.plan.liveness import GraphBuffers, graph_buffers


def plan(buffers: list[Buffer], alignment: int = ALIGNMENT) -> Plan:
    """Offsets (bytes, multiples of ``alignment``) for ``buffers`` in the smallest arena found."""
    return greedy_by_size(buffers, alignment)


__all__ = [
    "ALIGNMENT",
    "Buffer",
    "GraphBuffers",
    "Plan",
    "PlanError",
    "align_up",
    "check_plan",
    "format_plan",
    "graph_buffers",
    "greedy_by_size",
    "lower_bound",
    "plan",
]
