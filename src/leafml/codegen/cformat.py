"""C99 literals and declarations as text; everything the emitters print goes through here.

>>> c_int(-2**31)
'INT32_MIN'
>>> c_float(0.1)
'0.100000001f'
>>> c_float(2.0)
'2.0f'
>>> print(c_array("int8_t", "w", np.array([[1, -2], [3, 4]], dtype=np.int8)))
static const int8_t w[4] = {
    1, -2, 3, 4,
};
>>> print(c_struct("leafml_pool_t", "p", {"window": {"k_h": 2, "k_w": 2}, "channels": 8}))
static const leafml_pool_t p = {
    .window = {.k_h = 2, .k_w = 2},
    .channels = 8,
};
"""

from __future__ import annotations

import re

import numpy as np

_INT32_MIN = -(2**31)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_identifier(text: str) -> bool:
    """True if ``text`` is a valid C identifier."""
    return _IDENTIFIER.fullmatch(text) is not None


def c_int(value: int) -> str:
    """An integer literal that keeps its value as int32 (``-2147483648`` alone would not)."""
    value = int(value)
    return "INT32_MIN" if value == _INT32_MIN else str(value)


def c_float(value: float) -> str:
    """A float literal that round-trips the float32 value exactly (9 significant digits)."""
    text = format(float(np.float32(value)), ".9g")
    if not any(ch in text for ch in ".eE"):  # keep it a floating literal: "2" -> "2.0"
        text += ".0"
    return text + "f"


def c_comment(text: str) -> str:
    """``text`` as a one-line C comment; ``*/`` inside (from a tensor name) is defused."""
    return "/* " + text.replace("*/", "* /") + " */"


def c_array(ctype: str, name: str, values: np.ndarray, per_line: int = 16) -> str:
    """A ``static const`` array of ``values`` flattened in C order (the IR's layout)."""
    flat = [c_int(v) for v in np.asarray(values).ravel()]
    rows = [", ".join(flat[i : i + per_line]) + "," for i in range(0, len(flat), per_line)]
    body = "".join(f"    {row}\n" for row in rows)
    return f"static const {ctype} {name}[{len(flat)}] = {{\n{body}}};"


def _initializer(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f".{key} = {_initializer(v)}" for key, v in value.items()) + "}"
    if isinstance(value, str):  # already C: a name, NULL
        return value
    return c_int(int(value))  # type: ignore[call-overload]


def c_struct(ctype: str, name: str, fields: dict[str, object]) -> str:
    """A ``static const`` struct with designated initializers; nested dicts nest, strings are C expressions."""
    body = "".join(f"    .{key} = {_initializer(value)},\n" for key, value in fields.items())
    return f"static const {ctype} {name} = {{\n{body}}};"
