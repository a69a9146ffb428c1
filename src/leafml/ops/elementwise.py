"""ADD and MUL of two tensors with TFLite's broadcasting and a fused activation.

Broadcasting is numpy's (and TFLite's): shapes are aligned at the last axis,
and along each axis the sizes are equal or one of them is 1.  Either operand
may be a constant.

The int8 arithmetic depends on the runtime, so ``prepare`` returns the params
of the algorithm that runtime runs, and ``run_int8`` dispatches on their type:

``"double"``: TFLM's reference kernels (:class:`AddParams`, :class:`MulParams`)
    ADD shifts each ``x - zero_point`` left by 20 bits, rescales both to a
    common scale (``scale / (2 * max_scale)``), adds, and rescales the sum
    (``2 * max_scale / (2**20 * output_scale)``); MUL multiplies
    ``(x1 - zp1) * (x2 - zp2)`` and rescales once by ``s1 * s2 / s_out``.
    Every rescale is gemmlowp's double rounding.
``"single"``: LiteRT's default resolver on x86-64
    LiteRT hands these nodes to XNNPACK when the scales allow it (ADD: each
    ``input_scale / output_scale`` in [2**-10, 2**8); MUL:
    ``s1 * s2 / s_out`` in [2**-16, 2**8), all in float32), and XNNPACK has
    algorithms of its own.  ADD (:class:`XnnpackAddParams`) is integer:
    21-bit multipliers of the float32 ratios, one sum, one arithmetic shift
    with a rounding bias.  MUL (:class:`XnnpackMulParams`) is float32: the
    product times the float32 scale, rounded half to even.  XNNPACK applies
    the fused activation as a separate clamp whose bounds it rounds half to
    even in float32.  Outside those ranges LiteRT runs its built-in kernel,
    which on x86-64 is NEON code emulated with SSE that rounds differently
    and wraps intermediates at 16 bits; there ``"single"`` gives TFLite's
    reference kernel with single rounding (LiteRT's BUILTIN_REF resolver),
    and the LiteRT rung reports the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Activation, Graph, GraphError, Node, OpType, Tensor
from leafml.ops.base import InPlace, OpDef, activation_range, apply_activation_float, xnnpack_activation_range
from leafml.quant.fixedpoint import Rounding, multiply_by_quantized_multiplier, quantize_multiplier

ADD_LEFT_SHIFT = 20  # headroom bits of TFLite's int8 ADD
# TFLM shifts MUL's product (up to 255 * 255) left in int32 before rescaling,
# which wraps from a factor of 2**15 on.
MUL_FACTOR_LIMIT = 2.0**15
XNNPACK_ADD_RATIOS = (2.0**-10, 2.0**8)  # input/output scale ratios XNNPACK's ADD takes
XNNPACK_MUL_RATIOS = (2.0**-16, 2.0**8)  # input-product/output scale ratios XNNPACK's MUL takes
XNNPACK_ADD_MULTIPLIER_BITS = 20  # the largest multiplier lies in [2**20, 2**21)
F32 = np.float32


@dataclass(frozen=True)
class ElementwiseAttrs:
    activation: Activation = Activation.NONE


@dataclass(frozen=True)
class AddParams:
    """TFLite's int8 ADD (its ArithmeticParams subset)."""

    input1_offset: int  # -input1 zero point
    input2_offset: int
    output_offset: int  # the output zero point
    left_shift: int
    input1_multiplier: int  # Q0.31 significands and power-of-two exponents (<= 0)
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class XnnpackAddParams:
    """XNNPACK's qs8 ADD: ``((bias + x1 * m1 + x2 * m2) >> shift) + zero point``, clamped."""

    input1_multiplier: int  # below 2**21
    input2_multiplier: int
    shift: int  # in [12, 30]
    bias: int  # the rounding half-step minus both zero points times their multipliers
    output_zero_point: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class MulParams:
    """TFLite's int8 MUL."""

    input1_offset: int
    input2_offset: int
    output_offset: int
    multiplier: int
    shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class XnnpackMulParams:
    """XNNPACK's qs8 MUL: ``round_half_even(float32(product) * scale) + zero point``, clamped."""

    input1_zero_point: int
    input2_zero_point: int
    scale: float  # float32 ``s1 * s2 / s_out``
    output_zero_point: int
    act_min: int
    act_max: int


def broadcast_shape(graph: Graph, node: Node) -> tuple[int, ...]:
    """The output shape of two broadcast operands; GraphError when they do not broadcast."""
    a, b = (graph.tensors[n].shape for n in node.inputs)
    try:
        return tuple(int(d) for d in np.broadcast_shapes(a, b))
    except ValueError:
        raise GraphError(f"{node.op.value} operands of shapes {a} and {b} do not broadcast") from None


def _quant(graph: Graph, node: Node) -> list[tuple[np.float32, int]]:
    """(float32 scale, zero point) of input 1, input 2 and the output."""
    return [(graph.tensors[n].quant.scale[0], graph.tensors[n].quant.scalar_zero_point) for n in (*node.inputs, node.outputs[0])]


def _multiplier_below_one(real: float, what: str) -> tuple[int, int]:
    # TFLite's QuantizeMultiplierSmallerThanOneExp aborts on a factor that is
    # (or rounds to) 1 or more; the graph check keeps such factors out.
    multiplier, shift = quantize_multiplier(real)
    if real >= 1.0 or shift > 0:
        raise GraphError(f"ADD {what} factor {real:.6g} is not below 1; make the output scale larger")
    return multiplier, shift


def add_params(graph: Graph, node: Node) -> AddParams:
    """TFLite's ADD Prepare (the factors are doubles from the float32 scales)."""
    (s1, z1), (s2, z2), (so, zo) = _quant(graph, node)
    twice_max_input_scale = 2.0 * float(max(s1, s2))
    m1, sh1 = _multiplier_below_one(float(s1) / twice_max_input_scale, "input 1")
    m2, sh2 = _multiplier_below_one(float(s2) / twice_max_input_scale, "input 2")
    mo, sho = _multiplier_below_one(twice_max_input_scale / ((1 << ADD_LEFT_SHIFT) * float(so)), "output")
    act_min, act_max = activation_range(graph.tensors[node.outputs[0]], node.attrs.activation)
    return AddParams(-z1, -z2, zo, ADD_LEFT_SHIFT, m1, sh1, m2, sh2, mo, sho, act_min, act_max)


def xnnpack_add_params(graph: Graph, node: Node) -> XnnpackAddParams | None:
    """XNNPACK's ``xnn_init_qs8_add_minmax_scalar_params``, or None where LiteRT does not delegate."""
    (s1, z1), (s2, z2), (so, zo) = _quant(graph, node)
    ratios = (s1 / so, s2 / so)  # float32
    if not all(XNNPACK_ADD_RATIOS[0] <= r < XNNPACK_ADD_RATIOS[1] for r in ratios):
        return None
    exponent = int(np.frexp(max(ratios))[1]) - 1
    shift = XNNPACK_ADD_MULTIPLIER_BITS - exponent
    # Scaling a float32 by 2**shift is exact; lrintf rounds half to even.
    m1, m2 = (int(np.rint(r * F32(2.0**shift))) for r in ratios)
    bias = (1 << (shift - 1)) - m1 * z1 - m2 * z2
    act_min, act_max = xnnpack_activation_range(graph.tensors[node.outputs[0]], node.attrs.activation)
    return XnnpackAddParams(m1, m2, shift, bias, zo, act_min, act_max)


def mul_params(graph: Graph, node: Node, rounding: Rounding) -> MulParams:
    """TFLite's MUL Prepare: TFLM forms the factor in double, LiteRT in float32."""
    (s1, z1), (s2, z2), (so, zo) = _quant(graph, node)
    real = float(s1 * s2 / so) if rounding == "single" else float(s1) * float(s2) / float(so)
    multiplier, shift = quantize_multiplier(real)
    act_min, act_max = activation_range(graph.tensors[node.outputs[0]], node.attrs.activation)
    return MulParams(-z1, -z2, zo, multiplier, shift, act_min, act_max)


def xnnpack_mul_params(graph: Graph, node: Node) -> XnnpackMulParams | None:
    """XNNPACK's ``xnn_init_qs8_mul_minmax_scalar_params``, or None where LiteRT does not delegate."""
    (s1, z1), (s2, z2), (so, zo) = _quant(graph, node)
    scale = s1 * s2 / so  # float32
    if not XNNPACK_MUL_RATIOS[0] <= scale < XNNPACK_MUL_RATIOS[1]:
        return None
    act_min, act_max = xnnpack_activation_range(graph.tensors[node.outputs[0]], node.attrs.activation)
    return XnnpackMulParams(z1, z2, float(scale), zo, act_min, act_max)


class _Binary(OpDef):
    attrs_type = ElementwiseAttrs
    num_inputs = (2,)

    def infer_shapes(self, graph, node):
        return [broadcast_shape(graph, node)]

    def check(self, graph, node):
        super().check(graph, node)
        first, second = (graph.tensors[n] for n in node.inputs)
        if second.dtype != first.dtype:
            raise GraphError(
                f"{node.op.value} operands {first.name!r} and {second.name!r} are {first.dtype} and {second.dtype}; they must match"
            )
        if second.dtype == np.int8 and (second.quant is None or second.quant.per_channel):
            raise GraphError(f"{node.op.value} operand {second.name!r} must be int8 with per-tensor quantization")

    def in_place(self, graph, node):
        # leafml_broadcast_s8 walks the output in order and reads both operands of element i
        # before it writes element i; an operand as large as the output is not broadcast, so
        # its element i sits where output element i goes.
        size = graph.tensors[node.outputs[0]].size
        return tuple(
            InPlace(i) for i, name in enumerate(node.inputs) if not graph.tensors[name].is_constant and graph.tensors[name].size == size
        )


class Add(_Binary):
    op = OpType.ADD

    def check(self, graph, node):
        super().check(graph, node)
        if graph.tensors[node.inputs[0]].dtype == np.int8:
            add_params(graph, node)  # raises for factors TFLite cannot represent

    def run_float(self, graph, node, inputs):
        return apply_activation_float(inputs[0] + inputs[1], node.attrs.activation).astype(np.float32)

    def prepare(self, graph, node, rounding: Rounding):
        if rounding == "single":
            params = xnnpack_add_params(graph, node)
            if params is not None:
                return params
        return add_params(graph, node)

    def run_int8(self, graph, node, params: AddParams | XnnpackAddParams, inputs, rounding):
        a, b = (x.astype(np.int64) for x in inputs)
        if isinstance(params, XnnpackAddParams):
            total = params.bias + a * params.input1_multiplier + b * params.input2_multiplier
            out = (total >> params.shift) + params.output_zero_point
        else:

            def rescaled(x: np.ndarray, offset: int, multiplier: int, shift: int) -> np.ndarray:
                return multiply_by_quantized_multiplier((x + offset) << params.left_shift, multiplier, shift, rounding)

            total = rescaled(a, params.input1_offset, params.input1_multiplier, params.input1_shift)
            total = total + rescaled(b, params.input2_offset, params.input2_multiplier, params.input2_shift)
            out = multiply_by_quantized_multiplier(total, params.output_multiplier, params.output_shift, rounding) + params.output_offset
        return np.clip(out, params.act_min, params.act_max).astype(np.int8)


class Mul(_Binary):
    op = OpType.MUL

    def check(self, graph, node):
        super().check(graph, node)
        if graph.tensors[node.inputs[0]].dtype == np.int8:
            (s1, _), (s2, _), (so, _) = _quant(graph, node)
            factor = float(s1) * float(s2) / float(so)
            if factor >= MUL_FACTOR_LIMIT:
                raise GraphError(
                    f"MUL rescale factor {factor:.6g} is 2**15 or more, which overflows TFLM's int32 arithmetic; make the output scale larger"
                )

    def run_float(self, graph, node, inputs):
        return apply_activation_float(inputs[0] * inputs[1], node.attrs.activation).astype(np.float32)

    def prepare(self, graph, node, rounding: Rounding):
        if rounding == "single":
            params = xnnpack_mul_params(graph, node)
            if params is not None:
                return params
        return mul_params(graph, node, rounding)

    def run_int8(self, graph, node, params: MulParams | XnnpackMulParams, inputs, rounding):
        a, b = (x.astype(np.int64) for x in inputs)
        if isinstance(params, XnnpackMulParams):
            product = (a - params.input1_zero_point) * (b - params.input2_zero_point)
            # float32 product; rint rounds half to even like XNNPACK's magic-number conversion.
            out = np.rint(product.astype(np.float32) * F32(params.scale)).astype(np.int64) + params.output_zero_point
        else:
            product = (a + params.input1_offset) * (b + params.input2_offset)
            out = multiply_by_quantized_multiplier(product, params.multiplier, params.shift, rounding) + params.output_offset
        return np.clip(out, params.act_min, params.act_max).astype(np.int8)

    def macs(self, graph, node):
        return graph.tensors[node.outputs[0]].size
