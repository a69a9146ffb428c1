"""What an importer hands to the store: decoded recordings, or a one-line reason why not."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from leafml.errors import LeafmlError

__all__ = ["InputError", "Recording", "Sensor", "sensors_named"]


class InputError(LeafmlError):
    """An input file leafml cannot read: ``path[:line]: reason``.

    ``reason`` says what is wrong at that place; the import skips the file
    or stops, as the user chose.
    """

    def __init__(self, path: str | Path, reason: str, line: int | None = None):
        self.path, self.reason, self.line = str(path), reason, line
        super().__init__(f"{self.path}:{line}: {reason}" if line is not None else f"{self.path}: {reason}")


@dataclass(frozen=True)
class Sensor:
    """One axis of a sample: its name and its unit ("" when nobody said)."""

    name: str
    units: str


@dataclass(frozen=True)
class Recording:
    """One sample as an input file holds it, before resampling.

    ``values`` is [length, axes] at ``rate_hz``; ``part`` says where in the
    file it was ("lines 2-1001", "line 14"; "" for the whole file);
    ``label`` is the label the file itself gives (a .ts class, a CSV label
    column), None when the import must supply one.
    """

    values: np.ndarray
    rate_hz: float
    sensors: tuple[Sensor, ...]
    part: str = ""
    label: str | None = None


def sensors_named(names, units: Mapping[str, str]) -> tuple[Sensor, ...]:
    """Sensors for axis ``names`` whose file gives no units: the project's ``[data.units]``, else ""."""
    return tuple(Sensor(name, units.get(name, "")) for name in names)
