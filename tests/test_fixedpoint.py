"""The fixed-point module: multipliers and both requantization rounding modes."""

import numpy as np
import pytest

from leafml.quant.fixedpoint import (
    INT32_MAX,
    INT32_MIN,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    quantize_value,
    requantize,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
)


def test_quantize_multiplier_represents_the_real_value():
    for real in [0.5, 0.75, 1e-3, 0.123456, 1.0, 3.7, 2.0**-20]:
        m, shift = quantize_multiplier(real)
        assert 2**30 <= m < 2**31
        assert m * 2.0 ** (shift - 31) == pytest.approx(real, rel=2**-30)


def test_quantize_multiplier_edge_cases():
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(0.5) == (2**30, 0)
    # A significand that rounds up to 2**31 is halved and the shift bumped.
    assert quantize_multiplier(1.0 - 2.0**-40) == (2**30, 1)
    # Tiny multipliers flush to zero like TFLite's.
    assert quantize_multiplier(2.0**-40) == (0, 0)
    with pytest.raises(ValueError):
        quantize_multiplier(-0.5)


def test_saturating_rounding_doubling_high_mul():
    assert saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN) == INT32_MAX
    # (a*b*2 + 2**31) >> 32 with rounding toward nearest, ties away from zero.
    assert saturating_rounding_doubling_high_mul(2**30, 2**30) == 2**29
    # gemmlowp's nudge rounds ties toward +infinity: 1.5 -> 2 but -1.5 -> -1.
    assert saturating_rounding_doubling_high_mul(3, 2**30) == 2
    assert saturating_rounding_doubling_high_mul(-3, 2**30) == -1


def test_rounding_divide_by_pot_rounds_half_away_from_zero():
    x = np.array([5, -5, 6, -6, 7, -7, 4, -4])
    assert rounding_divide_by_pot(x, 2).tolist() == [1, -1, 2, -2, 2, -2, 1, -1]
    assert rounding_divide_by_pot(np.array([3, -3]), 1).tolist() == [2, -2]


def test_the_two_modes_differ_only_on_near_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(-(2**20), 2**20, size=20000)
    m, shift = quantize_multiplier(0.0123)
    double = multiply_by_quantized_multiplier(x, m, shift, "double")
    single = multiply_by_quantized_multiplier(x, m, shift, "single")
    exact = x * (m * 2.0 ** (shift - 31))
    assert np.all(np.abs(single - exact) <= 0.5 + 1e-9)  # one rounding: nearest
    assert np.all(np.abs(double - single) <= 1)
    assert np.any(double != single)  # the modes are really different


def test_a_tie_where_the_modes_disagree():
    # -2 * 0.25 = -0.5 exactly.  Single rounding adds half and shifts: 0.
    # Double rounding: the high multiply gives -1 (from -1.0), and the
    # rounding shift keeps -1 (-0.5 rounds away from zero).
    x = np.array([-2, 2])
    assert multiply_by_quantized_multiplier(x, 2**30, -1, "single").tolist() == [0, 1]
    assert multiply_by_quantized_multiplier(x, 2**30, -1, "double").tolist() == [-1, 1]


def test_requantize_adds_zero_point_and_clamps():
    out = requantize(np.array([1000, -1000, 10]), 2**30, 0, output_zero_point=-5, act_min=-128, act_max=100)
    assert out.tolist() == [100, -128, 0]
    assert out.dtype == np.int8


def test_unknown_rounding_is_refused():
    with pytest.raises(ValueError, match="unknown rounding mode"):
        multiply_by_quantized_multiplier(np.array([1]), 2**30, 0, "banker")


def test_quantize_value_rounds_half_away_from_zero():
    assert quantize_value(0.0, 0.1, -128) == -128
    assert quantize_value(6.0, 0.05, -128) == -8
    assert quantize_value(0.25, 0.5, 0) == 1  # 0.5 rounds away from zero, not to even
