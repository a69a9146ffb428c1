"""Branch and bound over placement orders: the smallest arena, for graphs with few buffers.

Placing buffers one after another, each at the lowest aligned offset where
it overlaps no placed buffer it lives with ("lowest fit"), turns an order
into a plan.  Some order gives an optimal plan: sort any optimal plan's
buffers by offset and place them in that order; by induction each lands at
or below its optimal offset (every buffer placed before it and living with
it lies wholly below its optimal offset, so that offset is still free),
and so the arena is no larger.  The search therefore only has to look at
orders, and three facts cut it down:

- Lowest fit never moves down as more buffers are placed, so the highest
  ``lowest fit + size`` over the buffers still to place bounds every plan
  below the current node; a node whose bound reaches the best arena found
  is dropped.
- Two buffers whose lifetimes do not meet do not see each other, so
  swapping them when adjacent in an order changes nothing: of such a pair
  only the order with the lower index first is searched.
- No plan beats the peak of live bytes (:func:`~leafml.plan.buffers.lower_bound`);
  reaching it ends the search.

Children are tried largest buffer first, so the first complete plan is
greedy-by-size's.  The search stops after ``budget`` nodes and then
returns the best plan found, saying it is not proven optimal.
"""

from __future__ import annotations

from leafml.plan.buffers import ALIGNMENT, Buffer, Plan, align_up, lower_bound

DEFAULT_BUDGET = 10_000  # search nodes: about half a second in CPython for 30 buffers


def _lowest_fit(size: int, neighbours: list[tuple[int, int]], alignment: int) -> int:
    """The lowest aligned offset of ``size`` bytes clear of ``neighbours`` ((offset, end) pairs sorted by offset)."""
    offset = 0
    for start, end in neighbours:
        if offset + size <= start:
            break
        offset = max(offset, align_up(end, alignment))
    return offset


def branch_and_bound(buffers: list[Buffer], alignment: int = ALIGNMENT, budget: int = DEFAULT_BUDGET) -> tuple[Plan, bool]:
    """The smallest arena found over placement orders, and whether the search proved it optimal.

    Offsets are multiples of ``alignment`` bytes; ``budget`` caps the nodes
    searched, which keeps the result deterministic.
    """
    order = sorted((b for b in buffers if b.size), key=lambda b: (-b.size, b.first_use, b.name))
    n = len(order)
    meets = [[i != j and order[i].lives_with(order[j]) for j in range(n)] for i in range(n)]
    target = align_up(lower_bound(order), alignment)
    offsets: list[int | None] = [None] * n
    best_offsets: list[int] = [0] * n
    best_arena = sum(align_up(b.size, alignment) for b in order) + 1  # worse than any plan
    nodes = 0
    cut_short = False

    def fit(i: int) -> int:
        placed = sorted((off, off + order[j].size) for j, off in enumerate(offsets) if off is not None and meets[i][j])
        return _lowest_fit(order[i].size, placed, alignment)

    def search(last: int | None, arena: int) -> bool:
        """Place the buffers left after ``last`` was placed; True when the whole search must stop."""
        nonlocal best_arena, best_offsets, nodes, cut_short
        nodes += 1
        unplaced = [i for i in range(n) if offsets[i] is None]
        if not unplaced:
            best_arena, best_offsets = arena, list(offsets)  # type: ignore[arg-type]
            return arena <= target
        fits = {i: fit(i) for i in unplaced}
        if max(arena, *(fits[i] + order[i].size for i in unplaced)) >= best_arena:
            return False
        for i in unplaced:
            if last is not None and i < last and not meets[i][last]:
                continue  # the same plan as placing i before last
            offsets[i] = fits[i]
            stop = search(i, max(arena, fits[i] + order[i].size))
            offsets[i] = None
            if stop:
                return True
            if nodes >= budget:
                cut_short = True
                return True
        return False

    search(None, 0)
    placed = {b.name: off for b, off in zip(order, best_offsets)}
    plan = Plan({b.name: placed.get(b.name, 0) for b in buffers}, align_up(best_arena if n else 0, alignment), "branch and bound")
    return plan, not cut_short or best_arena <= target
