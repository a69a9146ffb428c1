/* SOFTMAX, int8 in and out, over the last axis: `rows` rows of `depth`, at
 * the fixed output scale 1/256, zero point -128.  Twin of leafml.ops.softmax,
 * with one kernel per rounding mode because TFLM and LiteRT run different
 * algorithms; the emitter calls the one this header is built for.
 *
 * LEAFML_SINGLE_ROUNDING 0 (TFLM): TFLite's fixed-point reference_ops::Softmax,
 * down to gemmlowp's exp and reciprocal.  x - max is scaled into Q5.26,
 * exp'd into Q0.31, summed in Q12.19, and each output is exp * (1 / sum).
 * Every intermediate stays inside int32 for the values a row can produce, so
 * the plain int32 adds never overflow.  Needs fixedpoint.h.
 *
 * LEAFML_SINGLE_ROUNDING 1 (LiteRT on x86-64): TFLite's optimized_ops::Softmax
 * with a float table of exp for the 256 differences max - x; the table is
 * model data (computed at generation time with glibc's expf), so no libm.
 *
 * Both index rows by row * depth in int32: it stays below the tensor's
 * element count, which the emitter writes as an int32 constant. */

#if LEAFML_SINGLE_ROUNDING

/* Each float operation below is one IEEE float32 operation, in TFLite's
 * order: the sum in row order, then 1 / (sum * output_scale), then one
 * product per output.  None may be fused into an FMA (one rounding instead of
 * two); the ISO -std=c99 the runtime is built with sets GCC's
 * -ffp-contract=off, which keeps Cortex-M4F and x86-64 with FMA from doing so. */
static void leafml_softmax_s8_table(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                                    const float *table, float output_scale, int32_t zero_point)
{
    int32_t row, c;
    for (row = 0; row < rows; ++row) {
        const int8_t *in = input + row * depth;
        int8_t *out = output + row * depth;
        int32_t max_in_row = -128;
        int32_t offset; /* table[offset + x] is exp(x - max): table[255 - (max - x)] */
        float sum_exp = 0.0f;
        float inv_sum_exp;
        for (c = 0; c < depth; ++c) {
            if (in[c] > max_in_row) {
                max_in_row = in[c];
            }
        }
        offset = 255 - max_in_row;
        for (c = 0; c < depth; ++c) {
            sum_exp += table[offset + in[c]];
        }
        inv_sum_exp = 1.0f / (sum_exp * output_scale);
        for (c = 0; c < depth; ++c) {
            /* 0 <= p <= about 256, so truncation is floor and fits int32. */
            const float p = table[offset + in[c]] * inv_sum_exp;
            int32_t value = (int32_t)p;
            /* roundf, halves away from zero, without libm: p - value is
             * exact (p < 1, or Sterbenz: value <= p < 2 * value), so the
             * comparison decides ties and 0.49999997 alike. */
            if (p - (float)value >= 0.5f) {
                ++value;
            }
            value += zero_point;
            out[c] = (int8_t)(value < -128 ? -128 : value > 127 ? 127 : value);
        }
    }
}

#else

/* x * 2^exponent for exponent in [1, 30], saturating at the int32 bounds:
 * gemmlowp's SaturatingRoundingMultiplyByPOT for a positive exponent. */
static int32_t leafml_saturating_left_shift(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)(((int32_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* (a + b) / 2, rounding halves away from zero: gemmlowp's RoundingHalfSum. */
static int32_t leafml_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* exp(a) for Q0.31 a in [-1/4, 0): a Taylor expansion around -1/8. */
static int32_t leafml_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* Q0.31 */
    const int32_t one_third = 715827883;              /* Q0.31 */
    const int32_t x = a + ((int32_t)1 << 28);          /* a + 1/8 */
    const int32_t x2 = leafml_saturating_rounding_doubling_high_mul(x, x);
    const int32_t x3 = leafml_saturating_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = leafml_saturating_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = leafml_rounding_divide_by_pot(x4, 2);
    const int32_t poly = leafml_rounding_divide_by_pot(
        leafml_saturating_rounding_doubling_high_mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + leafml_saturating_rounding_doubling_high_mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for Q5.26 a <= 0, as Q0.31 (INT32_MAX is 1.0):
 * gemmlowp's exp_on_negative_values for 5 integer bits. */
static int32_t leafml_exp_on_negative_values_q5(int32_t a)
{
    /* exp(-2^k) in Q0.31 for k = -2 .. 4, one per bit of the integer part
     * and the two highest fractional bits. */
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t one_quarter = (int32_t)1 << 24;
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    int32_t result = leafml_exp_on_interval_between_negative_one_quarter_and_0_excl(
        leafml_saturating_left_shift(a_mod_quarter_minus_one_quarter, 5));
    int32_t k;
    if (a == 0) {
        return INT32_MAX;
    }
    for (k = 0; k < 7; ++k) {
        if (remainder & ((int32_t)1 << (24 + k))) {
            result = leafml_saturating_rounding_doubling_high_mul(result, barrel[k]);
        }
    }
    return result;
}

/* 1 / (1 + a) for Q0.31 a in [0, 1), as Q0.31: three Newton-Raphson steps
 * in Q2.29 (gemmlowp's one_over_one_plus_x_for_x_in_0_1). */
static int32_t leafml_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t half_denominator = leafml_rounding_half_sum(a, INT32_MAX);
    int32_t x = 1515870810 /* 48/17 */ + leafml_saturating_rounding_doubling_high_mul(half_denominator, -1010580540 /* -32/17 */);
    int32_t i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus_half_denominator_times_x =
            ((int32_t)1 << 29) - leafml_saturating_rounding_doubling_high_mul(half_denominator, x);
        x += leafml_saturating_left_shift(leafml_saturating_rounding_doubling_high_mul(x, one_minus_half_denominator_times_x), 2);
    }
    /* x ~ 2 / (1 + a) in Q2.29, read as Q1.30 it is 1 / (1 + a). */
    return leafml_saturating_left_shift(x, 1);
}

/* 1 / sum for a positive Q12.19 sum: returns Q0.31 `scale` with
 * 1 / sum = scale * 2^-(*num_bits_over_unit) (TFLite's GetReciprocal). */
static int32_t leafml_reciprocal_q12(int32_t sum, int32_t *num_bits_over_unit)
{
    int32_t headroom_plus_one = 0;
    while ((((uint32_t)sum << headroom_plus_one) & 0x80000000u) == 0) {
        ++headroom_plus_one;
    }
    *num_bits_over_unit = 12 - headroom_plus_one;
    return leafml_one_over_one_plus_x_for_x_in_0_1(
        (int32_t)(((uint32_t)sum << headroom_plus_one) - 0x80000000u));
}

/* x * multiplier * 2^(left_shift - 31) for left_shift in [0, 31] and |x| small
 * enough that x * 2^left_shift fits in int32 (diff_min guarantees it).
 * TFLite's MultiplyByQuantizedMultiplierGreaterThanOne: with no right shift
 * after it, the doubling high multiply is the only rounding. */
static int32_t leafml_mul_by_quantized_multiplier_greater_than_one(int32_t x, int32_t multiplier, int32_t left_shift)
{
    return leafml_saturating_rounding_doubling_high_mul((int32_t)((uint32_t)x << left_shift), multiplier);
}

static void leafml_softmax_s8(const int8_t *input, int8_t *output, int32_t rows, int32_t depth,
                              int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min)
{
    /* TFLite's reference kernel aborts once a row's sum of exps reaches 512
     * (2^28 in Q12.19): its output shift would pass 31.  Every probability is
     * then at most 1/512, half an output step, and such rows give -128
     * throughout, so the sum is capped there, which also keeps it in int32. */
    const int32_t sum_cap = (int32_t)1 << 28;
    int32_t row, c;
    for (row = 0; row < rows; ++row) {
        const int8_t *in = input + row * depth;
        int8_t *out = output + row * depth;
        int32_t max_in_row = -128;
        int32_t sum_of_exps = 0;
        int32_t num_bits_over_unit, shift, reciprocal;
        for (c = 0; c < depth; ++c) {
            if (in[c] > max_in_row) {
                max_in_row = in[c];
            }
        }
        for (c = 0; c < depth; ++c) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= diff_min) {
                const int32_t exp_q0 = leafml_exp_on_negative_values_q5(
                    leafml_mul_by_quantized_multiplier_greater_than_one(diff, input_multiplier, input_left_shift));
                sum_of_exps += leafml_rounding_divide_by_pot(exp_q0, 12); /* Q0.31 -> Q12.19 */
                if (sum_of_exps > sum_cap) {
                    sum_of_exps = sum_cap;
                }
            }
        }
        reciprocal = leafml_reciprocal_q12(sum_of_exps, &num_bits_over_unit);
        shift = num_bits_over_unit + 31 - 8;
        for (c = 0; c < depth; ++c) {
            const int32_t diff = in[c] - max_in_row;
            int32_t value = -128;
            if (diff >= diff_min && shift <= 31) {
                const int32_t exp_q0 = leafml_exp_on_negative_values_q5(
                    leafml_mul_by_quantized_multiplier_greater_than_one(diff, input_multiplier, input_left_shift));
                value = leafml_rounding_divide_by_pot(leafml_saturating_rounding_doubling_high_mul(reciprocal, exp_q0), shift) - 128;
                if (value > 127) {
                    value = 127;
                }
            }
            out[c] = (int8_t)value;
        }
    }
}

#endif /* LEAFML_SINGLE_ROUNDING */
