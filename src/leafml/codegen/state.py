"""Streaming state in the generated C: the graph's variables as static arrays outside the arena.

Variable ``i`` of the graph is ``static T state<i>[n]`` in model.c,
initialised to its initial value, so the first call of the invoke function
sees what a fresh TFLite interpreter sees after its CALL_ONCE.  The arena
is reused within a call; the state arrays keep their bytes between calls.

READ_VARIABLE copies the variable into its output's arena buffer and
ASSIGN_VARIABLE copies the assigned value back, both with ``memcpy`` as TFLM
does, so a value read stays intact when the variable is overwritten later in
the same call.  ``<prefix>_reset()`` restores every initial value: with
``memset`` when the initial value is one repeated byte (the zero point, in
every microWakeWord model), else with ``memcpy`` from a constant copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from leafml.codegen.cformat import c_comment, c_float, c_int
from leafml.ir.graph import Graph, Node, Tensor

if TYPE_CHECKING:  # emitters.py imports this module for its table rows
    from leafml.codegen.emitters import ModelSource

C_TYPES = {
    np.dtype(np.int8): "int8_t",
    np.dtype(np.uint8): "uint8_t",
    np.dtype(np.int16): "int16_t",
    np.dtype(np.int32): "int32_t",
    np.dtype(np.float32): "float",
}


def state_bytes(graph: Graph) -> int:
    """Static RAM the variables take in the generated C, bytes."""
    return sum(v.nbytes for v in graph.variables.values())


def state_symbol(graph: Graph, variable: str) -> str:
    """The C name of the array holding ``variable``."""
    return f"state{list(graph.variables).index(variable)}"


def _state_reference(src: ModelSource, node: Node) -> tuple[str, int]:
    """The C expression of the node's variable (its name in a comment) and its size in bytes."""
    variable = src.graph.variables[node.attrs.variable]
    return f"{state_symbol(src.graph, variable.name)} {c_comment(variable.name)}", variable.nbytes


def emit_read_variable(src: ModelSource, index: int, node: Node, params: None) -> str:
    state, size = _state_reference(src, node)
    return f"memcpy({src.pointer(node.outputs[0])}, {state}, {size});"


def emit_assign_variable(src: ModelSource, index: int, node: Node, params: None) -> str:
    state, size = _state_reference(src, node)
    return f"memcpy({state}, {src.pointer(node.inputs[0])}, {size});"


def _initializer(t: Tensor) -> str:
    assert t.data is not None
    literal = c_float if t.dtype == np.float32 else c_int
    values = [literal(v) for v in t.data.ravel()]
    rows = (", ".join(values[i : i + 16]) for i in range(0, len(values), 16))
    return "{\n" + "".join(f"    {row},\n" for row in rows) + "}"


def state_definitions(graph: Graph, prefix: str) -> str:
    """model.c's state arrays and ``<prefix>_reset`` ("" for a graph without variables)."""
    if not graph.variables:
        return ""
    arrays, restores = [], []
    for name, t in graph.variables.items():
        symbol, ctype = state_symbol(graph, name), C_TYPES[t.dtype]
        shape = f"{t.dtype} [{', '.join(map(str, t.shape))}]"
        arrays.append(f"{c_comment(f'variable {name!r}: {shape}')}\nstatic {ctype} {symbol}[{t.size}] = {_initializer(t)};")
        assert t.data is not None
        data_bytes = np.ascontiguousarray(t.data).reshape(-1).view(np.uint8)
        if np.all(data_bytes == data_bytes[0]):
            restores.append(f"memset({symbol}, 0x{int(data_bytes[0]):02x}, {t.nbytes});")
        else:
            arrays.append(f"static const {ctype} {symbol}_initial[{t.size}] = {_initializer(t)};")
            restores.append(f"memcpy({symbol}, {symbol}_initial, {t.nbytes});")
    body = "".join(f"    {line}\n" for line in restores)
    return (
        f"/* Streaming state ({state_bytes(graph)} bytes), kept from one call to the next. */\n"
        + "\n\n".join(arrays)
        + f"\n\nvoid {prefix}_reset(void)\n{{\n{body}}}\n\n"
    )


def state_interface(graph: Graph, prefix: str) -> str:
    """model.h's lines for the state: its size and ``<prefix>_reset`` ("" for a graph without variables)."""
    if not graph.variables:
        return ""
    p = prefix.upper()
    return f"""
/* Streaming state: {len(graph.variables)} variable(s) kept from one call of {prefix}_invoke to the next,
 * so each call continues the stream of the calls before it. */
#define {p}_STATE_SIZE {state_bytes(graph)} /* bytes of static RAM, outside the arena */

/* Start a new stream: give every variable its initial value again. */
void {prefix}_reset(void);
"""
