"""Memory planning: the overlap check, the greedy planner, the lower bound, graph liveness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from int8_graphs import GraphBuilder
from leafml.ir import Padding
from leafml.plan import Buffer, Plan, PlanError, check_plan, format_plan, graph_buffers, lower_bound, plan


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
    p = plan(buffers)
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
