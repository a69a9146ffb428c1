"""The reference interpreter: executes a Graph with the numpy kernels of :mod:`leafml.ops`.

It is the definition of "correct" that every other back end is compared with.
Each node runs the float kernel when its data input and output are float32,
and otherwise the integer kernel with the requested rounding mode
(``"double"`` for TFLM, ``"single"`` for LiteRT), so a graph with float I/O,
QUANTIZE, an int8 body and DEQUANTIZE runs its body in integers.  Inputs
carry a leading batch axis that may be larger than the one the graph
declares: the batch is split and run sample by sample in one call of each
vectorised kernel.

A graph with variables (streaming state) is not a function of its input
alone: :class:`Session` runs it call after call, like one TFLite or TFLM
interpreter kept across invokes, and ``run`` refuses it.
"""

from __future__ import annotations

import numpy as np

from leafml.ir.graph import Graph, GraphError, Node
from leafml.ops import get_op
from leafml.ops.variables import VariableOp
from leafml.quant.fixedpoint import check_rounding


def runs_integer_kernel(graph: Graph, node: Node) -> bool:
    """True when ``node`` runs its integer kernel: its data input (if any) or its output is not float32."""
    return any(graph.tensors[name].dtype != np.float32 for name in (*node.inputs[:1], node.outputs[0]))


def prepare(graph: Graph, rounding: str = "double") -> list:
    """The integer params of every node, in node order (None for a node that runs in float)."""
    rounding = check_rounding(rounding)
    return [get_op(node.op).prepare(graph, node, rounding) if runs_integer_kernel(graph, node) else None for node in graph.nodes]


def run(graph: Graph, inputs: list[np.ndarray], rounding: str = "double") -> list[np.ndarray]:
    """Run ``graph`` on ``inputs`` (one array per graph input, batch first).

    The declared batch of every graph input must be 1 or equal the given
    batch; the result arrays carry the given batch.  Raises GraphError for a
    wrong number of inputs, a wrong dtype or a wrong per-sample shape, and
    for a graph with variables (run that with :class:`Session`).
    """
    values = evaluate(graph, inputs, rounding)
    return [values[name] for name in graph.outputs]


def evaluate(graph: Graph, inputs: list[np.ndarray], rounding: str = "double") -> dict[str, np.ndarray]:
    """Like :func:`run`, but return every activation tensor's value by name."""
    if graph.variables:
        raise GraphError(
            f"the graph keeps state in {len(graph.variables)} variable(s), so each call depends on the calls before; "
            "run it call by call with leafml.Session(graph).invoke(x)"
        )
    rounding = check_rounding(rounding)
    return _execute(graph, _input_values(graph, inputs), prepare(graph, rounding), rounding, {})


def _input_values(graph: Graph, inputs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The graph inputs by name, checked: their number, dtypes and per-sample shapes."""
    if len(inputs) != len(graph.inputs):
        raise GraphError(f"the graph takes {len(graph.inputs)} inputs, {len(inputs)} were given")
    values: dict[str, np.ndarray] = {}
    for name, array in zip(graph.inputs, inputs):
        t = graph.tensors[name]
        array = np.asarray(array)
        if array.dtype != t.dtype:
            raise GraphError(f"input {name!r} must be {t.dtype}, got {array.dtype}")
        if array.shape[1:] != t.shape[1:]:
            raise GraphError(f"input {name!r} must have shape (N, {', '.join(map(str, t.shape[1:]))}), got {array.shape}")
        values[name] = array
    return values


def _execute(graph: Graph, values: dict[str, np.ndarray], params: list, rounding: str, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run every node on the input ``values`` (extended in place and returned); assignments update ``state``."""
    batch = values[graph.inputs[0]].shape[0]
    for index, node in enumerate(graph.nodes):
        op = get_op(node.op)
        args = [graph.tensors[n].data if graph.tensors[n].is_constant else values[n] for n in node.inputs]
        if isinstance(op, VariableOp):
            values[node.outputs[0]] = op.run_with_state(graph, node, args, state)
            continue
        if runs_integer_kernel(graph, node):
            out = op.run_int8(graph, node, params[index], args, rounding)
        else:
            out = op.run_float(graph, node, args)
        declared = graph.tensors[node.outputs[0]].shape
        # Keep the runtime batch: the declared shape has batch 1.
        values[node.outputs[0]] = out.reshape((batch if declared[0] == 1 else declared[0], *declared[1:]))
    return values


class Session:
    """A graph run call after call with its variables kept in between: one stream.

    Like one TFLite or TFLM interpreter kept across invokes: the integer
    params are prepared once, the variables start at their initial values,
    and each call sees the state the call before left.  ``reset()`` restores
    the initial values.  A graph without variables runs too, each call on
    its own::

        session = Session(graph, rounding="double")
        scores = session.invoke(features)[0]   # one call per row of features, in order
        session.reset()                        # a new stream
    """

    def __init__(self, graph: Graph, rounding: str = "double"):
        self.graph = graph.validate()
        self.rounding = check_rounding(rounding)
        self._params = prepare(graph, self.rounding)
        self.state: dict[str, np.ndarray] = {}  # each variable's current value, by name
        self.reset()

    def reset(self) -> Session:
        """Give every variable its initial value again, as a fresh interpreter has it."""
        self.state = {name: variable.data.copy() for name, variable in self.graph.variables.items()}
        return self

    def invoke(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Run the calls in ``inputs`` (one array per graph input, calls along the first axis) in order.

        Each call takes the graph inputs' declared batch of rows (1 for a
        streaming model) and sees the state the call before it left.
        Returns the graph outputs of all the calls, concatenated along the
        first axis.  Raises GraphError for inputs of the wrong number,
        dtype or shape.
        """
        values = _input_values(self.graph, list(inputs))
        rows = self.graph.tensors[self.graph.inputs[0]].shape[0]
        lengths = {len(array) for array in values.values()}
        if len(lengths) != 1 or min(lengths) == 0 or min(lengths) % rows:
            shapes = ", ".join(str(a.shape) for a in values.values())
            raise GraphError(f"the inputs must hold the same number of calls, at least one, of {rows} row(s) each; got shapes {shapes}")
        outputs: list[list[np.ndarray]] = [[] for _ in self.graph.outputs]
        for start in range(0, len(values[self.graph.inputs[0]]), rows):
            call = {name: array[start : start + rows] for name, array in values.items()}
            results = _execute(self.graph, call, self._params, self.rounding, self.state)
            for collected, name in zip(outputs, self.graph.outputs):
                collected.append(results[name])
        return [np.concatenate(collected) for collected in outputs]
