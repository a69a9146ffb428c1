"""Memory planning: the overlap check, the planners, the lower bounds, graph liveness, in-place nodes and their C."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from int8_graphs import GraphBuilder
from leafml.ir import Padding
from leafml.ops.base import window
from leafml.plan import (
    Buffer, Plan, PlanError, RowSchedule, align_up, branch_and_bound, check_plan, format_plan, graph_buffers, greedy_by_size, lower_bound, plan,
    row_schedule,
)


# -- check_plan ---------------------------------------------------------------
def test_check_plan_accepts_reuse_across_disjoint_lifetimes():
    buffers = [Buffer("a", 100, 0, 1), Buffer("b", 100, 2, 3)]
    check_plan(buffers, Plan({"a": 0, "b": 0}, 100))


def test_check_plan_catches_overlap_of_live_buffers():
    buffers = [Buffer("a", 100, 0, 2), Buffer("b", 40, 2, 3)]
    with pytest.raises(PlanError, match="'a' and 'b' overlap"):
        check_plan(buffers, Plan({"a": 0, "b": 96}, 136))


def test_check_plan_catches_partial_overlap_further_up():
    # "c" starts inside "a" even though a disjoint "b" sorts between them.
    buffers = [Buffer("a", 64, 0, 3), Buffer("b", 8, 4, 5), Buffer("c", 8, 3, 3)]
    with pytest.raises(PlanError, match="'a' and 'c'"):
        check_plan(buffers, Plan({"a": 0, "b": 4, "c": 60}, 68))


@pytest.mark.parametrize(
    ("offsets", "arena", "message"),
    [
        ({"a": 0}, 16, "'b' has no offset"),
        ({"a": 0, "b": 18}, 32, "not a non-negative multiple of 4"),
        ({"a": 0, "b": 16}, 20, "past the 20-byte arena"),
    ],
)
def test_check_plan_catches_missing_misaligned_and_out_of_arena(offsets, arena, message):
    with pytest.raises(PlanError, match=message):
        check_plan([Buffer("a", 16, 0, 1), Buffer("b", 8, 1, 2)], Plan(offsets, arena))


def test_buffer_rejects_a_lifetime_that_ends_before_it_starts():
    with pytest.raises(PlanError, match="dies at step 1 before it is born at step 2"):
        Buffer("a", 4, 2, 1)


# -- lower bound and greedy -------------------------------------------------
def test_lower_bound_is_the_peak_of_live_bytes():
    buffers = [Buffer("a", 100, 0, 1), Buffer("b", 50, 1, 2), Buffer("c", 70, 2, 3), Buffer("d", 10, 0, 3)]
    assert lower_bound(buffers) == 160  # step 1: a + b + d
    assert lower_bound([]) == 0


def test_greedy_ping_pongs_a_chain():
    # A chain of layers needs only two slots: each output reuses the bytes of the input before last.
    buffers = [Buffer(f"t{i}", 64, i, i + 1) for i in range(6)]
    p = plan(buffers)
    check_plan(buffers, p)
    assert p.arena_bytes == 128 == lower_bound(buffers)
    assert {p.offsets[f"t{i}"] for i in range(6)} == {0, 64}


def test_greedy_fills_a_gap_between_neighbours():
    # "late" reuses "big"'s bytes below "top"; the 4 bytes left between "late" and "top" fit "small".
    buffers = [Buffer("big", 100, 0, 1), Buffer("top", 40, 0, 3), Buffer("late", 96, 2, 3), Buffer("small", 4, 2, 3)]
    p = plan(buffers)
    check_plan(buffers, p)
    assert p.offsets == {"big": 0, "late": 0, "top": 100, "small": 96}
    assert p.arena_bytes == 140 == lower_bound(buffers)


buffer_sets = st.lists(
    st.tuples(st.integers(0, 300), st.integers(0, 12), st.integers(0, 5)),
    min_size=0,
    max_size=25,
).map(lambda rows: [Buffer(f"b{i}", size, start, start + length) for i, (size, start, length) in enumerate(rows)])


@settings(max_examples=300, deadline=None)
@given(buffer_sets)
def test_greedy_never_overlaps_and_respects_the_lower_bound(buffers):
    p = greedy_by_size(buffers)
    check_plan(buffers, p)
    assert p.arena_bytes >= lower_bound(buffers)
    assert p.arena_bytes % 4 == 0
    assert p.arena_bytes <= sum(-(-b.size // 4) * 4 for b in buffers)  # never worse than no reuse


def test_format_plan_draws_every_step_and_lists_every_buffer():
    buffers = [Buffer("conv", 392, 0, 1), Buffer("pool", 72, 1, 2), Buffer("fc", 10, 2, 2)]
    text = format_plan(buffers, plan(buffers), width=32)
    lines = text.splitlines()
    assert lines[0].startswith("arena 464 bytes, lower bound 464 bytes")
    assert [line.split("|")[0].strip() for line in lines[1:4]] == ["0", "1", "2"]
    assert all(len(line.split("|")[1]) == 32 for line in lines[1:4])
    assert "A" in lines[1] and "B" not in lines[1] and "C" in lines[3]
    assert any(line.strip().startswith("B pool") and "offset" in line for line in lines[4:])


# -- graph liveness -------------------------------------------------------------
def test_graph_buffers_merge_reshape_aliases_and_skip_the_input():
    g = (
        GraphBuilder((1, 6, 6, 2))
        .conv(4, 3)
        .max_pool(2, 2)
        .reshape((1, -1))
        .fully_connected(5)
        .reshape((1, 5))
        .build()
    )
    located = graph_buffers(g)
    by_name = {b.name: b for b in located.buffers}
    # conv(0) pool(1) reshape(2) fc(3) reshape(4): the pool's bytes live on to the fc that reads its alias.
    assert by_name == {
        "conv": Buffer("conv", 4 * 4 * 4 * 4, 0, 1),
        "maxpool": Buffer("maxpool", 2 * 2 * 4 * 4, 1, 3),
        "fc": Buffer("fc", 5 * 4, 3, 4),  # graph output (an alias of fc) lives to the last step
    }
    assert located.storage["reshape"] == "maxpool" and located.storage["reshape_1"] == "fc"
    assert located.storage["input"] == "input"


def test_graph_buffers_of_a_reshaped_input_need_no_arena():
    g = GraphBuilder((1, 4, 4, 1)).reshape((1, 16)).build()
    located = graph_buffers(g)
    assert located.buffers == [] and located.storage["reshape"] == "input"
    assert plan(located.buffers).arena_bytes == 0


def test_graph_plan_of_a_branchless_cnn_reaches_the_lower_bound():
    g = GraphBuilder((1, 9, 9, 3)).conv(8, 3).max_pool(2, 2).conv(8, 3, stride=2, padding=Padding.SAME).build()
    buffers = graph_buffers(g).buffers
    p = plan(buffers)
    check_plan(buffers, p)
    assert p.arena_bytes == lower_bound(buffers) == (7 * 7 * 8 + 3 * 3 * 8) * np.dtype(np.float32).itemsize


# -- branch and bound, and the strategy picker ------------------------------------
# Greedy by size puts b0 at 36 (above b1 and b6), so b4 goes to 48; optimal is 44.
GREEDY_MISSES = [
    Buffer("b0", 12, 6, 9), Buffer("b1", 12, 5, 8), Buffer("b2", 16, 9, 12), Buffer("b3", 8, 1, 4),
    Buffer("b4", 8, 8, 11), Buffer("b5", 20, 10, 12), Buffer("b6", 4, 3, 6),
]


def test_branch_and_bound_finds_the_optimum_greedy_misses():
    assert greedy_by_size(GREEDY_MISSES).arena_bytes == 56
    p = plan(GREEDY_MISSES)
    check_plan(GREEDY_MISSES, p)
    assert p.arena_bytes == 44 == lower_bound(GREEDY_MISSES)
    assert p.strategy == "branch and bound (optimal)"


def test_plan_names_the_strategy_and_its_optimality():
    chain = [Buffer(f"t{i}", 64, i, i + 1) for i in range(6)]
    assert plan(chain).strategy == "greedy by size (optimal: at the lower bound)"
    # Three buffers pairwise live, one of them twice: the peak (24) cannot be reached, 28 is optimal.
    odd = [Buffer("a", 8, 0, 1), Buffer("b", 8, 1, 2), Buffer("c", 8, 0, 0), Buffer("d", 12, 2, 3), Buffer("e", 4, 0, 3)]
    p = plan(odd)
    check_plan(odd, p)
    assert p.arena_bytes >= lower_bound(odd)
    assert "optimal" in p.strategy


def test_branch_and_bound_out_of_budget_still_gives_a_valid_plan():
    p, proven = branch_and_bound(GREEDY_MISSES, budget=2)
    check_plan(GREEDY_MISSES, p)
    assert not proven and p.arena_bytes == greedy_by_size(GREEDY_MISSES).arena_bytes  # its first plan is greedy's


def _best_over_all_orders(buffers: list[Buffer]) -> int:
    """The smallest arena over every placement order with lowest fit (exhaustive)."""
    arenas = []
    for order in itertools.permutations([b for b in buffers if b.size]):
        placed: list[tuple[int, Buffer]] = []
        for b in order:
            offset = 0
            for start, other in sorted(((o, x) for o, x in placed if x.lives_with(b)), key=lambda pair: pair[0]):
                if offset + b.size <= start:
                    break
                offset = max(offset, align_up(start + other.size))
            placed.append((offset, b))
        arenas.append(align_up(max((o + b.size for o, b in placed), default=0)))
    return min(arenas, default=0)


small_buffer_sets = st.lists(
    st.tuples(st.sampled_from([4, 5, 8, 12, 16, 20, 36]), st.integers(0, 8), st.integers(0, 4)), min_size=0, max_size=6
).map(lambda rows: [Buffer(f"b{i}", size, start, start + length) for i, (size, start, length) in enumerate(rows)])


@settings(max_examples=150, deadline=None)
@given(small_buffer_sets)
def test_branch_and_bound_equals_the_exhaustive_search(buffers):
    p, proven = branch_and_bound(buffers)
    check_plan(buffers, p)
    assert proven and p.arena_bytes == _best_over_all_orders(buffers)
    best = plan(buffers)
    check_plan(buffers, best)
    assert best.arena_bytes == p.arena_bytes <= greedy_by_size(buffers).arena_bytes


# -- the row walk ---------------------------------------------------------------------
def _walk_is_safe(walk: RowSchedule) -> bool:
    """Run the row walk of kernels/in_place.h on labels: no band reads a stored-over byte, and the output ends in place."""
    w, rows, in_row, out_row = walk.window, walk.band_rows, walk.in_row_bytes, walk.out_row_bytes
    buffer = np.arange(max(w.in_h * in_row, w.out_h * out_row))  # input byte k holds k; output byte k will hold -(k + 1)
    bands = -(-w.out_h // rows)

    def store(band: int) -> None:
        start, end = band * rows * out_row, min((band + 1) * rows, w.out_h) * out_row
        buffer[start:end] = -(np.arange(start, end) + 1)

    for band in range(bands):
        if band >= walk.delay:
            store(band - walk.delay)
        for r in range(band * rows, min((band + 1) * rows, w.out_h)):
            top = r * w.stride_h - w.pad_top
            for y in (top + k * w.dilation_h for k in range(w.k_h)):
                if 0 <= y < w.in_h and not np.array_equal(buffer[y * in_row : (y + 1) * in_row], np.arange(y * in_row, (y + 1) * in_row)):
                    return False
    for band in range(max(0, bands - walk.delay), bands):
        store(band)
    return np.array_equal(buffer[: w.out_h * out_row], -(np.arange(w.out_h * out_row) + 1))


@pytest.mark.parametrize(
    ("geometry", "in_row", "out_row", "delay"),
    [
        ((8, 3, 1, Padding.SAME), 40, 40, 2),  # 3x3 SAME: row j waits for row j + 1
        ((8, 5, 1, Padding.SAME), 40, 40, 3),
        ((8, 3, 1, Padding.VALID), 40, 38, 1),  # no top padding: row j's window starts at input row j
        ((8, 3, 2, Padding.SAME), 40, 40, 1),  # stride 2 halves the rows, the channels double
        ((8, 3, 2, Padding.SAME), 40, 96, 2),  # more output bytes per row than the stride saves: rows wait longer
        ((2, 3, 2, Padding.SAME), 40, 80, None),  # only a whole-output scratch would do
        ((1, 3, 1, Padding.SAME), 40, 40, None),  # one output row: nothing to walk
    ],
)
def test_row_schedule_of_common_layers(geometry, in_row, out_row, delay):
    in_h, k, stride, padding = geometry
    w = window(in_h, 5, k, k, (stride, stride), (1, 1), padding)
    schedule = row_schedule(w, in_row * w.in_h, out_row * w.out_h)
    assert (schedule and schedule.delay) == delay
    if schedule is not None:
        assert (schedule.band_rows, schedule.scratch_bytes, schedule.pixel_rows) == (1, delay * out_row, False)
        assert _walk_is_safe(schedule)
        assert delay == 1 or not _walk_is_safe(replace(schedule, delay=delay - 1))


def test_a_1x1_conv_is_walked_pixel_by_pixel_and_widened_in_blocks_of_4():
    w = window(5, 5, 1, 1, (1, 1), (1, 1), Padding.SAME)  # 25 pixels, 64 channels in and out
    schedule = row_schedule(w, 25 * 64, 25 * 64, pixel_rows=True)
    assert (schedule.pixel_rows, schedule.band_rows, schedule.delay, schedule.scratch_bytes) == (True, 1, 1, 64)
    assert schedule.window.out_h == 25 and schedule.window.out_w == 1
    assert schedule.describe() == "bands of 1 pixel, 1 waiting in 64 bytes of scratch"
    wide = schedule.widest(11 * 64)  # 11 pixels fit, 8 is the widest multiple of 4
    assert (wide.band_rows, wide.delay, wide.scratch_bytes) == (8, 1, 512)
    assert schedule.widest(3 * 64).band_rows == 3 and schedule.widest(60) is schedule
    assert _walk_is_safe(wide)
    # More output than input channels: pixel j can be stored only once pixel 2j is read.
    assert row_schedule(w, 25 * 32, 25 * 48, pixel_rows=True).delay == 9


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 12), st.integers(1, 5), st.integers(1, 3), st.integers(1, 2), st.sampled_from(list(Padding)),
    st.integers(1, 6), st.integers(1, 6), st.integers(1, 40),
)
def test_row_schedule_is_safe_and_the_smallest_and_widening_stays_safe(in_h, k, stride, dilation, padding, in_row, out_row, limit):
    assume((k - 1) * dilation + 1 <= in_h or padding is Padding.SAME)
    w = window(in_h, 4, k, 1, (stride, 1), (dilation, 1), padding)
    schedule = row_schedule(w, in_row * w.in_h, out_row * w.out_h)
    walks = [RowSchedule(w, False, 1, d, in_row, out_row) for d in range(1, w.out_h)]
    safe = [walk.delay for walk in walks if _walk_is_safe(walk)]
    assert (schedule.delay if schedule else None) == (safe[0] if safe else None)
    if schedule is not None:
        wide = schedule.widest(limit)
        assert _walk_is_safe(wide) and (wide is schedule or wide.scratch_bytes <= limit)
        assert wide.delay == 1 or not _walk_is_safe(replace(wide, delay=wide.delay - 1))
