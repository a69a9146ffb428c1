/* The 2-D sliding window of convolutions and pools, resolved at generation
 * time exactly as leafml.ops.base.window resolves it (TFLite's rules: SAME
 * padding puts the odd extra row/column at the end).  Sizes in elements. */

typedef struct {
    int32_t in_h, in_w;             /* input height and width */
    int32_t k_h, k_w;               /* window (filter) height and width */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w; /* 1 for pools */
    int32_t out_h, out_w;
    int32_t pad_top, pad_left;      /* leading padding; trailing padding follows from the rest */
} leafml_window_t;
