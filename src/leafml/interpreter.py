"""The reference interpreter: executes a Graph with the numpy kernels of :mod:`leafml.ops`.

It is the definition of "correct" that every other back end is compared with.
Each node runs the float kernel when its data input and output are float32,
and otherwise the integer kernel with the requested rounding mode
(``"double"`` for TFLM, ``"single"`` for LiteRT), so a graph with float I/O,
QUANTIZE, an int8 body and DEQUANTIZE runs its body in integers.  Inputs
carry a leading batch axis that may be larger than the one the graph
declares: the batch is split and run sample by sample in one call of each
vectorised kernel.
"""

from __future__ import annotations

import numpy as np

from leafml.ir.graph import Graph, GraphError, Node
from leafml.ops import get_op
from leafml.quant.fixedpoint import check_rounding


def runs_integer_kernel(graph: Graph, node: Node) -> bool:
    """True when ``node`` runs its integer kernel: its data input or its output is not float32."""
    return any(graph.tensors[name].dtype != np.float32 for name in (node.inputs[0], node.outputs[0]))


def prepare(graph: Graph, rounding: str = "double") -> list:
    """The integer params of every node, in node order (None for a node that runs in float)."""
    rounding = check_rounding(rounding)
    return [get_op(node.op).prepare(graph, node, rounding) if runs_integer_kernel(graph, node) else None for node in graph.nodes]


def run(graph: Graph, inputs: list[np.ndarray], rounding: str = "double") -> list[np.ndarray]:
    """Run ``graph`` on ``inputs`` (one array per graph input, batch first).

    The declared batch of every graph input must be 1 or equal the given
    batch; the result arrays carry the given batch.  Raises GraphError for a
    wrong number of inputs, a wrong dtype or a wrong per-sample shape.
    """
    values = evaluate(graph, inputs, rounding)
    return [values[name] for name in graph.outputs]


def evaluate(graph: Graph, inputs: list[np.ndarray], rounding: str = "double") -> dict[str, np.ndarray]:
    """Like :func:`run`, but return every activation tensor's value by name."""
    rounding = check_rounding(rounding)
    if len(inputs) != len(graph.inputs):
        raise GraphError(f"the graph takes {len(graph.inputs)} inputs, {len(inputs)} were given")
    batch = None
    values: dict[str, np.ndarray] = {}
    for name, array in zip(graph.inputs, inputs):
        t = graph.tensors[name]
        array = np.asarray(array)
        if array.dtype != t.dtype:
            raise GraphError(f"input {name!r} must be {t.dtype}, got {array.dtype}")
        if array.shape[1:] != t.shape[1:]:
            raise GraphError(f"input {name!r} must have shape (N, {', '.join(map(str, t.shape[1:]))}), got {array.shape}")
        batch = array.shape[0] if batch is None else batch
        values[name] = array
    params = prepare(graph, rounding)
    for index, node in enumerate(graph.nodes):
        op = get_op(node.op)
        args = [graph.tensors[n].data if graph.tensors[n].is_constant else values[n] for n in node.inputs]
        if runs_integer_kernel(graph, node):
            out = op.run_int8(graph, node, params[index], args, rounding)
        else:
            out = op.run_float(graph, node, args)
        declared = graph.tensors[node.outputs[0]].shape
        # Keep the runtime batch: the declared shape has batch 1.
        values[node.outputs[0]] = out.reshape((batch if declared[0] == 1 else declared[0], *declared[1:]))
    return values
