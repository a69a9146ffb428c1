"""One C emitter per operator: the node's constants and the kernel call.

An emitter reads a node and the integer params its operator's ``prepare``
returned (the numbers the numpy reference kernel uses), declares what the
kernel needs as ``static const`` data through a :class:`ModelSource`, and
returns the one statement that runs the node.  :data:`EMITTERS` is the rule
table: an operator with an entry is supported, and its ``kernel`` names the
file in ``kernels/`` that ``leafml_runtime.h`` must include.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from leafml.codegen.cformat import c_array, c_comment, c_float, c_int, c_struct
from leafml.codegen.dsp_kernels import (
    conv_scratch_words,
    depthwise_scratch_words,
    dsp_call,
    fully_connected_scratch_words,
    requantization_mode,
)
from leafml.codegen.state import emit_assign_variable, emit_read_variable
from leafml.codegen.nd_emitters import emit_binary, emit_concatenation, emit_mean, emit_pad, emit_strided_slice, float_array
from leafml.ir.graph import Graph, Node, OpType
from leafml.ops.conv2d import RequantParams, conv_window
from leafml.ops.depthwise_conv2d import depthwise_window
from leafml.ops.pooling import PoolParams, pool_window
from leafml.ops.softmax import SoftmaxParams, SoftmaxTableParams
from leafml.ops.quantize import AffineQuantizeParams, DequantizeParams, LookupTable, SplitLookupTable


class ModelSource:
    """What the emitters write into model.c: constant declarations and tensor addresses.

    ``storage`` maps each activation tensor to the buffer holding it (see
    :func:`leafml.plan.graph_buffers`), ``offsets`` gives each buffer's byte
    offset in the arena, and a tensor stored in the graph input is read
    through the ``input`` parameter of the invoke function.
    """

    def __init__(self, graph: Graph, storage: dict[str, str], offsets: dict[str, int]):
        self.graph = graph
        self.storage = storage
        self.offsets = offsets
        self.declarations: list[str] = []
        self.const_bytes = 0  # bytes of constant arrays (weights, biases, multipliers, shifts)

    def pointer(self, tensor: str) -> str:
        """The C expression for the first byte of an activation tensor."""
        buffer = self.storage[tensor]
        if buffer in self.graph.inputs:
            return "input"
        return f"arena.bytes + {self.offsets[buffer]}"

    def array(self, name: str, ctype: str, values: np.ndarray) -> str:
        """Declare a constant array and return its C name."""
        values = np.asarray(values)
        self.declarations.append(c_array(ctype, name, values, per_line=16 if values.dtype == np.int8 else 8))
        self.const_bytes += values.nbytes
        return name

    def struct(self, ctype: str, name: str, fields: dict[str, object]) -> str:
        """Declare a constant params struct and return the C expression of its address."""
        self.declarations.append(c_struct(ctype, name, fields))
        return "&" + name


@dataclass(frozen=True)
class Emitter:
    """How one operator becomes C: the kernel file it needs and the function writing its call."""

    kernel: str | None  # file in kernels/ (None: the operator emits no code)
    emit: Callable[[ModelSource, int, Node, Any], str]


def describe(graph: Graph, index: int, node: Node) -> str:
    """One line naming a node and its tensors with shapes, for comments in the C."""

    def shape(name: str) -> str:
        return f"{name}[{'x'.join(map(str, graph.tensors[name].shape))}]"

    label = f" {node.name!r}" if node.name else ""
    return f"node {index} {node.op.value}{label}: {', '.join(map(shape, node.inputs))} -> {shape(node.outputs[0])}"


def _requant(src: ModelSource, prefix: str, params: RequantParams) -> dict[str, object]:
    """The leafml_requant_t fields: integer multipliers for double rounding, float32 scales for single."""
    fields: dict[str, object] = {"multipliers": "NULL", "shifts": "NULL"}
    if params.scales is None:
        fields["multipliers"] = src.array(f"{prefix}_multipliers", "int32_t", params.multipliers.astype(np.int32))
        fields["shifts"] = src.array(f"{prefix}_shifts", "int32_t", params.shifts.astype(np.int32))
    count = params.multipliers.size if params.scales is None else params.scales.size
    fields.update(
        per_channel=int(count > 1),
        input_offset=params.input_offset,
        output_offset=params.output_offset,
        act_min=params.act_min,
        act_max=params.act_max,
    )
    if params.scales is not None:
        fields["scales"] = float_array(src, f"{prefix}_scales", params.scales)
    return fields


def _weights_and_bias(src: ModelSource, prefix: str, node: Node) -> dict[str, object]:
    tensors = src.graph.tensors
    fields: dict[str, object] = {"weights": src.array(f"{prefix}_weights", "int8_t", tensors[node.inputs[1]].data)}
    fields["bias"] = src.array(f"{prefix}_bias", "int32_t", tensors[node.inputs[2]].data) if len(node.inputs) > 2 else "NULL"
    return fields


def _call(src: ModelSource, function: str, node: Node, before: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> str:
    """``function(before..., input, output, after...);`` for the node's data input and output."""
    args = [*before, src.pointer(node.inputs[0]), src.pointer(node.outputs[0]), *after]
    return f"{function}({', '.join(args)});"


def emit_conv2d(src: ModelSource, index: int, node: Node, params: RequantParams) -> str:
    x, w = (src.graph.tensors[n] for n in node.inputs[:2])
    fields = {
        "window": dataclasses.asdict(conv_window(src.graph, node)),
        "batches": x.shape[0],
        "in_channels": x.shape[3],
        "out_channels": w.shape[0],
        **_weights_and_bias(src, f"node{index}", node),
        "requant": _requant(src, f"node{index}", params),
    }
    struct = src.struct("leafml_conv_t", f"node{index}", fields)
    mode = requantization_mode(src.graph, node, params, reduce_axes=(1, 2, 3))
    return dsp_call(src, node, struct, "leafml_conv2d", conv_scratch_words(src.graph, node), mode)



def emit_depthwise_conv2d(src: ModelSource, index: int, node: Node, params: RequantParams) -> str:
    x = src.graph.tensors[node.inputs[0]]
    prefix = f"node{index}"
    fields = {
        "window": dataclasses.asdict(depthwise_window(src.graph, node)),
        "batches": x.shape[0],
        "in_channels": x.shape[3],
        "depth_multiplier": node.attrs.depth_multiplier,
        **_weights_and_bias(src, prefix, node),
        "requant": _requant(src, prefix, params),
    }
    struct = src.struct("leafml_depthwise_conv_t", prefix, fields)
    mode = requantization_mode(src.graph, node, params, reduce_axes=(0, 1, 2))
    return dsp_call(src, node, struct, "leafml_depthwise_conv2d", depthwise_scratch_words(src.graph, node), mode)


def emit_fully_connected(src: ModelSource, index: int, node: Node, params: RequantParams) -> str:
    w = src.graph.tensors[node.inputs[1]]
    fields = {
        "batches": src.graph.tensors[node.outputs[0]].shape[0],
        "in_features": w.shape[1],
        "out_features": w.shape[0],
        **_weights_and_bias(src, f"node{index}", node),
        "requant": _requant(src, f"node{index}", params),
    }
    struct = src.struct("leafml_fully_connected_t", f"node{index}", fields)
    mode = requantization_mode(src.graph, node, params, reduce_axes=(1,))
    return dsp_call(src, node, struct, "leafml_fully_connected", fully_connected_scratch_words(src.graph, node), mode)


def _pool(function: str) -> Callable[[ModelSource, int, Node, PoolParams], str]:
    def emit(src: ModelSource, index: int, node: Node, params: PoolParams) -> str:
        x = src.graph.tensors[node.inputs[0]]
        fields = {
            "window": dataclasses.asdict(pool_window(src.graph, node)),
            "batches": x.shape[0],
            "channels": x.shape[3],
            "act_min": params.act_min,
            "act_max": params.act_max,
        }
        struct = src.struct("leafml_pool_t", f"node{index}", fields)
        return _call(src, function, node, before=(struct,))

    return emit


def emit_softmax(src: ModelSource, index: int, node: Node, params: SoftmaxParams | SoftmaxTableParams) -> str:
    """The fixed-point kernel for "double" params, the float-table kernel for "single" ones.

    prepare() gives the params type of the rounding mode, and softmax.h
    compiles only that mode's kernel, so the two always agree.
    """
    x = src.graph.tensors[node.inputs[0]]
    depth = x.shape[-1]
    shape = {"rows": x.size // depth, "depth": depth}
    if isinstance(params, SoftmaxTableParams):
        # ModelSource.array prints integers; the table needs float literals
        # (c_float's 9 significant digits give back each float32 exactly).
        table = f"node{index}_exp_table"
        rows = (", ".join(map(c_float, params.table[i : i + 8])) for i in range(0, params.table.size, 8))
        lines = "".join(f"    {row},\n" for row in rows)
        src.declarations.append(f"static const float {table}[{params.table.size}] = {{\n{lines}}};")
        src.const_bytes += params.table.nbytes
        args = [f"{c_int(v)} /* {k} */" for k, v in shape.items()]
        args += [table, f"{c_float(params.output_scale)} /* output_scale */"]
        args.append(f"{c_int(params.output_zero_point)} /* zero_point */")
        return _call(src, "leafml_softmax_s8_table", node, after=tuple(args))
    fields = {
        **shape,
        "input_multiplier": params.input_multiplier,
        "input_left_shift": params.input_left_shift,
        "diff_min": params.diff_min,
    }
    return _call(src, "leafml_softmax_s8", node, after=tuple(f"{c_int(v)} /* {k} */" for k, v in fields.items()))


def emit_alias(src: ModelSource, index: int, node: Node, params: None) -> str:
    return c_comment("the output is the input's bytes under a new shape: no code")


# -- element-wise tables (activations, QUANTIZE between 8-bit types), float conversions --
def emit_lookup_table(src: ModelSource, index: int, node: Node, params: LookupTable | SplitLookupTable) -> str:
    """One table lookup over the tensor; a split table (LiteRT's emulated NEON blocks) is two."""
    size = src.graph.tensors[node.outputs[0]].size
    if isinstance(params, LookupTable):
        table = src.array(f"node{index}_table", "int8_t", params.table.view(np.int8))
        return _call(src, "leafml_lookup_s8", node, before=(table,), after=(f"{size} /* size */",))
    split = params.split(size)
    body = src.array(f"node{index}_body_table", "int8_t", params.body.table.view(np.int8))
    tail = src.array(f"node{index}_tail_table", "int8_t", params.tail.table.view(np.int8))
    x, y = src.pointer(node.inputs[0]), src.pointer(node.outputs[0])
    return (
        f"leafml_lookup_s8({body}, {x}, {y}, {split} /* whole blocks of 16 */);\n"
        f"    leafml_lookup_s8({tail}, {x} + {split}, {y} + {split}, {size - split} /* the rest */);"
    )


def _conversion(src: ModelSource, function: str, node: Node, params: AffineQuantizeParams | DequantizeParams) -> str:
    size = src.graph.tensors[node.outputs[0]].size
    return _call(src, function, node, after=(f"{size} /* size */", f"{c_float(params.scale)} /* scale */", f"{c_int(params.zero_point)} /* zero_point */"))


def emit_quantize(src: ModelSource, index: int, node: Node, params: AffineQuantizeParams | LookupTable | SplitLookupTable) -> str:
    if isinstance(params, AffineQuantizeParams):
        return _conversion(src, "leafml_quantize_f32_s8", node, params)
    return emit_lookup_table(src, index, node, params)


def emit_dequantize(src: ModelSource, index: int, node: Node, params: DequantizeParams) -> str:
    return _conversion(src, "leafml_dequantize_s8_f32", node, params)

EMITTERS: dict[OpType, Emitter] = {
    OpType.CONV_2D: Emitter("conv.h", emit_conv2d),
    OpType.FULLY_CONNECTED: Emitter("fully_connected.h", emit_fully_connected),
    OpType.MAX_POOL_2D: Emitter("max_pool.h", _pool("leafml_max_pool_s8")),
    OpType.AVERAGE_POOL_2D: Emitter("average_pool.h", _pool("leafml_average_pool_s8")),
    OpType.RESHAPE: Emitter(None, emit_alias),
    OpType.SOFTMAX: Emitter("softmax.h", emit_softmax),
    OpType.DEPTHWISE_CONV_2D: Emitter("depthwise_conv.h", emit_depthwise_conv2d),
    OpType.ADD: Emitter("add.h", emit_binary),
    OpType.MUL: Emitter("mul.h", emit_binary),
    OpType.CONCATENATION: Emitter("concatenation.h", emit_concatenation),
    OpType.PAD: Emitter("pad.h", emit_pad),
    OpType.MEAN: Emitter("mean.h", emit_mean),
    OpType.STRIDED_SLICE: Emitter("strided_copy.h", emit_strided_slice),
    OpType.LOGISTIC: Emitter("activations.h", emit_lookup_table),
    OpType.TANH: Emitter("activations.h", emit_lookup_table),
    OpType.RELU: Emitter("activations.h", emit_lookup_table),
    OpType.RELU6: Emitter("activations.h", emit_lookup_table),
    OpType.LEAKY_RELU: Emitter("activations.h", emit_lookup_table),
    OpType.HARD_SWISH: Emitter("activations.h", emit_lookup_table),
    OpType.QUANTIZE: Emitter("quantize.h", emit_quantize),
    OpType.DEQUANTIZE: Emitter("quantize.h", emit_dequantize),
    OpType.READ_VARIABLE: Emitter(None, emit_read_variable),
    OpType.ASSIGN_VARIABLE: Emitter(None, emit_assign_variable),
}
