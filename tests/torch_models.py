"""Small PyTorch models shared by the tests, with non-trivial BatchNorm statistics."""

import numpy as np
import torch
from torch import nn


def randomize_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm layer non-default statistics so folding is really tested."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=g) - 0.5)
    return model.eval()


def cnn(seed: int = 0) -> nn.Module:
    """Every layer kind the frontend supports, on a 12x12 single-channel image."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 2, stride=1, dilation=2), nn.ReLU6(),
        nn.AvgPool2d(2),
        nn.Flatten(), nn.Dropout(0.2),
        nn.Linear(32, 16), nn.BatchNorm1d(16), nn.ReLU(),
        nn.Linear(16, 5), nn.Softmax(dim=1),
    )
    return randomize_batchnorm(model, seed)


def images(n: int, shape=(1, 12, 12), seed: int = 0) -> np.ndarray:
    """Float32 NCHW images in [0, 1)."""
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
