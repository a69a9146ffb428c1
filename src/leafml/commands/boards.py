"""``leafml boards``: the board catalog, shipped boards and the user's own."""

from __future__ import annotations

import argparse


def register(commands) -> None:
    boards = commands.add_parser(
        "boards", help="list the boards leafml can estimate for (add your own TOML to $LEAFML_BOARDS "
                       "or ~/.config/leafml/boards)")
    boards.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from leafml.targets import list_boards, user_board_dirs

    boards = list_boards()
    table = Table(title="leafml boards (figures from the board files; 'assumption' ones are marked *)")
    # The id is what other commands take: never shortened.
    table.add_column("board", no_wrap=True, min_width=max(len(board.id) for board in boards))
    for column in ("MCU", "core", "clock MHz", "SRAM KiB", "flash KiB", "active mW"):
        table.add_column(column, justify="left" if column in ("MCU", "core") else "right")
    for board in boards:
        current = board.active_current()
        power_mw = board.supply_v.value * current.value * 1e3
        table.add_row(
            board.id, board.mcu, board.core,
            _marked(f"{board.clock_hz.value / 1e6:g}", board.clock_hz.kind),
            _marked(f"{board.sram_bytes.value / 1024:g}", board.sram_bytes.kind),
            _marked(f"{board.flash_bytes.value / 1024:g}", board.flash_bytes.kind),
            _marked(f"{power_mw:.3g}", "assumption" if "assumption" in (current.kind, board.supply_v.kind)
                    else current.kind),
        )
    console = Console()
    console.print(table)
    folders = ", ".join(str(d) for d in user_board_dirs())
    console.print(f"Your own boards: one TOML file per board in {folders} "
                  "(format: the comments of any shipped board file, e.g. nano33_ble_sense.toml).")
    return 0


def _marked(text: str, kind: str) -> str:
    return f"{text}*" if kind == "assumption" else text
