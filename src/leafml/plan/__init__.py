"""Memory planning: place activation buffers in one static arena.

``plan(buffers)`` places given buffers with the best of its strategies
(greedy by size; branch and bound for few buffers).  ``plan_graph(graph)``
also decides which nodes write their output over their input (element-wise
operators, and convolutions row by row with a small scratch) and gives the
lower bound of the graph's node order.  Every plan, whatever made it, must
pass ``check_plan``; ``format_plan`` draws it in ASCII, ``timeline_png`` as
a picture, and ``check_ram_limit`` refuses a model over a RAM limit.
"""

from __future__ import annotations

from leafml.plan.buffers import ALIGNMENT, Buffer, Plan, PlanError, align_up, check_plan, format_plan, lower_bound
from leafml.plan.exact import branch_and_bound
from leafml.plan.graph_plan import GraphPlan, plan_graph, schedule_lower_bound
from leafml.plan.greedy import greedy_by_size
from leafml.plan.liveness import GraphBuffers, InPlaceStep, graph_buffers, in_place_options
from leafml.plan.ram_limit import RamLimitError, check_ram_limit
from leafml.plan.rows import RowSchedule, row_schedule
from leafml.plan.strategy import plan
from leafml.plan.timeline import timeline_png

__all__ = [
    "ALIGNMENT",
    "Buffer",
    "GraphBuffers",
    "GraphPlan",
    "InPlaceStep",
    "Plan",
    "PlanError",
    "RamLimitError",
    "RowSchedule",
    "align_up",
    "branch_and_bound",
    "check_plan",
    "check_ram_limit",
    "format_plan",
    "graph_buffers",
    "greedy_by_size",
    "in_place_options",
    "lower_bound",
    "plan",
    "plan_graph",
    "row_schedule",
    "schedule_lower_bound",
    "timeline_png",
]
