"""Evaluation metrics: accuracy, per-class precision/recall/F1, confusion matrix, ROC and ROC-AUC.

Own implementations in numpy (scikit-learn's ``metrics`` module is what the
tests hold them against), so that every figure a report shows is computed
by one small, readable function:

    ev = evaluate_classifier(y_true, y_pred, class_names)   # ClassifierEvaluation
    auc = roc_auc(is_anomaly, scores)                       # fraction 0..1
    rows = compare_rows({"float": ev_float, "int8": ev_int8})

Labels are class indices ``0..K-1``; anomaly labels are booleans (or 0/1)
with True meaning "anomaly", and a higher score means "more anomalous".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from leafml.errors import LeafmlError

__all__ = [
    "AnomalyEvaluation",
    "ClassMetrics",
    "ClassifierEvaluation",
    "EvaluationError",
    "compare_rows",
    "confusion_matrix",
    "evaluate_anomaly",
    "evaluate_classifier",
    "roc_auc",
    "roc_curve",
]


class EvaluationError(LeafmlError, ValueError):
    """Labels, predictions or scores that cannot be evaluated together."""


@dataclass(frozen=True)
class ClassMetrics:
    """One class's figures, fractions 0..1; ``support`` is its number of true samples.

    Precision is 0 for a class never predicted, recall 0 for a class with
    no samples, F1 0 when both are 0 (scikit-learn's ``zero_division=0``).
    """

    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassifierEvaluation:
    """A classifier on one labelled set: ``confusion[i, j]`` counts true class i predicted as j."""

    accuracy: float
    confusion: np.ndarray
    classes: tuple[ClassMetrics, ...]

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    @property
    def macro_f1(self) -> float:
        """Unweighted mean of the per-class F1 scores, 0..1."""
        return float(np.mean([c.f1 for c in self.classes]))

    def to_dict(self) -> dict:
        """JSON-ready: accuracy, macro F1, the confusion matrix and the per-class figures."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "confusion": self.confusion.tolist(),
            "classes": [vars(c) for c in self.classes],
        }


@dataclass(frozen=True)
class AnomalyEvaluation:
    """An anomaly scorer on a labelled set: ROC-AUC (0..1) and the ROC curve it integrates."""

    auc: float
    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    thresholds: np.ndarray
    anomalies: int
    normals: int

    def to_dict(self) -> dict:
        return {"auc": self.auc, "anomalies": self.anomalies, "normals": self.normals}


def _labels(y: np.ndarray, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise EvaluationError(f"{what} must be a non-empty 1-D array, got shape {list(y.shape)}")
    if not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
        raise EvaluationError(f"{what} must hold class indices (integers), not {y.dtype}; map names to indices first")
    return y.astype(np.int64)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """int64 [n_classes, n_classes] counts: rows are the true class, columns the predicted one."""
    t, p = _labels(y_true, "true labels"), _labels(y_pred, "predictions")
    if t.shape != p.shape:
        raise EvaluationError(f"{t.size} true labels but {p.size} predictions; give one prediction per sample")
    for name, y in (("true labels", t), ("predictions", p)):
        if y.min() < 0 or y.max() >= n_classes:
            raise EvaluationError(f"{name} hold class {int(y.min() if y.min() < 0 else y.max())}, "
                                  f"outside 0..{n_classes - 1}; pass every class name")
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def evaluate_classifier(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> ClassifierEvaluation:
    """Accuracy, confusion matrix and per-class precision, recall and F1 of predicted class indices."""
    counts = confusion_matrix(y_true, y_pred, len(class_names))
    hits = np.diag(counts)
    classes = []
    for k, name in enumerate(class_names):
        precision = _ratio(hits[k], counts[:, k].sum())
        recall = _ratio(hits[k], counts[k, :].sum())
        f1 = _ratio(2 * precision * recall, precision + recall)
        classes.append(ClassMetrics(str(name), precision, recall, f1, int(counts[k, :].sum())))
    return ClassifierEvaluation(_ratio(hits.sum(), counts.sum()), counts, tuple(classes))


def _anomaly_inputs(is_anomaly: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = _labels(is_anomaly, "anomaly labels")
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != y.shape:
        raise EvaluationError(f"{y.size} anomaly labels but scores of shape {list(s.shape)}; give one score per sample")
    if not np.all(np.isfinite(s)):
        raise EvaluationError("anomaly scores contain NaN or infinity")
    if not np.all((y == 0) | (y == 1)):
        raise EvaluationError("anomaly labels must be 0/1 or booleans (1 = anomaly)")
    if y.min() == y.max():
        raise EvaluationError("ROC-AUC needs both normal and anomalous samples; the labels hold only one kind")
    return y.astype(bool), s


def roc_curve(is_anomaly: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve: false and true positive rates (0..1) for each distinct score taken as threshold.

    A sample is flagged when its score is >= the threshold; thresholds run
    from the highest score down, after a first point (0, 0) at +infinity.
    """
    y, s = _anomaly_inputs(is_anomaly, scores)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    # The last index of each run of equal scores: all tied samples flip together.
    ends = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    true_positives = np.cumsum(y)[ends]
    false_positives = (ends + 1) - true_positives
    tpr = np.r_[0.0, true_positives / y.sum()]
    fpr = np.r_[0.0, false_positives / (~y).sum()]
    return fpr, tpr, np.r_[np.inf, s[ends]]


def _area(fpr: np.ndarray, tpr: np.ndarray) -> float:
    # Trapezoids: a run of tied scores is a diagonal step, which is what makes ties count half.
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def roc_auc(is_anomaly: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve, 0..1: the chance that an anomaly scores above a normal sample (ties count half)."""
    fpr, tpr, _ = roc_curve(is_anomaly, scores)
    return _area(fpr, tpr)


def evaluate_anomaly(is_anomaly: np.ndarray, scores: np.ndarray) -> AnomalyEvaluation:
    """ROC-AUC and ROC curve of anomaly ``scores`` (higher = more anomalous)."""
    fpr, tpr, thresholds = roc_curve(is_anomaly, scores)
    y = np.asarray(is_anomaly).astype(bool)
    return AnomalyEvaluation(_area(fpr, tpr), fpr, tpr, thresholds, int(y.sum()), int((~y).sum()))


def compare_rows(evaluations: Mapping[str, ClassifierEvaluation]) -> list[tuple[str, ...]]:
    """Rows (figure, one value per evaluation) putting models side by side, e.g. float and int8.

    Values are formatted: accuracy and macro F1 as percentages, then each
    class's precision / recall / F1 as percentages.
    """
    if not evaluations:
        raise EvaluationError("compare_rows needs at least one evaluation")
    names = {tuple(ev.class_names) for ev in evaluations.values()}
    if len(names) != 1:
        raise EvaluationError("the evaluations to compare have different classes; evaluate them on the same classes")
    rows = [("accuracy", *(f"{ev.accuracy:.2%}" for ev in evaluations.values())),
            ("macro F1", *(f"{ev.macro_f1:.2%}" for ev in evaluations.values()))]
    for k, name in enumerate(next(iter(evaluations.values())).class_names):
        rows.append((f"{name}: precision / recall / F1",
                     *(f"{c.precision:.1%} / {c.recall:.1%} / {c.f1:.1%}"
                       for c in (ev.classes[k] for ev in evaluations.values()))))
    return rows
