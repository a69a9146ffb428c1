"""PyTorch module -> float IR graph, through torch.fx symbolic tracing.

What happens on the way:

* NCHW becomes NHWC and conv weights become OHWI, as TFLite wants.  A 1-D
  signal [N, C, L] (Conv1d, pooling 1d) becomes an image one row high,
  [N, 1, L, C], and its layers the 2-D operators with a 1 x k window.
* A convolution with ``groups == in_channels`` is DEPTHWISE_CONV_2D, its
  weights [1, KH, KW, C * M] (M: out_channels / in_channels); like every
  conv it gets a zero bias when it has none.
* Global average pooling (AdaptiveAvgPool1d/2d to size 1) is an
  AVERAGE_POOL_2D whose window is the whole feature map.
* BatchNorm is folded into the convolution or linear layer before it.
* ReLU / ReLU6 become the fused activation of the layer that produces their
  input (a conv, linear or pooling layer whose output has no other reader).
* Flatten becomes RESHAPE.  Flattening NHWC orders elements (h, w, c) where
  torch orders them (c, h, w), so the columns of the Linear layer that reads
  the flattened tensor are permuted to match; nothing is transposed at run time.
* Dropout and Identity vanish (inference semantics).

Anything else is refused with the layer's name and the supported list.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from leafml.errors import LeafmlError
from leafml.ir.graph import Activation, Graph, Node, OpType, Padding, Tensor
from leafml.ops import Conv2DAttrs, DepthwiseConv2DAttrs, FullyConnectedAttrs, PoolAttrs, ReshapeAttrs, SoftmaxAttrs
from leafml.ops.base import window

SUPPORTED = (
    "Conv2d, Linear, Conv1d, depthwise Conv1d/Conv2d (groups=in_channels), BatchNorm1d/2d (folded), ReLU, ReLU6, "
    "MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d to size 1, Flatten, Softmax, Dropout, Identity"
)
CONVS = (nn.Conv1d, nn.Conv2d)
POOLS = {nn.MaxPool1d: OpType.MAX_POOL_2D, nn.MaxPool2d: OpType.MAX_POOL_2D,
         nn.AvgPool1d: OpType.AVERAGE_POOL_2D, nn.AvgPool2d: OpType.AVERAGE_POOL_2D}


class UnsupportedModelError(LeafmlError, ValueError):
    """The module uses something the torch frontend cannot convert."""


@dataclass
class _Value:
    """What an FX node evaluates to in the IR: a tensor plus how torch orders it."""

    name: str
    # For a flattened NHWC tensor: perm[j] is the torch (CHW) index of IR element j.
    perm: np.ndarray | None = None


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _as_2d(v, one_d: bool, fill: int):
    """A 1-D layer's kernel/stride/dilation/padding as the 2-D pair of a window one row high."""
    if not one_d or isinstance(v, str):
        return v
    return (fill, int(v if isinstance(v, int) else v[0]))


def _padding_rule(label: str, in_hw, kernel, stride, dilation, torch_pad) -> Padding:
    """The TFLite padding that reproduces torch's explicit symmetric padding."""
    if torch_pad == "same":  # torch, like TFLite, puts an odd extra pad at the end
        return Padding.SAME
    if torch_pad == "valid" or _pair(torch_pad) == (0, 0):
        return Padding.VALID
    win = window(in_hw[0], in_hw[1], kernel[0], kernel[1], stride, dilation, Padding.SAME)
    ph, pw = _pair(torch_pad)
    torch_out = [(in_hw[i] + 2 * p - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i, p in enumerate((ph, pw))]
    if (win.pad_top, win.pad_left) == (ph, pw) and [win.out_h, win.out_w] == torch_out:
        return Padding.SAME
    raise UnsupportedModelError(
        f"layer {label!r}: padding {torch_pad} on a {in_hw[0]}x{in_hw[1]} input is neither VALID nor TFLite SAME; "
        f"use padding=0, padding='same', or a padding that equals SAME for this size"
    )


class _Converter:
    def __init__(self, module: nn.Module, example: torch.Tensor):
        self.module = copy.deepcopy(module).eval()
        self.gm = torch.fx.symbolic_trace(self.module)
        ShapeProp(self.gm).propagate(example)
        self.modules = dict(self.gm.named_modules())
        self.graph = Graph()
        self.values: dict[torch.fx.Node, _Value | None] = {}

    # -- helpers ----------------------------------------------------------------
    def shape(self, n: torch.fx.Node) -> tuple[int, ...]:
        return tuple(n.meta["tensor_meta"].shape)

    def new_tensor(self, base: str, shape) -> str:
        return self.graph.add_tensor(Tensor(self.graph.unique_name(base), shape)).name

    def constant(self, base: str, data: np.ndarray) -> str:
        return self.graph.add_constant(self.graph.unique_name(base), data.astype(np.float32)).name

    def emit(self, op: OpType, inputs: list[str], base: str, shape, attrs) -> str:
        out = self.new_tensor(base, shape)
        self.graph.nodes.append(Node(op, inputs, [out], attrs, name=base))
        return out

    def ir_shape(self, torch_shape) -> tuple[int, ...]:
        s = tuple(int(d) for d in torch_shape)
        if len(s) == 3:  # [N, C, L]: a 1-D signal is an image one row high
            return (s[0], 1, s[2], s[1])
        return (s[0], s[2], s[3], s[1]) if len(s) == 4 else s

    # -- layers -------------------------------------------------------------------
    def conv(self, n, m: nn.Conv1d | nn.Conv2d, x: _Value) -> _Value:
        depthwise = m.groups == m.in_channels and m.groups > 1
        if m.groups != 1 and not depthwise:
            raise UnsupportedModelError(
                f"layer {n.target!r}: grouped convolution (groups={m.groups}) is not supported; "
                f"use groups=1 or groups=in_channels (depthwise)"
            )
        if m.padding_mode != "zeros":
            raise UnsupportedModelError(f"layer {n.target!r}: padding_mode={m.padding_mode!r}; only 'zeros' is supported")
        one_d = isinstance(m, nn.Conv1d)
        kernel, stride, dilation = (_pair(_as_2d(v, one_d, 1)) for v in (m.kernel_size, m.stride, m.dilation))
        in_shape = self.graph.tensors[x.name].shape
        padding = _padding_rule(n.target, in_shape[1:3], kernel, stride, dilation, _as_2d(m.padding, one_d, 0))
        w = m.weight.detach().numpy()
        if one_d:
            w = w[:, :, None, :]  # [O, I, 1, K]
        b = m.bias.detach().numpy() if m.bias is not None else np.zeros(w.shape[0], np.float32)
        out_shape = self.ir_shape(self.shape(n))
        if depthwise:
            # torch's output channel c * M + m reads input channel c, which is TFLite's order too.
            weights = self.constant(f"{n.name}.weight", w.transpose(1, 2, 3, 0))
            attrs = DepthwiseConv2DAttrs(stride, padding, dilation, Activation.NONE, m.out_channels // m.in_channels)
            inputs = [x.name, weights, self.constant(f"{n.name}.bias", b)]
            return _Value(self.emit(OpType.DEPTHWISE_CONV_2D, inputs, n.name, out_shape, attrs))
        attrs = Conv2DAttrs(stride, padding, dilation, Activation.NONE)
        inputs = [x.name, self.constant(f"{n.name}.weight", w.transpose(0, 2, 3, 1)), self.constant(f"{n.name}.bias", b)]
        return _Value(self.emit(OpType.CONV_2D, inputs, n.name, out_shape, attrs))

    def linear(self, n, m: nn.Linear, x: _Value) -> _Value:
        w = m.weight.detach().numpy()
        if x.perm is not None:
            w = w[:, x.perm]
        b = m.bias.detach().numpy() if m.bias is not None else np.zeros(w.shape[0], np.float32)
        if len(self.graph.tensors[x.name].shape) != 2:
            raise UnsupportedModelError(f"layer {n.target!r}: Linear needs a 2-D [batch, features] input; flatten first")
        inputs = [x.name, self.constant(f"{n.name}.weight", w), self.constant(f"{n.name}.bias", b)]
        return _Value(self.emit(OpType.FULLY_CONNECTED, inputs, n.name, self.shape(n), FullyConnectedAttrs()))

    def pool(self, n, m, x: _Value, op: OpType) -> _Value:
        label = n.target
        one_d = isinstance(m, (nn.MaxPool1d, nn.AvgPool1d))
        kernel = _pair(_as_2d(m.kernel_size, one_d, 1))
        stride = _pair(_as_2d(m.stride if m.stride is not None else m.kernel_size, one_d, 1))
        pad = _pair(_as_2d(m.padding, one_d, 0))
        if m.ceil_mode:
            raise UnsupportedModelError(f"layer {label!r}: ceil_mode=True is not supported")
        if op is OpType.MAX_POOL_2D and _pair(_as_2d(m.dilation, one_d, 1)) != (1, 1):
            raise UnsupportedModelError(f"layer {label!r}: dilated max pooling is not supported")
        if op is OpType.AVERAGE_POOL_2D and (getattr(m, "divisor_override", None) or (m.count_include_pad and pad != (0, 0))):
            raise UnsupportedModelError(f"layer {label!r}: average pooling must not count padding (count_include_pad=False) or override the divisor")
        in_shape = self.graph.tensors[x.name].shape
        padding = _padding_rule(label, in_shape[1:3], kernel, stride, (1, 1), pad)
        attrs = PoolAttrs(kernel, stride, padding, Activation.NONE)
        return _Value(self.emit(op, [x.name], n.name, self.ir_shape(self.shape(n)), attrs))

    def global_pool(self, n, m, x: _Value) -> _Value:
        size = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,)
        if any(s != 1 for s in size):
            raise UnsupportedModelError(f"layer {n.target!r}: adaptive average pooling is supported to size 1 (global) only")
        _, h, w, _ = self.graph.tensors[x.name].shape
        attrs = PoolAttrs((h, w), (1, 1), Padding.VALID, Activation.NONE)
        return _Value(self.emit(OpType.AVERAGE_POOL_2D, [x.name], n.name, self.ir_shape(self.shape(n)), attrs))

    def flatten(self, n, x: _Value) -> _Value:
        in_shape = self.graph.tensors[x.name].shape
        out_shape = self.shape(n)
        if len(out_shape) != 2 or out_shape[0] != in_shape[0]:
            raise UnsupportedModelError(f"node {n.name!r}: only flattening everything after the batch axis is supported")
        perm = None
        if len(in_shape) == 4 and in_shape[3] > 1 and in_shape[1] * in_shape[2] > 1:
            _, h, w, c = in_shape
            perm = np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()
        return _Value(self.emit(OpType.RESHAPE, [x.name], n.name, out_shape, ReshapeAttrs(tuple(out_shape))), perm)

    def fold_batchnorm(self, n, m, x: _Value) -> _Value:
        producer = self.graph.producer(x.name)
        foldable = (OpType.CONV_2D, OpType.DEPTHWISE_CONV_2D, OpType.FULLY_CONNECTED)
        if producer is None or producer.op not in foldable or len(n.args[0].users) != 1:
            raise UnsupportedModelError(f"layer {n.target!r}: BatchNorm must directly follow a convolution or Linear layer to be folded")
        gamma = m.weight.detach().numpy() if m.affine else np.ones(m.num_features, np.float32)
        beta = m.bias.detach().numpy() if m.affine else np.zeros(m.num_features, np.float32)
        factor = gamma / np.sqrt(m.running_var.detach().numpy() + m.eps)
        w, b = (self.graph.tensors[name] for name in producer.inputs[1:3])
        # Output channels are axis 0, or the last axis of depthwise weights [1, KH, KW, C * M].
        channel_shape = (1, 1, 1, -1) if producer.op is OpType.DEPTHWISE_CONV_2D else (-1, *([1] * (w.data.ndim - 1)))
        w.data = (w.data * factor.reshape(channel_shape)).astype(np.float32)
        b.data = ((b.data - m.running_mean.detach().numpy()) * factor + beta).astype(np.float32)
        return x

    def fuse_activation(self, n, x: _Value, activation: Activation) -> _Value:
        producer = self.graph.producer(x.name)
        fusable = (OpType.CONV_2D, OpType.DEPTHWISE_CONV_2D, OpType.FULLY_CONNECTED, OpType.MAX_POOL_2D, OpType.AVERAGE_POOL_2D)
        if producer is None or producer.op not in fusable or producer.attrs.activation is not Activation.NONE or len(n.args[0].users) != 1:
            raise UnsupportedModelError(
                f"node {n.name!r}: {activation.value} must directly follow a convolution, Linear or pooling layer (it is fused into it)"
            )
        producer.attrs = replace(producer.attrs, activation=activation)
        return x

    def softmax(self, n, x: _Value, dim) -> _Value:
        rank = len(self.graph.tensors[x.name].shape)
        if dim not in (-1, rank - 1) or rank != 2:
            raise UnsupportedModelError(f"node {n.name!r}: Softmax is supported over the last axis of a 2-D tensor")
        return _Value(self.emit(OpType.SOFTMAX, [x.name], n.name, self.shape(n), SoftmaxAttrs(1.0)))

    # -- dispatch -----------------------------------------------------------------
    def call_module(self, n, x: _Value) -> _Value:
        m = self.modules[n.target]
        if isinstance(m, CONVS):
            return self.conv(n, m, x)
        if isinstance(m, nn.Linear):
            return self.linear(n, m, x)
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            return self.fold_batchnorm(n, m, x)
        if isinstance(m, nn.ReLU6):
            return self.fuse_activation(n, x, Activation.RELU6)
        if isinstance(m, nn.ReLU):
            return self.fuse_activation(n, x, Activation.RELU)
        if isinstance(m, nn.Hardtanh) and (m.min_val, m.max_val) == (0.0, 6.0):
            return self.fuse_activation(n, x, Activation.RELU6)
        if type(m) in POOLS:
            return self.pool(n, m, x, POOLS[type(m)])
        if isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)):
            return self.global_pool(n, m, x)
        if isinstance(m, nn.Flatten):
            return self.flatten(n, x)
        if isinstance(m, nn.Softmax):
            return self.softmax(n, x, m.dim)
        if isinstance(m, (nn.Dropout, nn.Identity)):
            return x
        raise UnsupportedModelError(f"layer {n.target!r} ({type(m).__name__}) is not supported; supported: {SUPPORTED}")

    def call_function(self, n, x: _Value) -> _Value:
        f = n.target
        if f in (F.relu, torch.relu):
            return self.fuse_activation(n, x, Activation.RELU)
        if f is F.relu6 or (f is F.hardtanh and tuple(n.args[1:3]) == (0.0, 6.0)):
            return self.fuse_activation(n, x, Activation.RELU6)
        if f in (torch.flatten, torch.reshape):
            return self.flatten(n, x)
        if f in (F.softmax, torch.softmax):
            return self.softmax(n, x, n.kwargs.get("dim", n.args[1] if len(n.args) > 1 else None))
        if f is F.dropout:
            return x
        raise UnsupportedModelError(f"function {getattr(f, '__name__', f)!r} at node {n.name!r} is not supported; supported: {SUPPORTED}")

    def call_method(self, n, x: _Value) -> _Value:
        if n.target in ("view", "reshape", "flatten"):
            return self.flatten(n, x)
        if n.target == "relu":
            return self.fuse_activation(n, x, Activation.RELU)
        if n.target == "softmax":
            return self.softmax(n, x, n.kwargs.get("dim", n.args[1] if len(n.args) > 1 else None))
        raise UnsupportedModelError(f"tensor method {n.target!r} at node {n.name!r} is not supported; supported: {SUPPORTED}")

    def convert(self) -> Graph:
        for n in self.gm.graph.nodes:
            if n.op == "placeholder":
                name = self.new_tensor(n.name, self.ir_shape(self.shape(n)))
                self.graph.inputs.append(name)
                self.values[n] = _Value(name)
            elif n.op == "output":
                outs = n.args[0] if isinstance(n.args[0], (tuple, list)) else [n.args[0]]
                self.graph.outputs = [self.values[o].name for o in outs]
            elif n.op == "call_method" and n.target == "size" or n.op == "call_function" and n.target is getattr:
                # x.size(0) / x.shape feed a view(); shapes come from shape propagation instead.
                self.values[n] = None
            elif n.op in ("call_module", "call_function", "call_method"):
                tensor_args = [a for a in n.args if isinstance(a, torch.fx.Node) and self.values[a] is not None]
                if len(tensor_args) != 1:
                    raise UnsupportedModelError(f"node {n.name!r} combines {len(tensor_args)} tensors; only single-input layers are supported")
                self.values[n] = getattr(self, n.op)(n, self.values[tensor_args[0]])
            else:
                raise UnsupportedModelError(f"node {n.name!r} ({n.op}) is not supported; supported: {SUPPORTED}")
        return self.graph.validate()


def from_torch(module: nn.Module, example_input: torch.Tensor) -> Graph:
    """Convert ``module`` (evaluated in inference mode) to a float leafml Graph.

    ``example_input`` fixes the input shape (batch 1: NCHW for images,
    ``[1, channels, length]`` for 1-D signals, or ``[1, features]``).  The module itself is not modified.  Raises
    :class:`UnsupportedModelError` naming the first layer that cannot be converted.
    """
    if not isinstance(example_input, torch.Tensor) or example_input.dtype != torch.float32:
        raise UnsupportedModelError("example_input must be a float32 torch.Tensor, e.g. torch.zeros(1, 1, 8, 8)")
    if example_input.shape[0] != 1:
        raise UnsupportedModelError(f"example_input must have batch 1, got shape {tuple(example_input.shape)}")
    try:
        converter = _Converter(module, example_input)
    except torch.fx.proxy.TraceError as e:
        raise UnsupportedModelError(f"the module cannot be traced by torch.fx ({e}); keep forward() free of data-dependent control flow") from None
    return converter.convert()
