"""leafml.evaluate against scikit-learn's metrics, and the evaluation plots."""

import numpy as np
import pytest
from sklearn import metrics

from leafml.errors import LeafmlError
from leafml.evaluate import (
    EvaluationError,
    compare_rows,
    confusion_matrix,
    evaluate_anomaly,
    evaluate_classifier,
    roc_auc,
    roc_curve,
)
from leafml.train.plots import evaluation_png, roc_png


@pytest.mark.parametrize("seed", range(5))
def test_classifier_figures_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 7))
    y_true = rng.integers(0, k, 300)
    # Mostly right, sometimes a random class; class k-1 is never predicted in odd seeds.
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, k - seed % 2, 300))
    ev = evaluate_classifier(y_true, y_pred, [f"c{i}" for i in range(k)])
    assert ev.accuracy == pytest.approx(metrics.accuracy_score(y_true, y_pred))
    np.testing.assert_array_equal(ev.confusion, metrics.confusion_matrix(y_true, y_pred, labels=range(k)))
    p, r, f, s = metrics.precision_recall_fscore_support(y_true, y_pred, labels=range(k), zero_division=0)
    np.testing.assert_allclose([c.precision for c in ev.classes], p)
    np.testing.assert_allclose([c.recall for c in ev.classes], r)
    np.testing.assert_allclose([c.f1 for c in ev.classes], f)
    assert [c.support for c in ev.classes] == list(s)
    assert ev.macro_f1 == pytest.approx(metrics.f1_score(y_true, y_pred, labels=range(k), average="macro", zero_division=0))


@pytest.mark.parametrize("seed", range(6))
def test_roc_auc_and_curve_equal_sklearn_with_and_without_ties(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(400) < 0.3
    scores = rng.normal(size=400) + 1.2 * labels
    if seed % 2:
        scores = np.round(scores, 1)  # many ties
    assert roc_auc(labels, scores) == pytest.approx(metrics.roc_auc_score(labels, scores), abs=1e-12)
    fpr, tpr, thresholds = roc_curve(labels, scores)
    want_fpr, want_tpr, want_thresholds = metrics.roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, want_fpr)
    np.testing.assert_allclose(tpr, want_tpr)
    np.testing.assert_allclose(thresholds[1:], want_thresholds[1:])
    assert evaluate_anomaly(labels, scores).auc == pytest.approx(metrics.roc_auc_score(labels, scores), abs=1e-12)


def test_perfect_reversed_and_constant_scores():
    labels = np.array([0, 0, 1, 1])
    assert roc_auc(labels, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc(labels, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc(labels, [0.5, 0.5, 0.5, 0.5]) == 0.5


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: roc_auc([1, 1, 1], [0.1, 0.2, 0.3]), "both normal and anomalous"),
        (lambda: roc_auc([0, 1], [0.1, np.nan]), "NaN"),
        (lambda: roc_auc([0, 2], [0.1, 0.2]), "0/1"),
        (lambda: roc_auc([0, 1, 1], [0.1, 0.2]), "one score per sample"),
        (lambda: confusion_matrix([0, 1], [0, 3], 2), "outside 0..1"),
        (lambda: confusion_matrix([0.0, 1.0], [0, 1], 2), "class indices"),
        (lambda: evaluate_classifier([0, 1], [0], ["a", "b"]), "one prediction per sample"),
    ],
)
def test_bad_inputs_are_one_line_leafml_errors(call, message):
    with pytest.raises(EvaluationError, match=message) as error:
        call()
    assert isinstance(error.value, LeafmlError) and "\n" not in str(error.value)


def test_side_by_side_rows_and_plots_are_pngs():
    y = np.array([0, 1, 2, 2, 1, 0])
    ev_float = evaluate_classifier(y, y, ["a", "b", "c"])
    ev_int8 = evaluate_classifier(y, np.array([0, 1, 2, 1, 1, 0]), ["a", "b", "c"])
    rows = compare_rows({"float": ev_float, "int8": ev_int8})
    assert rows[0] == ("accuracy", "100.00%", "83.33%")
    assert rows[2][0] == "a: precision / recall / F1" and len(rows) == 2 + 3
    png = evaluation_png({"float": ev_float, "int8": ev_int8}, "test")
    assert png.startswith(b"\x89PNG") and b"Software" not in png
    ev = evaluate_anomaly([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert roc_png({"float": ev}, "roc").startswith(b"\x89PNG")
    assert ev.to_dict() == {"auc": 0.75, "anomalies": 2, "normals": 2}
