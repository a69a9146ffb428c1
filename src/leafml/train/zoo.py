"""Models sized for microcontrollers."""

from __future__ import annotations

from torch import nn


def small_cnn(in_channels: int, height: int, width: int, num_classes: int, width_mult: int = 8) -> nn.Sequential:
    """Two conv blocks (conv, batch norm, ReLU, 2x2 max pool) and a linear classifier.

    Returns logits; append ``nn.Softmax(dim=1)`` for deployment.  Height and
    width must be divisible by 4.
    """
    if height % 4 or width % 4:
        raise ValueError(f"small_cnn needs height and width divisible by 4, got {height}x{width}")
    c1, c2 = width_mult, 2 * width_mult
    return nn.Sequential(
        nn.Conv2d(in_channels, c1, 3, padding=1, bias=False),
        nn.BatchNorm2d(c1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, bias=False),
        nn.BatchNorm2d(c2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * (height // 4) * (width // 4), num_classes),
    )
