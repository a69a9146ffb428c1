"""Models sized for microcontrollers, built only from layers leafml converts.

Every model here converts with :func:`leafml.from_torch`, quantizes to int8
and generates C that passes the verification ladder (``tests/test_zoo.py``).
Classifiers return logits; :func:`deployable` appends the softmax that the
deployed model ends with.  Input layouts (batch first):

=====================  ==========================  ==========================
model                  input                        for
=====================  ==========================  ==========================
``mlp``                [N, features]                tabular data, DSP features
``conv1d``             [N, channels, length]        motion, vibration (IMU axes)
``small_cnn``          [N, channels, height, width] small images, spectrograms
``ds_cnn``             [N, channels, height, width] keywords (MFCC frames x coefficients)
``dense_autoencoder``  [N, features]                anomaly detection (reconstruction)
=====================  ==========================  ==========================
"""

from __future__ import annotations

from torch import nn

from leafml.errors import LeafmlError

__all__ = ["ModelSpecError", "conv1d", "deployable", "dense_autoencoder", "ds_cnn", "mlp", "small_cnn"]


class ModelSpecError(LeafmlError, ValueError):
    """A model size that cannot be built (the message names the argument)."""


def _positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ModelSpecError(f"{name} must be a whole number >= 1, got {value!r}")


def deployable(classifier: nn.Module) -> nn.Sequential:
    """``classifier`` followed by a softmax over classes: what runs on the device."""
    return nn.Sequential(classifier, nn.Softmax(dim=1)).eval()


def mlp(in_features: int, num_classes: int, hidden: tuple[int, ...] = (32, 16)) -> nn.Sequential:
    """Fully-connected layers with ReLU: ``in_features -> hidden... -> num_classes``."""
    _positive(in_features=in_features, num_classes=num_classes, **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, num_classes))


def conv1d(in_channels: int, length: int, num_classes: int, width: int = 16, blocks: int = 2, kernel: int = 5) -> nn.Sequential:
    """1-D CNN for sensor windows: ``blocks`` x (conv, batch norm, ReLU, max pool 2), global average, linear.

    Convolutions keep the length (odd ``kernel``, TFLite SAME padding) and
    the channel count doubles per block from ``width``.  ``length`` must
    survive ``blocks`` halvings.
    """
    _positive(in_channels=in_channels, length=length, num_classes=num_classes, width=width, blocks=blocks, kernel=kernel)
    if kernel % 2 == 0:
        raise ModelSpecError(f"kernel must be odd (symmetric padding, TFLite SAME), got {kernel}")
    if length >> blocks < 1:
        raise ModelSpecError(f"a length of {length} cannot be halved {blocks} times; use fewer blocks or longer windows")
    layers: list[nn.Module] = []
    channels = in_channels
    for b in range(blocks):
        out = width << b
        layers += [nn.Conv1d(channels, out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm1d(out), nn.ReLU(), nn.MaxPool1d(2)]
        channels = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(channels, num_classes))


def small_cnn(in_channels: int, height: int, width: int, num_classes: int, width_mult: int = 8) -> nn.Sequential:
    """Two conv blocks (conv, batch norm, ReLU, 2x2 max pool) and a linear classifier.

    Height and width must be divisible by 4.
    """
    _positive(in_channels=in_channels, height=height, width=width, num_classes=num_classes, width_mult=width_mult)
    if height % 4 or width % 4:
        raise ModelSpecError(f"small_cnn needs height and width divisible by 4, got {height}x{width}")
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


def ds_cnn(in_channels: int, height: int, width: int, num_classes: int, filters: int = 32, blocks: int = 3) -> nn.Sequential:
    """Depthwise-separable CNN for keywords (the shape of MLPerf Tiny's DS-CNN, scaled down).

    A 3x3 stride-2 convolution (VALID), then ``blocks`` x (3x3 depthwise,
    1x1 pointwise), each with batch norm and ReLU, a global average pool and
    a linear classifier.  Input at least 3x3.
    """
    _positive(in_channels=in_channels, height=height, width=width, num_classes=num_classes, filters=filters, blocks=blocks)
    if height < 3 or width < 3:
        raise ModelSpecError(f"ds_cnn needs an input of at least 3x3, got {height}x{width}")
    layers: list[nn.Module] = [nn.Conv2d(in_channels, filters, 3, stride=2, bias=False), nn.BatchNorm2d(filters), nn.ReLU()]
    for _ in range(blocks):
        layers += [
            nn.Conv2d(filters, filters, 3, padding=1, groups=filters, bias=False), nn.BatchNorm2d(filters), nn.ReLU(),
            nn.Conv2d(filters, filters, 1, bias=False), nn.BatchNorm2d(filters), nn.ReLU(),
        ]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(filters, num_classes))


def dense_autoencoder(in_features: int, hidden: tuple[int, ...] = (32,), code: int = 8) -> nn.Sequential:
    """Fully-connected autoencoder ``in -> hidden... -> code -> reversed(hidden)... -> in``, ReLU between layers.

    Trained on normal data only; its reconstruction error is the anomaly
    score (:class:`leafml.train.anomaly.ReconstructionScorer`).
    """
    _positive(in_features=in_features, code=code, **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
    widths = [in_features, *hidden, code, *reversed(hidden)]
    layers: list[nn.Module] = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], in_features))
