"""What the Cortex-M DSP kernels (``kernels/dsp.h``) need from the generator.

A conv, depthwise or fully-connected node becomes two calls in model.c, one
chosen by the preprocessor: under ``#if LEAFML_ARM_DSP`` (Cortex-M4, M7,
M33, M55) the ``*_dsp_s8`` kernel with a scratch buffer and its
requantization mode, under ``#else`` the portable kernel.  Both read the
same constant arrays, so the weights are in the firmware once whichever runs.

The scratch buffer is an ``int32_t`` array local to a block of the invoke
function: it lives on the stack only while its node runs (GCC shares the
slot between nodes), and the firmware's measured stack use includes it.

*Fast mode* (see ``dsp.h``) doubles the accumulators and requantizes each
with one SMMLAR and a shift.  It is exact for TFLM's double rounding when
every channel shifts right by 1 to 23 bits and no accumulator can reach
2**30; the generator checks both from the constants, so the kernel never
has to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from leafml.ir.graph import Graph, Node
from leafml.ops.conv2d import RequantParams
from leafml.ops.depthwise_conv2d import depthwise_window

if TYPE_CHECKING:  # emitters.py imports this module for its emitters
    from leafml.codegen.emitters import ModelSource

# Doubled accumulators must stay inside int32.
_FAST_ACCUMULATOR_LIMIT = 2**30
# Right shifts the one-SMMLAR requantization covers (the zero point times 2**shift must fit int32).
_FAST_SHIFTS = (1, 23)
_PIXELS_PER_BLOCK = 4  # output pixels one pass of the conv kernel computes


def requantization_mode(graph: Graph, node: Node, params: RequantParams, reduce_axes: tuple[int, ...]) -> str:
    """The C name of how the DSP kernel requantizes ``node`` (the modes of ``dsp.h``).

    Fast mode needs TFLM's double rounding, every right shift in [1, 23]
    and accumulators below 2**30 in magnitude, bounded by ``|bias| +
    max|x + input_offset| * sum|w|`` over each output channel's weights
    (``reduce_axes``: the weight axes summed into one channel).
    """
    shifts = -params.shifts
    if params.scales is not None or np.any(shifts < _FAST_SHIFTS[0]) or np.any(shifts > _FAST_SHIFTS[1]):
        return "LEAFML_DSP_GENERAL"
    weights = graph.tensors[node.inputs[1]].data.astype(np.int64)
    bias = np.abs(graph.tensors[node.inputs[2]].data.astype(np.int64)) if len(node.inputs) > 2 else 0
    widest_input = max(abs(-128 + params.input_offset), abs(127 + params.input_offset))
    bound = bias + widest_input * np.abs(weights).sum(axis=reduce_axes)
    if np.any(bound >= _FAST_ACCUMULATOR_LIMIT):
        return "LEAFML_DSP_GENERAL"
    return "LEAFML_DSP_FAST_CLAMPED" if params.act_min > -128 or params.act_max < 127 else "LEAFML_DSP_FAST"


def conv_scratch_words(graph: Graph, node: Node) -> int:
    """Scratch of the DSP conv kernel, in 4-byte words.

    A table of 8 words per output channel (a block's 4 accumulators and the
    channel's constants), the widened columns of 4 pixels (the filter depth
    rounded up to 4, one int16 each) and a staging row of as many int8 bytes.
    """
    w = graph.tensors[node.inputs[1]]
    depth = _round_up(int(np.prod(w.shape[1:])), 4)
    return 8 * w.shape[0] + _PIXELS_PER_BLOCK * depth // 2 + depth // 4


def depthwise_scratch_words(graph: Graph, node: Node) -> int:
    """Scratch of the DSP depthwise kernel, in 4-byte words.

    One padded int16 input plane and one line of int32 accumulators.  The
    kernel transposes the plane when the output has more rows than
    columns; the size covers either layout, so that a row walk's narrower
    windows (which may choose the other) fit as well.
    """
    win = depthwise_window(graph, node)
    rows = (win.out_h - 1) * win.stride_h + (win.k_h - 1) * win.dilation_h + 1
    cols = (win.out_w - 1) * win.stride_w + (win.k_w - 1) * win.dilation_w + 1

    def plane(lines: int, length: int) -> int:
        return lines * _round_up(length + 1, 2) // 2  # even lines start on words; a spare lane for pair reads

    return max(plane(rows, cols), plane(cols, rows)) + max(win.out_h, win.out_w)


def fully_connected_scratch_words(graph: Graph, node: Node) -> int:
    """Scratch of the DSP fully-connected kernel, in 4-byte words: one input row's whole groups of 4 values, int16."""
    return max(graph.tensors[node.inputs[1]].shape[1] // 4 * 2, 1)


def dsp_call(src: ModelSource, node: Node, struct: str, kernel: str, scratch_words: int, mode: str) -> str:
    """The node's statement: ``<kernel>_dsp_s8`` and its scratch if ``LEAFML_ARM_DSP``, else ``<kernel>_s8``.

    ``struct`` is the C expression of the node's params, ``mode`` one of the
    modes :func:`requantization_mode` names.
    """
    pointers = f"{src.pointer(node.inputs[0])}, {src.pointer(node.outputs[0])}"
    return (
        "#if LEAFML_ARM_DSP\n"
        "    {\n"
        f"        int32_t scratch[{scratch_words}]; /* {4 * scratch_words} bytes, this node only */\n"
        f"        {kernel}_dsp_s8({struct}, {pointers}, scratch, {mode});\n"
        "    }\n"
        "    #else\n"
        f"    {kernel}_s8({struct}, {pointers});\n"
        "    #endif"
    )


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple

