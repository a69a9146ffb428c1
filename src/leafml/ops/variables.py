"""READ_VARIABLE and ASSIGN_VARIABLE: a graph's streaming state (TFLite's resource variables).

A variable (an entry of ``Graph.variables``) keeps its value from one call
of the graph to the next.  READ_VARIABLE copies the variable's current value
to its output; ASSIGN_VARIABLE copies its input into the variable, where
every later READ_VARIABLE finds it, later in the same call or in the next
calls.  A value already read is a copy, so a later ASSIGN_VARIABLE does not
change it: TFLite and TFLM both ``memcpy`` in and out of the variable.

Both runtimes move the bytes without looking at them, so the tensors read
and assigned must have exactly the variable's dtype, shape and quantization;
anything else would silently reinterpret the state.

ASSIGN_VARIABLE's output is its input under another name, an alias like
RESHAPE's (no bytes, no code): every IR node has one output.

Neither operator computes, so neither has a float or an integer kernel: the
interpreter's :class:`~leafml.interpreter.Session` holds the state and
calls :meth:`VariableOp.run_with_state`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leafml.ir.graph import Graph, GraphError, Node, OpType, Tensor
from leafml.ops.base import OpDef


@dataclass(frozen=True)
class VariableAttrs:
    variable: str  # a key of Graph.variables


def variable_of(graph: Graph, node: Node) -> Tensor:
    """The variable ``node`` reads or assigns; GraphError when the graph has no such variable."""
    name = node.attrs.variable
    if name not in graph.variables:
        known = ", ".join(map(repr, graph.variables)) or "none"
        raise GraphError(f"{node.op.value} node {node.name or node.outputs} names variable {name!r}; the graph's variables are {known}")
    return graph.variables[name]


def _same_quant(a: Tensor, b: Tensor) -> bool:
    if a.quant is None or b.quant is None:
        return a.quant is None and b.quant is None
    return (
        np.array_equal(a.quant.scale, b.quant.scale)
        and np.array_equal(a.quant.zero_point, b.quant.zero_point)
        and (a.quant.axis == b.quant.axis or not a.quant.per_channel)
    )


class VariableOp(OpDef):
    """What READ_VARIABLE and ASSIGN_VARIABLE share: attributes naming a variable, and the byte-for-byte rule."""

    attrs_type = VariableAttrs

    def infer_shapes(self, graph, node):
        return [variable_of(graph, node).shape]

    def check_activation_dtypes(self, graph, node, label):
        """Every tensor the node reads or writes is the variable's bytes: same dtype, shape and quantization."""
        variable = variable_of(graph, node)
        for name in [*node.inputs, *node.outputs]:
            t = graph.tensors[name]
            if t.dtype != variable.dtype or t.shape != variable.shape or not _same_quant(t, variable):
                raise GraphError(
                    f"{label}: tensor {name!r} ({t.dtype} {list(t.shape)}) does not hold variable {variable.name!r}'s bytes "
                    f"({variable.dtype} {list(variable.shape)}); it needs the variable's dtype, shape and quantization"
                )

    def run_with_state(self, graph: Graph, node: Node, inputs: list[np.ndarray], state: dict[str, np.ndarray]) -> np.ndarray:
        """Execute on the current ``state`` (variable name -> value), which an assignment updates in place."""
        raise NotImplementedError


class ReadVariable(VariableOp):
    op = OpType.READ_VARIABLE
    num_inputs = (0,)

    def run_with_state(self, graph, node, inputs, state):
        return state[node.attrs.variable].copy()


class AssignVariable(VariableOp):
    op = OpType.ASSIGN_VARIABLE

    def run_with_state(self, graph, node, inputs, state):
        state[node.attrs.variable] = inputs[0].copy()
        return inputs[0]

    def alias_input(self):
        return True
