"""write_report: the HTML page and metrics.json for one pipeline run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from leafml.report._html import render_html
from leafml.report._json import dumps_metrics
from leafml.report._plot import confusion_matrix_png, png_data_uri
from leafml.report._rows import Rung, parity_rungs, rows_from, rungs_from

__all__ = ["REQUIRED_METRICS", "ReportFiles", "write_report"]

# Top-level keys that scripts read back from metrics.json.
REQUIRED_METRICS = (
    "accuracy_float",
    "accuracy_int8",
    "parity",
    "flash_bytes",
    "arena_bytes",
    "instructions_cortex_m4",
    "latency_s",
    "energy_j",
    "wall_s",
)


class ReportFiles(NamedTuple):
    """Paths of the files one report writes."""

    html: Path
    metrics_json: Path


def write_report(
    out_dir: Path,
    metrics: Mapping[str, Any],
    confusion: np.ndarray,
    class_names: Sequence[str],
    *,
    summary: Sequence[Sequence[Any]],
    parity: Sequence[Rung | Sequence[Any]] | None = None,
    extra: Sequence[tuple[str, Any]] = (),
    title: str = "leafml report",
    confusion_title: str = "Confusion matrix (counts, int8 model)",
) -> ReportFiles:
    """Write ``report.html`` and ``metrics.json`` into ``out_dir`` (created if absent).

    ``summary`` holds the (label, value, unit, provenance) rows of the cost
    table, in the order shown. ``parity`` holds the ladder's rungs; by default
    they come from ``metrics["parity"]`` (keys of `LADDER`). ``extra`` is a
    free list of (key, value) rows. ``confusion`` is a square matrix of counts,
    rows the true class and columns the predicted one, in ``class_names``
    order. ``metrics`` must hold `REQUIRED_METRICS`; it is written as it is,
    numpy scalars converted.
    """
    missing = [key for key in REQUIRED_METRICS if key not in metrics]
    if missing:
        raise ValueError(f"metrics lacks the keys scripts rely on: {', '.join(missing)}")
    # Built even when the caller passes its own rungs: it checks the
    # metrics["parity"] contract that scripts read back.
    ladder = parity_rungs(metrics["parity"])
    if parity is not None:
        ladder = rungs_from(parity)
    rows = rows_from(summary)
    json_text = dumps_metrics(metrics)
    png = confusion_matrix_png(confusion, class_names, confusion_title)
    page = render_html(
        title=title,
        summary=rows,
        rungs=ladder,
        confusion_png_uri=png_data_uri(png),
        confusion_alt=f"{confusion_title}; classes: {', '.join(map(str, class_names))}",
        extra=list(extra),
    )

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out_dir / "report.html", out_dir / "metrics.json")
    files.html.write_text(page, encoding="utf-8")
    files.metrics_json.write_text(json_text, encoding="utf-8")
    return files
