/* Square root and natural logarithm in float32 without libm.
 *
 * The generated DSP links into firmware and test harnesses that bring no
 * libm (and <math.h>'s sqrtf keeps an errno path that calls it), so both
 * functions live here.  Every path is a fixed sequence of IEEE float32
 * operations, so a host build and a Cortex-M4F build give the same bits. */

/* sqrt(x) for x >= 0, correctly rounded where the FPU has the instruction
 * (Cortex-M4F/M7/M33/M55: VSQRT.F32; x86-64: SQRTSS; AArch64: FSQRT). */
static inline float leafml_dsp_sqrtf(float x)
{
#if defined(__GNUC__) && defined(__ARM_FP) && (__ARM_FP & 4)
    float root;
    __asm__("vsqrt.f32 %0, %1" : "=t"(root) : "t"(x));
    return root;
#elif defined(__GNUC__) && defined(__SSE_MATH__)
    float root;
    __asm__("sqrtss %1, %0" : "=x"(root) : "x"(x));
    return root;
#elif defined(__GNUC__) && defined(__aarch64__)
    float root;
    __asm__("fsqrt %s0, %s1" : "=w"(root) : "w"(x));
    return root;
#else
    /* No single-precision FPU (Cortex-M0/M3): halving the exponent gives a
     * first guess within 4 %, and three Newton steps bring it to within an
     * ulp or two of the true root. */
    uint32_t bits;
    float root;
    int step;
    if (!(x > 0.0f)) {
        return 0.0f;
    }
    memcpy(&bits, &x, sizeof bits);
    bits = 0x1FBD1DF5u + (bits >> 1);
    memcpy(&root, &bits, sizeof root);
    for (step = 0; step < 3; ++step) {
        root = 0.5f * (root + x / root);
    }
    return root;
#endif
}

/* ln(x) for a positive, finite, normal x (the DSP calls it on mel energy +
 * epsilon > 0), within 2 ulp.  x = m * 2^e with m in [sqrt(1/2),
 * sqrt(2)); ln(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.172,
 * whose series to s^9 is exact to float32; e ln 2 is split into a part exact
 * in float32 and a small remainder so that large exponents lose nothing. */
static inline float leafml_dsp_logf(float x)
{
    const float ln2_high = 0.693145751953125f; /* ln 2 to 16 bits: e * ln2_high is exact */
    const float ln2_low = 1.42860677e-06f;     /* ln 2 - ln2_high */
    uint32_t bits;
    int32_t exponent;
    float m, s, s2, series;
    memcpy(&bits, &x, sizeof bits);
    exponent = (int32_t)(bits >> 23) - 127;
    bits = (bits & 0x007FFFFFu) | 0x3F800000u;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.41421356f) {
        m *= 0.5f;
        ++exponent;
    }
    s = (m - 1.0f) / (m + 1.0f);
    s2 = s * s;
    series = s2 * (0.666666667f + s2 * (0.4f + s2 * (0.285714286f + s2 * 0.222222222f)));
    return (float)exponent * ln2_high + ((float)exponent * ln2_low + (2.0f * s + s * series));
}
