"""The ``[model]`` and ``[train]`` tables of leafml.toml, checked key by key.

::

    [model]
    type = "conv1d"       # mlp, conv1d, small_cnn, ds_cnn, decision_tree, random_forest, gradient_boosting
    width = 16            # the type's own options (below); all optional

    [train]
    epochs = 60           # neural networks: at most this many passes over the training set
    batch_size = 32
    learning_rate = 0.003
    patience = 15         # stop after this many epochs without a better validation accuracy
    class_weights = "none"  # or "balanced": weigh rare classes up in the loss
    seed = 0              # splits, initial weights and batches
    test = 0.2            # fractions for samples that have no split yet
    val = 0.1

Options per model type (defaults in brackets):

=====================  ======================================================
``mlp``                ``hidden`` [[32, 16]]: widths of the hidden layers
``conv1d``             ``width`` [16], ``blocks`` [2], ``kernel`` [5, odd]
``small_cnn``          ``width_mult`` [8]
``ds_cnn``             ``filters`` [32], ``blocks`` [3]
``decision_tree``      ``max_depth`` [8], ``min_samples_leaf`` [1], ``features`` ["float"]
``random_forest``      ``n_estimators`` [20], ``max_depth`` [8], ``min_samples_leaf`` [1], ``features`` ["float"]
``gradient_boosting``  ``n_estimators`` [50], ``max_depth`` [3], ``learning_rate`` [0.1], ``features`` ["float"]
=====================  ======================================================

``features = "int8"`` makes a tree model compare int8 feature codes with
integer thresholds instead of float32 values with float thresholds.  A
wrong key or value raises :class:`SettingsError`: one line with the file,
the line, the key and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leafml.targets.schema import MISSING, DataFileError, Invalid, field_line, table, wrong

__all__ = ["MODEL_TYPES", "NETWORKS", "TREES", "ModelSettings", "SettingsError", "TrainSettings", "read_settings"]

NETWORKS = ("mlp", "conv1d", "small_cnn", "ds_cnn")
TREES = ("decision_tree", "random_forest", "gradient_boosting")
MODEL_TYPES = NETWORKS + TREES


class SettingsError(DataFileError):
    """A bad ``[model]`` or ``[train]`` setting; the message is one line."""


def _whole(low: int, default: int, *, odd: bool = False):
    def check(value: Any, path: str) -> int:
        if value is MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (odd and value % 2 == 0):
            raise wrong(path, f"a whole number >= {low}" + (", odd" if odd else ""), value)
        return value
    return check


def _fraction(default: float, *, low_open: bool = False, high: float = 1.0):
    def check(value: Any, path: str) -> float:
        if value is MISSING:
            return default
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not ((0 < value) if low_open else (0 <= value)) or not value < high:
            raise wrong(path, f"a number {'>' if low_open else '>='} 0 and < {high:g}", value)
        return float(value)
    return check


def _choice(default: str, options: tuple[str, ...]):
    def check(value: Any, path: str) -> str:
        if value is MISSING:
            return default
        if value not in options:
            raise wrong(path, "one of " + ", ".join(repr(o) for o in options), value)
        return value
    return check


def _widths(default: tuple[int, ...]):
    def check(value: Any, path: str) -> tuple[int, ...]:
        if value is MISSING:
            return default
        if not isinstance(value, list) or not value or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value):
            raise wrong(path, "a list of one or more whole numbers >= 1, such as [32, 16]", value)
        return tuple(value)
    return check


_FEATURES = _choice("float", ("float", "int8"))
_OPTIONS = {
    "mlp": {"hidden": _widths((32, 16))},
    "conv1d": {"width": _whole(1, 16), "blocks": _whole(1, 2), "kernel": _whole(1, 5, odd=True)},
    "small_cnn": {"width_mult": _whole(1, 8)},
    "ds_cnn": {"filters": _whole(1, 32), "blocks": _whole(1, 3)},
    "decision_tree": {"max_depth": _whole(1, 8), "min_samples_leaf": _whole(1, 1), "features": _FEATURES},
    "random_forest": {"n_estimators": _whole(1, 20), "max_depth": _whole(1, 8), "min_samples_leaf": _whole(1, 1),
                      "features": _FEATURES},
    "gradient_boosting": {"n_estimators": _whole(1, 50), "max_depth": _whole(1, 3),
                          "learning_rate": _fraction(0.1, low_open=True, high=10.0), "features": _FEATURES},
}


@dataclass(frozen=True)
class ModelSettings:
    """``[model]``: the zoo type and its options, defaults filled in."""

    type: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_tree(self) -> bool:
        return self.type in TREES


@dataclass(frozen=True)
class TrainSettings:
    """``[train]``; ``learning_rate`` per step of Adam; fractions of samples 0..1."""

    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 3e-3
    patience: int = 15
    class_weights: str = "none"
    seed: int = 0
    test: float = 0.2
    val: float = 0.1


def _model(value: Any, path: str) -> ModelSettings:
    if value is MISSING or value == {}:
        raise Invalid(f"{path}.type", f"is missing: choose one of {', '.join(MODEL_TYPES)}")
    if not isinstance(value, dict):
        raise wrong(path, "a table", value)
    kind = _choice("", MODEL_TYPES)(value.get("type", MISSING), f"{path}.type")
    if not kind:
        raise Invalid(f"{path}.type", f"is missing: choose one of {', '.join(MODEL_TYPES)}")
    options = table({k: v for k, v in value.items() if k != "type"}, path, _OPTIONS[kind])
    return ModelSettings(kind, options)


def _train(value: Any, path: str) -> TrainSettings:
    fields = table({} if value is MISSING else value, path, {
        "epochs": _whole(1, 60), "batch_size": _whole(1, 32),
        "learning_rate": _fraction(3e-3, low_open=True), "patience": _whole(1, 15),
        "class_weights": _choice("none", ("none", "balanced")), "seed": _whole(0, 0),
        "test": _fraction(0.2), "val": _fraction(0.1),
    })
    if fields["test"] + fields["val"] >= 1:
        raise Invalid(f"{path}.val", f"plus {path}.test is {fields['test'] + fields['val']:g}; keep their sum below 1")
    return TrainSettings(**fields)


def read_settings(project) -> tuple[ModelSettings, TrainSettings]:
    """Check a loaded project's ``[model]`` and ``[train]`` tables; :class:`SettingsError` names the line."""
    try:
        return _model(project.model or MISSING, "model"), _train(project.train or MISSING, "train")
    except Invalid as bad:
        file: Path = project.file
        line = field_line(file.read_text(encoding="utf-8"), bad.path)
        where = f"{file}:{line}" if line is not None else str(file)
        raise SettingsError(f"{where}: field '{bad.path}' {bad.message}") from None
