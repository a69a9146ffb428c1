"""Fixed-point arithmetic of TFLite's integer kernels: the one place for it.

Every int8 kernel in leafml (numpy reference and generated C) rescales an
int32 accumulator with a *quantized multiplier*: a real factor M is stored as
an int32 significand ``m`` in Q0.31 and a power-of-two ``shift`` so that
``M ~= m * 2**(shift - 31)``.  Applying it needs a rounding rule, and the two
runtimes we verify against disagree:

``"double"``
    gemmlowp's *double rounding*: a saturating rounding doubling high multiply
    (rounds once) followed by a rounding right shift (rounds again).  This is
    what TFLM and CMSIS-NN do, so it is leafml's default: it is the runtime on
    the microcontroller.
``"single"``
    TFLite's ``TFLITE_SINGLE_ROUNDING``: one 64-bit product, one rounding.

The mode names say which runtime the reference interpreter reproduces:
``"double"`` is TFLM, ``"single"`` is LiteRT's default resolver on x86-64.
LiteRT runs most int8 operators in XNNPACK, which requantizes convolutions
and fully-connected layers in float32 (:func:`requantize_float32`, measured
on crafted ties: LiteRT follows it, not integer rounding); each operator
module documents the arithmetic its ``"single"`` mode follows.

All functions here are vectorised over numpy arrays
and exact: intermediate values are int64, and C's truncating division is
emulated where TFLite relies on it.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

Rounding = Literal["double", "single"]
ROUNDINGS: tuple[Rounding, ...] = ("double", "single")

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def check_rounding(rounding: str) -> Rounding:
    """Return ``rounding`` if it names a known mode, else raise ValueError."""
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding mode {rounding!r}; use one of {', '.join(ROUNDINGS)}")
    return rounding  # type: ignore[return-value]


def _round_half_away(x: float) -> int:
    # TfLiteRound is std::round: halves go away from zero (Python's round()
    # goes to even, which would differ on exact halves).
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Split a real multiplier into ``(significand, shift)`` like TFLite.

    ``significand`` is in [2**30, 2**31) (or 0) and
    ``real ~= significand * 2**(shift - 31)``.  Matches
    ``tflite::QuantizeMultiplier`` including its flush of tiny values to 0.
    """
    if real == 0.0:
        return 0, 0
    if real < 0:
        raise ValueError(f"quantized multipliers must be non-negative, got {real}")
    q, shift = math.frexp(real)
    q_fixed = _round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def quantize_multipliers(reals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vector form of :func:`quantize_multiplier`: int32 significands and shifts."""
    pairs = [quantize_multiplier(float(r)) for r in np.asarray(reals, dtype=np.float64).ravel()]
    significands = np.array([p[0] for p in pairs], dtype=np.int32)
    shifts = np.array([p[1] for p in pairs], dtype=np.int32)
    return significands, shifts


def _trunc_div(a: np.ndarray, b: int) -> np.ndarray:
    """C99 integer division (truncates toward zero) on int64 arrays."""
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul on int32 values (returned as int64)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = _trunc_div(ab + nudge, 1 << 31)
    return np.where(overflow, INT32_MAX, high)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: arithmetic shift right, rounding half away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(
    x: np.ndarray, significand: np.ndarray | int, shift: np.ndarray | int, rounding: Rounding = "double"
) -> np.ndarray:
    """Rescale int32 accumulators ``x`` by ``significand * 2**(shift-31)``.

    ``significand`` and ``shift`` broadcast against ``x`` (per-channel
    multipliers along the last axis, for example).  Returns int64 values that
    fit in int32, before the output zero point and clamping.
    """
    x = np.asarray(x, dtype=np.int64)
    significand = np.asarray(significand, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    if check_rounding(rounding) == "single":
        total_shift = 31 - shift
        round_ = np.int64(1) << (total_shift - 1)
        return (x * significand + round_) >> total_shift
    left_shift = np.maximum(shift, 0)
    right_shift = np.maximum(-shift, 0)
    # TFLite shifts in int32, which overflows when |x| * 2**shift >= 2**31;
    # here int64 keeps it exact and the generated C saturates.  Either way
    # such a value is at least 2**30 after the multiply and clamps to the same
    # int8, so the three agree.
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x << left_shift, significand), right_shift)


def requantize(
    acc: np.ndarray,
    significand: np.ndarray | int,
    shift: np.ndarray | int,
    output_zero_point: int,
    act_min: int,
    act_max: int,
    rounding: Rounding = "double",
) -> np.ndarray:
    """Accumulators to int8 outputs: rescale, add the zero point, clamp."""
    scaled = multiply_by_quantized_multiplier(acc, significand, shift, rounding) + output_zero_point
    return np.clip(scaled, act_min, act_max).astype(np.int8)


def requantize_float32(acc: np.ndarray, scales: np.ndarray, output_zero_point: int, act_min: int, act_max: int) -> np.ndarray:
    """XNNPACK's int8 requantization: ``float32(acc) * scale``, rounded half to even, zero point, clamp.

    ``scales`` are float32 (``input_scale * weight_scale / output_scale``
    evaluated in float32, left to right) and broadcast against ``acc``.
    """
    scaled = np.rint(np.asarray(acc).astype(np.float32) * np.asarray(scales, dtype=np.float32)).astype(np.int64)
    return np.clip(scaled + output_zero_point, act_min, act_max).astype(np.int8)


def quantize_value(value: float, scale: float, zero_point: int) -> int:
    """One real value to its quantized integer the way TFLite's Prepare does.

    The division and rounding happen in float32, like ``TfLiteRound(f / scale)``
    with float operands; used for activation clamp bounds.
    """
    return zero_point + _round_half_away(float(np.float32(value) / np.float32(scale)))


# -- gemmlowp's fixed-point transcendentals -----------------------------------
# TFLite's integer SOFTMAX (and LOGISTIC, TANH, LOG_SOFTMAX) evaluate exp and
# reciprocals on gemmlowp ``FixedPoint<int32_t, I>`` values: raw int32
# integers with I integer bits and 31 - I fractional bits.  The functions
# below take and return those raw values (as int64 arrays) and reproduce
# gemmlowp's operation order exactly, so results are bit-exact, not merely
# close.  None of them depends on the rounding mode.


def saturating_rounding_multiply_by_pot(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingMultiplyByPOT: ``x * 2**exponent`` on int32.

    A positive exponent is a left shift that saturates at the int32 bounds; a
    negative one is :func:`rounding_divide_by_pot`.  gemmlowp's ``Rescale``
    between Q formats is this with ``exponent = src_int_bits - dst_int_bits``.
    """
    x = np.asarray(x, dtype=np.int64)
    if exponent <= 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def rounding_half_sum(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's RoundingHalfSum: ``(a + b) / 2`` rounded half away from zero."""
    total = np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64)
    return _trunc_div(total + np.where(total >= 0, 1, -1), 2)


# Q0.31 constants of gemmlowp's exp: exp(-1/8), 1/3, and exp(-2**k) for the
# barrel shifter over the integer bits of the argument, k = -2 .. 4.
_EXP_MINUS_ONE_EIGHTH = 1895147668
_ONE_THIRD = 715827883
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401), (4, 242))


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a: np.ndarray) -> np.ndarray:
    # A Taylor expansion around -1/8 (Q0.31 in and out): x = a + 1/8.
    mul = saturating_rounding_doubling_high_mul
    x = a + (1 << 28)
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    poly = saturating_rounding_multiply_by_pot(mul(x4_over_4 + x3, _ONE_THIRD) + x2, -1)
    return _EXP_MINUS_ONE_EIGHTH + mul(_EXP_MINUS_ONE_EIGHTH, x + poly)


def exp_on_negative_values(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp's exp_on_negative_values: ``exp(a)`` for raw ``a <= 0``.

    ``a`` is fixed point with ``integer_bits`` integer bits; the result is
    Q0.31 (``INT32_MAX`` stands for 1.0, returned exactly for ``a == 0``).
    """
    a = np.asarray(a, dtype=np.int64)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    # exp(a) = exp(a mod 1/4 - 1/4) * product of exp(-2**k) over the bits of
    # the remainder; the first factor comes from a polynomial.
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, integer_bits)
    )
    remainder = a_mod_quarter_minus_one_quarter - a
    for k, multiplier in _EXP_BARREL:
        if integer_bits > k:
            bit = (remainder & (1 << (fractional_bits + k))) != 0
            result = np.where(bit, saturating_rounding_doubling_high_mul(result, multiplier), result)
    if integer_bits > 5:
        # Below -32 exp underflows Q0.31; gemmlowp says 0 outright.
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """gemmlowp's ``1 / (1 + a)`` for Q0.31 ``a`` in [0, 1); Q0.31 result.

    Three Newton-Raphson steps on ``(1 + a) / 2`` in Q2.29, starting from
    ``48/17 - 32/17 * d``.
    """
    mul = saturating_rounding_doubling_high_mul
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + mul(half_denominator, -1010580540)
    for _ in range(3):
        one_minus_half_denominator_times_x = (1 << 29) - mul(half_denominator, x)
        x = x + saturating_rounding_multiply_by_pot(mul(x, one_minus_half_denominator_times_x), 2)
    # x ~ 2 / (1 + a) in Q2.29 read as Q1.30 is 1 / (1 + a); rescale to Q0.31.
    return saturating_rounding_multiply_by_pot(x, 1)


def get_reciprocal(x: np.ndarray, integer_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetReciprocal: ``1/x`` for positive raw ``x`` with ``integer_bits``.

    Returns ``(scale, num_bits_over_unit)``: ``scale`` is Q0.31 and
    ``1/x = scale * 2**-num_bits_over_unit``.
    """
    x = np.asarray(x, dtype=np.int64)
    # Leading zeros of the uint32 value; frexp's exponent is the bit length,
    # exact for integers below 2**53.
    headroom_plus_one = 32 - np.frexp(x.astype(np.float64))[1].astype(np.int64)
    shifted_minus_one = (x << headroom_plus_one) - (1 << 31)
    return one_over_one_plus_x_for_x_in_0_1(shifted_minus_one), integer_bits - headroom_plus_one
