"""What a report shows: summary rows and verification-ladder rungs.

The caller decides which figures appear; this module only fixes their shape
and formats values, so every number printed carries a unit and says whether it
was measured or estimated.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

__all__ = ["LADDER", "Row", "Rung", "format_value", "parity_rungs", "rows_from", "rungs_from"]


class Row(NamedTuple):
    """One line of the summary table.

    ``unit`` names the unit (``"bytes"``, ``"s"``, ``"J"``, ``"fraction (0-1)"``)
    and ``provenance`` says where the value came from (``"measured (QEMU)"``,
    ``"estimated"``...). Both are required when the value is a number.
    """

    label: str
    value: Any
    unit: str
    provenance: str


class Rung(NamedTuple):
    """One rung of the verification ladder; ``passed`` is None when not run."""

    name: str
    compares: str
    passed: bool | None


# The ladder of DESIGN.md, in order; keys are those of metrics["parity"].
LADDER: dict[str, tuple[str, str]] = {
    "litert": ("LiteRT", "leafml's .tflite run in LiteRT vs the reference interpreter, single rounding"),
    "tflm": ("TFLM", "the same .tflite run in TensorFlow Lite Micro vs the reference interpreter, double rounding"),
    "host_c": ("Host C build", "generated C built with the host cc (-Werror) vs the reference interpreter, byte for byte"),
    "qemu_cortex_m4": ("Cortex-M4 in QEMU", "the same C built with arm-none-eabi-gcc and run in qemu-system-arm "
                       "vs the reference interpreter, byte for byte"),
}


def _plain(value: Any) -> Any:
    """A numpy scalar as the matching Python scalar; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def format_value(value: Any) -> str:
    """Text for a table cell: integers with thousands separators, reals to 4 significant digits."""
    value = _plain(value)
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Integral):
        return f"{value:,}"
    if isinstance(value, Real):
        return f"{value:.4g}"
    return str(value)


def rows_from(rows: Sequence[Sequence[Any]]) -> list[Row]:
    """Check caller rows (any 4-sequences) and return them as `Row`.

    A number without a unit or a provenance is refused: the report would
    otherwise print a bare figure nobody can interpret.
    """
    out = []
    for raw in rows:
        if len(raw) != 4:
            raise ValueError(f"a summary row is (label, value, unit, provenance), got {tuple(raw)!r}")
        row = Row(*raw)
        value = _plain(row.value)
        is_number = isinstance(value, Real) and not isinstance(value, bool)
        if is_number and not (str(row.unit).strip() and str(row.provenance).strip()):
            raise ValueError(f"summary row {row.label!r} has a number but no unit or provenance")
        out.append(row)
    return out


def _verdict(value: Any, where: str) -> bool | None:
    value = _plain(value)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{where} must be True, False or None (not run), got {value!r}")
    return value


def rungs_from(rungs: Sequence[Sequence[Any]]) -> list[Rung]:
    """Check caller rungs (any (name, compares, passed) 3-sequences) and return them as `Rung`."""
    out = []
    for raw in rungs:
        if len(raw) != 3:
            raise ValueError(f"a ladder rung is (name, compares, passed), got {tuple(raw)!r}")
        name, compares, passed = raw
        out.append(Rung(name, compares, _verdict(passed, f"rung {name!r} passed")))
    return out


def parity_rungs(parity: Mapping[str, Any]) -> list[Rung]:
    """The ladder's rungs, in order, from ``metrics["parity"]``.

    ``parity`` must have exactly the keys of `LADDER`, each True, False or
    None (rung not run).
    """
    if set(parity) != set(LADDER):
        raise ValueError(f"metrics['parity'] must have the keys {sorted(LADDER)}, got {sorted(parity)}")
    return [
        Rung(name, compares, _verdict(parity[key], f"metrics['parity'][{key!r}]"))
        for key, (name, compares) in LADDER.items()
    ]
