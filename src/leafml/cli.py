"""The ``leafml`` command: a thin layer that assembles the subcommands of :mod:`leafml.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

from leafml import __version__
from leafml.errors import LeafmlError

# Subcommand modules under leafml.commands, in the order `leafml --help` lists them.
COMMANDS = ("demo", "simulate", "boards", "profile", "init", "import_", "capture", "inspect", "compile", "train", "test", "build")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leafml", description="TinyML from data to a verified microcontroller build.")
    parser.add_argument("--version", action="version", version=f"leafml {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"leafml.commands.{name}").register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except LeafmlError as e:
        print(f"leafml: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("leafml: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
