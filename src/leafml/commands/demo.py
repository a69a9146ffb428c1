"""``leafml demo``: the whole pipeline on scikit-learn's digits."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(commands) -> None:
    demo = commands.add_parser("demo", help="run the whole pipeline offline on scikit-learn's digits and write a report")
    demo.add_argument("--out", default="leafml-demo", help="output folder (default: ./leafml-demo)")
    demo.add_argument("--force", action="store_true", help="overwrite leafml's files in a non-empty output folder")
    demo.add_argument("--seed", type=int, default=0, help="seed for the data split and training (default: 0)")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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

    tflm = metrics["tflm_arena_bytes"]
    table = Table(title="leafml demo: digits CNN on an Arduino Nano 33 BLE Sense")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("how")
    rows = [
        ("float accuracy", f"{metrics['accuracy_float']:.2%}", "measured, test split"),
        ("int8 accuracy", f"{metrics['accuracy_int8']:.2%}", "measured, test split"),
        ("model flash", f"{metrics['flash_bytes']:,} B", "measured, arm-none-eabi-size"),
        ("arena RAM", f"{metrics['arena_bytes']:,} B", f"planned (TFLM: {tflm['head']:,} B activations, {tflm['total']:,} B in all)"),
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
    greenhouse = metrics.get("greenhouse", {}).get("parity", {})
    return 0 if all(metrics["parity"].values()) and all(greenhouse.values()) else 1
