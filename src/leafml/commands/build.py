"""``leafml build``: the whole chain in a project folder, up to the verified C library and the report."""

from __future__ import annotations

import argparse
from pathlib import Path

from leafml.commands.train import add_project_argument, training_progress


def register(commands) -> None:
    build = commands.add_parser(
        "build", help="train, test, generate C (DSP + model), verify it on every rung, cost it, write the report",
        description="The whole chain for a project: train, evaluate float and int8, generate one C library, run "
                    "the verification ladder (host and Cortex-M4 in QEMU, and LiteRT/TFLM for networks), estimate "
                    "latency and energy, write report.html and metrics.json. Exit status 1 when a rung disagrees.")
    add_project_argument(build)
    build.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: build/ in the project)")
    build.add_argument("--board", default="nano33_ble_sense", help="board to cost on (default: nano33_ble_sense)")
    build.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from leafml.project import load_project
    from leafml.train.build import build_project
    from leafml.train.settings import read_settings

    _, settings = read_settings(load_project(args.project))
    with training_progress(settings.epochs) as (step, on_epoch):
        result = build_project(args.project, args.out, board=args.board, step=step, on_epoch=on_epoch)
    m = result.metrics
    rungs = ", ".join(f"{name} {'ok' if ok else 'FAILED'}" for name, ok in m["parity"].items() if ok is not None)
    print(f"{m['model_type']}: accuracy float {m['accuracy_float']:.2%}, int8 {m['accuracy_int8']:.2%} "
          f"({m['evaluated_split']} split); ladder: {rungs}")
    print(f"flash {m['flash_bytes']:,} B, RAM {m['arena_bytes']:,} B, {m['instructions_cortex_m4']:,} Cortex-M4 "
          f"instructions per window, {m['latency_s'] * 1e3:.3f} ms and {m['energy_j'] * 1e6:.2f} uJ on {m['board']} "
          f"(estimated); report: {result.out / 'report.html'}")
    return 0 if result.passed else 1
