"""The store's SQLite index: one row per sample.

The sample values live in files beside it (``samples/<sha256[:2]>/<sha256>.npy``,
float32 [length, axes]); the row says everything else. ``sha256`` is the hash
of the decoded sample (its shape, then its float32 little-endian bytes), so
the same data imported twice, from any file or format, is one sample.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from leafml.data.recording import Sensor
from leafml.errors import LeafmlError

__all__ = ["SPLITS", "Sample", "connect", "insert", "sample_file", "select"]

SPLITS = ("train", "val", "test")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    split TEXT CHECK (split IN ('train', 'val', 'test')),
    -- 'import': given when the sample was imported, kept by Store.split;
    -- 'seed': drawn by Store.split.
    split_from TEXT CHECK (split_from IN ('import', 'seed')),
    sensors TEXT NOT NULL,
    sample_rate_hz REAL NOT NULL,
    length INTEGER NOT NULL,
    source TEXT NOT NULL,
    source_part TEXT NOT NULL,
    source_sha256 TEXT,
    sha256 TEXT NOT NULL UNIQUE,
    imported_at TEXT NOT NULL,
    group_id TEXT,
    CHECK ((split IS NULL) = (split_from IS NULL))
);
CREATE INDEX IF NOT EXISTS samples_label ON samples (label);
"""

_COLUMNS = ("id", "label", "split", "split_from", "sensors", "sample_rate_hz", "length", "source", "source_part",
            "source_sha256", "sha256", "imported_at", "group_id")


@dataclass(frozen=True)
class Sample:
    """One stored sample, as the index describes it.

    ``sample_rate_hz`` in Hz; ``length`` in steps; ``source`` is the input
    file (or the serial port) and ``source_part`` where in it ("" for all of
    it); ``source_sha256`` the hash of that input's bytes (its copy is kept
    in the store's ``originals/``); ``imported_at`` an ISO 8601 UTC time;
    ``split`` is None until assigned; ``group`` keeps related samples (one
    speaker, subject or session) on one side of a split.
    """

    id: int
    label: str
    split: str | None
    split_from: str | None
    sensors: tuple[Sensor, ...]
    sample_rate_hz: float
    length: int
    source: str
    source_part: str
    source_sha256: str | None
    sha256: str
    imported_at: str
    group: str | None

    @property
    def file(self) -> str:
        """The values file, relative to the store folder."""
        return sample_file(self.sha256)


def sample_file(sha256: str) -> str:
    return f"samples/{sha256[:2]}/{sha256}.npy"


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the index; transactions are explicit (``BEGIN``/``COMMIT``)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript(_SCHEMA)
    connection.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    version = int(connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    if version > SCHEMA_VERSION:
        connection.close()
        raise LeafmlError(f"{path} was written by a newer leafml (index version {version}, this one reads up to "
                          f"{SCHEMA_VERSION}): upgrade leafml")
    return connection


def insert(connection: sqlite3.Connection, sample: Sample) -> int:
    """Add ``sample`` (its ``id`` is ignored) and return its new id."""
    values = _row(sample)[1:]
    cursor = connection.execute(
        f"INSERT INTO samples ({', '.join(_COLUMNS[1:])}) VALUES ({', '.join('?' * len(values))})", values)
    return cursor.lastrowid


def select(connection: sqlite3.Connection, where: str = "", parameters: tuple = ()) -> list[Sample]:
    """Samples matching the SQL condition ``where`` (all when empty), by id."""
    query = f"SELECT {', '.join(_COLUMNS)} FROM samples {'WHERE ' + where if where else ''} ORDER BY id"
    return [_sample(row) for row in connection.execute(query, parameters)]


def _row(sample: Sample) -> tuple:
    sensors = json.dumps([{"name": s.name, "units": s.units} for s in sample.sensors])
    return (sample.id, sample.label, sample.split, sample.split_from, sensors, sample.sample_rate_hz, sample.length,
            sample.source, sample.source_part, sample.source_sha256, sample.sha256, sample.imported_at, sample.group)


def _sample(row: tuple) -> Sample:
    fields = dict(zip(_COLUMNS, row))
    fields["sensors"] = tuple(Sensor(s["name"], s["units"]) for s in json.loads(fields["sensors"]))
    fields["group"] = fields.pop("group_id")
    return Sample(**fields)
