"""SOFTMAX over the last axis.

The int8 kernel (int8 in and out, output scale 1/256, zero point -128) has
one algorithm per rounding mode, because the two runtimes the modes are named
after run different kernels:

* ``"double"`` (TFLM) is TFLite's fixed-point ``reference_ops::Softmax``.
  Per row, the differences ``x - max`` are scaled by ``beta * input_scale``
  into Q5.26, gemmlowp's fixed-point ``exp`` turns them into Q0.31, their
  sum is taken in Q12.19, and each output is ``exp * (1 / sum)`` rounded to
  the output scale.  Differences below ``diff_min`` would scale past -32 in
  Q5.26; they are skipped and give -128.
* ``"single"`` (LiteRT's default resolver on x86-64) is TFLite's
  ``optimized_ops::Softmax`` with a float table: ``prepare`` tabulates
  ``expf(-input_scale * beta * d)`` for the 256 possible differences
  ``d = max - x``, and per row the kernel sums the table entries in float32,
  in row order, and rounds each ``exp / (sum * output_scale)`` half away
  from zero.  (LiteRT's uint16-table variant is built only for aarch64.)

Both approximate the same softmax; they differ by one step on rare inputs,
so each mode is checked against its own runtime (tests/test_softmax.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
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

# LiteRT fills its table with glibc's expf (its .so imports expf@GLIBC_2.27);
# calling that same function keeps the table bit-identical, where numpy's exp
# may differ in the last ulp.
_expf = ctypes.CDLL(ctypes.util.find_library("m")).expf
_expf.restype = ctypes.c_float
_expf.argtypes = [ctypes.c_float]


@dataclass(frozen=True)
class SoftmaxAttrs:
    beta: float = 1.0


@dataclass(frozen=True)
class SoftmaxParams:
    """Integer-only parameters of the int8 kernel (TFLM's SoftmaxParams subset)."""

    input_multiplier: int  # Q0.31 significand of beta * input_scale * 2**26
    input_left_shift: int  # its power-of-two exponent, >= 0
    diff_min: int  # the most negative x - max that still enters the sum


# eq=False: the generated equality would compare the table elementwise.
@dataclass(frozen=True, eq=False)
class SoftmaxTableParams:
    """Parameters of LiteRT's float-table kernel (its SoftmaxParams subset)."""

    table: np.ndarray  # float32[256], table[255 - d] = expf(-input_scale * beta * d), read-only
    output_scale: float  # a float32 value (1/256)
    output_zero_point: int


def input_beta_real_multiplier(graph: Graph, node: Node) -> float:
    """TFLite's PreprocessSoftmaxScaling before quantization: a real factor > 1.

    The float32 beta and input scale are multiplied in double like TFLite,
    then capped at the largest Q0.31 multiplier, as TFLM does.
    """
    x = graph.tensors[node.inputs[0]]
    assert x.quant is not None
    beta = float(np.float32(node.attrs.beta))
    return min(beta * x.quant.scalar_scale * (1 << (31 - SCALED_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)


def exp_table(graph: Graph, node: Node) -> np.ndarray:
    """TFLite's PopulateSoftmaxLookupTable: ``table[255 - d] = expf(-input_scale * beta * d)``."""
    x = graph.tensors[node.inputs[0]]
    assert x.quant is not None
    # Both products are float32 ones in TFLite, as scale and beta are in a
    # .tflite file; only the exp is libm's.
    scale = -np.float32(x.quant.scalar_scale) * np.float32(node.attrs.beta)
    table = np.array([_expf(float(scale * np.float32(d))) for d in range(256)][::-1], np.float32)
    table.setflags(write=False)
    return table


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
        # TFLM's fixed-point exp needs this; the .tflite must run there in any mode.
        if input_beta_real_multiplier(graph, node) <= 1.0:
            raise GraphError(f"{label}: beta * input scale must exceed 2**-26 for TFLite's fixed-point exp")

    def run_float(self, graph, node, inputs):
        x = inputs[0].astype(np.float64) * node.attrs.beta
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)

    def prepare(self, graph, node, rounding: Rounding) -> SoftmaxParams | SoftmaxTableParams:
        """TFLM's CalculateSoftmaxParams ("double") or LiteRT's table ("single")."""
        if rounding == "single":
            out = graph.tensors[node.outputs[0]]
            assert out.quant is not None
            output_scale = float(np.float32(out.quant.scalar_scale))
            return SoftmaxTableParams(exp_table(graph, node), output_scale, out.quant.scalar_zero_point)
        multiplier, left_shift = quantize_multiplier(input_beta_real_multiplier(graph, node))
        # CalculateInputRadius: the largest |x - max| whose rescaled value
        # stays above -32 in Q5.26, floor(31 * 2**26 / 2**left_shift).
        radius = (((1 << SCALED_DIFF_INTEGER_BITS) - 1) << (31 - SCALED_DIFF_INTEGER_BITS)) >> left_shift
        return SoftmaxParams(multiplier, left_shift, -radius)

    def run_int8(self, graph, node, params: SoftmaxParams | SoftmaxTableParams, inputs, rounding):
        if isinstance(params, SoftmaxTableParams):
            return run_float_table(params, inputs[0])
        return run_fixed_point(params, inputs[0])


def run_fixed_point(params: SoftmaxParams, x: np.ndarray) -> np.ndarray:
    """TFLite's reference_ops::Softmax for int8 (TFLM)."""
    x = x.astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    kept = diff >= params.diff_min
    # Skipped differences are replaced by 0 only so the math stays in
    # range; their results are discarded below.  The multiply is TFLite's
    # MultiplyByQuantizedMultiplierGreaterThanOne, in TFLM's double rounding.
    scaled_diff = multiply_by_quantized_multiplier(
        np.where(kept, diff, 0), params.input_multiplier, params.input_left_shift, "double"
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


def run_float_table(params: SoftmaxTableParams, x: np.ndarray) -> np.ndarray:
    """TFLite's optimized_ops::Softmax with the float table (LiteRT on x86-64), float32 throughout."""
    x = x.astype(np.int64)
    exps = params.table[255 - (x.max(axis=-1, keepdims=True) - x)]
    # TFLite adds the exps one by one in row order; np.sum would add them
    # pairwise and round differently.
    sum_exp = np.cumsum(exps, axis=-1, dtype=np.float32)[..., -1:]
    inv_sum_exp = np.float32(1.0) / (sum_exp * np.float32(params.output_scale))
    probability = exps * inv_sum_exp  # >= 0 and at most about 256
    # std::round, halves away from zero.  The + 0.5 is exact in float64; in
    # float32 it would round 0.49999997 up to 1.
    rounded = np.floor(probability.astype(np.float64) + 0.5).astype(np.int64)
    return np.clip(rounded + params.output_zero_point, -128, 127).astype(np.int8)
