"""In-place nodes: where the planner allows them, which it takes, the lower bound, their C, and the MLPerf Tiny arenas."""

from __future__ import annotations

import re

import numpy as np
import pytest

from int8_graphs import add_int8_node, int8_input, random_int8, run_generated_c
from leafml.codegen import generate_c
from leafml.errors import LeafmlError
from leafml.firmware import run_cortex_m4
from leafml.firmware.host import run_host
from leafml.frontends.tflite import load_tflite
from leafml.ir import Activation, Graph, OpType, Padding, QuantParams
from leafml.ops import Conv2DAttrs, DepthwiseConv2DAttrs, ElementwiseAttrs, PoolAttrs, ReshapeAttrs
from leafml.plan import (
    RamLimitError,
    check_plan,
    check_ram_limit,
    graph_buffers,
    in_place_options,
    lower_bound,
    plan_graph,
    schedule_lower_bound,
    timeline_png,
)
from leafml.quant.fixedpoint import ROUNDINGS


class Int8Chain:
    """An int8 graph built layer by layer with random weights; each output scale keeps the values spread."""

    def __init__(self, shape: tuple[int, ...], seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.graph = int8_input(shape, 0.05, -3)
        self.last = "x"

    def _scale(self, name: str) -> float:
        return self.graph.tensors[name].quant.scalar_scale

    def conv(self, out_channels: int | None, kernel: int, stride: int = 1, padding: Padding = Padding.SAME, dilation: int = 1,
             depthwise: bool = False, activation: Activation = Activation.NONE, source: str | None = None) -> Int8Chain:
        """A CONV_2D (or, with ``depthwise``, a DEPTHWISE_CONV_2D with multiplier 1) reading ``source`` (default: the last output)."""
        source = source or self.last
        in_channels = self.graph.tensors[source].shape[3]
        out_channels = in_channels if depthwise else out_channels
        w_scales = (2.0 ** self.rng.uniform(-9, -6, out_channels)).astype(np.float32)
        zeros = np.zeros(out_channels, dtype=np.int64)
        shape = (1, kernel, kernel, out_channels) if depthwise else (out_channels, kernel, kernel, in_channels)
        index = len(self.graph.nodes)
        weights = self.graph.add_constant(f"weights{index}", self.rng.integers(-127, 128, shape).astype(np.int8),
                                          QuantParams(w_scales, zeros, axis=3 if depthwise else 0))
        bias = self.graph.add_constant(f"bias{index}", self.rng.integers(-2000, 2000, out_channels).astype(np.int32),
                                       QuantParams((np.float32(self._scale(source)) * w_scales).astype(np.float32), zeros))
        fan_in = kernel * kernel * (1 if depthwise else in_channels)
        scale = float(self._scale(source) * np.median(w_scales) * 30 * np.sqrt(fan_in))
        if depthwise:
            op, attrs = OpType.DEPTHWISE_CONV_2D, DepthwiseConv2DAttrs((stride, stride), padding, (dilation, dilation), activation, 1)
        else:
            op, attrs = OpType.CONV_2D, Conv2DAttrs((stride, stride), padding, (dilation, dilation), activation)
        return self._add(op, attrs, [source, weights.name, bias.name], scale, int(self.rng.integers(-20, 20)), "dw" if depthwise else "conv")

    def relu(self) -> Int8Chain:
        return self._add(OpType.RELU, None, [self.last], self._scale(self.last) * 0.7, -128, "relu")

    def add(self, other: str) -> Int8Chain:
        return self._add(OpType.ADD, ElementwiseAttrs(), [self.last, other], self._scale(self.last) * 1.5, 5, "add")

    def requantize(self) -> Int8Chain:
        return self._add(OpType.QUANTIZE, None, [self.last], self._scale(self.last) * 1.3, 7, "requant")

    def max_pool(self, size: int) -> Int8Chain:
        q = self.graph.tensors[self.last].quant
        attrs = PoolAttrs((size, size), (size, size), Padding.VALID, Activation.NONE)
        return self._add(OpType.MAX_POOL_2D, attrs, [self.last], q.scalar_scale, q.scalar_zero_point, "pool")

    def reshape(self, shape: tuple[int, ...]) -> Int8Chain:
        q = self.graph.tensors[self.last].quant
        return self._add(OpType.RESHAPE, ReshapeAttrs(shape), [self.last], q.scalar_scale, q.scalar_zero_point, "reshape")

    def _add(self, op: OpType, attrs, inputs: list[str], scale: float, zero_point: int, kind: str) -> Int8Chain:
        self.last = f"{kind}{len(self.graph.nodes)}"  # tensors are named after their node's index
        add_int8_node(self.graph, op, attrs, inputs, float(np.float32(scale)), zero_point, self.last)
        return self

    def build(self) -> Graph:
        return self.graph.validate()


def ds_cnn_block() -> Graph:
    """A keyword-spotting-like chain: a strided conv, two depthwise-separable blocks, a residual ADD, a requantize.

    Nodes: 0 conv, 1 depthwise, 2 conv 1x1 (kept for the ADD), 3 depthwise, 4 RELU, 5 conv 1x1, 6 ADD, 7 QUANTIZE;
    every activation after node 0 is 6 x 3 x 16 = 288 bytes.
    """
    chain = Int8Chain((1, 12, 6, 2)).conv(16, 3, stride=2, activation=Activation.RELU)
    chain.conv(None, 3, depthwise=True, activation=Activation.RELU).conv(16, 1, activation=Activation.RELU)
    skip = chain.last
    chain.conv(None, 3, depthwise=True).relu().conv(16, 1).add(skip).requantize()
    return chain.build()


# -- where in place is allowed, and what it is chosen for -----------------------------------
def test_in_place_options_follow_the_data_dependencies():
    g = ds_cnn_block()
    options = in_place_options(g)
    kinds = {index: g.nodes[index].op for index in options}
    # Node 0 reads the graph input (the caller's bytes); node 3's input lives on for the ADD, where it
    # dies together with the other operand, so both are offered.
    assert kinds == {1: OpType.DEPTHWISE_CONV_2D, 2: OpType.CONV_2D, 4: OpType.RELU, 5: OpType.CONV_2D, 6: OpType.ADD, 7: OpType.QUANTIZE}
    assert [way.input for way in options[6]] == ["conv5", "conv2"]
    assert options[1][0].rows.delay == 2 and options[2][0].rows.pixel_rows  # 3x3 SAME waits a row; 1x1 goes pixel by pixel
    assert all(way.rows is None for i in (4, 6, 7) for way in options[i])


def test_no_in_place_over_a_graph_output_or_bytes_another_operand_reads():
    chain = Int8Chain((1, 4, 4, 3)).conv(3, 1).relu()
    g = chain.build()
    g.outputs = ["conv0"]  # the caller copies conv0 out at the end: RELU must not overwrite it
    assert in_place_options(g) == {}
    chain = Int8Chain((1, 4, 4, 3)).conv(3, 1)
    chain.reshape((1, 4, 4, 3))
    g = chain.add("conv0").build()  # ADD(reshape of conv0, conv0): the same bytes under two names
    assert 2 not in in_place_options(g)


def test_a_broadcast_operand_is_never_overwritten():
    chain = Int8Chain((1, 4, 4, 3)).conv(3, 1)
    chain.conv(3, 4, padding=Padding.VALID, source="x")  # (1, 1, 1, 3), broadcast over conv0
    g = chain.add("conv0").build()
    assert [way.input for way in in_place_options(g)[2]] == ["conv0"]


def test_plan_of_a_depthwise_separable_chain_runs_the_big_layers_in_place():
    g = ds_cnn_block()
    memory = plan_graph(g)
    check_plan(memory.buffers, memory.plan)
    tensor, pixel = 288, 16
    # The peak is node 5 with the residual live: its 1x1 conv runs in place, a pixel at a time.
    # Nodes 1 and 2 could run in place too, but their steps are below that peak anyway.
    assert sorted(memory.in_place) == [4, 5, 6, 7]
    assert memory.arena_bytes == memory.lower_bound == 2 * tensor + pixel
    assert lower_bound(graph_buffers(g).buffers) == 3 * tensor  # nothing in place: residual, input and output
    assert schedule_lower_bound(g) == memory.lower_bound


def test_a_row_walk_is_taken_only_where_it_lowers_the_arena():
    # The peak is conv1 + pool (steps 0-1); the 1x1 conv after the pool could run in place but need not.
    g = Int8Chain((1, 16, 16, 1)).conv(8, 3).max_pool(2).conv(8, 1).relu().build()
    memory = plan_graph(g)
    assert 2 in in_place_options(g) and 2 not in memory.in_place
    assert memory.in_place[3].rows is None  # the element-wise RELU stays in place: it costs nothing
    assert memory.arena_bytes == memory.lower_bound == 16 * 16 * 8 + 8 * 8 * 8


def separable_chain() -> Graph:
    """conv, then two depthwise-separable blocks without a residual: every activation is 10 x 6 x 16 = 960 bytes."""
    chain = Int8Chain((1, 10, 6, 2), seed=5).conv(16, 3)
    return chain.conv(None, 3, depthwise=True).conv(16, 1).conv(None, 3, depthwise=True).conv(16, 1).build()


def test_row_walks_widen_their_bands_into_the_free_bytes_of_their_step():
    # The peak is each depthwise conv with two output rows of scratch (2 x 96 bytes); at the 1x1 convs
    # those bytes are free, so their bands grow from 1 pixel to 12 (the most, in blocks of 4, in 192 bytes).
    g = separable_chain()
    memory = plan_graph(g)
    check_plan(memory.buffers, memory.plan)
    assert memory.arena_bytes == memory.lower_bound == 960 + 192
    bands = {index: (step.rows.band_rows, step.rows.pixel_rows, step.scratch_bytes) for index, step in memory.in_place.items()}
    assert bands == {1: (1, False, 192), 2: (12, True, 192), 3: (1, False, 192), 4: (12, True, 192)}


def test_format_timeline_and_ram_limit(tmp_path):
    g = ds_cnn_block()
    memory = plan_graph(g)
    text = memory.format()
    assert text.splitlines()[0].startswith(f"arena {memory.arena_bytes:,} bytes by greedy by size")
    assert "node 5 writes its output over 'relu4': bands of 1 pixel, 1 waiting in 16 bytes of scratch" in text
    assert "node 4 writes its output over 'dw3': element by element" in text
    png = timeline_png(memory.buffers, memory.plan, "ds-cnn block", memory.lower_bound)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    model = generate_c(g, tmp_path)
    check_ram_limit(model, model.arena_bytes)
    with pytest.raises(RamLimitError) as refused:
        check_ram_limit(model, 500)
    message = str(refused.value)
    assert isinstance(refused.value, LeafmlError) and "\n" not in message
    assert f"needs {model.arena_bytes:,} B of RAM" in message and "--max-ram allows 500 B" in message
    assert re.search(r"largest tensors live at the peak \(node \d+\): \w+ \(288 B\)", message)


# -- the C of in-place nodes --------------------------------------------------------------
IN_PLACE_GRAPHS = {
    "ds_cnn_block": ds_cnn_block,
    "separable_chain": separable_chain,
    # 3x3 SAME conv (delay 2), a dilated depthwise conv, a stride-2 1x1 conv with more output channels.
    "conv_zoo": lambda: Int8Chain((1, 9, 7, 4), seed=3).conv(6, 1).conv(6, 3).conv(None, 3, dilation=2, depthwise=True)
    .conv(10, 1, stride=2, padding=Padding.VALID).relu().build(),
}


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("name", list(IN_PLACE_GRAPHS))
def test_in_place_c_equals_the_reference(name, rounding, tmp_path):
    g = IN_PLACE_GRAPHS[name]()
    x = random_int8(g.tensors[g.inputs[0]].shape, 64)
    got = run_generated_c(g, x, rounding, tmp_path)
    want = g.run(x, rounding=rounding)[0].reshape(len(x), -1)
    assert np.array_equal(got, want)
    assert len(np.unique(want)) > 10, "degenerate case: the outputs hardly vary"
    memory = plan_graph(g)
    walks = [i for i, step in memory.in_place.items() if step.rows is not None]
    assert walks and (tmp_path / "gen" / "model.c").read_text().count("leafml_row_walk_next") == len(walks)


@pytest.mark.requires_tools("arm-none-eabi-gcc", "qemu-system-arm")
@pytest.mark.parametrize("name", list(IN_PLACE_GRAPHS))
def test_in_place_c_equals_the_reference_on_cortex_m4(name, tmp_path):
    # The Cortex-M4 build runs the DSP kernels: the depthwise one directly in place, the conv one in row walks.
    g = IN_PLACE_GRAPHS[name]()
    model = generate_c(g, tmp_path / "gen")
    x = random_int8(g.tensors[g.inputs[0]].shape, 8)
    result = run_cortex_m4(model.sources, [model.include_dir], x.reshape(len(x), -1), model.output_size, tmp_path / "qemu")
    assert np.array_equal(result.outputs, g.run(x, rounding="double")[0].reshape(len(x), -1))


# -- MLPerf Tiny: the arena goals, and the in-place C on the host and a Cortex-M4 -----------
MLPERF = "models/mlperf_tiny"
# TFLM's planned activations ("head" of print_allocations) for the same files, bytes.
TFLM_HEAD = {"kws_ref_model": 16_000, "pretrainedResnet_quant": 49_152, "ad01_int8": 768}
LEAFML_GOAL = {"kws_ref_model": 9_600, "pretrainedResnet_quant": 49_152, "ad01_int8": 768}


@pytest.mark.parametrize("name", list(TFLM_HEAD))
def test_mlperf_arena_meets_the_goal(shared_data, name):
    memory = plan_graph(load_tflite(shared_data / MLPERF / f"{name}.tflite"))
    check_plan(memory.buffers, memory.plan)
    assert memory.lower_bound <= memory.arena_bytes <= LEAFML_GOAL[name] <= TFLM_HEAD[name]


# Slow (real models, about 5 s each): host and QEMU builds of the in-place C.
@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc", "qemu-system-arm")
@pytest.mark.parametrize("name", ["kws_ref_model", "pretrainedResnet_quant"])
def test_mlperf_in_place_c_equals_the_reference_on_host_and_cortex_m4(shared_data, name, tmp_path):
    g = load_tflite(shared_data / MLPERF / f"{name}.tflite")
    model = generate_c(g, tmp_path / "gen")
    assert any(step.rows is not None for step in model.memory.in_place.values())
    x = random_int8(g.tensors[g.inputs[0]].shape, 4, seed=11)
    want = g.run(x, rounding="double")[0].reshape(len(x), -1)
    host = run_host(model.sources, [model.include_dir], x.reshape(len(x), -1), model.output_size, tmp_path / "host")
    assert np.array_equal(host, want)
    qemu = run_cortex_m4(model.sources, [model.include_dir], x[:2].reshape(2, -1), model.output_size, tmp_path / "qemu")
    assert np.array_equal(qemu.outputs, want[:2])
