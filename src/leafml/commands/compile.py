"""``leafml compile``: a .tflite model to a verified, interpreter-free C library."""

from __future__ import annotations

import argparse
from pathlib import Path

from leafml.commands import whole_number


def register(commands) -> None:
    from leafml.byom import DEFAULT_INPUTS

    compile_ = commands.add_parser(
        "compile", help="write the C99 library of a .tflite model (static arena, no interpreter) "
                        "and verify it against LiteRT, TFLM, a host build and a Cortex-M4 build in QEMU")
    compile_.add_argument("model", type=Path, metavar="MODEL.tflite", help="the model file")
    compile_.add_argument("--out", type=Path, required=True, metavar="DIR",
                          help="folder for model.h, model.c, leafml_runtime.h and metrics.json (new or empty)")
    compile_.add_argument("--rounding", choices=("double", "single"), default="double",
                          help="requantization rounding of the C: double (TFLM's, the default) or single (LiteRT's)")
    compile_.add_argument("--no-verify", dest="verify", action="store_false",
                          help="only write the C; skip the verification ladder (no compilers or QEMU needed)")
    compile_.add_argument("--force", action="store_true", help="overwrite leafml's files in a non-empty --out folder")
    compile_.add_argument("--inputs", type=whole_number("inputs"), default=DEFAULT_INPUTS, metavar="N",
                          help=f"random inputs to verify on (default: {DEFAULT_INPUTS})")
    compile_.add_argument("--seed", type=whole_number("", minimum=0), default=0, metavar="S", help="seed of the random inputs (default: 0)")
    compile_.add_argument("--max-ram", type=whole_number("bytes"), default=None, metavar="BYTES",
                          help="refuse the model if its arena and state need more RAM than this")
    compile_.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from leafml.byom import compile_model

    console = Console(stderr=True)
    result = compile_model(args.model, args.out, verify=args.verify, force=args.force, rounding=args.rounding,
                           n_inputs=args.inputs, seed=args.seed, max_ram=args.max_ram, step=lambda text: console.print(f"[bold green]>[/] {text}"))
    _print(result)
    return 0 if result.passed else 1


def _print(result) -> None:
    from rich.console import Console
    from rich.table import Table

    m = result.metrics
    table = Table(title=f"leafml compile: {Path(m['model']).name} -> {result.out_dir}")
    for column, justify in (("figure", "left"), ("value", "right"), ("how", "left")):
        table.add_column(column, justify=justify)
    table.add_row("operators", f"{m['operators']:,}", "in the file")
    table.add_row("MACs per inference", f"{m['macs']:,}", "counted from the graph")
    table.add_row("constants in model.c", f"{m['weight_bytes']:,} B", "weights, biases, multipliers, shifts")
    table.add_row("arena RAM", f"{m['arena_bytes']:,} B", "planned, static")
    if m["state_bytes"]:
        table.add_row("streaming state RAM", f"{m['state_bytes']:,} B", "the model's variables, kept between calls")
    if result.ladder is not None:
        tflm = m["tflm_arena_bytes"]
        table.add_row("TFLM arena for the same file", f"{tflm['head']:,} B", f"planned activations (head); {tflm['total']:,} B in all")
        table.add_row("model flash", f"{m['flash_bytes']:,} B", "measured, arm-none-eabi-size (text + data)")
        table.add_row("Cortex-M4 instructions / inference", f"{m['instructions_cortex_m4']:,}",
                      f"measured, QEMU, mean over {m['verification_inputs']} inputs")
        for name, rung in result.ladder.rungs.items():
            verdict = "ok" if rung.passed else f"[bold red]FAILED[/]: {rung.mismatched_bytes:,} bytes differ, by up to {rung.max_abs_diff}"
            table.add_row(f"rung {name}", verdict, f"byte for byte, {rung.samples} inputs")
    else:
        table.add_row("verification", "not run", "--no-verify")
    Console().print(table)
