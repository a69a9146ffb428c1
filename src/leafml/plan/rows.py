"""Windowed operators run over their own input, a band of output rows at a time.

A convolution's (or depthwise convolution's) output row ``r`` reads only
the input rows under its window: ``r * stride_h - pad_top + k * dilation_h``
for the taps ``k`` that fall inside the input.  Let ``need(r)`` be the
lowest input row that row ``r`` *or any later row* reads (for dilation 1,
simply ``max(0, r * stride_h - pad_top)``).  So the output can be written
over the input it is computed from, if no row is stored before the input
rows under it have been read for the last time.  The *row walk*
(``kernels/in_place.h``) does that:

1. Output rows are computed in order, in bands of ``band_rows`` rows,
   each band by the operator's ordinary kernel on a window narrowed to the
   band, over the input from row ``max(0, r * stride_h - pad_top)`` on
   (``r`` the band's first row), into slot ``band % delay`` of a scratch
   ring of ``delay`` bands.
2. Just before band ``b`` is computed, band ``b - delay`` is stored from its
   slot to its place in the buffer; after the last band the bands still in
   the ring are stored in order.

Why it is exact.  The buffer starts at the same byte for input and output;
an input row is ``I`` bytes and an output row ``O``; with ``R`` rows a
band, band ``j`` ends at output row ``end(j) = min((j + 1) * R, out_h)``.
Storing band ``j`` writes bytes below ``end(j) * O`` and happens just before
band ``j + delay`` is computed.  From then on only bands ``j + delay`` and
later are computed, and they read input bytes at or after
``need((j + delay) * R) * I``.  So the store destroys nothing still needed iff

    end(j) * O <= need((j + delay) * R) * I   for every band j + delay that exists

(the stores after the last band destroy nothing: no band is left to read).
Each band is computed from unchanged input bytes and stored once, so the
buffer ends holding exactly the output the kernel would have written
elsewhere.  :func:`row_schedule` returns the smallest ``delay`` for which
the inequality holds; the scratch is ``delay * R * O`` bytes.

A 1x1 stride-1 convolution maps each pixel to the same pixel, so it is
walked as an image one pixel wide with a row per pixel (``pixel_rows``):
its bands can be any number of pixels, not only whole rows.

Examples: a 1x1 stride-1 conv with no more output than input channels
(``O <= I``) needs ``delay`` 1 (one output pixel of scratch); a 3x3
stride-1 SAME depthwise conv needs 2, because row ``j`` can be stored only
once row ``j + 1``, the last reader of input row ``j``, is done.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from leafml.ops.base import Window


@dataclass(frozen=True)
class RowSchedule:
    """How a windowed operator runs in place: bands of ``band_rows`` rows, ``delay`` bands waiting in scratch."""

    window: Window  # the window walked (one pixel wide when pixel_rows)
    pixel_rows: bool  # a 1x1 stride-1 conv walked pixel by pixel
    band_rows: int  # output rows computed per kernel call
    delay: int  # bands held in the scratch ring before being stored
    in_row_bytes: int  # bytes of one input row of the walked window
    out_row_bytes: int  # bytes of one output row

    @property
    def scratch_bytes(self) -> int:
        """The scratch ring: ``delay`` bands of output rows, bytes."""
        return self.delay * self.band_rows * self.out_row_bytes

    def describe(self) -> str:
        """The walk in a few words, e.g. ``bands of 8 pixels, 1 waiting in 512 bytes of scratch``."""
        unit = "pixel" if self.pixel_rows else "output row"
        return f"bands of {self.band_rows} {unit}{'s' if self.band_rows > 1 else ''}, {self.delay} waiting in {self.scratch_bytes:,} bytes of scratch"

    def widest(self, scratch_limit: int) -> RowSchedule:
        """The schedule with the widest bands whose scratch fits in ``scratch_limit`` bytes (at least this one).

        A band of a multiple of 4 output pixels beats a wider one that is
        not: kernels work on blocks of 4 pixels (the Cortex-M DSP conv), so
        a band of 10 pixels costs them what one of 12 does.
        """
        need = _lowest_rows_read(self.window)
        fitting = [self]
        band_rows = self.band_rows + 1
        while band_rows <= self.window.out_h and band_rows * self.out_row_bytes <= scratch_limit:
            wider = _schedule(self, need, band_rows)
            if wider is not None and wider.scratch_bytes <= scratch_limit:
                fitting.append(wider)
            band_rows += 1
        in_blocks = [s for s in fitting if s.band_rows * s.window.out_w % 4 == 0]
        return (in_blocks or fitting)[-1]


def row_schedule(window: Window, in_bytes: int, out_bytes: int, pixel_rows: bool = False) -> RowSchedule | None:
    """The safe row walk with the least scratch (one row a band) for an operator with ``window``.

    ``in_bytes`` and ``out_bytes`` are the bytes of one input and one output
    image; ``pixel_rows`` walks a pixel-to-pixel operator (a 1x1 stride-1
    conv) a pixel at a time.  None when only a scratch as large as the
    output would do.
    """
    if pixel_rows:
        assert (window.k_h, window.k_w, window.stride_h, window.stride_w) == (1, 1, 1, 1), "only a 1x1 stride-1 window maps pixel to pixel"
        pixels = window.in_h * window.in_w
        window = Window(pixels, 1, 1, 1, 1, 1, 1, 1, pixels, 1, 0, 0)
    walk = RowSchedule(window, pixel_rows, 1, 1, in_bytes // window.in_h, out_bytes // window.out_h)
    return _schedule(walk, _lowest_rows_read(window), 1)


def _lowest_rows_read(w: Window) -> list[int]:
    """need[r]: the lowest input row read by output row r or any later row (in_h past the end)."""
    need = [w.in_h] * (w.out_h + 1)
    for r in reversed(range(w.out_h)):
        top = r * w.stride_h - w.pad_top
        taps = (top + k * w.dilation_h for k in range(w.k_h))
        need[r] = min([need[r + 1], *(y for y in taps if 0 <= y < w.in_h)])  # a row may read only padding
    return need


def _schedule(walk: RowSchedule, need: list[int], band_rows: int) -> RowSchedule | None:
    """``walk`` with ``band_rows`` rows a band and the smallest safe delay, or None."""
    out_h = walk.window.out_h
    bands = -(-out_h // band_rows)
    # Band j may be stored just before band j + delay is computed if that band and all later ones read
    # nothing below it; ready is the first such band, so the delay must reach ready - j for every j.
    delay, ready = 1, 0
    for j in range(bands):
        end = min((j + 1) * band_rows, out_h) * walk.out_row_bytes
        while ready < bands and need[ready * band_rows] * walk.in_row_bytes < end:
            ready += 1
        delay = max(delay, ready - j)
    return replace(walk, band_rows=band_rows, delay=delay) if delay < bands else None
