"""``leafml inspect``: what a .tflite file holds and what leafml can do with each operator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(commands) -> None:
    inspect = commands.add_parser(
        "inspect", help="list a .tflite model's inputs, outputs and operators (shapes, parameters, MACs, weights) "
                        "and whether leafml can compile each")
    inspect.add_argument("model", type=Path, metavar="MODEL.tflite", help="the model file")
    inspect.add_argument("--json", action="store_true", help="print the report as JSON instead of tables")
    inspect.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from leafml.byom import inspect_model

    report = inspect_model(args.model)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        _print(report)
    return 0


def _shapes(shapes) -> str:
    return " ".join("[" + ",".join(map(str, shape)) + "]" for shape in shapes)


def _parameters(parameters: dict) -> str:
    # The defaults (no fused activation, no dilation) would only crowd the column.
    shown = {k: v for k, v in parameters.items() if (k, v) not in (("activation", "NONE"), ("dilation", "1x1"))}
    return " ".join(f"{k}={v}" for k, v in shown.items())


def _quantization(t) -> str:
    if not t.scale:
        return "not quantized"
    if len(t.scale) == 1:
        return f"scale {t.scale[0]:.6g}, zero point {t.zero_point[0]}"
    return f"{len(t.scale)} scales along axis {t.axis}"


def _print(report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ends = Table(title=f"{report.source}: {report.file_bytes:,} bytes, {report.subgraphs} subgraph(s)")
    for column in ("", "tensor", "type", "shape", "quantization (real = scale * (q - zero point))"):
        ends.add_column(column)
    for kind, tensors in (("input", report.inputs), ("output", report.outputs)):
        for t in tensors:
            ends.add_row(kind, f"{t.index} {t.name}", t.dtype, _shapes([t.shape]), _quantization(t))
    console.print(ends)

    operators = Table(title="Operators of the main subgraph, in execution order")
    for column in ("#", "operator", "inputs", "constants", "outputs", "parameters", "MACs", "weight B", "compiles"):
        operators.add_column(column, justify="right" if column in ("#", "MACs", "weight B") else "left")
    for row in report.operators:
        operators.add_row(
            str(row.index), row.type, _shapes(row.inputs), _shapes(row.constants), _shapes(row.outputs),
            _parameters(row.parameters), "-" if row.macs is None else f"{row.macs:,}", f"{row.weight_bytes:,}",
            "yes" if row.supported else f"[bold red]no[/]: {row.support}",
        )
    console.print(operators)
    console.print(
        f"Totals: {len(report.operators)} operators, {report.macs:,} MACs per inference (counted from the shapes), "
        f"{report.weight_bytes:,} bytes of constants in the file, {report.tensors} tensors."
    )
    unsupported = [row for row in report.operators if not row.supported]
    if unsupported:
        console.print(f"[bold red]leafml cannot compile {len(unsupported)} of {len(report.operators)} operators:[/]")
        for row in unsupported:
            console.print(f"  operator {row.index} {row.type}: {row.support}: {row.reason}", markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(f"Every operator is supported: `leafml compile {report.source} --out DIR` builds it.",
                      markup=False, highlight=False, soft_wrap=True)
