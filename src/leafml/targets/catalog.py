"""Board catalog: one TOML file per board in ``boards/``, loaded into `Board`.

A board file is data with its provenance: every figure carries the document it
came from, so an estimate built on it can be checked by a reader. The format
is described at the top of ``boards/nano33_ble_sense.toml``; adding a board is
adding one file.

Loading is strict. A missing field, a wrong type or an unknown key is refused
with one line naming the file, the field and what was expected, because a
silently ignored typo in a current or a clock would quietly skew every
latency and energy figure derived from it.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from leafml.errors import LeafmlError

__all__ = ["Board", "BoardFileError", "CpiRange", "Figure", "list_boards", "load_board"]

SCHEMA_VERSION = 1
KINDS = ("datasheet", "assumption")


class BoardFileError(LeafmlError, ValueError):
    """A board file that does not follow the schema; the message is one line."""


@dataclass(frozen=True)
class Figure:
    """One number (or word) from a board file, with where it came from.

    The unit is named by the field that holds the figure (``clock_hz``,
    ``supply_v``...). ``kind`` is ``"datasheet"`` for a vendor's published
    figure and ``"assumption"`` for a modelling choice.
    """

    value: Any
    kind: str
    source: str


@dataclass(frozen=True)
class CpiRange:
    """Cycles per executed instruction (dimensionless): low, typical, high."""

    low: float
    typical: float
    high: float
    kind: str
    source: str


@dataclass(frozen=True)
class Board:
    """A microcontroller board as the cost model sees it.

    Units are in the field names: hertz, bytes, volts, amperes. Currents are
    the SoC's typical draw at ``datasheet_supply_v``; ``active_current_a`` maps
    a regulator name (e.g. ``"dcdc"``, ``"ldo"``) to the current with the CPU
    running from flash, and ``regulator`` names the one used by default.
    ``sleep_current_a`` has ``"idle"`` (RAM kept, timer wake-up) and ``"off"``
    (deepest state, no RAM kept).
    """

    id: str
    name: str
    mcu: str
    core: str
    clock_hz: Figure
    sram_bytes: Figure
    flash_bytes: Figure
    supply_v: Figure
    datasheet_supply_v: Figure
    regulator: Figure
    active_current_a: Mapping[str, Figure] = field(hash=False)
    sleep_current_a: Mapping[str, Figure] = field(hash=False)
    cpi: CpiRange
    path: Path = field(compare=False)

    def active_current(self, regulator: str | None = None) -> Figure:
        """The CPU-running current (amperes) with ``regulator``, default the board's."""
        name = self.regulator.value if regulator is None else regulator
        if name not in self.active_current_a:
            known = ", ".join(sorted(self.active_current_a))
            raise ValueError(f"board {self.id!r} has no active current for regulator {name!r} (known: {known})")
        return self.active_current_a[name]


# --- schema -----------------------------------------------------------------
# A checker takes (value, field path) and returns the converted value or
# raises _Invalid. The tables below are the whole schema.


class _Invalid(Exception):
    """A schema breach at ``path``; ``message`` is what follows the path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.path = path
        self.message = message


# Stands in for an absent field, so the field's own checker says what it expects.
_MISSING = object()


def _wrong(path: str, expected: str, value: Any) -> _Invalid:
    if value is _MISSING:
        return _Invalid(path, f"is missing (expected {expected})")
    got = "a table" if isinstance(value, dict) else f"{type(value).__name__} {value!r}"
    return _Invalid(path, f"should be {expected}, got {got}")


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _wrong(path, "a non-empty string", value)
    return value


def _positive_int(value: Any, path: str) -> int:
    # bool is an int in Python; `true` is never a byte count.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _wrong(path, "a positive integer", value)
    return value


def _positive_number(value: Any, path: str) -> float:
    # TOML has nan and inf; neither is a usable current or voltage.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise _wrong(path, "a positive finite number", value)
    return float(value)


def _kind(value: Any, path: str) -> str:
    if value not in KINDS:
        raise _wrong(path, " or ".join(repr(k) for k in KINDS), value)
    return value


def _table(value: Any, path: str, spec: Mapping[str, Callable[[Any, str], Any]]) -> dict[str, Any]:
    """Check that ``value`` is a table with exactly the keys of ``spec``."""
    if not isinstance(value, dict):
        raise _wrong(path, f"a table with keys {', '.join(spec)}", value)
    prefix = f"{path}." if path else ""
    for key in value:
        if key not in spec:
            raise _Invalid(f"{prefix}{key}", f"is not a known field (expected one of: {', '.join(spec)})")
    return {key: check(value.get(key, _MISSING), f"{prefix}{key}") for key, check in spec.items()}


def _figure(check_value: Callable[[Any, str], Any]) -> Callable[[Any, str], Figure]:
    spec = {"value": check_value, "kind": _kind, "source": _text}
    return lambda value, path: Figure(**_table(value, path, spec))


def _figures_by_name(check_value: Callable[[Any, str], Any]) -> Callable[[Any, str], Mapping[str, Figure]]:
    """A table of named figures whose names are free (e.g. regulators)."""
    one = _figure(check_value)

    def check(value: Any, path: str) -> Mapping[str, Figure]:
        if not isinstance(value, dict) or not value:
            raise _wrong(path, "a table of one or more named figures", value)
        return MappingProxyType({name: one(item, f"{path}.{name}") for name, item in value.items()})

    return check


def _schema_version(value: Any, path: str) -> int:
    if isinstance(value, bool) or value != SCHEMA_VERSION:
        raise _wrong(path, str(SCHEMA_VERSION), value)
    return value


def _cpi(value: Any, path: str) -> CpiRange:
    spec = {"low": _positive_number, "typical": _positive_number, "high": _positive_number,
            "kind": _kind, "source": _text}
    cpi = CpiRange(**_table(value, path, spec))
    if not cpi.low <= cpi.typical <= cpi.high:
        raise _Invalid(path, f"should have low <= typical <= high, got {cpi.low}, {cpi.typical}, {cpi.high}")
    return cpi


_SLEEP_STATES = {"idle": _figure(_positive_number), "off": _figure(_positive_number)}

_BOARD_SPEC: dict[str, Callable[[Any, str], Any]] = {
    "schema": _schema_version,
    "id": _text,
    "name": _text,
    "mcu": _text,
    "core": _text,
    "clock_hz": _figure(_positive_int),
    "sram_bytes": _figure(_positive_int),
    "flash_bytes": _figure(_positive_int),
    "supply_v": _figure(_positive_number),
    "datasheet_supply_v": _figure(_positive_number),
    "regulator": _figure(_text),
    "active_current_a": _figures_by_name(_positive_number),
    "sleep_current_a": lambda value, path: MappingProxyType(_table(value, path, _SLEEP_STATES)),
    "cpi": _cpi,
}


def _board_from_data(data: dict[str, Any], path: Path) -> Board:
    fields = _table(data, "", _BOARD_SPEC)
    fields.pop("schema")
    if fields["id"] != path.stem:
        raise _wrong("id", f"{path.stem!r} (the file name without .toml)", fields["id"])
    if fields["regulator"].value not in fields["active_current_a"]:
        known = ", ".join(fields["active_current_a"])
        raise _wrong("regulator.value", f"a key of active_current_a ({known})", fields["regulator"].value)
    return Board(path=path, **fields)


# --- loading ----------------------------------------------------------------


def _boards_dir() -> Path:
    return Path(str(resources.files("leafml.targets") / "boards"))


def load_board(name_or_path: str | Path) -> Board:
    """Load a board by catalog name (``"nano33_ble_sense"``) or by TOML file path.

    Raises `BoardFileError` with a one-line message naming the file and field
    when the file breaks the schema, and `FileNotFoundError` for an unknown
    name or a missing file.
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(name_or_path)
    else:
        path = _boards_dir() / f"{text}.toml"
        if not path.is_file():
            known = ", ".join(p.stem for p in sorted(_boards_dir().glob("*.toml")))
            raise FileNotFoundError(f"no board named {text!r} in the catalog (known: {known})")
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise BoardFileError(f"{path}: not valid TOML: {err}") from None
    try:
        return _board_from_data(data, path)
    except _Invalid as bad:
        raise BoardFileError(f"{path}: field '{bad.path}' {bad.message}") from None


def list_boards() -> list[Board]:
    """Every board shipped in the catalog, sorted by id."""
    return [load_board(path) for path in sorted(_boards_dir().glob("*.toml"))]
