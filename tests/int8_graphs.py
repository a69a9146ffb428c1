"""Small int8 graphs for tests, built without leafml's quantizer.

``GraphBuilder`` chains operators into a float Graph with random weights;
``quantize`` turns it into an int8 Graph the simple, explicit way:

* activations: asymmetric per-tensor int8 from the min/max seen on a float
  calibration batch (0 always representable), unless ``overrides`` names
  a ``(scale, zero_point)`` for a tensor;
* pools and reshape keep their input's quantization; softmax outputs have
  scale 1/256 and zero point -128, as TFLite requires;
* CONV_2D weights: symmetric int8 per output channel (axis 0);
  FULLY_CONNECTED weights: symmetric int8 per tensor;
* biases: int32 with scale ``input_scale * weight_scale`` and zero point 0.

Other tests reuse this to get int8 graphs whose outputs are not all clamped.
"""

from __future__ import annotations

import numpy as np

from leafml.ir import Activation, Graph, Node, OpType, Padding, QuantParams, Tensor
from leafml.ops import Conv2DAttrs, FullyConnectedAttrs, PoolAttrs, ReshapeAttrs, SoftmaxAttrs, get_op

SOFTMAX_QUANT = (1.0 / 256.0, -128)


class GraphBuilder:
    """Append operators to a float graph, each reading the previous output.

    >>> g = GraphBuilder((1, 6, 6, 2)).conv(4, 3).max_pool(2, 2).reshape((1, -1)).fully_connected(3).build()
    >>> [n.op.value for n in g.nodes]
    ['CONV_2D', 'MAX_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED']
    """

    def __init__(self, input_shape: tuple[int, ...], seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.graph = Graph()
        self.graph.add_tensor(Tensor("input", input_shape))
        self.graph.inputs.append("input")
        self.last = "input"

    def _node(self, op: OpType, attrs, constants: list[np.ndarray], name: str) -> GraphBuilder:
        inputs = [self.last]
        for suffix, data in zip(("w", "b"), constants):
            inputs.append(self.graph.add_constant(self.graph.unique_name(f"{name}_{suffix}"), data.astype(np.float32)).name)
        out = self.graph.unique_name(name)
        node = Node(op, inputs, [out], attrs, name=out)
        self.graph.add_tensor(Tensor(out, (1,)))
        self.graph.nodes.append(node)
        self.graph.tensors[out].shape = tuple(get_op(op).infer_shapes(self.graph, node)[0])
        self.last = out
        return self

    def _weights(self, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        return self.rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)

    def conv(
        self,
        out_channels: int,
        kernel: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: Padding = Padding.VALID,
        dilation: int | tuple[int, int] = 1,
        activation: Activation = Activation.NONE,
        bias: bool = True,
    ) -> GraphBuilder:
        k_h, k_w = _pair(kernel)
        in_channels = self.graph.tensors[self.last].shape[3]
        constants = [self._weights((out_channels, k_h, k_w, in_channels), k_h * k_w * in_channels)]
        if bias:
            constants.append(self.rng.normal(0.0, 0.2, out_channels))
        attrs = Conv2DAttrs(_pair(stride), padding, _pair(dilation), activation)
        return self._node(OpType.CONV_2D, attrs, constants, "conv")

    def fully_connected(self, units: int, activation: Activation = Activation.NONE, bias: bool = True) -> GraphBuilder:
        in_features = self.graph.tensors[self.last].shape[-1]
        constants = [self._weights((units, in_features), in_features)]
        if bias:
            constants.append(self.rng.normal(0.0, 0.2, units))
        return self._node(OpType.FULLY_CONNECTED, FullyConnectedAttrs(activation), constants, "fc")

    def max_pool(self, size, stride, padding=Padding.VALID, activation=Activation.NONE) -> GraphBuilder:
        return self._node(OpType.MAX_POOL_2D, PoolAttrs(_pair(size), _pair(stride), padding, activation), [], "maxpool")

    def average_pool(self, size, stride, padding=Padding.VALID, activation=Activation.NONE) -> GraphBuilder:
        return self._node(OpType.AVERAGE_POOL_2D, PoolAttrs(_pair(size), _pair(stride), padding, activation), [], "avgpool")

    def reshape(self, shape: tuple[int, ...]) -> GraphBuilder:
        return self._node(OpType.RESHAPE, ReshapeAttrs(tuple(shape)), [], "reshape")

    def softmax(self, beta: float = 1.0) -> GraphBuilder:
        return self._node(OpType.SOFTMAX, SoftmaxAttrs(beta), [], "softmax")

    def build(self) -> Graph:
        self.graph.outputs = [self.last]
        return self.graph.validate()


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)  # type: ignore[return-value]


def float_activations(graph: Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Every activation of a float graph on the batch ``x``, by tensor name."""
    values = {graph.inputs[0]: x}
    for node in graph.nodes:
        args = [graph.tensors[n].data if graph.tensors[n].is_constant else values[n] for n in node.inputs]
        values[node.outputs[0]] = get_op(node.op).run_float(graph, node, args)
    return values


def activation_quant(values: np.ndarray) -> tuple[float, int]:
    """Asymmetric int8 ``(scale, zero_point)`` covering the range of ``values`` and 0."""
    low, high = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
    scale = max(high - low, 1e-6) / 255.0
    return scale, int(np.clip(np.round(-128 - low / scale), -128, 127))


def _symmetric(w: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    magnitude = np.abs(w).reshape(w.shape[0], -1).max(axis=1) if per_channel else np.array([np.abs(w).max()])
    scale = (np.maximum(magnitude, 1e-8) / 127.0).astype(np.float32)
    shaped = scale.reshape((-1,) + (1,) * (w.ndim - 1)) if per_channel else scale[0]
    return np.clip(np.round(w / shaped), -127, 127).astype(np.int8), scale


def quantize(
    graph: Graph, calibration: np.ndarray, overrides: dict[str, tuple[float, int]] | None = None
) -> Graph:
    """An int8 copy of the float ``graph``; activation ranges from ``calibration`` (a float input batch)."""
    overrides = overrides or {}
    values = float_activations(graph, calibration)
    q = graph.copy()

    def set_quant(name: str, scale: float, zero_point: int) -> None:
        t = q.tensors[name]
        t.dtype, t.quant = np.dtype(np.int8), QuantParams(scale, zero_point)

    x = graph.inputs[0]
    set_quant(x, *overrides.get(x, activation_quant(values[x])))
    for node in q.nodes:
        out = node.outputs[0]
        source = q.tensors[node.inputs[0]].quant
        if node.op in (OpType.MAX_POOL_2D, OpType.AVERAGE_POOL_2D, OpType.RESHAPE):
            set_quant(out, source.scalar_scale, source.scalar_zero_point)
        elif node.op is OpType.SOFTMAX:
            set_quant(out, *SOFTMAX_QUANT)
        else:
            set_quant(out, *overrides.get(out, activation_quant(values[out])))
        if node.op in (OpType.CONV_2D, OpType.FULLY_CONNECTED):
            _quantize_weights(q, node, per_channel=node.op is OpType.CONV_2D)
    return q.validate()


def _quantize_weights(q: Graph, node: Node, per_channel: bool) -> None:
    w = q.tensors[node.inputs[1]]
    data, w_scale = _symmetric(w.data, per_channel)
    w.data, w.dtype = data, np.dtype(np.int8)
    w.quant = QuantParams(w_scale, np.zeros(w_scale.size, dtype=np.int64), axis=0)
    if len(node.inputs) > 2:
        b = q.tensors[node.inputs[2]]
        b_scale = (np.float32(q.tensors[node.inputs[0]].quant.scalar_scale) * w_scale).astype(np.float32)
        b.data = np.round(b.data / b_scale).astype(np.int32)
        b.dtype = np.dtype(np.int32)
        b.quant = QuantParams(b_scale, np.zeros(b_scale.size, dtype=np.int64), axis=0)


def random_int8(shape: tuple[int, ...], count: int, seed: int = 0) -> np.ndarray:
    """``count`` int8 inputs of per-sample ``shape[1:]``: the extremes first, then uniform random."""
    rng = np.random.default_rng(seed)
    batch = rng.integers(-128, 128, size=(count, *shape[1:]), dtype=np.int8)
    batch[0], batch[1] = -128, 127
    return batch


def requant_probe(reals: list[float], output_zero_point: int = 3) -> Graph:
    """An int8 FULLY_CONNECTED whose channels sweep requantization edge cases.

    Input and output scales are 1, every weight is 1, and channel ``c`` has
    weight scale (so real multiplier) ``reals[i]`` and a bias chosen to put
    the accumulator ``bias + x`` (x the int8 input) where the rounding
    matters: around output steps, around halves, and near the int32 limits.
    For multipliers above 1 the accumulator goes up to ``2**(32 - shift)``:
    past the int32 range once shifted left (where the C saturates), yet
    small enough that the reference's 64-bit product stays exact.
    """
    multipliers, biases = [], []
    for real in reals:
        shift = int(np.frexp(real)[1])
        limit = min(2**31, 2 ** (32 - shift)) - 256
        for target in (0.0, 50.5, -50.5, 127.5, -128.5, 300.0, -300.0, 2.0**40, -(2.0**40)):
            biases.append(int(np.clip(round(target / real), -limit, limit)))
            multipliers.append(real)
    g = Graph()
    g.add_tensor(Tensor("x", (1, 1), np.int8, quant=QuantParams(1.0, 0)))
    w_scale = np.array(multipliers, dtype=np.float32)
    zeros = np.zeros(len(biases), dtype=np.int64)
    g.add_constant("w", np.ones((len(biases), 1), dtype=np.int8), QuantParams(w_scale, zeros, axis=0))
    g.add_constant("b", np.array(biases, dtype=np.int32), QuantParams(w_scale, zeros, axis=0))
    g.add_tensor(Tensor("y", (1, len(biases)), np.int8, quant=QuantParams(1.0, output_zero_point)))
    g.nodes.append(Node(OpType.FULLY_CONNECTED, ["x", "w", "b"], ["y"], FullyConnectedAttrs(), name="probe"))
    g.inputs, g.outputs = ["x"], ["y"]
    return g.validate()


# -- int8 graphs of any operators, quantization chosen by the test -------------------------
def int8_input(shape: tuple[int, ...], scale: float, zero_point: int, name: str = "x") -> Graph:
    """A graph with one int8 input and no nodes yet: add them with :func:`add_int8_node`."""
    g = Graph()
    g.add_tensor(Tensor(name, shape, np.int8, quant=QuantParams(scale, zero_point)))
    g.inputs = [name]
    return g


def add_int8_node(g: Graph, op: OpType, attrs, inputs: list[str], scale: float, zero_point: int, name: str) -> Graph:
    """Append ``op`` on ``inputs``; its int8 output ``name`` gets the inferred shape, and becomes the graph output."""
    g.add_tensor(Tensor(name, (1,), np.int8, quant=QuantParams(scale, zero_point)))
    node = Node(op, list(inputs), [name], attrs, name=name)
    g.nodes.append(node)
    g.tensors[name].shape = tuple(get_op(op).infer_shapes(g, node)[0])
    g.outputs = [name]
    return g


def single_int8_op(op: OpType, attrs, x: tuple, y: tuple, constants: tuple = (), shape: tuple[int, ...] = (1, 4, 4, 3)) -> Graph:
    """A validated one-operator int8 graph ``x -> op -> y``.

    ``x`` and ``y`` are ``(scale, zero_point)``; ``constants`` are
    ``(data, QuantParams)`` pairs appended as operands after the input.
    """
    g = int8_input(shape, *x)
    names = []
    for i, (data, quant) in enumerate(constants):
        names.append(g.add_constant(f"c{i}", data, quant).name)
    return add_int8_node(g, op, attrs, ["x", *names], *y, name="y").validate()


STRICT_C_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-c"]
CORTEX_M4_C_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]


def run_generated_c(graph: Graph, inputs: np.ndarray, rounding: str, work_dir) -> np.ndarray:
    """Outputs of ``graph``'s generated C built with the host compiler, one row per input sample.

    The model is first compiled (not linked) with ``-pedantic`` by ``cc`` and
    by ``arm-none-eabi-gcc`` for Cortex-M4: the C must build cleanly for both.
    """
    import subprocess

    from leafml.codegen import generate_c
    from leafml.firmware import find_tool
    from leafml.firmware.host import run_host

    model = generate_c(graph, work_dir / "gen", rounding=rounding)
    for compiler, flags in (("cc", []), ("arm-none-eabi-gcc", CORTEX_M4_C_FLAGS)):
        command = [find_tool(compiler), *STRICT_C_FLAGS, *flags, str(model.source), "-o", str(work_dir / f"{compiler}.o")]
        built = subprocess.run(command, capture_output=True, text=True)
        assert built.returncode == 0, f"{compiler} -pedantic: {built.stderr}"
    flat = inputs.reshape(len(inputs), -1)
    return run_host(model.sources, [model.include_dir], flat, model.output_size, work_dir / "build")


def assert_matches_peers(graph: Graph, inputs: np.ndarray, litert: bool = True, tflm: bool = True) -> None:
    """The graph's .tflite gives the reference's bytes in TFLM ("double") and LiteRT ("single")."""
    from leafml.verify.peers import run_litert, run_tflm

    model = graph.to_tflite()
    for enabled, run, rounding in ((tflm, run_tflm, "double"), (litert, run_litert, "single")):
        if enabled:
            got, want = run(model, inputs), graph.run(inputs, rounding=rounding)[0]
            mismatched = np.argwhere(got != want)
            assert not mismatched.size, f"{run.__name__}: {len(mismatched)} of {want.size} outputs differ from {rounding} rounding, first at {tuple(mismatched[0])}"
