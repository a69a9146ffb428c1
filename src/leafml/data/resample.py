"""Changing a recording's sample rate to the project's.

Polyphase FIR resampling (``scipy.signal.resample_poly``: upsample by
``up``, low-pass with a Kaiser-windowed sinc (beta 5), downsample by
``down``), with ``up/down`` the ratio of the rates as a fraction with a
denominator of at most 1000 (44.1 kHz -> 16 kHz is exactly 160/441). Unlike
FFT resampling it does not treat the recording as periodic, so the two ends
of a clip do not bleed into each other.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from leafml.errors import LeafmlError

__all__ = ["SAME_RATE", "resample"]

# Rates within this relative tolerance are the same rate (a board's clock is
# rarely better): the values are kept as they are.
SAME_RATE = 1e-4
_MAX_DENOMINATOR = 1000


def resample(values: np.ndarray, from_hz: float, to_hz: float) -> np.ndarray:
    """``values`` [length, axes] sampled at ``from_hz``, resampled to
    ``to_hz`` along the first axis (length becomes ceil(length * to/from))."""
    if abs(from_hz / to_hz - 1.0) <= SAME_RATE:
        return values
    ratio = Fraction(to_hz / from_hz).limit_denominator(_MAX_DENOMINATOR)
    if ratio == 0 or abs(float(ratio) * from_hz / to_hz - 1.0) > SAME_RATE:
        raise LeafmlError(f"cannot resample {from_hz:g} Hz to {to_hz:g} Hz: the ratio is no fraction with a "
                          f"denominator up to {_MAX_DENOMINATOR}; choose a project sample_rate_hz closer to the "
                          "input's")
    from scipy.signal import resample_poly

    return resample_poly(values, ratio.numerator, ratio.denominator, axis=0)
