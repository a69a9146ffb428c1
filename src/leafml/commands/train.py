"""``leafml train``: train the project's ``[model]`` on its samples into ``model/``."""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path


def add_project_argument(parser) -> None:
    parser.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                        help="the project folder (default: the current folder)")


@contextmanager
def training_progress(epochs: int):
    """A rich console and progress bar; yields (step, on_epoch) callbacks for the library calls."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True)
    task = progress.add_task("training", total=epochs, visible=False)

    def step(text: str) -> None:
        console.print(f"[bold green]>[/] {escape(text)}")

    def on_epoch(epoch: int, loss: float, val_accuracy: float) -> None:
        progress.update(task, completed=epoch + 1, visible=True,
                        description=f"epoch {epoch + 1}: loss {loss:.3f}, validation accuracy {val_accuracy:.1%}")

    with progress:
        yield step, on_epoch


def register(commands) -> None:
    train = commands.add_parser("train", help="train the project's [model] on its samples (writes model/)",
                                description="Train the model of leafml.toml's [model] table with the [train] settings "
                                            "on the project's samples; writes model/ in the project folder.")
    add_project_argument(train)
    train.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from leafml.project import load_project
    from leafml.train.settings import read_settings
    from leafml.train.workflow import train_project

    _, settings = read_settings(load_project(args.project))
    with training_progress(settings.epochs) as (step, on_epoch):
        trained = train_project(args.project, step=step, on_epoch=on_epoch)
    info = trained.info
    detail = (f"{info['epochs_run']} epochs, best at epoch {info['best_epoch']}" if "epochs_run" in info
              else f"{info['trees']} tree(s), {info['nodes']} nodes, depth {info['depth']}")
    print(f"trained {trained.model.type} on {info['windows']['train']} windows ({detail}): validation accuracy "
          f"{info['val_accuracy']:.2%}; saved to {Path(args.project) / 'model'}")
    return 0
