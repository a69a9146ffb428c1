"""The ``leafml`` command: a thin layer that parses flags and calls the library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leafml import __version__
from leafml.errors import LeafmlError


def _demo(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from leafml.pipeline import run_demo

    console = Console(stderr=True)
    status = console.status("starting")

    def step(text: str) -> None:
        status.update(text)
        console.print(f"[bold green]>[/] {text}")

    def on_epoch(epoch: int, loss: float, val_acc: float) -> None:
        status.update(f"training: epoch {epoch + 1}, loss {loss:.3f}, validation accuracy {val_acc:.1%}")

    with status:
        metrics = run_demo(Path(args.out), force=args.force, seed=args.seed, step=step, on_epoch=on_epoch)

    table = Table(title="leafml demo: digits CNN on an Arduino Nano 33 BLE Sense")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("how")
    rows = [
        ("float accuracy", f"{metrics['accuracy_float']:.2%}", "measured, test split"),
        ("int8 accuracy", f"{metrics['accuracy_int8']:.2%}", "measured, test split"),
        ("model flash", f"{metrics['flash_bytes']:,} B", "measured, arm-none-eabi-size"),
        ("arena RAM", f"{metrics['arena_bytes']:,} B", f"planned (TFLM: {metrics['tflm_arena_bytes']['head']:,} B activations, {metrics['tflm_arena_bytes']['total']:,} B in all)"),
        ("Cortex-M4 instructions / inference", f"{metrics['instructions_cortex_m4']:,}", "measured, QEMU"),
        ("latency", f"{metrics['latency_s'] * 1e3:.3f} ms", "estimated, 64 MHz"),
        ("energy / inference", f"{metrics['energy_j'] * 1e6:.2f} uJ", "estimated, datasheet current"),
        ("verification ladder", ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in metrics["parity"].items()), "byte for byte"),
        ("wall time", f"{metrics['wall_s']:.1f} s", "measured"),
        ("report", metrics["report"], ""),
    ]
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    return 0 if all(metrics["parity"].values()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leafml", description="TinyML from data to a verified microcontroller build.")
    parser.add_argument("--version", action="version", version=f"leafml {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the whole pipeline offline on scikit-learn's digits and write a report")
    demo.add_argument("--out", default="leafml-demo", help="output folder (default: ./leafml-demo)")
    demo.add_argument("--force", action="store_true", help="overwrite leafml's files in a non-empty output folder")
    demo.add_argument("--seed", type=int, default=0, help="seed for the data split and training (default: 0)")
    demo.set_defaults(run=_demo)
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
