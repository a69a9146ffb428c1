"""Element-wise activations: LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH.

Float kernels are TFLite's reference kernels (what TFLM runs), operation by
operation in float32, with glibc's ``expf`` and ``tanhf`` called through
ctypes: bit-exact with TFLM.  LiteRT runs XNNPACK's float approximations, a
few ulp away.

An int8 element-wise operator maps each of the 256 possible inputs to one
output, so ``prepare`` runs the runtime's integer arithmetic once on all 256
and keeps the results: the int8 kernel, here and in the generated C, is a
table lookup, exact by construction with the arithmetic it tabulates.  The
arithmetic is that of the runtime each mode is named after.  LiteRT's
default resolver hands LOGISTIC, TANH and LEAKY_RELU to XNNPACK (measured:
bit-exact with the formulas below), and its own kernels requantize with
gemmlowp's double rounding like TFLM's:

=========== ============================================ ==============================================
operator    ``"double"``: TFLM                           ``"single"``: LiteRT's default resolver, x86-64
=========== ============================================ ==============================================
LOGISTIC    gemmlowp fixed point on Q4.27 inputs         XNNPACK table: exp in double, ties to even
TANH        gemmlowp fixed point on Q4.27 inputs         XNNPACK table: ``tanhf``, ties to even
RELU        requantize, clamp at the output zero point   the same
RELU6       clamp to [0, 6] in the *input* quantization  requantize, clamp to [0, 6] in the output's
LEAKY_RELU  requantize by 1 or alpha                     XNNPACK: both factors rounded to 1/256
HARD_SWISH  TFLite's int16 fixed-point reference         the same (its NEON variant is ARM-only)
=========== ============================================ ==============================================

TFLM's RELU6 ignores the output quantization, so with different input and
output parameters the runtimes disagree; XNNPACK takes LEAKY_RELU only for
scale ratios and slopes in its range, and LiteRT runs TFLM's arithmetic
otherwise.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Graph, GraphError, Node, OpType
from leafml.ops.base import InPlace, OpDef
from leafml.ops.quantize import (
    INT8_VALUES,
    XNNPACK_RATIO_RANGE,
    LookupTable,
    in_xnnpack_range,
    rescale,
    tensor_quant,
    xnnpack_rescale,
)
from leafml.quant.fixedpoint import (
    INT32_MAX,
    Rounding,
    exp_on_negative_values,
    multiply_by_quantized_multiplier,
    one_over_one_plus_x_for_x_in_0_1,
    quantize_multiplier,
    quantize_value,
    rounding_divide_by_pot,
    rounding_half_sum,
    saturating_rounding_doubling_high_mul,
    saturating_rounding_multiply_by_pot,
)

LOGISTIC_QUANT = (np.float32(1.0 / 256.0), -128)  # fixed by the TFLite int8 spec
TANH_QUANT = (np.float32(1.0 / 128.0), 0)
INPUT_INTEGER_BITS = 4  # TFLM rescales LOGISTIC and TANH inputs to Q4.27
LOGISTIC_CUTOFFS = (np.float32(-9.0), np.float32(16.619047164916992188))  # TFLite's float kernel


def _libm(name: str):
    # LiteRT's and TFLM's shared objects import expf and tanhf from glibc;
    # numpy's own float32 exp and tanh differ from them in the last ulp.
    function = getattr(ctypes.CDLL(ctypes.util.find_library("m")), name)
    function.restype, function.argtypes = ctypes.c_float, [ctypes.c_float]
    return function


_expf, _tanhf = _libm("expf"), _libm("tanhf")


def libm_float32(function, x: np.ndarray) -> np.ndarray:
    """A libm float function on every element of float32 ``x``, called once per distinct bit pattern."""
    x = np.asarray(x, np.float32)
    patterns, inverse = np.unique(x.view(np.uint32), return_inverse=True)
    values = np.array([function(float(v)) for v in patterns.view(np.float32)], np.float32)
    return values[inverse].reshape(x.shape)


class _Elementwise(OpDef):
    """A unary element-wise operator; subclasses give the float kernel and the int8 arithmetic."""

    def infer_shapes(self, graph, node):
        return [graph.tensors[node.inputs[0]].shape]

    def int8_arithmetic(self, graph: Graph, node: Node, rounding: Rounding, x: np.ndarray) -> np.ndarray:
        """The mode's runtime kernel on int8 values ``x`` (int64), clamped to int8."""
        raise NotImplementedError

    def prepare(self, graph, node, rounding: Rounding) -> LookupTable:
        return LookupTable.of(self.int8_arithmetic(graph, node, rounding, INT8_VALUES))

    def run_int8(self, graph, node, params: LookupTable, inputs, rounding):
        return params.lookup(inputs[0])

    def in_place(self, graph, node):
        # leafml_lookup_s8 reads input[i] just before it writes output[i].
        return (InPlace(0),)

    def label(self, node: Node) -> str:
        return f"{node.op.value} node {node.name or node.outputs}"


# -- LOGISTIC and TANH -----------------------------------------------------------
def _one_minus_x_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    # gemmlowp's (1 - a) / (1 + a) on Q0.31: the Newton-Raphson division of
    # one_over_one_plus_x_for_x_in_0_1 in Q2.29, then x - 1 back to Q0.31.
    mul = saturating_rounding_doubling_high_mul
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + mul(half_denominator, -1010580540)  # 48/17 - 32/17 * d
    for _ in range(3):
        x = x + saturating_rounding_multiply_by_pot(mul(x, (1 << 29) - mul(half_denominator, x)), 2)
    return saturating_rounding_multiply_by_pot(x - (1 << 29), 2)


def _logistic_q0_31(a: np.ndarray) -> np.ndarray:
    """gemmlowp::logistic on raw Q4.27 values: Q0.31 results."""
    logistic_of_abs = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-np.abs(a), INPUT_INTEGER_BITS))
    return np.where(a == 0, 1 << 30, np.where(a > 0, logistic_of_abs, INT32_MAX - logistic_of_abs))


def _tanh_q0_31(a: np.ndarray) -> np.ndarray:
    """gemmlowp::tanh on raw Q4.27 values: Q0.31 results."""
    # tanh|x| = (1 - exp(-2|x|)) / (1 + exp(-2|x|)); reading the raw Q4.27
    # value as Q5.26 doubles it exactly (gemmlowp's ExactMulByPot<1>).
    tanh_of_abs = _one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-np.abs(a), INPUT_INTEGER_BITS + 1))
    return np.where(a == 0, 0, np.where(a < 0, -tanh_of_abs, tanh_of_abs))


def _xnnpack_sigmoid(x: np.ndarray) -> np.ndarray:
    # XNNPACK's reference SigmoidOp: exp in double, one rounding to float32.
    def sigmoid(v: float) -> float:
        if v > 100:
            return 1.0
        if v < -100:
            return 0.0
        e = math.exp(v)  # glibc's exp, as XNNPACK's std::exp(double)
        return e / (1 + e)

    return np.array([sigmoid(float(v)) for v in x], np.float32)


class _Sigmoidal(_Elementwise):
    """LOGISTIC and TANH: a fixed output quantization and two int8 algorithms."""

    output_quant: tuple[np.float32, int]
    output_fraction_bits: int  # the output scale is 2**-output_fraction_bits

    def xnnpack_function(self, x: np.ndarray) -> np.ndarray:
        """The float32 function XNNPACK tabulates."""
        raise NotImplementedError

    def fixed_point(self, a: np.ndarray) -> np.ndarray:
        """The gemmlowp function on raw Q4.27 values, giving Q0.31."""
        raise NotImplementedError

    def check(self, graph, node):
        super().check(graph, node)
        x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
        if x.dtype != np.int8:
            return
        scale, zero_point = tensor_quant(graph, out.name)
        if (scale, zero_point) != self.output_quant:
            raise GraphError(
                f"{self.label(node)}: int8 output {out.name!r} must have scale 2**-{self.output_fraction_bits} "
                f"and zero point {self.output_quant[1]} (has {float(scale)!r}, {zero_point}); the TFLite int8 spec fixes them"
            )
        if self._input_multiplier(graph, node)[1] < 0:
            raise GraphError(f"{self.label(node)}: int8 input scale must be at least 2**-28 for TFLM's fixed-point kernel")

    def _input_multiplier(self, graph: Graph, node: Node) -> tuple[int, int]:
        # TFLM's Prepare: the input scale as a multiplier onto Q4.27.
        return quantize_multiplier(float(tensor_quant(graph, node.inputs[0])[0]) * 2.0 ** (31 - INPUT_INTEGER_BITS))

    def int8_arithmetic(self, graph, node, rounding, x):
        in_scale, in_zero_point = tensor_quant(graph, node.inputs[0])
        out_scale, out_zero_point = self.output_quant
        if rounding == "single":
            # XNNPACK's quantized reference kernel, in float32.
            result = self.xnnpack_function((x.astype(np.float32) - np.float32(in_zero_point)) * in_scale)
            return np.clip(np.rint(result * (np.float32(1.0) / out_scale) + np.float32(out_zero_point)), -128, 127)
        multiplier, left_shift = self._input_multiplier(graph, node)
        # The largest |input| whose rescaled value stays inside Q4.27's range.
        radius = (((1 << INPUT_INTEGER_BITS) - 1) << (31 - INPUT_INTEGER_BITS)) >> left_shift
        offset_free = x - in_zero_point
        inside = np.clip(offset_free, -radius, radius)  # the others saturate below
        q0_31 = self.fixed_point(multiply_by_quantized_multiplier(inside, multiplier, left_shift, "double"))
        out = np.clip(rounding_divide_by_pot(q0_31, 31 - self.output_fraction_bits) + out_zero_point, -128, 127)
        return np.where(offset_free <= -radius, -128, np.where(offset_free >= radius, 127, out))


class Logistic(_Sigmoidal):
    op = OpType.LOGISTIC
    output_quant = LOGISTIC_QUANT
    output_fraction_bits = 8

    def run_float(self, graph, node, inputs):
        # TFLite's reference kernel: exp(x) below the lower cutoff, 1 above the upper.
        x = inputs[0]
        sigmoid = np.float32(1.0) / (np.float32(1.0) + libm_float32(_expf, -x))
        lower, upper = LOGISTIC_CUTOFFS
        return np.where(x > upper, np.float32(1.0), np.where(x < lower, libm_float32(_expf, x), sigmoid))

    def xnnpack_function(self, x):
        return _xnnpack_sigmoid(x)

    def fixed_point(self, a):
        return _logistic_q0_31(a)


class Tanh(_Sigmoidal):
    op = OpType.TANH
    output_quant = TANH_QUANT
    output_fraction_bits = 7

    def run_float(self, graph, node, inputs):
        return libm_float32(_tanhf, inputs[0])

    def xnnpack_function(self, x):
        return libm_float32(_tanhf, x)

    def fixed_point(self, a):
        return _tanh_q0_31(a)


# -- RELU, RELU6, LEAKY_RELU --------------------------------------------------------
def _requantized(graph: Graph, node: Node, x: np.ndarray) -> np.ndarray:
    """``x`` moved from the input's quantization to the output's (before clamping), as TFLite's kernels do."""
    in_scale, in_zero_point = tensor_quant(graph, node.inputs[0])
    out_scale, out_zero_point = tensor_quant(graph, node.outputs[0])
    # The float32 scales are divided in float32, then widened to double.
    return rescale(x - in_zero_point, float(in_scale / out_scale)) + out_zero_point


def _clamp_range(graph: Graph, name: str, high: float | None) -> tuple[int, int]:
    """Where 0 and ``high`` (None: no upper bound) fall in a tensor's int8 quantization."""
    scale, zero_point = tensor_quant(graph, name)
    return max(-128, quantize_value(0.0, scale, zero_point)), 127 if high is None else min(127, quantize_value(high, scale, zero_point))


class Relu(_Elementwise):
    op = OpType.RELU

    def run_float(self, graph, node, inputs):
        x = inputs[0]
        return np.where(x < 0, np.float32(0.0), x)

    def int8_arithmetic(self, graph, node, rounding, x):
        return np.clip(_requantized(graph, node, x), *_clamp_range(graph, node.outputs[0], None))


class Relu6(_Elementwise):
    op = OpType.RELU6

    def run_float(self, graph, node, inputs):
        x = inputs[0]
        return np.where(x > 6, np.float32(6.0), np.where(x < 0, np.float32(0.0), x))

    def int8_arithmetic(self, graph, node, rounding, x):
        if rounding == "double":
            # TFLM's Relu6Quantized: clamp the input values where 0 and 6 are
            # in the input's quantization, and copy them unscaled.
            return np.clip(x, *_clamp_range(graph, node.inputs[0], 6.0))
        return np.clip(_requantized(graph, node, x), *_clamp_range(graph, node.outputs[0], 6.0))


@dataclass(frozen=True)
class LeakyReluAttrs:
    alpha: float  # the slope below zero; a .tflite file stores it as float32


class LeakyRelu(_Elementwise):
    op = OpType.LEAKY_RELU
    attrs_type = LeakyReluAttrs

    def run_float(self, graph, node, inputs):
        x = inputs[0]
        with np.errstate(over="ignore", invalid="ignore"):  # IEEE results, as in C
            return np.where(x > 0, x, x * np.float32(node.attrs.alpha))

    def int8_arithmetic(self, graph, node, rounding, x):
        in_scale, in_zero_point = tensor_quant(graph, node.inputs[0])
        out_scale, out_zero_point = tensor_quant(graph, node.outputs[0])
        alpha = np.float32(node.attrs.alpha)
        offset_free = x - in_zero_point
        positive_ratio = in_scale / out_scale
        negative_ratio = positive_ratio * alpha
        # The ranges LiteRT's XNNPACK delegate checks before taking the node.
        delegated = in_xnnpack_range(positive_ratio) and XNNPACK_RATIO_RANGE[0] <= abs(negative_ratio) and -127.99609375 <= negative_ratio <= 128
        if rounding == "single" and delegated:
            positive, negative = xnnpack_rescale(offset_free, positive_ratio), xnnpack_rescale(offset_free, negative_ratio)
            return np.clip(np.where(offset_free >= 0, positive, negative) + out_zero_point, -128, 127)
        identity = rescale(offset_free, float(positive_ratio))
        # TFLite applies a negative alpha as -(x * |alpha|).
        alpha_real = float(in_scale * alpha / out_scale)
        scaled = (-1 if alpha_real < 0 else 1) * rescale(offset_free, abs(alpha_real))
        return np.clip(out_zero_point + np.where(offset_free >= 0, identity, scaled), -128, 127)


# -- HARD_SWISH --------------------------------------------------------------------
INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1
HIRES_SHIFT = 7  # inputs move to a 2**7 finer scale in int16 before any multiply
RELUISH_SCALE = np.float32(3.0) / np.float32(32768.0)  # int16 32768 stands for 3.0


def _int16_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier, then DownScaleInt32ToInt16Multiplier: (Q0.15 significand, exponent)."""
    significand, exponent = quantize_multiplier(real)
    if significand >= INT32_MAX - (1 << 15):
        return INT16_MAX, exponent
    return (significand + (1 << 15)) >> 16, exponent


def _c_divide_by_2_15(x: np.ndarray) -> np.ndarray:
    """C's ``x / (1 << 15)`` on int64 values: truncates toward zero."""
    return np.sign(x) * (np.abs(x) >> 15)


def _int16_rounding_doubling_high_mul(a: np.ndarray, b: int) -> np.ndarray:
    product = a * b
    nudge = np.where(product >= 0, 1 << 14, 1 - (1 << 14))
    return np.where((a == INT16_MIN) & (b == INT16_MIN), INT16_MAX, _c_divide_by_2_15(product + nudge))


def _int16_doubling_high_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Truncates where the rounding version rounds; TFLite uses it on purpose.
    return np.where((a == INT16_MIN) & (b == INT16_MIN), INT16_MAX, _c_divide_by_2_15(a * b))


def _int16_saturating_left_shift(x: np.ndarray, amount: int) -> np.ndarray:
    return np.clip(x * (1 << amount), INT16_MIN, INT16_MAX)


def _int16_rounding_divide_by_pot(x: np.ndarray, exponent: int) -> np.ndarray:
    # gemmlowp's RoundingDivideByPOT on int16: from 2**16 on its mask wraps to
    # -1, and every value "rounds" to 1 (x >= 0) or -1 (x < 0).
    if exponent >= 16:
        return np.where(x >= 0, 1, -1)
    return rounding_divide_by_pot(x, exponent)


class HardSwish(_Elementwise):
    op = OpType.HARD_SWISH

    def run_float(self, graph, node, inputs):
        # x * std::min(6, std::max(0, x + 3)) / 6 in float32, NaN handling included.
        x = inputs[0]
        shifted = x + np.float32(3.0)
        at_least_zero = np.where(np.float32(0.0) < shifted, shifted, np.float32(0.0))
        with np.errstate(invalid="ignore"):  # -inf * 0 is NaN, as in C
            return x * np.where(at_least_zero < 6, at_least_zero, np.float32(6.0)) / np.float32(6.0)

    def check(self, graph, node):
        super().check(graph, node)
        if graph.tensors[node.inputs[0]].dtype == np.int8 and self._multipliers(graph, node)[0][1] > 0:
            raise GraphError(f"{self.label(node)}: int8 output scale must exceed the input scale / 128 for TFLite's kernel")

    def _multipliers(self, graph: Graph, node: Node) -> tuple[tuple[int, int], tuple[int, int]]:
        # TFLite's Prepare, in float32: the output and the "reluish" (x / 3) multipliers.
        hires_input_scale = np.float32(1.0 / 128.0) * tensor_quant(graph, node.inputs[0])[0]
        out_scale = tensor_quant(graph, node.outputs[0])[0]
        return _int16_multiplier(float(hires_input_scale / out_scale)), _int16_multiplier(float(hires_input_scale / RELUISH_SCALE))

    def int8_arithmetic(self, graph, node, rounding, x):
        # TFLite's reference_ops::HardSwish, int16 step by step; both runtimes run it on x86-64.
        in_zero_point = tensor_quant(graph, node.inputs[0])[1]
        out_zero_point = tensor_quant(graph, node.outputs[0])[1]
        (output_multiplier, output_exponent), (reluish_multiplier, reluish_exponent) = self._multipliers(graph, node)
        hires = (x - in_zero_point) << HIRES_SHIFT
        preshift_output = _int16_rounding_doubling_high_mul(hires, output_multiplier)
        # x / 3 saturated to [-1, 1] in Q0.15: the multiplier's left shift is
        # split so that saturation can only happen at its last bit.
        reluish = _int16_saturating_left_shift(hires, max(reluish_exponent - 1, 0))
        reluish = _int16_rounding_doubling_high_mul(reluish, reluish_multiplier)
        if reluish_exponent > 0:
            reluish = _int16_saturating_left_shift(reluish, 1)
        reluish = _int16_rounding_divide_by_pot(reluish, max(-reluish_exponent, 0))
        reluish = (reluish + (1 << 15)) >> 1  # [-1, 1] -> [0, 1]
        out = _int16_rounding_divide_by_pot(_int16_doubling_high_mul(reluish, preshift_output), -output_exponent)
        # TFLite adds the zero point in int16, which wraps around.
        out = (out + out_zero_point - INT16_MIN) % (1 << 16) + INT16_MIN
        return np.clip(out, -128, 127)
