"""``leafml profile``: one model's latency, energy and fit across boards."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from leafml.errors import LeafmlError

# What the rest of the firmware is assumed to take unless told otherwise:
# a bootloader and application beside the model, a stack and some heap.
DEFAULT_FLASH_RESERVE = 64 * 1024
DEFAULT_RAM_RESERVE = 16 * 1024


class ModelPathError(LeafmlError):
    """MODEL is neither a .tflite file nor a leafml build folder."""


def _bytes(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of bytes") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; give a number of bytes >= 0")
    return value


def register(commands) -> None:
    profile = commands.add_parser(
        "profile", help="measure a model in QEMU per core and estimate latency, energy and fit on boards")
    profile.add_argument("model", type=Path, help="a .tflite file, or a leafml build folder (holding c/model.c, "
                                                  "as `leafml demo` writes) or its c/ folder")
    profile.add_argument("--board", action="append", default=[], metavar="NAME",
                         help="a board from `leafml boards` (repeatable; default: every board)")
    profile.add_argument("--out", type=Path, help="folder for profile.html and profile.json "
                                                  "(default: the build folder, or ./leafml-profile for a .tflite)")
    profile.add_argument("--flash-reserve", type=_bytes, default=DEFAULT_FLASH_RESERVE, metavar="BYTES",
                         help=f"flash kept for the application and bootloader (default {DEFAULT_FLASH_RESERVE})")
    profile.add_argument("--ram-reserve", type=_bytes, default=DEFAULT_RAM_RESERVE, metavar="BYTES",
                         help=f"RAM kept for the application, its stack and heap (default {DEFAULT_RAM_RESERVE})")
    profile.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from leafml.firmware import check_toolchain
    from leafml.targets import list_boards, load_board
    from leafml.targets.profile import profile_model
    from leafml.targets.profile_report import write_profile_report

    check_toolchain()  # before any work, not after it
    catalog = list_boards()
    boards = [load_board(name) for name in dict.fromkeys(args.board)] or catalog
    with tempfile.TemporaryDirectory(prefix="leafml-profile-") as scratch:
        model, tflite_bytes, default_out = _c_model(args.model, Path(scratch))
        result = profile_model(model, boards, Path(scratch) / "build", label=args.model.name,
                               flash_reserve_bytes=args.flash_reserve, ram_reserve_bytes=args.ram_reserve,
                               catalog=catalog, tflite_bytes=tflite_bytes)
    report = write_profile_report(result, args.out or default_out)
    _print(result, report)
    return 0


def _c_model(path: Path, scratch: Path):
    """(C model, .tflite bytes or None, default report folder) for the MODEL argument."""
    from leafml.targets.profile import read_c_model

    if path.is_file() and path.suffix == ".tflite":
        from leafml.codegen import generate_c
        from leafml.frontends.tflite import load_tflite

        generate_c(load_tflite(path), scratch / "c")
        return read_c_model(scratch / "c"), path.read_bytes(), Path("leafml-profile")
    if path.is_dir():
        tflite = path / "model.tflite"
        tflite_bytes = tflite.read_bytes() if tflite.is_file() else None
        if (path / "c" / "model.c").is_file():
            return read_c_model(path / "c"), tflite_bytes, path
        if (path / "model.c").is_file():
            return read_c_model(path), None, path
    raise ModelPathError(f"{path} is neither a .tflite file nor a leafml build folder (with c/model.c); "
                         "give a model.tflite or the output folder of `leafml demo`")


def _print(result, report: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from leafml.targets.profile_report import PUBLISHED_COLUMNS, published_rows, range_text

    console = Console()
    table = Table(title=f"leafml profile: {result.model}")
    # The board id is what --board takes: never shortened.
    table.add_column("board", no_wrap=True, min_width=max(len(row.board.id) for row in result.boards))
    for column in ("core", "MHz", "latency ms*", "energy uJ*", "peak mW*", "flash KiB", "RAM KiB", "fits"):
        table.add_column(column, justify="left" if column == "core" else "right")
    for row in result.boards:
        est, fit = row.estimate, row.fit
        table.add_row(
            row.board.id, row.board.core + (" (M4 count)" if est.proxy else ""),
            f"{row.board.clock_hz.value / 1e6:g}",
            range_text(est.latency_s, 1e3),
            range_text(est.energy_j, 1e6),
            f"{est.active_power_range_w.high * 1e3:.3g}",
            f"{fit.flash_used_bytes / 1024:.1f}/{fit.flash_available_bytes / 1024:.0f}",
            f"{fit.ram_used_bytes / 1024:.1f}/{fit.ram_available_bytes / 1024:.0f}",
            "yes" if fit.ok else "[bold red]no[/]",
        )
    console.print(table)
    console.print("* estimated: typical (low-high) from QEMU-measured instructions, modelled CPI and datasheet "
                  "currents; flash and RAM (used/available after reserves) are measured builds.")
    for row in result.boards:
        for overflow in row.fit.overflows:
            console.print(f"[bold red]{row.board.id}[/]: {overflow.memory} exceeded by {overflow.excess_bytes:,} B")
        for option in row.options:
            console.print(f"  option: {option}")
    published = published_rows(result)
    if published:
        other = Table(title="Published MLPerf Tiny measurements of this model: other stacks, not leafml")
        for column in PUBLISHED_COLUMNS:
            other.add_column(column)
        for row in published:
            other.add_row(*row)
        console.print(other)
    console.print(f"report: {report}")
