"""QUANTIZE and DEQUANTIZE: the conversions at the edges of an int8 body.

QUANTIZE converts float32 to int8, or requantizes int8 to int8 or uint8
(microWakeWord models end with int8 -> uint8); DEQUANTIZE converts int8 to
float32.  Those are the pairs TFLM supports (it has no float32 -> uint8).
Each mode follows its runtime, measured bit-exact:

* float32 -> int8.  ``"double"``, TFLM's ``reference_ops::AffineQuantize``:
  ``x / scale`` in float32, rounded half away from zero.  ``"single"``,
  LiteRT's default resolver, hands it to XNNPACK: ``x * (1 / scale)`` in
  float32, rounded half to even.  Both add the zero point and saturate.
  For ``|x / scale| >= 2**31`` and infinities TFLM converts out of range
  (undefined in C++; x86-64 gives int32's minimum, so the sign of the
  result depends on the zero point): leafml saturates, as ARM's conversion
  does.  NaN gives -128 in ``"double"`` and 127 in ``"single"`` (XNNPACK's).
* int8 -> int8 or uint8 rescales by ``input_scale / output_scale`` and is
  tabulated over the 256 inputs like the activations.  TFLM runs TFLite's
  Requantize with gemmlowp double rounding.  LiteRT gives int8 -> int8 to
  XNNPACK when the ratio is in [1/256, 128] (a multiplier rounded to 1/256);
  otherwise, and for uint8 outputs, its x86-64 build runs the NEON kernel
  through an SSE emulation: blocks of 16 elements round the final shift half
  up, the ``size % 16`` elements after the last block half away from zero
  (the scalar code), so single mode keeps one table for each.
* int8 -> float32 is ``scale * (q - zero_point)``, rounded once to float32
  by both runtimes.

The 8-bit tables and rescalings here serve :mod:`leafml.ops.activations` too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Graph, GraphError, OpType
from leafml.ops.base import InPlace, OpDef
from leafml.quant.fixedpoint import Rounding, multiply_by_quantized_multiplier, quantize_multiplier, saturating_rounding_doubling_high_mul

INT8_VALUES = np.arange(-128, 128, dtype=np.int64)
QUANTIZE_DTYPES = {
    (np.dtype(np.float32), np.dtype(np.int8)),
    (np.dtype(np.int8), np.dtype(np.int8)),
    (np.dtype(np.int8), np.dtype(np.uint8)),
}
INTEGER_RANGE = {np.dtype(np.int8): (-128, 127), np.dtype(np.uint8): (0, 255)}
# Quotients beyond this saturate every int8 output whatever the zero point;
# clamping them first keeps the conversion to integers defined.
QUOTIENT_LIMIT = 512.0
NEON_BLOCK = 16  # elements per iteration of LiteRT's (emulated) NEON Requantize
# XNNPACK's 8-bit rescaling multiplies by round(256 * scale ratio); LiteRT's
# delegate gives it ratios in this range (bounds included), TFLite the others.
XNNPACK_RATIO_RANGE = (np.float32(1.0 / 256.0), np.float32(128.0))


# -- shared with the element-wise activations -----------------------------------------
@dataclass(frozen=True, eq=False)  # eq=False: a generated __eq__ would compare arrays elementwise
class LookupTable:
    """Params of a tabulated 8-bit kernel: input ``x`` gives ``table[x + 128]``."""

    table: np.ndarray  # [256] of the output dtype (int8, or uint8 for QUANTIZE), read-only

    @classmethod
    def of(cls, outputs: np.ndarray, dtype: type = np.int8) -> LookupTable:
        """The table of ``outputs``: the kernel's results for inputs -128..127, already in range."""
        table = np.asarray(outputs).astype(dtype)
        table.setflags(write=False)
        return cls(table)

    def lookup(self, x: np.ndarray) -> np.ndarray:
        return self.table[x.astype(np.int64) + 128]


def tensor_quant(graph: Graph, name: str) -> tuple[np.float32, int]:
    """A tensor's per-tensor (scale as float32, as a .tflite file holds it, zero point)."""
    quant = graph.tensors[name].quant
    assert quant is not None
    return np.float32(quant.scalar_scale), quant.scalar_zero_point


def rescale(x: np.ndarray, real: float) -> np.ndarray:
    """Integers ``x`` times ``real`` as TFLite's scalar kernels do (QuantizeMultiplier, MultiplyByQuantizedMultiplier).

    Double rounding: TFLM's build, and LiteRT's x86-64 build too (measured).
    """
    multiplier, shift = quantize_multiplier(real)
    return multiply_by_quantized_multiplier(x, multiplier, shift, "double")


def xnnpack_rescale(x: np.ndarray, ratio: np.float32) -> np.ndarray:
    """Integers ``x`` times float32 ``ratio`` as XNNPACK's 8-bit kernels do: ``round(256 * ratio)``, then ``>> 8``."""
    multiplier = int(np.rint(np.float32(256.0) * ratio))  # lrintf: ties to even
    return (x * multiplier + 0x80) >> 8


def in_xnnpack_range(ratio: np.float32) -> bool:
    """True if XNNPACK's 8-bit rescaling takes this (positive) scale ratio."""
    return bool(XNNPACK_RATIO_RANGE[0] <= ratio <= XNNPACK_RATIO_RANGE[1])


def round_half_away(x: np.ndarray) -> np.ndarray:
    """``std::round`` on float values: halves away from zero (exact, unlike ``floor(x + 0.5)``)."""
    whole = np.trunc(x)
    fraction = x - whole
    return whole + (fraction >= 0.5) - (fraction <= -0.5)


# -- QUANTIZE, DEQUANTIZE ---------------------------------------------------------------
@dataclass(frozen=True)
class AffineQuantizeParams:
    """float32 -> int8 as the ``rounding`` mode's runtime does it (see the module doc)."""

    scale: float  # a float32 value
    zero_point: int
    rounding: Rounding


@dataclass(frozen=True)
class SplitLookupTable:
    """Two tables over each inference's flat tensor: ``body`` for whole blocks of 16, ``tail`` for the rest."""

    body: LookupTable
    tail: LookupTable

    @staticmethod
    def split(size: int) -> int:
        """Where the tail starts in a flat tensor of ``size`` elements."""
        return size - size % NEON_BLOCK

    def lookup(self, x: np.ndarray, size: int) -> np.ndarray:
        """``x`` holds whole inferences of ``size`` elements each."""
        flat = x.reshape(-1, size)
        split = self.split(size)
        return np.concatenate([self.body.lookup(flat[:, :split]), self.tail.lookup(flat[:, split:])], axis=1).reshape(x.shape)


@dataclass(frozen=True)
class DequantizeParams:
    scale: float  # a float32 value
    zero_point: int


def _check_per_tensor(label: str, tensor) -> None:
    if tensor.quant is None or tensor.quant.per_channel:
        raise GraphError(f"{label}: {tensor.dtype} tensor {tensor.name!r} needs per-tensor quantization")
    low, high = INTEGER_RANGE[tensor.dtype]
    if not low <= tensor.quant.scalar_zero_point <= high:
        raise GraphError(f"{label}: zero point of {tensor.dtype} tensor {tensor.name!r} must be in [{low}, {high}]")


def _neon_rescale(x: np.ndarray, real: float) -> np.ndarray:
    # TFLite's MultiplyByQuantizedMultiplier4Rows: the same high multiply as
    # the scalar code, then a rounding shift (VRSHL) that rounds halves up.
    multiplier, shift = quantize_multiplier(real)
    high = saturating_rounding_doubling_high_mul(x << max(shift, 0), multiplier)
    right_shift = max(-shift, 0)
    return high if right_shift == 0 else (high + (1 << (right_shift - 1))) >> right_shift


class Quantize(OpDef):
    op = OpType.QUANTIZE

    def infer_shapes(self, graph, node):
        return [graph.tensors[node.inputs[0]].shape]

    def check_activation_dtypes(self, graph, node, label):
        x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
        if (x.dtype, out.dtype) not in QUANTIZE_DTYPES:
            raise GraphError(
                f"{label} converts {x.dtype} to {out.dtype}; QUANTIZE supports float32 -> int8, int8 -> int8 and int8 -> uint8 "
                "(go through int8 for the others)"
            )
        for tensor in (x, out) if x.dtype == np.int8 else (out,):
            _check_per_tensor(label, tensor)

    def prepare(self, graph, node, rounding: Rounding) -> AffineQuantizeParams | LookupTable | SplitLookupTable:
        out_dtype = graph.tensors[node.outputs[0]].dtype
        out_scale, out_zero_point = tensor_quant(graph, node.outputs[0])
        if graph.tensors[node.inputs[0]].dtype == np.float32:
            return AffineQuantizeParams(float(out_scale), out_zero_point, rounding)
        in_scale, in_zero_point = tensor_quant(graph, node.inputs[0])
        offset_free = INT8_VALUES - in_zero_point
        low, high = INTEGER_RANGE[out_dtype]

        def table(requantized: np.ndarray) -> LookupTable:
            return LookupTable.of(np.clip(requantized + out_zero_point, low, high), out_dtype)

        # Both runtimes widen the float32 scales to double before dividing.
        real = float(in_scale) / float(out_scale)
        if rounding == "double":
            return table(rescale(offset_free, real))
        if out_dtype == np.int8 and in_xnnpack_range(in_scale / out_scale):
            return table(xnnpack_rescale(offset_free, in_scale / out_scale))
        return SplitLookupTable(table(_neon_rescale(offset_free, real)), table(rescale(offset_free, real)))

    def in_place(self, graph, node):
        # Between 8-bit types a table lookup (leafml_lookup_s8); from float32, leafml_quantize_f32_s8
        # writes byte i after reading float i, whose bytes 4i..4i+3 lie at or past it.
        return (InPlace(0),)

    def run_int8(self, graph, node, params: AffineQuantizeParams | LookupTable | SplitLookupTable, inputs, rounding):
        if isinstance(params, SplitLookupTable):
            return params.lookup(inputs[0], graph.tensors[node.inputs[0]].size)
        if isinstance(params, LookupTable):
            return params.lookup(inputs[0])
        return affine_quantize(params, inputs[0])


def affine_quantize(params: AffineQuantizeParams, x: np.ndarray) -> np.ndarray:
    """float32 values to int8 as TFLM (``"double"``) or LiteRT's XNNPACK (``"single"``) does."""
    x = np.asarray(x, np.float32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if params.rounding == "single":
            quotient = x * (np.float32(1.0) / np.float32(params.scale))
        else:
            quotient = x / np.float32(params.scale)
    nan = QUOTIENT_LIMIT if params.rounding == "single" else -QUOTIENT_LIMIT
    quotient = np.where(np.isnan(quotient), nan, np.clip(quotient, -QUOTIENT_LIMIT, QUOTIENT_LIMIT)).astype(np.float64)
    rounded = np.rint(quotient) if params.rounding == "single" else round_half_away(quotient)
    return np.clip(rounded + params.zero_point, -128, 127).astype(np.int8)


class Dequantize(OpDef):
    op = OpType.DEQUANTIZE

    def infer_shapes(self, graph, node):
        return [graph.tensors[node.inputs[0]].shape]

    def check_activation_dtypes(self, graph, node, label):
        x, out = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
        if x.dtype != np.int8 or out.dtype != np.float32:
            raise GraphError(f"{label} converts {x.dtype} to {out.dtype}; DEQUANTIZE supports int8 -> float32")
        _check_per_tensor(label, x)

    def prepare(self, graph, node, rounding: Rounding) -> DequantizeParams:
        scale, zero_point = tensor_quant(graph, node.inputs[0])
        return DequantizeParams(float(scale), zero_point)

    def run_int8(self, graph, node, params: DequantizeParams, inputs, rounding):
        return (inputs[0].astype(np.int32) - params.zero_point).astype(np.float32) * np.float32(params.scale)
