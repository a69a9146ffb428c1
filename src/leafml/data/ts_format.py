"""The UEA/UCR time-series classification archive's ``.ts`` format.

A header of ``@key value`` lines (``@dimensions``, ``@seriesLength``,
``@classLabel true A B C`` ...) ends at ``@data``; then each line is one
series: its dimensions separated by ``:``, each a comma-separated list of
values, and the class label last. ``#`` lines are comments. Series with
time stamps (``@timeStamps true``) and missing values (``?``) are refused
with the reason: neither can be stored as an evenly sampled array.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from leafml.data.recording import InputError, Recording, sensors_named

__all__ = ["decode_ts"]


def decode_ts(path: str | Path, data: bytes, rate_hz: float, units: Mapping[str, str]) -> list[Recording]:
    """Decode a ``.ts`` file into one recording per series, at ``rate_hz``
    (the format carries no timing); axes are named "dim0", "dim1", ..."""
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text (byte {err.start})") from None
    header: dict[str, tuple[int, list[str]]] = {}
    first_data = None
    for number, line in enumerate(lines, start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if not words[0].startswith("@"):
            raise InputError(path, f"expected a '@' header line before @data, got {line[:40]!r}", number)
        key = words[0][1:].lower()
        if key == "data":
            first_data = number
            break
        header[key] = (number, words[1:])
    if first_data is None:
        raise InputError(path, "no @data line: not a .ts file, or truncated")
    if _flag(path, header, "timestamps"):
        raise InputError(path, "series with time stamps (@timeStamps true) are not supported: export them as CSV",
                         header["timestamps"][0])
    has_labels = _flag(path, header, "classlabel")
    classes = header["classlabel"][1][1:] if has_labels else []
    dimensions = _count(path, header, "dimensions")
    length = _count(path, header, "serieslength") if _flag(path, header, "equallength") else None

    recordings = []
    for number, line in enumerate(lines[first_data:], start=first_data + 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.strip().split(":")
        label = parts.pop().strip() if has_labels else None
        if has_labels and classes and label not in classes:
            raise InputError(path, f"class {label!r} is not among @classLabel {' '.join(classes)}", number)
        if dimensions is not None and len(parts) != dimensions:
            raise InputError(path, f"expected {dimensions} dimensions, got {len(parts)}", number)
        series = [_values(path, number, d, part) for d, part in enumerate(parts)]
        lengths = {len(values) for values in series}
        if len(lengths) != 1:
            raise InputError(path, f"the dimensions have different lengths {sorted(lengths)}", number)
        if length is not None and lengths != {length}:
            raise InputError(path, f"expected @seriesLength {length} values, got {lengths.pop()}", number)
        sensors = sensors_named([f"dim{d}" for d in range(len(series))], units)
        recordings.append(Recording(np.stack(series, axis=1), rate_hz, sensors, part=f"line {number}", label=label))
    if not recordings:
        raise InputError(path, "no series after @data")
    return recordings


def _flag(path, header, key: str) -> bool:
    if key not in header:
        return False
    number, words = header[key]
    if not words or words[0].lower() not in ("true", "false"):
        raise InputError(path, f"@{key} should be true or false", number)
    return words[0].lower() == "true"


def _count(path, header, key: str) -> int | None:
    if key not in header:
        return None
    number, words = header[key]
    if len(words) != 1 or not words[0].isdigit() or int(words[0]) == 0:
        raise InputError(path, f"@{key} should be a positive whole number", number)
    return int(words[0])


def _values(path, number: int, dimension: int, text: str) -> np.ndarray:
    cells = text.split(",")
    if "?" in (cell.strip() for cell in cells):
        raise InputError(path, f"dimension {dimension} has missing values ('?'): fill them before importing",
                         number)
    try:
        values = np.array([float(cell) for cell in cells])
    except ValueError:
        bad = next(cell for cell in cells if not _is_float(cell))
        raise InputError(path, f"dimension {dimension}: {bad.strip()!r} is not a number", number) from None
    if not np.all(np.isfinite(values)):
        raise InputError(path, f"dimension {dimension} has a value that is not finite", number)
    return values


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
