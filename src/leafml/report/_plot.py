"""Plots rendered to PNG bytes with matplotlib's Agg canvas.

The figure is built on a `matplotlib.figure.Figure` with its own Agg canvas
rather than through pyplot, so nothing depends on (or changes) the process's
global backend and no window is ever opened.
"""

from __future__ import annotations

import base64
import io
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["confusion_matrix_png", "png_data_uri"]


def confusion_matrix_png(confusion: np.ndarray, class_names: Sequence[str], title: str) -> bytes:
    """PNG of a confusion matrix: rows are true classes, columns predicted, cells counts."""
    counts = np.asarray(confusion)
    n = len(class_names)
    if counts.shape != (n, n):
        raise ValueError(f"confusion matrix must be {n}x{n} for {n} class names, got shape {counts.shape}")
    if not np.issubdtype(counts.dtype, np.integer) or (counts < 0).any():
        raise ValueError("confusion matrix must hold non-negative integer counts")

    side = min(12.0, max(4.0, 0.7 * n + 2.0))  # inches; grows with the class count, capped
    fig = Figure(figsize=(side + 1.0, side), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, label="count (samples)")
    ax.set_title(title)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    ax.set_xticks(range(n), labels=list(class_names), rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center")
    ax.set_yticks(range(n), labels=list(class_names))
    # Dark cells get white digits so every count stays readable.
    threshold = counts.max() / 2 if counts.size else 0
    for (i, j), count in np.ndenumerate(counts):
        ax.text(j, i, f"{count:,}", ha="center", va="center", color="white" if count > threshold else "black")

    buffer = io.BytesIO()
    # Drop the "Software" text chunk: it carries a web address and the report
    # promises none.
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,...`` URI that inlines ``png`` in HTML."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
