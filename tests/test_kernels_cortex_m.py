"""The Cortex-M DSP kernels (conv, depthwise, fully connected): bit-exact with
the reference interpreter in QEMU in both rounding modes, in each of their
requantization modes, on every core that has them (and the portable kernels
on those that do not); and the keyword-spotting DS-CNN within the issue's
instruction and flash budgets.

Each case is a small chain of layers built to reach one family of paths
(pointwise, windowed, depthwise orientations and multipliers, odd sizes,
the general requantization), so that a whole family costs one QEMU run.
"""

from __future__ import annotations

import numpy as np
import pytest
from int8_graphs import add_int8_node, int8_input, random_int8, requant_probe

from leafml import load_tflite
from leafml.codegen import generate_c
from leafml.codegen.dsp_kernels import requantization_mode
from leafml.firmware import run_cortex_m, run_cortex_m4
from leafml.interpreter import prepare
from leafml.ir import Activation, Graph, OpType, Padding, QuantParams
from leafml.ops import Conv2DAttrs, DepthwiseConv2DAttrs, FullyConnectedAttrs
from leafml.quant.fixedpoint import ROUNDINGS

needs_cortex_m = pytest.mark.requires_tools("cc", "arm-none-eabi-gcc", "arm-none-eabi-size", "arm-none-eabi-nm",
                                            "qemu-system-arm")

MODES = ("LEAFML_DSP_GENERAL", "LEAFML_DSP_FAST", "LEAFML_DSP_FAST_CLAMPED")


class Chain:
    """An int8 graph grown one layer at a time, with random weights and an
    output scale that keeps most outputs off the int8 limits."""

    def __init__(self, shape: tuple[int, ...], seed: int):
        self.rng = np.random.default_rng(seed)
        self.graph = int8_input(shape, 0.02, -5)
        self.last = "x"
        self.count = 0

    def _add(self, op: OpType, attrs, weights: np.ndarray, channel_axis: int, taps: int, bias: bool,
             activation_zero_point: int, output_scale: float | None, per_channel: bool = True) -> Chain:
        g, name = self.graph, f"y{self.count}"
        x_scale = float(g.tensors[self.last].quant.scalar_scale)
        channels = weights.shape[channel_axis]
        w_scales = (2.0 ** self.rng.uniform(-9, -6, channels if per_channel else 1)).astype(np.float32)
        zeros = np.zeros(w_scales.size, dtype=np.int64)
        inputs = [self.last, g.add_constant(f"{name}_w", weights, QuantParams(w_scales, zeros, axis=channel_axis)).name]
        if bias:
            b_scales = (np.float32(x_scale) * w_scales).astype(np.float32)
            data = self.rng.integers(-3000, 3000, channels).astype(np.int32)
            inputs.append(g.add_constant(f"{name}_b", data, QuantParams(b_scales, zeros)).name)
        scale = output_scale or float(np.float32(x_scale * np.median(w_scales) * 60 * np.sqrt(taps)))
        add_int8_node(g, op, attrs, inputs, scale, activation_zero_point, name)
        self.last, self.count = name, self.count + 1
        return self

    def conv(self, out_channels: int, kernel: tuple[int, int], stride=(1, 1), padding=Padding.SAME, dilation=(1, 1),
             activation=Activation.NONE, bias=True, output_scale: float | None = None) -> Chain:
        in_channels = self.graph.tensors[self.last].shape[3]
        weights = self.rng.integers(-127, 128, (out_channels, *kernel, in_channels)).astype(np.int8)
        attrs = Conv2DAttrs(stride, padding, dilation, activation)
        zero_point = -128 if activation is Activation.RELU else 3
        return self._add(OpType.CONV_2D, attrs, weights, 0, kernel[0] * kernel[1] * in_channels, bias, zero_point,
                         output_scale)

    def depthwise(self, kernel: tuple[int, int], multiplier=1, stride=(1, 1), padding=Padding.SAME, dilation=(1, 1),
                  activation=Activation.NONE) -> Chain:
        channels = self.graph.tensors[self.last].shape[3] * multiplier
        weights = self.rng.integers(-127, 128, (1, *kernel, channels)).astype(np.int8)
        attrs = DepthwiseConv2DAttrs(stride, padding, dilation, activation, multiplier)
        zero_point = -128 if activation is Activation.RELU else -7
        return self._add(OpType.DEPTHWISE_CONV_2D, attrs, weights, 3, kernel[0] * kernel[1], True, zero_point, None)

    def fully_connected(self, units: int, activation=Activation.NONE, bias=True, per_channel=True) -> Chain:
        in_features = self.graph.tensors[self.last].shape[-1]
        weights = self.rng.integers(-127, 128, (units, in_features)).astype(np.int8)
        zero_point = -128 if activation is Activation.RELU else 9
        return self._add(OpType.FULLY_CONNECTED, FullyConnectedAttrs(activation), weights, 0, in_features, bias,
                         zero_point, None, per_channel)

    def build(self) -> Graph:
        return self.graph.validate()


def tie_probe() -> Graph:
    """A FULLY_CONNECTED whose channels put int8 outputs exactly on rounding ties in fast mode.

    Input and output scales are 1 and every weight is 1, so the accumulator
    is bias + x; each channel's real multiplier 2**-n (right shift n - 1)
    makes bias + x an odd multiple of 2**(n-1) for some inputs (the first
    two inputs are -128 and 127), where the two roundings of TFLM and a
    single rounding differ, positive and negative.
    """
    reals, biases = [], []
    for n in (2, 3, 7, 20):
        for sign in (1, -1):
            for x in (0, -128, 127, 5):
                reals.append(2.0**-n)
                biases.append(sign * (2 ** (n - 1)) * 3 - x)
    g = int8_input((1, 1), 1.0, 0)
    w_scale = np.array(reals, dtype=np.float32)
    zeros = np.zeros(len(reals), dtype=np.int64)
    g.add_constant("w", np.ones((len(reals), 1), dtype=np.int8), QuantParams(w_scale, zeros, axis=0))
    g.add_constant("b", np.array(biases, dtype=np.int32), QuantParams(w_scale, zeros, axis=0))
    return add_int8_node(g, OpType.FULLY_CONNECTED, FullyConnectedAttrs(), ["x", "w", "b"], 1.0, 3, "y").validate()


CHAINS = {
    # 1x1 over contiguous and strided pixels, odd channel counts, a RELU6 clamp inside int8.
    "pointwise": lambda: Chain((1, 5, 7, 12), 1).conv(9, (1, 1)).conv(6, (1, 1), stride=(2, 2))
    .conv(7, (1, 1), activation=Activation.RELU6).build(),
    # Windows partly in the padding, strides, dilation, filter depths not a multiple of 4 or 16.
    "windows": lambda: Chain((1, 9, 8, 3), 2).conv(5, (3, 3)).conv(4, (3, 3), stride=(2, 2))
    .conv(6, (4, 3), dilation=(2, 1), activation=Activation.RELU).conv(3, (2, 2), padding=Padding.VALID).build(),
    # The keyword-spotting front: a 10x4 window on one channel, then depthwise (tall, transposed plane) and 1x1.
    "kws_front": lambda: Chain((1, 13, 10, 1), 3).conv(8, (10, 4), stride=(2, 2), activation=Activation.RELU)
    .depthwise((3, 3), activation=Activation.RELU).conv(8, (1, 1), activation=Activation.RELU).build(),
    # Depth multiplier 2, stride 2, a wide image (plane not transposed), a 5x3 dilated window, VALID.
    "depthwise": lambda: Chain((1, 6, 11, 4), 4).depthwise((3, 3), multiplier=2, stride=(2, 2))
    .depthwise((5, 3), dilation=(1, 2)).depthwise((3, 3), padding=Padding.VALID, activation=Activation.RELU6).build(),
    # Every partial last group (37, 11 and 6 inputs), odd output counts, two input rows, per-tensor weights.
    "fully_connected": lambda: Chain((2, 37), 5).fully_connected(11, Activation.RELU).fully_connected(6, bias=False)
    .fully_connected(5, per_channel=False).build(),
    # Accumulators on rounding ties, across right shifts of 1 to 19.
    "ties": tie_probe,
    # Scales that leave fast mode: a multiplier above 1 (no right shift), then one far below (shift past 23).
    "general": lambda: Chain((1, 6, 5, 8), 6).conv(6, (3, 3), output_scale=1e-6).conv(5, (1, 1), output_scale=40.0)
    .build(),
    # Accumulators near output steps, halves and the int32 limits: too large for fast mode.
    "general_probe": lambda: requant_probe([0.3, 0.001, 1.7, 2.0**-20]),
}


def generate_and_run(graph: Graph, rounding: str, core: str, work_dir, opt: str = "-O2"
                     ) -> tuple[np.ndarray, np.ndarray, str]:
    """Outputs of the generated C on `core` in QEMU, the reference's, and model.c."""
    x = graph.tensors[graph.inputs[0]]
    inputs = random_int8((1, *x.shape), 6, seed=11)
    expected = np.stack([graph.run(sample, rounding=rounding)[0] for sample in inputs]).reshape(len(inputs), -1)
    model = generate_c(graph, work_dir / "c", rounding=rounding)
    result = run_cortex_m(core, model.sources, [model.include_dir], inputs.reshape(len(inputs), -1),
                          expected.shape[1], work_dir / core, opt=opt)
    return result.outputs, expected, model.source.read_text()


def modes_in(source: str) -> set[str]:
    return {mode for mode in MODES if f", {mode});" in source}


@needs_cortex_m
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("chain", list(CHAINS))
def test_dsp_kernels_are_bit_exact_on_cortex_m4(tmp_path, chain, rounding):
    got, want, source = generate_and_run(CHAINS[chain](), rounding, "cortex-m4", tmp_path)
    np.testing.assert_array_equal(got, want)
    # Single rounding (LiteRT's float32 scales) always takes the general path;
    # double rounding takes the mode each chain was built to reach.
    expected_modes = {
        "pointwise": {"LEAFML_DSP_FAST", "LEAFML_DSP_FAST_CLAMPED"},
        "windows": {"LEAFML_DSP_FAST"},
        "kws_front": {"LEAFML_DSP_FAST"},
        "depthwise": {"LEAFML_DSP_FAST", "LEAFML_DSP_FAST_CLAMPED"},
        "fully_connected": {"LEAFML_DSP_FAST"},
        "ties": {"LEAFML_DSP_FAST"},
        "general": {"LEAFML_DSP_GENERAL"},
        "general_probe": {"LEAFML_DSP_GENERAL"},
    }[chain]
    assert modes_in(source) == (expected_modes if rounding == "double" else {"LEAFML_DSP_GENERAL"})


@needs_cortex_m
@pytest.mark.parametrize("core", ["cortex-m0", "cortex-m3", "cortex-m7", "cortex-m33", "cortex-m55"])
def test_every_core_gives_the_reference_bytes_with_or_without_the_dsp_extension(tmp_path, core):
    got, want, _ = generate_and_run(CHAINS["kws_front"](), "double", core, tmp_path)
    np.testing.assert_array_equal(got, want)


@needs_cortex_m
@pytest.mark.parametrize("chain", ["kws_front", "fully_connected"])
def test_the_assembly_loops_build_without_optimization(tmp_path, chain):
    # -O0 keeps a frame pointer, so the inner loops' register needs must fit what is left.
    got, want, _ = generate_and_run(CHAINS[chain](), "double", "cortex-m4", tmp_path, opt="-O0")
    np.testing.assert_array_equal(got, want)


def test_fast_mode_needs_double_rounding_right_shifts_and_bounded_accumulators():
    graph = CHAINS["pointwise"]()
    node = graph.nodes[0]
    (double,) = [params for n, params in zip(graph.nodes, prepare(graph, "double")) if n is node]
    (single,) = [params for n, params in zip(graph.nodes, prepare(graph, "single")) if n is node]
    assert requantization_mode(graph, node, double, (1, 2, 3)) == "LEAFML_DSP_FAST"
    assert requantization_mode(graph, node, single, (1, 2, 3)) == "LEAFML_DSP_GENERAL"
    # A bias this large could carry a doubled accumulator past int32.
    graph.tensors[node.inputs[2]].data[0] = 2**30
    assert requantization_mode(graph, node, double, (1, 2, 3)) == "LEAFML_DSP_GENERAL"


# -- the goal on a real model (../shared/data): a regression must fail loudly ------------
KWS = "models/mlperf_tiny/kws_ref_model.tflite"
KWS_INSTRUCTION_BUDGET = 4_000_000  # per inference on Cortex-M4; TFLM with CMSIS-NN takes 7.70 M
FLASH_ALLOWANCE = 12 * 1024  # bytes of code and tables beyond the weights and biases


@needs_cortex_m
def test_keyword_spotting_ds_cnn_runs_within_its_instruction_and_flash_budgets(shared_data, tmp_path):
    """Real model: the MLPerf Tiny DS-CNN in at most 4.0 M Cortex-M4 instructions, bit-exact,
    with the model's text + rodata at most its weight and bias bytes plus 12 KB."""
    graph = load_tflite(shared_data / KWS)
    x = graph.tensors[graph.inputs[0]]
    inputs = random_int8(x.shape, 3, seed=4)
    expected = graph.run(inputs, rounding="double")[0].reshape(len(inputs), -1)
    model = generate_c(graph, tmp_path / "c")
    result = run_cortex_m4(model.sources, [model.include_dir], inputs.reshape(len(inputs), -1), expected.shape[1],
                           tmp_path / "m4")
    np.testing.assert_array_equal(result.outputs, expected)
    most = max(result.instructions)
    assert most <= KWS_INSTRUCTION_BUDGET, f"{most:,} instructions per inference"
    weighted = [n for n in graph.nodes if n.op in (OpType.CONV_2D, OpType.DEPTHWISE_CONV_2D, OpType.FULLY_CONNECTED)]
    weight_bytes = sum(graph.tensors[name].nbytes for n in weighted for name in n.inputs[1:])
    flash = result.model_sizes.text + result.model_sizes.data
    assert flash <= weight_bytes + FLASH_ALLOWANCE, f"{flash:,} bytes of flash for {weight_bytes:,} of weights"
