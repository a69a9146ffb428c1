"""``leafml test``: the trained model, float and int8, on the project's test split."""

from __future__ import annotations

import argparse

from leafml.commands.train import add_project_argument


def register(commands) -> None:
    test = commands.add_parser("test", help="evaluate the trained model on the test split, float and int8 side by side",
                               description="Accuracy, per-class precision/recall/F1 and the confusion matrix of the "
                                           "float and int8 models on the test split (the validation split when the "
                                           "project has no test samples); writes model/evaluation.json and .png.")
    add_project_argument(test)
    test.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from leafml.evaluate import compare_rows
    from leafml.train.workflow import evaluate_project

    console = Console(stderr=True)
    report = evaluate_project(args.project, step=lambda text: console.print(f"[bold green]>[/] {escape(text)}"))
    names = list(report.evaluations)
    table = Table(title=f"{len(report.labels)} {report.split} windows")
    table.add_column("figure")
    for name in names:
        table.add_column(name, justify="right")
    for row in compare_rows(report.evaluations):
        table.add_row(*row)
    Console().print(table)
    first = report.evaluations[names[0]]
    confusion = Table(title=f"confusion matrix, {names[-1]} (rows: true class, columns: predicted)")
    confusion.add_column("")
    for name in first.class_names:
        confusion.add_column(name, justify="right")
    for name, counts in zip(first.class_names, report.evaluations[names[-1]].confusion):
        confusion.add_row(name, *(str(c) for c in counts))
    Console().print(confusion)
    return 0
