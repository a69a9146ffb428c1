/* Rounding a float32 to the nearest integer, halves to even, as XNNPACK's
 * float kernels do (LiteRT's int8 MUL and MEAN on x86-64 run there).  Only
 * the single-rounding build uses it: the double-rounding kernels, TFLM's,
 * are integer only. */

/* For |x| < 2**22: adding 1.5 * 2**23 leaves round(x) in the low mantissa
 * bits, rounded half to even by the float addition itself. */
static inline int32_t leafml_round_half_even(float x)
{
    const float shifted = x + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    return bits - 0x4B400000;
}
