"""A small, seeded, deterministic PyTorch trainer for classification models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn


@dataclass
class TrainResult:
    """What training produced: per-epoch losses and the validation accuracy of the kept weights."""

    epochs_run: int
    best_epoch: int
    train_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction (0..1) of rows whose largest score is at the true label."""
    return float(np.mean(np.argmax(logits, axis=1) == labels))


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
    on_epoch: Callable[[int, float, float], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place with Adam and cross-entropy; keep the best-validation weights.

    Inputs are float32 arrays in the model's own layout (NCHW for images),
    labels are int class indices.  Training is seeded and uses deterministic
    algorithms, so the same call gives the same weights.  Stops early when
    validation accuracy has not improved for ``patience`` epochs.
    ``on_epoch(epoch, train_loss, val_accuracy)`` reports progress.
    """
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    generator = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x_train.astype(np.float32)), torch.from_numpy(y_train.astype(np.int64))
    xv = torch.from_numpy(x_val.astype(np.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    result = TrainResult(0, 0)
    best_state, best_acc = None, -1.0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(xt), generator=generator)
        total = 0.0
        for start in range(0, len(xt), batch_size):
            idx = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        scheduler.step()
        model.eval()
        with torch.no_grad():
            val_acc = accuracy(model(xv).numpy(), y_val)
        result.train_loss.append(total / len(xt))
        result.val_accuracy.append(val_acc)
        result.epochs_run = epoch + 1
        if on_epoch:
            on_epoch(epoch, result.train_loss[-1], val_acc)
        if val_acc > best_acc:
            best_acc, result.best_epoch = val_acc, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - result.best_epoch >= patience:
            break
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    return result
