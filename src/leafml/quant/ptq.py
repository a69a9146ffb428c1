"""int8 post-training quantization following the TFLite quantization spec.

* Weights: symmetric int8 in [-127, 127], zero point 0; per output channel
  for CONV_2D (axis 0) and DEPTHWISE_CONV_2D (axis 3), per tensor for
  FULLY_CONNECTED (as the spec says).
* Biases: int32, zero point 0, scale ``input_scale * weight_scale[c]``.
* Activations (graph input and output included): asymmetric int8 per tensor,
  from the min/max observed over calibration data, the range always
  containing 0 so that zero is exact.
* Operators that only move values (pooling, RESHAPE) keep their input's
  parameters; SOFTMAX outputs scale 1/256 and zero point -128.
"""

from __future__ import annotations

import numpy as np

from leafml.errors import LeafmlError
from leafml.interpreter import evaluate
from leafml.ir.graph import Graph, GraphError, Node, OpType, QuantParams, Tensor

KEEPS_INPUT_QUANT = (OpType.MAX_POOL_2D, OpType.AVERAGE_POOL_2D, OpType.RESHAPE)
WEIGHTED = (OpType.CONV_2D, OpType.DEPTHWISE_CONV_2D, OpType.FULLY_CONNECTED)
# The weights' output-channel axis of the operators quantized per channel.
PER_CHANNEL_AXIS = {OpType.CONV_2D: 0, OpType.DEPTHWISE_CONV_2D: 3}


class CalibrationError(LeafmlError, ValueError):
    """Calibration data that does not fit the graph."""


def activation_quant(low: float, high: float) -> QuantParams:
    """Asymmetric int8 parameters covering ``[low, high]`` (widened to include 0)."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    if high - low < 1e-12:
        return QuantParams([1.0], [0])
    scale = np.float32((high - low) / 255.0)
    zero_point = int(np.clip(np.round(-128 - low / float(scale)), -128, 127))
    return QuantParams([scale], [zero_point])


def quantize_array(x: np.ndarray, quant: QuantParams) -> np.ndarray:
    """Real values to int8 with per-tensor parameters (round half to even, saturate)."""
    q = np.round(np.asarray(x, dtype=np.float64) / quant.scalar_scale) + quant.scalar_zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize_array(q: np.ndarray, quant: QuantParams) -> np.ndarray:
    """int8 values back to reals with per-tensor parameters."""
    return ((q.astype(np.float64) - quant.scalar_zero_point) * quant.scalar_scale).astype(np.float32)


def _symmetric_weights(w: np.ndarray, axis: int | None) -> tuple[np.ndarray, QuantParams]:
    """Symmetric int8 weights, per channel along ``axis`` (None: per tensor)."""
    axes = tuple(a for a in range(w.ndim) if a != axis) if axis is not None else None
    peak = np.max(np.abs(w), axis=axes, keepdims=axis is not None)
    shaped = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.round(w / shaped), -127, 127).astype(np.int8)
    scale = np.atleast_1d(shaped.ravel())
    return q, QuantParams(scale, np.zeros(scale.shape, np.int64), axis=axis or 0)


def with_float_input(graph: Graph) -> Graph:
    """A copy of the int8 ``graph`` that takes float32 input and quantizes it with a QUANTIZE node first.

    What TFLite converters emit for float I/O: a DSP block's float features
    feed the model directly, and every back end (LiteRT, TFLM, the C)
    quantizes them with its own runtime's rounding.
    """
    g = graph.copy()
    x = g.tensors[g.inputs[0]]
    if x.dtype != np.int8:
        raise GraphError(f"graph input {x.name!r} is {x.dtype}; with_float_input takes an int8 graph")
    name = g.unique_name(f"{x.name}_float")
    g.add_tensor(Tensor(name, x.shape))
    g.nodes.insert(0, Node(OpType.QUANTIZE, [name], [x.name], name=f"{x.name}_quantize"))
    g.inputs[0] = name
    return g.validate()


class Quantizer:
    """Post-training int8 quantization of a float Graph.

    >>> quantizer = Quantizer(float_graph).fit(calibration_batch)   # doctest: +SKIP
    >>> int8_graph = quantizer.graph_                                # doctest: +SKIP

    ``fit`` takes one array per graph input (or a single array for a
    single-input graph), batch first, in the graph's own layout (NHWC).
    Learned state: ``ranges_`` (tensor name -> observed (min, max)) and
    ``graph_`` (the validated int8 graph).
    """

    def __init__(self, graph: Graph):
        self.graph = graph

    def fit(self, calibration_data) -> Quantizer:
        arrays = [calibration_data] if isinstance(calibration_data, np.ndarray) else list(calibration_data)
        self._check_calibration(arrays)
        values = evaluate(self.graph, [a.astype(np.float32) for a in arrays])
        self.ranges_ = {name: (float(v.min()), float(v.max())) for name, v in values.items()}
        self.graph_ = self._quantize().validate()
        return self

    def _check_calibration(self, arrays: list[np.ndarray]) -> None:
        if len(arrays) != len(self.graph.inputs):
            raise CalibrationError(f"calibration data has {len(arrays)} arrays; the graph has {len(self.graph.inputs)} inputs")
        for name, a in zip(self.graph.inputs, arrays):
            want = self.graph.tensors[name].shape[1:]
            if not isinstance(a, np.ndarray) or a.ndim != len(want) + 1 or a.shape[1:] != want or a.shape[0] == 0:
                got = getattr(a, "shape", type(a).__name__)
                raise CalibrationError(
                    f"calibration data for input {name!r} has shape {got}; expected (N, {', '.join(map(str, want))}) in NHWC layout"
                )
            if not np.all(np.isfinite(a)):
                raise CalibrationError(f"calibration data for input {name!r} contains NaN or infinity")

    def _quantize(self) -> Graph:
        g = self.graph.copy()
        for name in g.inputs:
            self._as_int8(g.tensors[name], activation_quant(*self.ranges_[name]))
        for node in g.nodes:
            x = g.tensors[node.inputs[0]]
            out = g.tensors[node.outputs[0]]
            if node.op in KEEPS_INPUT_QUANT:
                quant = QuantParams(x.quant.scale.copy(), x.quant.zero_point.copy())
            elif node.op is OpType.SOFTMAX:
                quant = QuantParams([1.0 / 256.0], [-128])
            elif node.op in WEIGHTED:
                quant = activation_quant(*self.ranges_[out.name])
                self._quantize_weights(g, node)
            else:
                raise GraphError(f"the quantizer does not handle {node.op.value}")
            self._as_int8(out, quant)
        return g

    def _quantize_weights(self, g: Graph, node) -> None:
        x, w = g.tensors[node.inputs[0]], g.tensors[node.inputs[1]]
        q, w_quant = _symmetric_weights(w.data, PER_CHANNEL_AXIS.get(node.op))
        w.data, w.dtype, w.quant = q, np.dtype(np.int8), w_quant
        if len(node.inputs) > 2:
            b = g.tensors[node.inputs[2]]
            bias_scale = (np.float64(x.quant.scalar_scale) * w_quant.scale.astype(np.float64)).astype(np.float32)
            b.data = np.round(b.data / bias_scale.astype(np.float64)).clip(-(2**31), 2**31 - 1).astype(np.int32)
            b.dtype = np.dtype(np.int32)
            b.quant = QuantParams(bias_scale, np.zeros(bias_scale.shape, np.int64), axis=0)

    @staticmethod
    def _as_int8(t: Tensor, quant: QuantParams) -> None:
        t.dtype, t.quant = np.dtype(np.int8), quant
