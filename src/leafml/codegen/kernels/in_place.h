/* The row walk (needs window.h): a convolution written over its own input,
 * a band of output rows at a time, through a ring of `delay` bands of
 * scratch.  Twin of leafml.plan.rows, which proves the walk exact and picks
 * the band and the delay.
 *
 * The operator's own kernel computes each band: the walk narrows the
 * kernel's window to the band's output rows over the input rows from the
 * first one they read, and points the kernel at a scratch slot.  Before
 * band b is computed, band b - delay is stored from its slot over the
 * buffer; after the last band, the bands still in the ring are stored in
 * order.  A 1x1 stride-1 conv is walked as an image one pixel wide, a row
 * per pixel, so its bands can be any number of pixels.
 *
 * static inline: a build may run every walked node's kernel directly (see
 * leafml.codegen.in_place) and leave the walk unused.
 *
 *     leafml_conv_t band = node2;
 *     leafml_row_walk_t walk;
 *     leafml_row_walk_begin(&walk, &rows, &band.window, buffer, scratch);
 *     while (leafml_row_walk_next(&walk, &band.window)) {
 *         leafml_conv2d_s8(&band, walk.input, walk.output);
 *     }
 */

typedef struct {
    int32_t pixel_rows;    /* 1: walk the image as one pixel wide, a row per pixel */
    int32_t band_rows;     /* output rows per kernel call */
    int32_t delay;         /* bands held in scratch before being stored */
    int32_t in_row_bytes;  /* bytes of one input row as walked */
    int32_t out_row_bytes; /* bytes of one output row as walked */
} leafml_rows_t;

typedef struct {
    const leafml_rows_t *rows;
    leafml_window_t whole;  /* the operator's window over the whole image, as walked */
    int8_t *buffer;         /* the input, overwritten by the output */
    int8_t *scratch;        /* delay bands of output rows */
    int32_t bands;
    int32_t next;           /* the band to compute next */
    const int8_t *input;    /* for the kernel: the first input row the band reads */
    int8_t *output;         /* for the kernel: the band's scratch slot */
} leafml_row_walk_t;

/* Set up the walk over `window` (the kernel's params copy, narrowed by each leafml_row_walk_next). */
static inline void leafml_row_walk_begin(leafml_row_walk_t *walk, const leafml_rows_t *rows, leafml_window_t *window,
                                         int8_t *buffer, int8_t *scratch)
{
    if (rows->pixel_rows) {
        window->in_h *= window->in_w;
        window->out_h *= window->out_w;
        window->in_w = 1;
        window->out_w = 1;
    }
    walk->rows = rows;
    walk->whole = *window;
    walk->buffer = buffer;
    walk->scratch = scratch;
    walk->bands = (window->out_h + rows->band_rows - 1) / rows->band_rows;
    walk->next = 0;
    walk->input = buffer;
    walk->output = scratch;
}

static inline void leafml_row_walk_store(const leafml_row_walk_t *walk, int32_t band)
{
    const leafml_rows_t *r = walk->rows;
    const int32_t first = band * r->band_rows;
    const int32_t count = walk->whole.out_h - first < r->band_rows ? walk->whole.out_h - first : r->band_rows;
    memcpy(walk->buffer + first * r->out_row_bytes, walk->scratch + (band % r->delay) * r->band_rows * r->out_row_bytes,
           (size_t)(count * r->out_row_bytes));
}

/* Store what is due and narrow `window` to the next band; 0 once every band is computed and stored. */
static inline int leafml_row_walk_next(leafml_row_walk_t *walk, leafml_window_t *window)
{
    const leafml_rows_t *r = walk->rows;
    const leafml_window_t *w = &walk->whole;
    const int32_t band = walk->next;
    int32_t row, top, first;
    if (band == walk->bands) {
        int32_t stored;
        for (stored = band > r->delay ? band - r->delay : 0; stored < band; ++stored) {
            leafml_row_walk_store(walk, stored);
        }
        return 0;
    }
    if (band >= r->delay) {
        leafml_row_walk_store(walk, band - r->delay);
    }
    row = band * r->band_rows;
    top = row * w->stride_h - w->pad_top; /* the band's first window row, negative in the top padding */
    first = top > 0 ? top : 0;
    window->in_h = w->in_h - first;
    window->pad_top = first - top;
    window->out_h = w->out_h - row < r->band_rows ? w->out_h - row : r->band_rows;
    walk->input = walk->buffer + first * r->in_row_bytes;
    walk->output = walk->scratch + (band % r->delay) * r->band_rows * r->out_row_bytes;
    walk->next = band + 1;
    return 1;
}
