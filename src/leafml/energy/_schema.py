"""Strict reading of a scenario file, with errors that point at the line.

`tomllib` parses TOML but forgets where each key was written, so the line of
a key is found again by scanning the text (`leafml.targets.schema.field_line`,
shared with the board files). A `Section` reads one table: it refuses keys
it does not know before reading any, so a typo is reported as a typo rather
than as the missing key it was meant to be.

A figure is written either as a bare number, which leafml records as an
assumption taken from the file, or as ``{ value = ..., kind = ..., source = ... }``
with ``kind`` one of `KINDS`: "measured" (a published or leafml
measurement), "datasheet" (a vendor's published figure) or "assumption" (a
modelling choice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from leafml.errors import LeafmlError
from leafml.targets import Figure
from leafml.targets.schema import KINDS, field_line

__all__ = [
    "AT_LEAST_ONE", "FRACTION", "HOURS_OF_DAY", "KINDS", "NON_NEGATIVE", "PERCENT", "POSITIVE", "SHARE",
    "Rule", "ScenarioError", "Section", "SourceText",
]


class ScenarioError(LeafmlError, ValueError):
    """A scenario file that breaks the format; the message is one line."""


@dataclass(frozen=True)
class SourceText:
    """A scenario's text and the name errors call it by."""

    label: str
    text: str

    def error(self, path: str, message: str) -> ScenarioError:
        line = field_line(self.text, path) if path else None
        where = f"{self.label}:{line}" if line else self.label
        return ScenarioError(f"{where}: '{path}' {message}")


@dataclass(frozen=True)
class Rule:
    """What a number must be: ``accepts(value)`` and its description for errors."""

    accepts: Callable[[float], bool]
    description: str


POSITIVE = Rule(lambda x: 0 < x < math.inf, "a positive number")
NON_NEGATIVE = Rule(lambda x: 0 <= x < math.inf, "a number >= 0")
FRACTION = Rule(lambda x: 0 < x <= 1, "a fraction in (0, 1]")
SHARE = Rule(lambda x: 0 <= x <= 1, "a fraction in [0, 1]")
PERCENT = Rule(lambda x: 0 <= x < 100, "a percentage in [0, 100)")
HOURS_OF_DAY = Rule(lambda x: 0 <= x <= 24, "a number of hours in [0, 24]")
AT_LEAST_ONE = Rule(lambda x: 1 <= x < math.inf, "a number >= 1")

_REQUIRED = object()


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value!r}"


def _is_number(value: Any) -> bool:
    # bool is an int in Python; `true` is never a current.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Section:
    """One table of the scenario, read key by key against a fixed set of allowed keys."""

    def __init__(self, source: SourceText, data: Any, path: str, allowed: Iterable[str]):
        self.source, self.path, self.allowed = source, path, tuple(allowed)
        if not isinstance(data, dict):
            raise source.error(path, f"should be a table with keys {', '.join(self.allowed)}, got {_shown(data)}")
        for key in data:
            if key not in self.allowed:
                where = f"in [{path}]" if path else "at the top level"
                raise source.error(self._at(key), f"is not a known key; allowed {where}: {', '.join(self.allowed)}")
        self.data = data

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> ScenarioError:
        return self.source.error(self._at(key), message)

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, expected: str) -> Any:
        if key not in self.data:
            where = f" to [{self.path}]" if self.path else ""
            raise self.error(key, f"is missing: add it{where} as {expected}")
        return self.data[key]

    def figure(self, key: str, unit: str, rule: Rule = POSITIVE, default: Any = _REQUIRED) -> Figure:
        """The figure at ``key``, its value obeying ``rule``.

        Written as a bare number (recorded as an assumption taken from the
        file) or as a value/kind/source table. ``default`` is returned as
        it is when the key is absent.
        """
        expected = f"{rule.description} ({unit})"
        if key not in self.data and default is not _REQUIRED:
            return default
        raw = self._get(key, expected)
        if isinstance(raw, dict):
            table = Section(self.source, raw, self._at(key), ("value", "kind", "source"))
            return Figure(table._number("value", rule, unit), table.text("kind", KINDS), table.text("source"))
        value = self._number(key, rule, unit)
        return Figure(value, "assumption", f"{self.source.label}: {self._at(key)} (no source given)")

    def _number(self, key: str, rule: Rule, unit: str) -> float:
        expected = f"{rule.description} ({unit})"
        raw = self._get(key, expected)
        if not (_is_number(raw) and math.isfinite(raw) and rule.accepts(raw)):
            raise self.error(key, f"should be {expected}, got {_shown(raw)}")
        return float(raw)

    def text(self, key: str, choices: Iterable[str] | None = None, default: Any = _REQUIRED) -> str:
        """A non-empty string, one of ``choices`` when given."""
        options = tuple(choices) if choices is not None else None
        expected = "one of " + ", ".join(repr(c) for c in options) if options else "a non-empty string"
        if key not in self.data and default is not _REQUIRED:
            return default
        raw = self._get(key, expected)
        if not isinstance(raw, str) or not raw.strip() or (options and raw not in options):
            raise self.error(key, f"should be {expected}, got {_shown(raw)}")
        return raw

    def count(self, key: str, unit: str, minimum: int = 0, default: Any = _REQUIRED) -> int:
        """A whole number >= ``minimum``."""
        expected = f"a whole number >= {minimum} ({unit})"
        if key not in self.data and default is not _REQUIRED:
            return default
        raw = self._get(key, expected)
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
            raise self.error(key, f"should be {expected}, got {_shown(raw)}")
        return raw

    def section(self, key: str, allowed: Iterable[str], required: bool = True) -> Section | None:
        """The sub-table ``key``; None when absent and not ``required``."""
        if key not in self.data and not required:
            return None
        raw = self._get(key, "a table")
        return Section(self.source, raw, self._at(key), allowed)

    def one_of(self, *keys: str) -> str:
        """The one key of ``keys`` present; an error when none or several are."""
        present = [key for key in keys if key in self.data]
        if len(present) != 1:
            names = " or ".join(f"'{key}'" for key in keys)
            problem = "has none" if not present else f"has {' and '.join(present)}"
            raise self.source.error(self.path, f"needs exactly one of {names}; it {problem}")
        return present[0]
