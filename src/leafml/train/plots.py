"""Evaluation plots as PNG bytes (matplotlib's Agg canvas, never pyplot, so no window and no global backend).

* :func:`evaluation_png` — float and int8 side by side: per-class F1 bars
  and the two confusion matrices.
* :func:`roc_png` — ROC curves of anomaly scorers, AUC in the legend.
"""

from __future__ import annotations

import io
from typing import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leafml.evaluate import AnomalyEvaluation, ClassifierEvaluation

__all__ = ["evaluation_png", "roc_png"]


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" chunk: it carries a web address, and reports promise none.
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def evaluation_png(evaluations: Mapping[str, ClassifierEvaluation], title: str) -> bytes:
    """Per-class F1 of each evaluation as grouped bars, then each one's confusion matrix (rows true, columns predicted)."""
    names = list(evaluations)
    classes = next(iter(evaluations.values())).class_names
    fig = Figure(figsize=(4.5 * (len(names) + 1), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(names) + 1)
    bars = axes[0]
    width = 0.8 / len(names)
    for i, (name, ev) in enumerate(evaluations.items()):
        bars.bar(np.arange(len(classes)) + i * width, [c.f1 for c in ev.classes], width,
                 label=f"{name} (accuracy {ev.accuracy:.1%})")
    bars.set_xticks(np.arange(len(classes)) + width * (len(names) - 1) / 2, labels=classes,
                    rotation=45 if len(classes) > 4 else 0, ha="right" if len(classes) > 4 else "center")
    bars.set_ylim(0, 1.05)
    bars.set_ylabel("F1 score (0-1)")
    bars.set_title("Per-class F1")
    bars.legend(loc="lower left", fontsize="small")
    for ax, (name, ev) in zip(axes[1:], evaluations.items()):
        counts = ev.confusion
        ax.imshow(counts, cmap="Blues", vmin=0)
        ax.set_title(f"Confusion, {name} (counts)")
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("True class")
        ax.set_xticks(range(len(classes)), labels=classes, rotation=45 if len(classes) > 4 else 0,
                      ha="right" if len(classes) > 4 else "center")
        ax.set_yticks(range(len(classes)), labels=classes)
        threshold = counts.max() / 2 if counts.size else 0
        for (i, j), count in np.ndenumerate(counts):
            ax.text(j, i, f"{count:,}", ha="center", va="center", color="white" if count > threshold else "black")
    fig.suptitle(title)
    return _png(fig)


def roc_png(curves: Mapping[str, AnomalyEvaluation], title: str) -> bytes:
    """ROC curves (false vs true positive rate, 0..1) with each AUC in the legend."""
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, ev in curves.items():
        ax.plot(ev.false_positive_rate, ev.true_positive_rate, label=f"{name} (AUC {ev.auc:.3f})")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", label="chance (AUC 0.5)")
    ax.set_xlabel("False positive rate (normal samples flagged)")
    ax.set_ylabel("True positive rate (anomalies flagged)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return _png(fig)
