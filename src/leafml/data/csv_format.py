"""CSV decoding: a header row, one row per time step, timed by a column or a fixed step.

A header one field shorter than the data rows means the first field of each
row is a row name (what R's ``write.table`` writes, e.g. the UCI Occupancy
files); that field is not a value and is skipped.

A time column must increase, and evenly: a step more than half again or
less than half of the file's median step is a gap or a glitch that
resampling would smear over, so it is reported at its line.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

import numpy as np

from leafml.data.recording import InputError, Recording, sensors_named
from leafml.project import TIME_UNITS, CsvFormat

__all__ = ["decode_csv"]


def decode_csv(path: str | Path, data: bytes, fmt: CsvFormat, default_rate_hz: float,
               units: Mapping[str, str]) -> list[Recording]:
    """Decode a CSV file into recordings: one, or one per run of equal labels
    with ``fmt.label_column``. Rows are ``fmt.interval_ms`` apart, timed by
    ``fmt.time_column``, or else at ``default_rate_hz``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text (byte {err.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, [cell.strip() for cell in row]))
    except csv.Error as err:
        raise InputError(path, f"malformed CSV: {err}", reader.line_num) from None
    if not rows:
        raise InputError(path, "empty file: expected a header row and data rows")
    (header_line, header), body = rows[0], rows[1:]
    if all(_is_number(cell) for cell in header):
        raise InputError(path, "no header row: add a first row naming the columns", header_line)
    if not body:
        raise InputError(path, "no data rows after the header", header_line)
    # R's row names: the header lacks a name for the first column.
    skip = 1 if len(body[0][1]) == len(header) + 1 else 0
    columns = {name: index + skip for index, name in enumerate(header)}
    time_at = _column(path, header_line, columns, fmt.time_column)
    label_at = _column(path, header_line, columns, fmt.label_column)
    axes = fmt.axes or tuple(name for name in header if name not in (fmt.time_column, fmt.label_column))
    if not axes:
        raise InputError(path, "no value columns besides the time and label columns", header_line)
    axis_at = [_column(path, header_line, columns, name) for name in axes]

    values = np.empty((len(body), len(axes)))
    labels: list[str] = []
    times: list[float] = []
    for i, (line, row) in enumerate(body):
        if len(row) != len(header) + skip:
            raise InputError(path, f"expected {len(header) + skip} fields, got {len(row)}", line)
        for j, (name, at) in enumerate(zip(axes, axis_at)):
            values[i, j] = _number(path, line, name, row[at])
        if label_at is not None:
            if not row[label_at]:
                raise InputError(path, f"column '{fmt.label_column}' is empty: every row needs a label", line)
            labels.append(row[label_at])
        if time_at is not None:
            times.append(_time(path, line, fmt, row[time_at]))

    rate_hz = _rate(path, body, times) if time_at is not None else (
        1000.0 / fmt.interval_ms if fmt.interval_ms is not None else default_rate_hz)
    sensors = sensors_named(axes, units)
    if label_at is None:
        return [Recording(values, rate_hz, sensors, part=f"lines {body[0][0]}-{body[-1][0]}")]
    recordings = []
    start = 0
    for end in range(1, len(body) + 1):
        if end == len(body) or labels[end] != labels[start]:
            part = f"lines {body[start][0]}-{body[end - 1][0]}"
            recordings.append(Recording(values[start:end], rate_hz, sensors, part=part, label=labels[start]))
            start = end
    return recordings


def _column(path, line: int, columns: dict[str, int], name: str | None) -> int | None:
    if name is None:
        return None
    if name not in columns:
        raise InputError(path, f"no column '{name}' (the header has: {', '.join(columns)}): fix leafml.toml "
                               "[data.csv] or the file", line)
    return columns[name]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _number(path, line: int, column: str, cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise InputError(path, f"column '{column}': {cell!r} is not a number", line) from None
    if not math.isfinite(value):
        raise InputError(path, f"column '{column}': {cell!r} is not a finite number", line)
    return value


def _time(path, line: int, fmt: CsvFormat, cell: str) -> float:
    """The time of a row in seconds."""
    scale = TIME_UNITS[fmt.time_unit]
    if scale is not None:
        return _number(path, line, fmt.time_column, cell) * scale
    try:
        moment = datetime.fromisoformat(cell)
    except ValueError:
        raise InputError(path, f"column '{fmt.time_column}': {cell!r} is not an ISO 8601 date-time", line) from None
    if moment.tzinfo is None:
        # Only the steps between rows matter: read naive times as UTC, so no
        # daylight-saving change of this machine's zone shows up as a gap.
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _rate(path, body: list[tuple[int, list[str]]], times: list[float]) -> float:
    """Rows per second from the time column, after checking the steps."""
    if len(times) < 2:
        raise InputError(path, "one data row cannot show its rate: give [data.csv] interval_ms instead of "
                               "time_column", body[0][0])
    steps = np.diff(np.asarray(times))
    backwards = np.flatnonzero(steps <= 0)
    if backwards.size:
        raise InputError(path, "the time does not increase from the previous row", body[backwards[0] + 1][0])
    median = float(np.median(steps))
    uneven = np.flatnonzero((steps > 1.5 * median) | (steps < 0.5 * median))
    if uneven.size:
        i = uneven[0]
        raise InputError(path, f"uneven time step of {steps[i]:g} s where the median step is {median:g} s: split "
                               "the file at the gap", body[i + 1][0])
    return 1.0 / median
