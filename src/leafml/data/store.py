"""A project's sample store: an SQLite index plus one ``.npy`` file per sample.

Layout of ``<project>/data/``::

    index.sqlite                      one row per sample (see leafml.data.index)
    samples/<sha[:2]>/<sha>.npy       float32 [length, axes] at the project's rate
    originals/<sha of file><suffix>   each input file as it was, byte for byte

Training reads the ``.npy`` files: one uniform, fast format. Decoding can
lose what a format holds beyond the numbers (time stamps, a WAV's bit depth,
a rate that was resampled), so every input file is also kept verbatim in
``originals/`` and the index links each sample to it: nothing the user had
is lost, and a sample can be decoded again under other settings.

An import is one SQLite transaction; its files are staged and moved in just
before the commit (`leafml.data.staging`). A failed import leaves the rows
and files exactly as they were.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import numpy as np

from leafml.data import index
from leafml.data.index import SPLITS, Sample
from leafml.data.inputs import (
    Duplicate, ImportReport, Input, check_import_options, file_inputs, folder_inputs, group_pattern,
)
from leafml.data.recording import InputError, Recording, Sensor
from leafml.data.resample import resample
from leafml.data.splits import SplitItem, assign_splits
from leafml.data.staging import Staging
from leafml.errors import LeafmlError
from leafml.project import CsvFormat, load_project

__all__ = ["GROUP_BY", "ImportStopped", "Store"]

GROUP_BY = (None, "group", "source")
Paths = str | Path | Iterable[str | Path]


class ImportStopped(LeafmlError):
    """An input failed under ``on_error="stop"``: nothing was imported."""


class Store:
    """The sample store of the project folder ``path`` (the folder with ``leafml.toml``).

    Opening it reads and checks ``leafml.toml`` and creates the index when
    the store is new. Use it as a context manager, or call `close`.
    """

    def __init__(self, path: str | Path):
        self.project = load_project(path)
        self.folder = self.project.data_dir
        for sub in ("samples", "originals"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        self._db = index.connect(self.folder / "index.sqlite")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _begin(self) -> None:
        # IMMEDIATE takes the write lock now, so two imports never interleave.
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise LeafmlError(f"{self.folder / 'index.sqlite'} is busy ({err}): another leafml process is writing "
                              "to this store; try again when it is done") from None

    # --- reading -------------------------------------------------------------

    def samples(self, split: str | None = None, label: str | None = None) -> list[Sample]:
        """The samples, by id; only those of ``split`` and/or ``label`` when given."""
        conditions, parameters = [], []
        for column, value in (("split", split), ("label", label)):
            if value is not None:
                conditions.append(f"{column} = ?")
                parameters.append(value)
        return index.select(self._db, " AND ".join(conditions), tuple(parameters))

    def load(self, sample: Sample) -> np.ndarray:
        """The values of ``sample``: float32 [length, axes] at ``sample.sample_rate_hz``."""
        file = self.folder / sample.file
        if not file.is_file():
            raise LeafmlError(f"{file} is missing: the store is damaged; import sample {sample.id} again "
                              f"from {sample.source}")
        return np.load(file, allow_pickle=False)

    def labels(self) -> dict[str, int]:
        """Sample count per label, by label."""
        return dict(self._db.execute("SELECT label, COUNT(*) FROM samples GROUP BY label ORDER BY label"))

    # --- importing -----------------------------------------------------------

    def import_wav(self, paths: Paths, label: str | None = None, *, split: str | None = None,
                   group: str | None = None, on_error: str = "stop", label_from_filename: bool = False
                   ) -> ImportReport:
        """Import WAV files (folders: every ``.wav`` in them), resampled to the
        project rate and mixed as ``[data] wav_channels`` says.

        Every import method takes: ``label`` for all its samples (or
        ``label_from_filename``: the name up to its first '.', as Edge
        Impulse names exports); ``split`` ("train", "val", "test") to fix
        their split; ``group``, a regular expression whose first group (or
        whole match) in each file name is the sample's group; ``on_error``
        "stop" (roll the whole import back at the first bad file, raising
        `ImportStopped`) or "skip" (report it and go on).
        """
        return self._import_files(paths, "wav", label, split, group, on_error, label_from_filename)

    def import_csv(self, paths: Paths, label: str | None = None, *, split: str | None = None,
                   group: str | None = None, on_error: str = "stop", label_from_filename: bool = False,
                   csv: CsvFormat | None = None) -> ImportReport:
        """Import CSV files as ``csv`` (default: the project's ``[data.csv]``) says."""
        return self._import_files(paths, "csv", label, split, group, on_error, label_from_filename, csv)

    def import_ts(self, paths: Paths, label: str | None = None, *, split: str | None = None,
                  group: str | None = None, on_error: str = "stop", label_from_filename: bool = False
                  ) -> ImportReport:
        """Import UEA/UCR ``.ts`` files: one sample per series, labelled by its class."""
        return self._import_files(paths, "ts", label, split, group, on_error, label_from_filename)

    def import_edge_impulse_json(self, paths: Paths, label: str | None = None, *, split: str | None = None,
                                 group: str | None = None, on_error: str = "stop",
                                 label_from_filename: bool = False) -> ImportReport:
        """Import Edge Impulse data acquisition JSON files (its Studio's export)."""
        return self._import_files(paths, "edge_impulse_json", label, split, group, on_error, label_from_filename)

    def import_files(self, paths: Paths, label: str | None = None, *, split: str | None = None,
                     group: str | None = None, on_error: str = "stop", label_from_filename: bool = False
                     ) -> ImportReport:
        """Import files of any known format, chosen by suffix (.wav, .csv/.txt,
        .ts, .json); files of other types in folders are listed as ignored."""
        return self._import_files(paths, None, label, split, group, on_error, label_from_filename)

    def import_folder(self, root: str | Path, *, split: str | None = None, group: str | None = None,
                      on_error: str = "stop") -> ImportReport:
        """Import a folder with one subfolder per label, named after it (files
        of any known format, searched recursively); files directly in
        ``root`` are listed as ignored."""
        check_import_options(split, on_error)
        ignored: list[Path] = []
        return self._import(folder_inputs(root, group_pattern(group), ignored), split, on_error, ignored)

    def add_recording(self, recording: Recording, *, label: str, source: str, original: bytes | None = None,
                      original_suffix: str = "", group: str | None = None, split: str | None = None
                      ) -> ImportReport:
        """Store one recording made elsewhere (a serial capture, an array of
        yours); ``original``, when given, is kept as the input's bytes."""
        check_import_options(split, "stop")
        item = Input(source, original_suffix, lambda: original, lambda *_: [recording], label, group)
        return self._import([item], split, "stop", [])

    def _import_files(self, paths, format_name, label, split, group, on_error, label_from_filename, csv=None):
        check_import_options(split, on_error)
        if label is not None and label_from_filename:
            raise LeafmlError("give either a label or label_from_filename, not both")
        ignored: list[Path] = []
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        inputs = file_inputs(paths, format_name, label, group_pattern(group), label_from_filename, ignored, csv)
        return self._import(inputs, split, on_error, ignored)

    def _import(self, inputs: list[Input], split: str | None, on_error: str, ignored: list[Path]) -> ImportReport:
        started = time.perf_counter()
        report = ImportReport(ignored=ignored)
        imported_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._begin()
        staging = Staging(self.folder)
        try:
            layout = self._layout()
            for item in inputs:
                try:
                    pending = self._decode(item, staging, report, layout, split, imported_at)
                except InputError as err:
                    if on_error == "stop":
                        raise ImportStopped(f"{err} (nothing was imported: fix or remove the file, or skip bad "
                                            "files with --on-error skip)") from None
                    report.failed.append(err)
                    continue
                if pending and layout is None:
                    layout = pending[0].sensors
                for sample in pending:
                    report.added.append(replace(sample, id=index.insert(self._db, sample)))
            staging.publish()
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            staging.retract()
            raise
        finally:
            staging.close()
        report.seconds = time.perf_counter() - started
        return report

    def _layout(self) -> tuple[Sensor, ...] | None:
        """The axes every sample of the store has (None while it is empty),
        after checking that the stored rate is still the project's."""
        first = index.select(self._db, "id = (SELECT MIN(id) FROM samples)")
        if not first:
            return None
        rate = self.project.data.sample_rate_hz
        if first[0].sample_rate_hz != rate:
            raise LeafmlError(f"the store holds samples at {first[0].sample_rate_hz:g} Hz but {self.project.file} "
                              f"says sample_rate_hz = {rate:g}: put it back, or start a new project for the new rate")
        return first[0].sensors

    def _decode(self, item: Input, staging: Staging, report: ImportReport, layout, split, imported_at) -> list[Sample]:
        """Decode one input into new samples with their files staged; duplicates go to ``report``."""
        data = item.read()
        recordings = item.decode(item.source, data, self.project.data)
        source_sha = None if data is None else hashlib.sha256(data).hexdigest()
        staged: list[str] = []
        pending: list[Sample] = []
        try:
            for recording in recordings:
                values, label = self._checked(item, recording, layout or recordings[0].sensors)
                digest = sample_hash(values)
                earlier = next((s for s in pending if s.sha256 == digest), None)
                stored = index.select(self._db, "sha256 = ?", (digest,))
                if earlier or stored:
                    same = stored[0] if stored else earlier
                    report.duplicates.append(Duplicate(item.source, recording.part, same.id if stored else None,
                                                       f"{same.source} {same.source_part}".strip(), same.label))
                    continue
                staging.add_array(index.sample_file(digest), values)
                staged.append(index.sample_file(digest))
                pending.append(Sample(
                    id=0, label=label, split=split, split_from=None if split is None else "import",
                    sensors=recording.sensors, sample_rate_hz=self.project.data.sample_rate_hz,
                    length=values.shape[0], source=item.source, source_part=recording.part,
                    source_sha256=source_sha, sha256=digest, imported_at=imported_at, group=item.group))
        except InputError:
            staging.discard(staged)
            raise
        original = f"originals/{source_sha}{item.suffix}"
        if pending and source_sha is not None and original not in staging:
            staging.add_bytes(original, data)
        return pending

    def _checked(self, item: Input, recording: Recording, layout: tuple[Sensor, ...]) -> tuple[np.ndarray, str]:
        """The recording's values at the project rate as float32, and its label."""
        where = f"{item.source} ({recording.part})" if recording.part else item.source
        if item.label is not None and recording.label is not None:
            raise InputError(where, "the file carries its own labels: import it without a label")
        label = item.label if item.label is not None else recording.label
        if not label:
            raise InputError(where, "no label: give one (--label), or import a folder with one subfolder per label")
        if recording.sensors != layout:
            raise InputError(where, f"axes {_axes(recording.sensors)} differ from the store's {_axes(layout)}: "
                                    "a project holds one kind of sample; use another project for this one")
        try:
            values = resample(recording.values, recording.rate_hz, self.project.data.sample_rate_hz)
        except LeafmlError as err:
            raise InputError(where, str(err)) from None
        values = np.ascontiguousarray(values, dtype="<f4")
        if not np.all(np.isfinite(values)):
            raise InputError(where, "a value is too large for float32")
        return values, label

    # --- splitting -----------------------------------------------------------

    def split(self, test: float = 0.2, val: float = 0.1, seed: int = 0, group_by: str | None = "group",
              reassign: bool = False) -> dict[str, int]:
        """Assign a split to every sample that has none; returns samples per split.

        Stratified by label and seeded, so the same store and arguments give
        the same splits. ``group_by`` keeps samples together: "group" (the
        group from the import's regular expression; samples without one
        stand alone), "source" (every sample from one input file), or None.
        Splits given at import stay; with ``reassign`` the ones an earlier
        `split` drew are drawn again.
        """
        if not (0 <= test < 1 and 0 <= val < 1 and test + val < 1):
            raise LeafmlError(f"test={test} and val={val} should be fractions in [0, 1) with test + val < 1")
        if group_by not in GROUP_BY:
            raise LeafmlError(f"group_by={group_by!r} is not one of {', '.join(map(repr, GROUP_BY))}")
        shares = {"train": 1.0 - test - val, "val": val, "test": test}
        fractions = {name: share for name, share in shares.items() if share > 0}
        self._begin()
        try:
            if reassign:
                self._db.execute("UPDATE samples SET split = NULL, split_from = NULL WHERE split_from = 'seed'")
            samples = index.select(self._db)
            items = [SplitItem(s.id, s.label, _unit(s, group_by), s.split) for s in samples]
            assigned = assign_splits(items, fractions, seed)
            self._db.executemany("UPDATE samples SET split = ?, split_from = 'seed' WHERE id = ?",
                                 [(side, sample_id) for sample_id, side in assigned.items()])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        counts = Counter(s.split for s in samples if s.split) + Counter(assigned.values())
        return {name: counts[name] for name in SPLITS}


def sample_hash(values: np.ndarray) -> str:
    """sha256 of a sample: its shape, then its float32 little-endian bytes."""
    digest = hashlib.sha256(repr(values.shape).encode())
    digest.update(np.ascontiguousarray(values, dtype="<f4").tobytes())
    return digest.hexdigest()


def _unit(sample: Sample, group_by: str | None):
    if group_by == "group" and sample.group is not None:
        return ("group", sample.group)
    if group_by == "source":
        return ("source", sample.source)
    return ("sample", sample.id)


def _axes(sensors: tuple[Sensor, ...]) -> str:
    return "[" + ", ".join(f"{s.name} ({s.units})" if s.units else s.name for s in sensors) + "]"
