/* What MAX_POOL_2D (max_pool.h) and AVERAGE_POOL_2D (average_pool.h) share.
 * Both are int8 NHWC and count only in-bounds taps: padding never enters a
 * max or an average.  The output keeps the input's quantization, so there
 * is no rescaling and the fused activation is a clamp.  Same arithmetic as
 * TFLite's reference_integer_ops pooling and leafml.ops.pooling. */

typedef struct {
    leafml_window_t window; /* dilation 1 */
    int32_t batches;
    int32_t channels;
    int32_t act_min; /* clamp of the fused activation */
    int32_t act_max;
} leafml_pool_t;

static inline int32_t leafml_clamp(int32_t x, int32_t low, int32_t high)
{
    return x < low ? low : (x > high ? high : x);
}
