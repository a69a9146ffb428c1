"""The ``[dsp]`` table of leafml.toml: top-level settings and the block chain.

::

    [dsp]
    sample_rate_hz = 16000
    axes = 1                 # default 1; samples of several axes are interleaved
    input = "int16"          # or "float32" (default): the device's sample type
    window_ms = 1000         # one model input
    window_stride_ms = 500   # default window_ms: how far apart windows start
    blocks = ["raw", "mfcc"] # in this order: raw, filters, one feature block, normalize

    [dsp.raw]
    scale = 3.0517578125e-05
    [dsp.mfcc]
    coefficients = 10

Each block reads its own table, ``[dsp.<block>]`` (all keys optional but a
filter's cutoff_hz); a table for a block that ``blocks`` does not list is
refused rather than ignored.  `parse_dsp_table` checks everything and raises
`DspConfigError` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leafml.dsp.base import DspBlock, SignalSpec
from leafml.dsp.cgen import INPUT_CTYPES
from leafml.dsp.filters import Highpass, Lowpass
from leafml.dsp.mfcc import Mfcc
from leafml.dsp.mfe import Mfe
from leafml.dsp.normalize import Normalize
from leafml.dsp.raw import Raw
from leafml.dsp.schema import (
    MISSING,
    DspConfigError,
    choice,
    duration_samples,
    integer,
    number,
    string_list,
    table,
)
from leafml.dsp.spectral import Spectral

# Every block by its name in dsp.blocks, with its stage: blocks run in stage order.
BLOCKS: dict[str, type[DspBlock]] = {
    block.name: block for block in (Raw, Lowpass, Highpass, Spectral, Mfe, Mfcc, Normalize)
}
STAGES = {"raw": 0, "lowpass": 1, "highpass": 1, "spectral": 2, "mfe": 2, "mfcc": 2, "normalize": 3}
FEATURE_STAGE = 2
ORDER = "raw, filters (lowpass, highpass), one feature block (spectral, mfe, mfcc), normalize"
INPUT_TYPES = tuple(INPUT_CTYPES)
SETTINGS_KEYS = ("sample_rate_hz", "axes", "input", "window_ms", "window_stride_ms", "blocks")
MAX_AXES = 64


@dataclass(frozen=True)
class DspSettings:
    """The [dsp] table's top-level keys, durations converted to samples."""

    sample_rate_hz: float
    axes: int
    input_type: str  # "float32" or "int16"
    window_samples: int
    window_stride_samples: int


def parse_dsp_table(value: Any) -> tuple[DspSettings, list[DspBlock]]:
    """Check the [dsp] table (a dict as tomllib gives it) and build its blocks, in order.

    Raises `DspConfigError` (one line, with the dotted key in ``.path``) for
    an unknown key, a bad value, or blocks in the wrong order.
    """
    dsp = table(value, "dsp", (*SETTINGS_KEYS, *BLOCKS))
    rate = number(dsp.get("sample_rate_hz", MISSING), "dsp.sample_rate_hz", low=0.0, low_open=True)
    window = duration_samples(dsp.get("window_ms", MISSING), "dsp.window_ms", rate)
    stride = window
    if "window_stride_ms" in dsp:
        stride = duration_samples(dsp["window_stride_ms"], "dsp.window_stride_ms", rate)
    settings = DspSettings(
        sample_rate_hz=rate,
        axes=integer(dsp.get("axes", MISSING), "dsp.axes", low=1, high=MAX_AXES, default=1),
        input_type=choice(dsp.get("input", MISSING), "dsp.input", INPUT_TYPES, default="float32"),
        window_samples=window,
        window_stride_samples=stride,
    )
    names = string_list(dsp.get("blocks", MISSING), "dsp.blocks", BLOCKS, default=())
    _check_order(names)
    for name in BLOCKS:
        if name in dsp and name not in names:
            raise DspConfigError(f"dsp.{name}", f"configures a block that dsp.blocks does not list; "
                                 f"add {name!r} to dsp.blocks or remove [dsp.{name}]")
    signal = SignalSpec(rate, window, settings.axes)
    blocks = []
    for name in names:
        block = BLOCKS[name]
        path = f"dsp.{name}"
        blocks.append(block.from_table(table(dsp.get(name, MISSING), path, block.keys), path, signal))
    return settings, blocks


def _check_order(names: tuple[str, ...]) -> None:
    for before, after in zip(names, names[1:]):
        if STAGES[after] < STAGES[before]:
            raise DspConfigError("dsp.blocks", f"puts {after!r} after {before!r}; the order is: {ORDER}")
    features = [name for name in names if STAGES[name] == FEATURE_STAGE]
    if len(features) > 1:
        raise DspConfigError("dsp.blocks", f"lists {len(features)} feature blocks ({', '.join(features)}); keep one")
