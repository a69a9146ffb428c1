"""``leafml init``: a new project folder with ``leafml.toml`` and an empty sample store."""

from __future__ import annotations

import argparse
from pathlib import Path


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of Hz, got {text!r}")
    return value


def register(commands) -> None:
    init = commands.add_parser("init", help="create a project folder: leafml.toml and an empty sample store")
    init.add_argument("folder", type=Path, metavar="DIR", help="the project folder (new or empty)")
    init.add_argument("--name", help="project name (default: the folder's name)")
    init.add_argument("--sample-rate-hz", type=_rate, default=100.0, metavar="HZ",
                      help="the rate every sample is stored at, e.g. 16000 for keywords (default: 100)")
    init.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from leafml.data import Store
    from leafml.project import init_project

    project = init_project(args.folder, name=args.name, sample_rate_hz=args.sample_rate_hz)
    Store(project.root).close()
    print(f"created project {project.name!r} in {project.root}: {project.file.name} (check [data] before "
          f"importing) and an empty sample store in {project.data_dir}")
    return 0
