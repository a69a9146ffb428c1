"""A project's samples as feature arrays per split, through its ``[dsp]`` pipeline.

Every sample of the store (``leafml.data.Store``) belongs to one split;
samples without one are given one first (``Store.split`` with ``[train]``
``test``, ``val`` and ``seed``: stratified, grouped, deterministic).  When
no sample is in "val", a stratified share of the training *samples* (never
of their windows, which overlap) becomes the validation set.

With a ``[dsp]`` table each sample is cut into windows and turned into
features ``[rows, columns]`` by the DSP pipeline, whose normalisation (if
any) is fitted on the training windows only.  Without one, each sample's
values ``[length, axes]`` are the features, so all samples must have the
same length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from leafml.errors import LeafmlError
from leafml.train.settings import TrainSettings

__all__ = ["DatasetError", "ProjectData", "load_project_data"]


class DatasetError(LeafmlError, ValueError):
    """The store's samples cannot make a training set; the message says what to import or change."""


@dataclass(frozen=True)
class ProjectData:
    """Features float32 [N, rows, columns] and class indices per split; ``dsp`` is the fitted pipeline or None.

    ``windows`` holds what the features were computed from: the raw windows
    [N, samples, axes] (without DSP, the features themselves).
    """

    class_names: tuple[str, ...]
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    windows: dict[str, np.ndarray]
    dsp: Any  # leafml.dsp.DspPipeline | None
    validation_from_train: bool  # True when the store had no "val" samples

    @property
    def feature_shape(self) -> tuple[int, int]:
        return tuple(self.x["train"].shape[1:])

    def counts(self) -> dict[str, int]:
        return {split: len(y) for split, y in self.y.items()}


def _validation_from_train(samples: list, fraction: float, seed: int) -> set[int]:
    """Sample ids moved from train to validation: a stratified share, at least one per class that can spare one."""
    rng = np.random.default_rng(seed)
    chosen: set[int] = set()
    labels = sorted({s.label for s in samples})
    for label in labels:
        ids = [s.id for s in samples if s.label == label]
        take = min(len(ids) - 1, max(1, round(fraction * len(ids))))
        chosen.update(rng.permutation(ids)[:take].tolist())
    return chosen


def load_project_data(store, settings: TrainSettings, dsp_state: dict | None = None) -> ProjectData:
    """Features and labels of every split of ``store`` (an open ``leafml.data.Store``).

    ``dsp_state``: what a trained model's DSP pipeline learned
    (``fitted_state()``), used instead of fitting on the training windows.
    """
    from leafml.dsp import DspPipeline

    samples = store.samples()
    if not samples:
        raise DatasetError(f"the project {store.project.root} has no samples; import some with `leafml import`")
    if any(s.split is None for s in samples):
        store.split(test=settings.test, val=settings.val, seed=settings.seed)
        samples = store.samples()
    by_split = {name: [s for s in samples if s.split == name] for name in ("train", "val", "test")}
    if not by_split["train"]:
        raise DatasetError("no sample is in the training split; import samples with --split train or without a split")
    moved = False
    if not by_split["val"]:
        chosen = _validation_from_train(by_split["train"], max(settings.val, 0.1), settings.seed)
        if not chosen:
            raise DatasetError("no sample can go to validation (one sample per class); import more training samples")
        by_split["val"] = [s for s in by_split["train"] if s.id in chosen]
        by_split["train"] = [s for s in by_split["train"] if s.id not in chosen]
        moved = True
    class_names = tuple(sorted({s.label for s in by_split["train"]}))
    for name, split in by_split.items():
        unknown = sorted({s.label for s in split} - set(class_names))
        if unknown:
            raise DatasetError(f"label(s) {', '.join(unknown)} of the {name} split have no training sample; "
                               "import training samples of them or remove them")
    pipeline = DspPipeline.from_config(store.project.dsp) if store.project.dsp else None
    if pipeline is not None and abs(pipeline.settings.sample_rate_hz - store.project.data.sample_rate_hz) > 1e-9:
        raise DatasetError(f"dsp.sample_rate_hz is {pipeline.settings.sample_rate_hz:g} Hz but the store holds samples at "
                           f"{store.project.data.sample_rate_hz:g} Hz (data.sample_rate_hz); make them equal")
    raw: dict[str, np.ndarray] = {}
    y: dict[str, np.ndarray] = {}
    for name, split in by_split.items():
        if split:
            raw[name], y[name] = _windows(store, split, pipeline, class_names)
    x = raw
    if pipeline is not None:
        if dsp_state:
            pipeline.load_fitted_state(dsp_state)
        else:
            pipeline.fit(raw["train"])
        x = {name: pipeline.run(windows) for name, windows in raw.items()}
    return ProjectData(class_names, x, y, raw, pipeline, moved)


def _windows(store, samples: list, pipeline, class_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Raw windows [N, samples, axes] (or whole samples without DSP) and their class indices."""
    from leafml.dsp import RecordingTooShort

    pieces, labels = [], []
    for sample in samples:
        values = store.load(sample)
        if pipeline is not None:
            try:
                windows = pipeline.windows(values)
            except RecordingTooShort as short:
                raise DatasetError(f"sample {sample.id} ({sample.source}): {short}") from None
        else:
            windows = values[None]
        pieces.append(windows)
        labels += [class_names.index(sample.label)] * len(windows)
    shapes = {p.shape[1:] for p in pieces}
    if len(shapes) > 1:
        raise DatasetError(f"samples have different shapes ({', '.join(str(list(s)) for s in sorted(shapes))}); add a [dsp] "
                           "table with window_ms to cut them into equal windows")
    return np.concatenate(pieces).astype(np.float32), np.array(labels, dtype=np.int64)
