"""Strict checking of leafml's data files (boards, cores, published results).

A checker takes ``(value, field path)`` and returns the converted value or
raises `Invalid`; tables of checkers are the whole schema of a file.
`read_toml` loads a file and turns a breach into one `DataFileError` line
naming the file, the line and the field, found by scanning the TOML text,
because a silently ignored typo in a current or a clock would quietly skew
every figure derived from it.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from leafml.errors import LeafmlError

__all__ = [
    "KINDS",
    "DataFileError",
    "Figure",
    "Invalid",
    "Checker",
    "figure",
    "figures_by_name",
    "kind",
    "optional",
    "positive_int",
    "positive_number",
    "read_toml",
    "table",
    "text",
    "wrong",
]

KINDS = ("datasheet", "measured", "assumption")

Checker = Callable[[Any, str], Any]


class DataFileError(LeafmlError, ValueError):
    """A data file that breaks its schema; the message is one line."""


@dataclass(frozen=True)
class Figure:
    """One number (or word) from a data file, with where it came from.

    The unit is named by the field that holds the figure (``clock_hz``,
    ``supply_v``...). ``kind`` is ``"datasheet"`` for a vendor's published
    figure, ``"measured"`` for a published measurement and ``"assumption"``
    for a modelling choice. ``low`` and ``high`` bound the figure when its
    document gives a range (``None``: the value alone).
    """

    value: Any
    kind: str
    source: str
    low: float | None = None
    high: float | None = None

    @property
    def bounds(self) -> tuple[Any, Any]:
        """(low, high), each the value itself when the file gives no range."""
        return (self.value if self.low is None else self.low, self.value if self.high is None else self.high)


class Invalid(Exception):
    """A schema breach at ``path``; ``message`` is what follows the path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.path = path
        self.message = message


# Stands in for an absent field, so the field's own checker says what it expects.
MISSING = object()


def wrong(path: str, expected: str, value: Any) -> Invalid:
    """The breach "``path`` should be ``expected``, got ``value``" (or "is missing")."""
    if value is MISSING:
        return Invalid(path, f"is missing (expected {expected})")
    got = "a table" if isinstance(value, dict) else f"{type(value).__name__} {value!r}"
    return Invalid(path, f"should be {expected}, got {got}")


def text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise wrong(path, "a non-empty string", value)
    return value


def positive_int(value: Any, path: str) -> int:
    # bool is an int in Python; `true` is never a byte count.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise wrong(path, "a positive integer", value)
    return value


def positive_number(value: Any, path: str) -> float:
    # TOML has nan and inf; neither is a usable current or voltage.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise wrong(path, "a positive finite number", value)
    return float(value)


def kind(value: Any, path: str) -> str:
    if value not in KINDS:
        raise wrong(path, " or ".join(repr(k) for k in KINDS), value)
    return value


def optional(check: Checker) -> Checker:
    """``check``, except that an absent field is allowed and gives None."""
    return lambda value, path: None if value is MISSING else check(value, path)


def table(value: Any, path: str, spec: Mapping[str, Checker]) -> dict[str, Any]:
    """Check that ``value`` is a table with the keys of ``spec`` and no others."""
    if not isinstance(value, dict):
        raise wrong(path, f"a table with keys {', '.join(spec)}", value)
    prefix = f"{path}." if path else ""
    for key in value:
        if key not in spec:
            raise Invalid(f"{prefix}{key}", f"is not a known field (expected one of: {', '.join(spec)})")
    return {key: check(value.get(key, MISSING), f"{prefix}{key}") for key, check in spec.items()}


def figure(check_value: Checker, *, ranged: bool = False) -> Checker:
    """A `Figure` table: value, kind, source, and with ``ranged`` optional low/high."""
    spec: dict[str, Checker] = {"value": check_value, "kind": kind, "source": text}
    if ranged:
        spec |= {"low": optional(positive_number), "high": optional(positive_number)}

    def check(value: Any, path: str) -> Figure:
        result = Figure(**table(value, path, spec))
        low, high = result.bounds
        if not low <= result.value <= high:
            raise Invalid(path, f"should have low <= value <= high, got {low}, {result.value}, {high}")
        return result

    return check


def figures_by_name(check_value: Checker, *, ranged: bool = False) -> Checker:
    """A table of named figures whose names are free (e.g. regulators)."""
    one = figure(check_value, ranged=ranged)

    def check(value: Any, path: str) -> Mapping[str, Figure]:
        if not isinstance(value, dict) or not value:
            raise wrong(path, "a table of one or more named figures", value)
        return MappingProxyType({name: one(item, f"{path}.{name}") for name, item in value.items()})

    return check


def read_toml(path: Path, build: Callable[[dict[str, Any]], Any], error: type[DataFileError] = DataFileError) -> Any:
    """Load the TOML file at ``path`` and return ``build(data)``.

    A syntax error or an `Invalid` raised by ``build`` becomes a one-line
    ``error``: ``"<file>:<line>: field '<path>' <what is wrong>"``,
    the line being where the field is (or, for a missing one, the table it
    belongs in), left out when the file does not say.
    """
    content = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: not valid TOML: {err}") from None
    try:
        return build(data)
    except Invalid as bad:
        line = field_line(content, bad.path)
        where = f"{path}:{line}" if line is not None else f"{path}"
        raise error(f"{where}: field '{bad.path}' {bad.message}") from None


# --- where a field is in the text ---------------------------------------------

_HEADER = re.compile(r"^\s*\[(?!\[)\s*([^\]]+?)\s*\]")
_KEY = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\")(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"))*)\s*=")


def _dotted(key: str) -> list[str]:
    return [part.strip().strip('"') for part in key.split(".")]


def field_line(content: str, path: str) -> int | None:
    """The 1-based line of ``content`` defining the field ``path`` ("a.b.c").

    Table headers and ``key =`` lines are matched at the start of a line,
    the way leafml's data files are written (no multi-line strings); a field
    that is not there is reported at its nearest enclosing table. None when
    neither is found.
    """
    lines: dict[tuple[str, ...], int] = {}
    current: list[str] = []
    for number, line in enumerate(content.splitlines(), start=1):
        if header := _HEADER.match(line):
            current = _dotted(header.group(1))
            lines.setdefault(tuple(current), number)
        elif key := _KEY.match(line):
            lines.setdefault(tuple(current + _dotted(key.group(1))), number)
    parts = tuple(path.split(".")) if path else ()
    while parts:
        if parts in lines:
            return lines[parts]
        parts = parts[:-1]
    return None
