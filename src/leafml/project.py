"""A leafml project folder: ``leafml.toml`` read strictly, plus ``data/``.

``leafml.toml`` is checked on every load: a key leafml does not know or a
value it cannot use is refused with the file, the line, the key and what is
allowed, because a silently ignored typo (``sample_rate = 16000``) would
quietly change every sample imported after it.

Tables:

- ``[project]``: ``name``.
- ``[data]``: how inputs become stored samples (``sample_rate_hz``,
  ``wav_channels``, ``units``, and the ``[data.csv]`` / ``[data.ts]``
  formats). leafml checks every key of these.
- ``[dsp]``, ``[model]``, ``[train]``: handed on as plain dictionaries to the
  feature, model and training steps, which check their own keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from leafml.errors import LeafmlError
from leafml.targets.schema import (
    MISSING,
    DataFileError,
    Invalid,
    optional,
    positive_number,
    read_toml,
    table,
    text,
    wrong,
)

__all__ = [
    "PROJECT_FILE",
    "CsvFormat",
    "DataSettings",
    "NotAProject",
    "Project",
    "ProjectFileError",
    "TsFormat",
    "init_project",
    "load_project",
]

PROJECT_FILE = "leafml.toml"
DATA_FOLDER = "data"
WAV_CHANNELS = ("mono", "keep")
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "iso8601": None}


class ProjectFileError(DataFileError):
    """A ``leafml.toml`` that breaks the format; the message is one line."""


class NotAProject(LeafmlError):
    """A folder without ``leafml.toml``."""


@dataclass(frozen=True)
class CsvFormat:
    """How CSV files are read (``[data.csv]``).

    Rows are timed by ``time_column`` (in ``time_unit``: "s", "ms", "us" or
    "iso8601" date-times) or, without one, are ``interval_ms`` apart (None:
    one project step apart). ``axes`` picks the value columns (None: every
    column but the time and label columns). With ``label_column`` each run of
    consecutive rows with one label becomes its own sample.
    """

    delimiter: str = ","
    time_column: str | None = None
    time_unit: str = "ms"
    interval_ms: float | None = None
    axes: tuple[str, ...] | None = None
    label_column: str | None = None


@dataclass(frozen=True)
class TsFormat:
    """How UEA/UCR ``.ts`` files are read (``[data.ts]``): they carry no
    timing, so values are ``interval_ms`` apart (None: one project step)."""

    interval_ms: float | None = None


@dataclass(frozen=True)
class DataSettings:
    """The ``[data]`` table: every sample is stored at ``sample_rate_hz``
    (inputs at another rate are resampled); multi-channel WAV is averaged to
    one axis ("mono") or kept one axis per channel ("keep"); ``units`` names
    the unit of an axis whose input file does not say."""

    sample_rate_hz: float
    wav_channels: str = "mono"
    units: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    csv: CsvFormat = CsvFormat()
    ts: TsFormat = TsFormat()


@dataclass(frozen=True)
class Project:
    """A loaded project folder. ``dsp``, ``model`` and ``train`` are the
    tables of the same names as plain dicts, exactly as parsed (empty when
    absent): the steps that own them check them."""

    root: Path
    name: str
    data: DataSettings
    dsp: dict[str, Any]
    model: dict[str, Any]
    train: dict[str, Any]

    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def data_dir(self) -> Path:
        """The sample store's folder."""
        return self.root / DATA_FOLDER


def load_project(root: str | Path) -> Project:
    """Read and check ``root/leafml.toml``."""
    root = Path(root)
    file = root / PROJECT_FILE
    if not file.is_file():
        raise NotAProject(f"{root} is not a leafml project (no {PROJECT_FILE}): create one with `leafml init {root}`")
    return read_toml(file, lambda data: _build(root, data), ProjectFileError)


def init_project(root: str | Path, *, name: str | None = None, sample_rate_hz: float = 100.0) -> Project:
    """Create a project in ``root`` (a new or empty folder): ``leafml.toml``
    with every setting written out and commented, and an empty ``data/``
    (``leafml.data.Store`` creates its index there on first open)."""
    root = Path(root)
    if (root / PROJECT_FILE).exists():
        raise LeafmlError(f"{root / PROJECT_FILE} already exists: this folder is a project already")
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise LeafmlError(f"{root} exists and is not an empty folder: choose a new or empty folder")
    try:
        positive_number(sample_rate_hz, "data.sample_rate_hz")
    except Invalid as bad:
        raise LeafmlError(f"sample rate {bad.message}: give a rate in Hz such as 16000") from None
    root.mkdir(parents=True, exist_ok=True)
    # A JSON string is also a valid TOML basic string, quotes and all.
    quoted_name = json.dumps(name or root.resolve().name)
    (root / PROJECT_FILE).write_text(_TEMPLATE.format(name=quoted_name, rate=sample_rate_hz), encoding="utf-8")
    (root / DATA_FOLDER).mkdir()
    return load_project(root)


def _passthrough(value: Any, path: str) -> dict[str, Any]:
    if value is MISSING:
        return {}
    if not isinstance(value, dict):
        raise wrong(path, "a table", value)
    return value


def _choice(options) -> Any:
    def check(value: Any, path: str) -> str:
        if value not in options:
            raise wrong(path, "one of " + ", ".join(repr(o) for o in options), value)
        return value

    return check


def _names(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise wrong(path, "a list of one or more column names", value)
    if len(set(value)) != len(value):
        raise wrong(path, "a list of distinct column names", value)
    return tuple(value)


def _delimiter(value: Any, path: str) -> str:
    if not isinstance(value, str) or len(value) != 1 or value in "\"\r\n":
        raise wrong(path, "one character such as ',' or ';' or '\\t'", value)
    return value


def _units(value: Any, path: str) -> Mapping[str, str]:
    if value is MISSING:
        return MappingProxyType({})
    if not isinstance(value, dict):
        raise wrong(path, "a table of axis = \"unit\" pairs", value)
    for axis, unit in value.items():
        text(unit, f"{path}.{axis}")
    return MappingProxyType(dict(value))


def _default(check, default):
    return lambda value, path: default if value is MISSING else check(value, path)


def _csv(value: Any, path: str) -> CsvFormat:
    if value is MISSING:
        return CsvFormat()
    fields = table(value, path, {
        "delimiter": _default(_delimiter, ","),
        "time_column": optional(text),
        "time_unit": _default(_choice(tuple(TIME_UNITS)), "ms"),
        "interval_ms": optional(positive_number),
        "axes": optional(_names),
        "label_column": optional(text),
    })
    if fields["time_column"] is not None and fields["interval_ms"] is not None:
        raise Invalid(f"{path}.interval_ms", "cannot be set together with time_column: keep one of them")
    if "time_unit" in value and fields["time_column"] is None:
        raise Invalid(f"{path}.time_unit", "needs time_column: name the time column or drop time_unit")
    return CsvFormat(**fields)


def _ts(value: Any, path: str) -> TsFormat:
    if value is MISSING:
        return TsFormat()
    return TsFormat(**table(value, path, {"interval_ms": optional(positive_number)}))


def _data(value: Any, path: str) -> DataSettings:
    return DataSettings(**table(value, path, {
        "sample_rate_hz": positive_number,
        "wav_channels": _default(_choice(WAV_CHANNELS), "mono"),
        "units": _units,
        "csv": _csv,
        "ts": _ts,
    }))


def _build(root: Path, data: dict[str, Any]) -> Project:
    fields = table(data, "", {
        "project": lambda value, path: table(value, path, {"name": text}),
        "data": _data,
        "dsp": _passthrough,
        "model": _passthrough,
        "train": _passthrough,
    })
    return Project(root=root, name=fields["project"]["name"], data=fields["data"],
                   dsp=fields["dsp"], model=fields["model"], train=fields["train"])


_TEMPLATE = """\
# A leafml project. leafml checks every key of [project] and [data] when it
# loads this file; [dsp], [model] and [train] belong to those steps.

[project]
name = {name}

[data]
# Every sample is stored at this rate (Hz); inputs at another rate are
# resampled (polyphase FIR, scipy.signal.resample_poly).
sample_rate_hz = {rate}
# Multi-channel WAV: "mono" averages the channels, "keep" stores one axis each.
wav_channels = "mono"

# Units of axes whose input files do not name them (CSV, .ts, serial capture).
[data.units]
# accX = "m/s2"

[data.csv]
delimiter = ","
# Either a time column (time_unit: "s", "ms", "us" or "iso8601") ...
# time_column = "timestamp"
# time_unit = "ms"
# ... or a fixed step between rows; with neither, rows are one step of
# sample_rate_hz apart.
# interval_ms = 10.0
# The value columns to keep (default: all but the time and label columns).
# axes = ["accX", "accY", "accZ"]
# A column of labels: each run of rows with one label becomes a sample.
# label_column = "label"

[data.ts]
# UEA/UCR .ts files carry no timing: the step between values (default: one
# step of sample_rate_hz).
# interval_ms = 100.0

[dsp]

[model]

[train]
"""
