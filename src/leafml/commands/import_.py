"""``leafml import``: add WAV, CSV, .ts and Edge Impulse JSON files to a project's sample store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leafml.data.index import SPLITS

_FORMAT_METHODS = {
    "wav": "import_wav", "csv": "import_csv", "ts": "import_ts", "edge_impulse_json": "import_edge_impulse_json",
}


def register(commands) -> None:
    imports = commands.add_parser(
        "import", help="import sample files into the project's store (one transaction: all or, on a failure, nothing)",
        description="Import files or folders. A folder without --label holds one subfolder per label. Exit "
                    "status 1 when inputs failed and were skipped (--on-error skip).")
    imports.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders to import")
    imports.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                         help="the project folder (default: the current folder)")
    labels = imports.add_mutually_exclusive_group()
    labels.add_argument("--label", help="the label of every imported sample")
    labels.add_argument("--label-from-filename", action="store_true",
                        help="label = the file name up to its first '.' (Edge Impulse's export naming)")
    imports.add_argument("--format", choices=tuple(_FORMAT_METHODS),
                         help="read every file as this format (default: by suffix: .wav, .csv/.txt, .ts, .json)")
    imports.add_argument("--split", choices=SPLITS, help="put every imported sample in this split")
    imports.add_argument("--group", metavar="REGEX",
                         help="a sample's group is this regular expression's first group in its file name, e.g. "
                              "'^([0-9a-f]+)_nohash' for Speech Commands speakers")
    imports.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                         help="at a bad file: stop and import nothing (default), or skip it and go on")
    imports.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from leafml.data import Store

    with Store(args.project) as store:
        options = dict(split=args.split, group=args.group, on_error=args.on_error)
        folder_of_labels = (len(args.paths) == 1 and args.paths[0].is_dir() and args.label is None
                            and not args.label_from_filename and args.format is None)
        if folder_of_labels:
            report = store.import_folder(args.paths[0], **options)
        else:
            method = getattr(store, _FORMAT_METHODS[args.format]) if args.format else store.import_files
            report = method(args.paths, args.label, label_from_filename=args.label_from_filename, **options)
        for failure in report.failed:
            print(f"skipped: {failure}", file=sys.stderr)
        for duplicate in report.duplicates:
            copy = f"{duplicate.source} {duplicate.part}".strip()
            same = f"sample {duplicate.same_as_id}" if duplicate.same_as_id else "an earlier input"
            print(f"duplicate, not stored: {copy} is the same data as {same} (label {duplicate.same_as_label!r}, "
                  f"{duplicate.same_as_source})")
        if report.ignored:
            shown = ", ".join(str(path) for path in report.ignored[:5])
            print(f"ignored {len(report.ignored)} files of no known sample format: {shown}"
                  f"{', ...' if len(report.ignored) > 5 else ''}")
        print(report.summary())
        counts = store.labels()
        print(f"the store holds {sum(counts.values())} samples in {len(counts)} labels")
    return 1 if report.failed else 0
