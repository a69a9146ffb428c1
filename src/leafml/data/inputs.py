"""What an import is asked to read: files found from paths, their format, label and group.

An `Input` is one file (or one serial capture) with the decoder for its
format and the label and group the user gave for it; the store reads and
decodes each in turn inside one transaction. `ImportReport` is what an
import did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from leafml.data.csv_format import decode_csv
from leafml.data.edge_impulse import decode_edge_impulse_json
from leafml.data.index import SPLITS, Sample
from leafml.data.recording import InputError, Recording
from leafml.data.ts_format import decode_ts
from leafml.data.wav import decode_wav
from leafml.errors import LeafmlError
from leafml.project import CsvFormat, DataSettings

__all__ = [
    "FORMATS", "Duplicate", "ImportReport", "Input", "check_import_options", "file_inputs", "folder_inputs",
    "group_pattern",
]

Decoder = Callable[[str, bytes, DataSettings], list[Recording]]


def _csv_decoder(fmt: CsvFormat | None) -> Decoder:
    return lambda path, data, settings: decode_csv(path, data, fmt or settings.csv, settings.sample_rate_hz,
                                                   settings.units)


def _ts(path: str, data: bytes, settings: DataSettings) -> list[Recording]:
    step_ms = settings.ts.interval_ms
    return decode_ts(path, data, 1000.0 / step_ms if step_ms else settings.sample_rate_hz, settings.units)


# Format name -> (file name suffixes, decoder).
FORMATS: dict[str, tuple[tuple[str, ...], Decoder]] = {
    "wav": ((".wav",), lambda path, data, settings: [decode_wav(path, data, settings.wav_channels)]),
    "csv": ((".csv", ".txt"), _csv_decoder(None)),
    "ts": ((".ts",), _ts),
    "edge_impulse_json": ((".json",), lambda path, data, settings: [decode_edge_impulse_json(path, data)]),
}
_BY_SUFFIX = {suffix: name for name, (suffixes, _) in FORMATS.items() for suffix in suffixes}


@dataclass(frozen=True)
class Input:
    """One thing to import: ``read()`` gives its bytes (None: there is no
    original to keep), ``decode`` its recordings.

    ``label`` (None: the file must carry its labels) and ``group`` apply to
    every recording decoded from it.
    """

    source: str
    suffix: str
    read: Callable[[], bytes | None]
    decode: Decoder
    label: str | None
    group: str | None


@dataclass(frozen=True)
class Duplicate:
    """An input recording whose data the store (or this import) already holds."""

    source: str
    part: str
    same_as_id: int | None  # None: an earlier recording of the same input file
    same_as_source: str
    same_as_label: str


@dataclass
class ImportReport:
    """What an import did: samples added, duplicates not stored, inputs that
    failed (skipped with ``on_error="skip"``), files not of a known format,
    and the wall time in seconds."""

    added: list[Sample] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    failed: list[InputError] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """One line: counts and time."""
        labels = sorted({sample.label for sample in self.added})
        shown = ", ".join(labels[:8]) + (", ..." if len(labels) > 8 else "")
        return (f"added {len(self.added)} samples ({len(labels)} labels{': ' + shown if labels else ''}), "
                f"{len(self.duplicates)} duplicates not stored, {len(self.failed)} inputs failed, "
                f"{len(self.ignored)} files ignored, in {self.seconds:.2f} s")


def check_import_options(split: str | None, on_error: str) -> None:
    if split is not None and split not in SPLITS:
        raise LeafmlError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    if on_error not in ("skip", "stop"):
        raise LeafmlError(f"unknown on_error {on_error!r}: use 'skip' (go on past a bad file) or 'stop' (roll back)")


def group_pattern(pattern: str | None) -> re.Pattern | None:
    """The compiled ``--group`` regular expression."""
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as err:
        raise LeafmlError(f"--group {pattern!r} is not a regular expression ({err}): e.g. '^([0-9a-f]+)_nohash'") \
            from None


def file_inputs(paths: Iterable[str | Path], format_name: str | None, label: str | None, group: re.Pattern | None,
                label_from_filename: bool, ignored: list[Path], csv: CsvFormat | None = None) -> list[Input]:
    """Inputs for files and folders (searched recursively, in name order).

    ``format_name`` None picks each file's format by its suffix; files of
    another format found in folders go to ``ignored``.
    """
    inputs = []
    for path in map(Path, paths):
        if not path.exists():
            raise LeafmlError(f"{path} does not exist: check the path")
        explicit = path.is_file()
        for file in ([path] if explicit else sorted(p for p in path.rglob("*") if p.is_file())):
            if not explicit and any(part.startswith(".") for part in file.relative_to(path).parts):
                continue  # hidden files and folders (.DS_Store, .git) are nobody's samples
            name = format_name or _BY_SUFFIX.get(file.suffix.lower())
            if name is None or (not explicit and file.suffix.lower() not in FORMATS[name][0]):
                if explicit:
                    raise LeafmlError(f"{file}: unknown file type {file.suffix!r}: leafml imports "
                                      f"{', '.join(sorted(_BY_SUFFIX))}")
                ignored.append(file)
                continue
            decode = _csv_decoder(csv) if name == "csv" else FORMATS[name][1]
            inputs.append(_file_input(file, decode, _label(file, label, label_from_filename), group))
    return inputs


def folder_inputs(root: str | Path, group: re.Pattern | None, ignored: list[Path]) -> list[Input]:
    """Inputs for a folder holding one subfolder per label (named after it)."""
    root = Path(root)
    if not root.is_dir():
        raise LeafmlError(f"{root} is not a folder: give a folder holding one subfolder per label")
    inputs = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            inputs += file_inputs([entry], None, entry.name, group, False, ignored)
        else:
            ignored.append(entry)
    return inputs


def _label(file: Path, label: str | None, from_filename: bool) -> str | None:
    # Edge Impulse names its exports "<label>.<sample id>.<ext>".
    return file.name.split(".", 1)[0] if from_filename else label


def _file_input(file: Path, decode: Decoder, label: str | None, group: re.Pattern | None) -> Input:
    group_name = None
    if group is not None:
        match = group.search(file.name)
        group_name = None if match is None else (match.group(1) if group.groups else match.group(0))
    source = str(file.resolve())

    def read() -> bytes:
        if group is not None and group_name is None:
            raise InputError(source, f"the file name does not match the --group pattern {group.pattern!r}")
        try:
            return file.read_bytes()
        except OSError as err:
            raise InputError(source, f"cannot read: {err.strerror}") from None

    return Input(source, file.suffix.lower(), read, decode, label, group_name)
