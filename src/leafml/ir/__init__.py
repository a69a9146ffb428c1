"""The IR: graphs of tensors and nodes, independent of torch, files and the CLI."""

from leafml.ir.graph import DTYPES, Activation, Graph, GraphError, Node, OpType, Padding, QuantParams, Tensor

__all__ = ["DTYPES", "Activation", "Graph", "GraphError", "Node", "OpType", "Padding", "QuantParams", "Tensor"]
