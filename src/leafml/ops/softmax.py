"""SOFTMAX over the last axis.

int8 semantics follow TFLite's ``reference_ops::Softmax`` for int8 in and
out, the kernel of both TFLM and LiteRT's reference resolver.  Per row: the
differences ``x - max`` are scaled by ``beta * input_scale`` into Q5.26,
gemmlowp's fixed-point ``exp`` turns them into Q0.31, their sum is taken in
Q12.19, and each output is ``exp * (1 / sum)`` rounded to the fixed output
scale 1/256 with zero point -128.  Differences below ``diff_min`` would
scale past -32 in Q5.26; they are skipped and give -128.

The rounding mode (``TFLITE_SINGLE_ROUNDING``) reaches this operator twice.
PreprocessSoftmaxScaling caps the input multiplier at ``2**31 - 1`` (double)
or ``2**30 - 1`` (single), so for very coarse input scales ``prepare`` gives
different params.  And MultiplyByQuantizedMultiplierGreaterThanOne has one
form per mode, but the two agree bit for bit on a left shift: gemmlowp's
doubling high multiply rounds halves up, like single rounding.  The only
input the lower cap admits besides the maximum, a difference of -1, scales
to about -16, whose exp is too small to reach the sum or an output.  So both
modes give the same outputs; the tests check this rather than assume it.
The exp, the reciprocal and the final shift do not depend on the mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Graph, GraphError, Node, OpType
from leafml.ops.base import OpDef
from leafml.quant.fixedpoint import (
    Rounding,
    exp_on_negative_values,
    get_reciprocal,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    saturating_rounding_multiply_by_pot,
)

OUTPUT_SCALE = np.float32(1.0 / 256.0)
OUTPUT_ZERO_POINT = -128
SCALED_DIFF_INTEGER_BITS = 5  # the exp argument is Q5.26
ACCUMULATION_INTEGER_BITS = 12  # the sum of exps is Q12.19
# TFLite's output shift is 23 plus the bits of the Q12.19 sum above 1.0, and
# it checks (aborting otherwise) that the shift is at most 31: the sum of exps
# must stay below 512, 2**28 raw.  Every sum from there on gives the same
# result in run_int8, so capping the sum there costs nothing and keeps it
# inside int32 for rows of any length.
SUM_CAP = 1 << 28


@dataclass(frozen=True)
class SoftmaxAttrs:
    beta: float = 1.0


@dataclass(frozen=True)
class SoftmaxParams:
    """Integer-only parameters of the int8 kernel (TFLM's SoftmaxParams subset)."""

    input_multiplier: int  # Q0.31 significand of beta * input_scale * 2**26
    input_left_shift: int  # its power-of-two exponent, >= 0
    diff_min: int  # the most negative x - max that still enters the sum


def input_beta_real_multiplier(graph: Graph, node: Node, rounding: Rounding) -> float:
    """TFLite's PreprocessSoftmaxScaling before quantization: a real factor > 1.

    beta and the input scale are float32 in a .tflite file; the product is
    taken in double like TFLite, then capped at the largest multiplier the
    rounding mode's greater-than-one multiply supports.
    """
    x = graph.tensors[node.inputs[0]]
    assert x.quant is not None
    beta = float(np.float32(node.attrs.beta))
    cap = (1 << 30) - 1.0 if rounding == "single" else (1 << 31) - 1.0
    return min(beta * x.quant.scalar_scale * (1 << (31 - SCALED_DIFF_INTEGER_BITS)), cap)


class Softmax(OpDef):
    op = OpType.SOFTMAX
    attrs_type = SoftmaxAttrs

    def infer_shapes(self, graph, node):
        return [graph.tensors[node.inputs[0]].shape]

    def check(self, graph, node):
        super().check(graph, node)
        x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
        if x.dtype != np.int8:
            return
        label = f"SOFTMAX node {node.name or node.outputs}"
        assert out.quant is not None
        if np.float32(out.quant.scalar_scale) != OUTPUT_SCALE or out.quant.scalar_zero_point != OUTPUT_ZERO_POINT:
            raise GraphError(
                f"{label}: int8 output {out.name!r} must have scale 1/256 and zero point -128 "
                f"(has {out.quant.scalar_scale!r}, {out.quant.scalar_zero_point}); TFLite's kernel assumes them"
            )
        # Either cap is far above 1, so the rounding mode does not matter here.
        if input_beta_real_multiplier(graph, node, "double") <= 1.0:
            raise GraphError(f"{label}: beta * input scale must exceed 2**-26 for TFLite's fixed-point exp")

    def run_float(self, graph, node, inputs):
        x = inputs[0].astype(np.float64) * node.attrs.beta
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)

    def prepare(self, graph, node, rounding: Rounding) -> SoftmaxParams:
        """TFLM's CalculateSoftmaxParams for int8 in and out."""
        multiplier, left_shift = quantize_multiplier(input_beta_real_multiplier(graph, node, rounding))
        # CalculateInputRadius: the largest |x - max| whose rescaled value
        # stays above -32 in Q5.26, floor(31 * 2**26 / 2**left_shift).
        radius = (((1 << SCALED_DIFF_INTEGER_BITS) - 1) << (31 - SCALED_DIFF_INTEGER_BITS)) >> left_shift
        return SoftmaxParams(multiplier, left_shift, -radius)

    def run_int8(self, graph, node, params: SoftmaxParams, inputs, rounding):
        x = inputs[0].astype(np.int64)
        diff = x - x.max(axis=-1, keepdims=True)
        kept = diff >= params.diff_min
        # Skipped differences are replaced by 0 only so the math stays in
        # range; their results are discarded below.
        scaled_diff = multiply_by_quantized_multiplier(
            np.where(kept, diff, 0), params.input_multiplier, params.input_left_shift, rounding
        )
        exps = exp_on_negative_values(scaled_diff, SCALED_DIFF_INTEGER_BITS)
        terms = saturating_rounding_multiply_by_pot(exps, -ACCUMULATION_INTEGER_BITS)
        sum_of_exps = np.minimum(np.where(kept, terms, 0).sum(axis=-1, keepdims=True), SUM_CAP)
        reciprocal, num_bits_over_unit = get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS)
        shift = num_bits_over_unit + 31 - 8
        # A shift past 31 means every probability is at most 1/512, half an
        # output step, and the same formula with an exact wider shift gives
        # -128 throughout; TFLite's reference kernel aborts there instead.
        in_range = shift <= 31
        probability = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(reciprocal, exps), np.minimum(shift, 31))
        out = np.clip(probability + OUTPUT_ZERO_POINT, -128, 127)
        return np.where(kept & in_range, out, OUTPUT_ZERO_POINT).astype(np.int8)
