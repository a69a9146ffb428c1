"""The IR's invariants: validate() names what is wrong."""

import numpy as np
import pytest

from leafml.ir import Activation, Graph, GraphError, Node, OpType, Padding, QuantParams, Tensor
from leafml.ops import Conv2DAttrs, FullyConnectedAttrs, ReshapeAttrs


def tiny_graph() -> Graph:
    g = Graph()
    g.add_tensor(Tensor("x", (1, 4, 4, 2)))
    g.add_constant("w", np.ones((3, 3, 3, 2), np.float32))
    g.add_constant("b", np.zeros(3, np.float32))
    g.add_tensor(Tensor("y", (1, 4, 4, 3)))
    g.nodes.append(Node(OpType.CONV_2D, ["x", "w", "b"], ["y"], Conv2DAttrs(padding=Padding.SAME, activation=Activation.RELU)))
    g.add_tensor(Tensor("f", (1, 48)))
    g.nodes.append(Node(OpType.RESHAPE, ["y"], ["f"], ReshapeAttrs((1, 48))))
    g.add_constant("w2", np.ones((5, 48), np.float32))
    g.add_tensor(Tensor("z", (1, 5)))
    g.nodes.append(Node(OpType.FULLY_CONNECTED, ["f", "w2"], ["z"], FullyConnectedAttrs()))
    g.inputs, g.outputs = ["x"], ["z"]
    return g


def test_a_well_formed_graph_validates_and_runs():
    g = tiny_graph().validate()
    (z,) = g.run(np.ones((2, 4, 4, 2), np.float32))
    assert z.shape == (2, 5)
    # Corner pixel of a 3x3 SAME conv of ones sees 4 taps x 2 channels.
    assert np.all(z > 0)


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda g: g.nodes[0].inputs.__setitem__(0, "nope"), "unknown tensor 'nope'"),
        (lambda g: g.nodes.reverse(), "before it is produced"),
        (lambda g: setattr(g.tensors["y"], "shape", (1, 4, 4, 4)), "has shape"),
        (lambda g: setattr(g.tensors["w"], "data", np.ones((3, 3, 3, 2), np.int8)), "constant 'w' holds int8"),
        (lambda g: setattr(g, "outputs", ["ghost"]), "never produced"),
        (lambda g: setattr(g.tensors["x"], "shape", (1, 0, 4, 2)), "non-positive dimension"),
        (lambda g: g.nodes.append(Node(OpType.RESHAPE, ["y"], ["f"], ReshapeAttrs((1, 48)))), "already has a value"),
        (lambda g: setattr(g.nodes[1], "attrs", ReshapeAttrs((1, 47))), "RESHAPE of 48 elements"),
        (lambda g: setattr(g.nodes[0], "attrs", FullyConnectedAttrs()), "expected Conv2DAttrs"),
        (lambda g: setattr(g.tensors["x"], "dtype", np.dtype(np.float64)), "unsupported dtype"),
    ],
)
def test_validate_names_the_broken_invariant(breakage, message):
    g = tiny_graph()
    breakage(g)
    with pytest.raises(GraphError, match=message):
        g.validate()


def test_quantization_parameters_are_checked():
    g = tiny_graph()
    g.tensors["w"].quant = QuantParams([0.1, 0.2], [0, 0], axis=0)
    with pytest.raises(GraphError, match="2 channel scales do not match axis 0"):
        g.validate()
    g.tensors["w"].quant = QuantParams([0.1], [0])
    g.tensors["x"].quant = QuantParams([-1.0], [0])
    with pytest.raises(GraphError, match="non-positive or non-finite scale"):
        g.validate()


def test_copy_is_deep():
    g = tiny_graph()
    h = g.copy()
    h.tensors["w"].data[...] = 7
    h.nodes[0].inputs[0] = "changed"
    assert g.tensors["w"].data.max() == 1
    assert g.nodes[0].inputs[0] == "x"


def test_activation_tensors_in_definition_order():
    assert [t.name for t in tiny_graph().activation_tensors()] == ["x", "y", "f", "z"]


def test_run_rejects_wrong_inputs():
    g = tiny_graph()
    with pytest.raises(GraphError, match="must have shape"):
        g.run(np.ones((1, 4, 4, 3), np.float32))
    with pytest.raises(GraphError, match="must be float32"):
        g.run(np.ones((1, 4, 4, 2), np.float64))
