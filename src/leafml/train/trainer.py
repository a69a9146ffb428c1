"""A small, seeded, deterministic PyTorch trainer: classifiers and autoencoders.

Both trainers run the same loop: Adam with a cosine learning-rate schedule,
shuffled mini-batches from a seeded generator, deterministic algorithms, a
validation score after every epoch, the best-scoring weights kept (a
classifier's equal accuracies are told apart by the validation loss: small
validation sets tie often), and an early stop once the score has not
improved for ``patience`` epochs.  The same
call therefore gives the same weights.  ``on_epoch(epoch, train_loss,
val_score)`` is called after every epoch (a CLI draws its progress bar
from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from leafml.errors import LeafmlError

__all__ = ["TrainResult", "TrainingError", "accuracy", "balanced_class_weights", "train_autoencoder", "train_classifier"]

EpochCallback = Callable[[int, float, float], None]


class TrainingError(LeafmlError, ValueError):
    """Training data or settings that cannot train a model."""


@dataclass
class TrainResult:
    """Per-epoch training loss and validation score, and the epoch whose weights were kept.

    The validation score is accuracy (0..1, higher is better) for a
    classifier, mean squared reconstruction error for an autoencoder
    (lower is better); ``higher_is_better`` says which.
    """

    epochs_run: int
    best_epoch: int
    higher_is_better: bool
    train_loss: list[float] = field(default_factory=list)
    val_score: list[float] = field(default_factory=list)

    @property
    def best_score(self) -> float:
        return self.val_score[self.best_epoch]


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction (0..1) of rows whose largest score is at the true label."""
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """float32 [num_classes]: ``n_samples / (num_classes * count[k])``, scikit-learn's "balanced" weights.

    A rare class weighs more in the loss, so that every class counts as much
    as if the classes were equally frequent.
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)
    if np.any(counts == 0):
        missing = ", ".join(str(k) for k in np.flatnonzero(counts == 0))
        raise TrainingError(f"class(es) {missing} have no training samples; balanced class weights need every class")
    return (len(labels) / (num_classes * counts)).astype(np.float32)


def _check_pair(x: np.ndarray, y: np.ndarray | None, what: str) -> None:
    if len(x) == 0:
        raise TrainingError(f"the {what} set is empty; import more samples or change the split")
    if y is not None and len(y) != len(x):
        raise TrainingError(f"the {what} set has {len(x)} inputs but {len(y)} labels")
    if not np.all(np.isfinite(x)):
        raise TrainingError(f"the {what} inputs contain NaN or infinity; check the data and the DSP settings")


def _loop(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: nn.Module,
    validate: Callable[[], tuple[float, tuple[float, ...]]],
    higher_is_better: bool,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    patience: int,
    seed: int,
    on_epoch: EpochCallback | None,
) -> TrainResult:
    if epochs < 1 or batch_size < 1 or patience < 1 or not lr > 0:
        raise TrainingError(f"epochs, batch_size and patience must be >= 1 and lr > 0 (got {epochs}, {batch_size}, {patience}, {lr})")
    threads = torch.get_num_threads()
    # One thread: these models are too small for intra-op parallelism to pay
    # off, and on a busy machine its spinning threads make a step 10-20x slower.
    torch.set_num_threads(1)
    try:
        return _epochs(model, inputs, targets, loss_fn, validate, higher_is_better, epochs=epochs, batch_size=batch_size,
                       lr=lr, patience=patience, seed=seed, on_epoch=on_epoch)
    finally:
        torch.set_num_threads(threads)


def _epochs(model, inputs, targets, loss_fn, validate, higher_is_better, *, epochs, batch_size, lr, patience, seed,
            on_epoch) -> TrainResult:
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    result = TrainResult(0, 0, higher_is_better)
    best_state, best_key = None, ()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(inputs), generator=generator)
        total = 0.0
        for start in range(0, len(inputs), batch_size):
            idx = order[start : start + batch_size]
            if len(idx) == 1 and len(inputs) > 1:
                continue  # a batch of one breaks batch norm; its sample is seen in other epochs
            optimizer.zero_grad()
            loss = loss_fn(model(inputs[idx]), targets[idx])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        scheduler.step()
        model.eval()
        with torch.no_grad():
            score, key = validate()
        result.train_loss.append(total / len(inputs))
        result.val_score.append(score)
        result.epochs_run = epoch + 1
        if on_epoch:
            on_epoch(epoch, result.train_loss[-1], score)
        if best_state is None or key > best_key:
            result.best_epoch, best_key = epoch, key
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - result.best_epoch >= patience:
            break
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    return result


def train_classifier(
    model: nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    epochs: int = 40,
    batch_size: int = 32,
    lr: float = 3e-3,
    patience: int = 15,
    seed: int = 0,
    class_weights: np.ndarray | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train ``model`` in place with Adam and cross-entropy; keep the best-validation-accuracy weights.

    Inputs are float32 arrays in the model's own layout (NCHW for images,
    [N, channels, length] for signals), labels int class indices.
    ``class_weights`` (one per class, e.g. :func:`balanced_class_weights`)
    weighs each sample's loss by its class.
    """
    _check_pair(x_train, y_train, "training")
    _check_pair(x_val, y_val, "validation")
    weight = None if class_weights is None else torch.from_numpy(np.asarray(class_weights, dtype=np.float32))
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    xv, yv = torch.from_numpy(x_val.astype(np.float32)), torch.from_numpy(y_val.astype(np.int64))

    def validate() -> tuple[float, tuple[float, ...]]:
        logits = model(xv)
        score = accuracy(logits.numpy(), y_val)
        return score, (score, -float(loss_fn(logits, yv)))

    return _loop(
        model,
        torch.from_numpy(x_train.astype(np.float32)),
        torch.from_numpy(y_train.astype(np.int64)),
        loss_fn,
        validate,
        True,
        epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, seed=seed, on_epoch=on_epoch,
    )


def train_autoencoder(
    model: nn.Module,
    x_train: np.ndarray,
    x_val: np.ndarray,
    *,
    epochs: int = 60,
    batch_size: int = 64,
    lr: float = 3e-3,
    patience: int = 15,
    seed: int = 0,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train ``model`` in place to reproduce its input (mean squared error); keep the best-validation weights.

    ``x_train`` and ``x_val`` hold normal samples only, float32 [N, features].
    """
    _check_pair(x_train, None, "training")
    _check_pair(x_val, None, "validation")
    xt = torch.from_numpy(x_train.astype(np.float32))
    xv = torch.from_numpy(x_val.astype(np.float32))
    loss_fn = nn.MSELoss()

    def validate() -> tuple[float, tuple[float, ...]]:
        error = float(loss_fn(model(xv), xv))
        return error, (-error,)

    return _loop(
        model, xt, xt, loss_fn, validate, False,
        epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, seed=seed, on_epoch=on_epoch,
    )
