"""Checking the ``[dsp]`` table of leafml.toml, one key at a time.

Every checker takes ``(value, path)``, where ``path`` is the dotted key
(``"dsp.mfcc.mel_bins"``), and returns the value converted, or raises
`DspConfigError` whose one-line message names the key and what it allows.
`MISSING` stands for an absent key, so each checker also says what a
missing key should have been, and ``default=`` makes a key optional.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from leafml.errors import LeafmlError

# Stands in for a key the table does not have.
MISSING: Any = object()
# How close (samples) a duration must come to a whole number of samples.
_WHOLE_SAMPLE_TOLERANCE = 1e-6


class DspConfigError(LeafmlError, ValueError):
    """A ``[dsp]`` table that breaks the schema.

    ``path`` is the dotted key at fault (``"dsp.mfcc.mel_bins"``), so a
    caller holding the TOML text can point at its line; the message is
    ``field '<path>' <problem>``, one line.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"field '{path}' {problem}")
        self.path = path
        self.problem = problem


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value!r}"


def wrong(path: str, expected: str, value: Any) -> DspConfigError:
    """The error "``path`` should be ``expected``, got ``value``" (or "is missing")."""
    if value is MISSING:
        return DspConfigError(path, f"is missing (expected {expected})")
    return DspConfigError(path, f"should be {expected}, got {_got(value)}")


def table(value: Any, path: str, allowed: Iterable[str]) -> dict[str, Any]:
    """``value`` as a table whose keys are all in ``allowed``; an absent table is empty."""
    allowed = tuple(allowed)
    if value is MISSING:
        return {}
    if not isinstance(value, dict):
        raise wrong(path, f"a table with keys from: {', '.join(allowed)}", value)
    for key in value:
        if key not in allowed:
            known = ", ".join(allowed) if allowed else "none"
            raise DspConfigError(f"{path}.{key}", f"is not a known key (allowed: {known})")
    return value


def number(value: Any, path: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, default: Any = MISSING) -> float:
    """A finite number within [low, high] (or (low, high] with ``low_open``)."""
    if value is MISSING and default is not MISSING:
        return default
    bounds = [] if low is None else [f"{'>' if low_open else '>='} {low:g}"]
    bounds += [] if high is None else [f"<= {high:g}"]
    expected = " ".join(["a finite number", " and ".join(bounds)]).strip()
    # bool is an int in Python; `true` is never a frequency.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise wrong(path, expected, value)
    if low is not None and (value < low or (low_open and value == low)):
        raise wrong(path, expected, value)
    if high is not None and value > high:
        raise wrong(path, expected, value)
    return float(value)


def integer(value: Any, path: str, *, low: int, high: int, default: Any = MISSING) -> int:
    """An integer from ``low`` to ``high`` inclusive."""
    if value is MISSING and default is not MISSING:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise wrong(path, f"an integer from {low} to {high}", value)
    return value


def boolean(value: Any, path: str, *, default: Any = MISSING) -> bool:
    """``true`` or ``false``."""
    if value is MISSING and default is not MISSING:
        return default
    if not isinstance(value, bool):
        raise wrong(path, "true or false", value)
    return value


def choice(value: Any, path: str, options: Iterable[str], *, default: Any = MISSING) -> str:
    """One of the strings in ``options``."""
    options = tuple(options)
    if value is MISSING and default is not MISSING:
        return default
    if value not in options:
        raise wrong(path, "one of " + ", ".join(repr(o) for o in options), value)
    return value


def string_list(value: Any, path: str, options: Iterable[str], *, default: Any = MISSING) -> tuple[str, ...]:
    """A list of distinct strings from ``options``."""
    options = tuple(options)
    if value is MISSING and default is not MISSING:
        return default
    expected = "a list of distinct names from: " + ", ".join(options)
    if not isinstance(value, list):
        raise wrong(path, expected, value)
    for item in value:
        if item not in options:
            raise DspConfigError(path, f"has {_got(item)}, which is not one of: {', '.join(options)}")
    repeated = sorted({item for item in value if value.count(item) > 1})
    if repeated:
        raise DspConfigError(path, f"lists {', '.join(map(repr, repeated))} more than once; list each at most once")
    return tuple(value)


def duration_samples(value: Any, path: str, sample_rate_hz: float, *, default_ms: float | None = None) -> int:
    """A duration in milliseconds (``default_ms`` when absent) as a whole
    number (>= 1) of samples at ``sample_rate_hz``."""
    defaulted = value is MISSING and default_ms is not None
    ms = default_ms if defaulted else number(value, path, low=0.0, low_open=True)
    said = f"is missing and its default, {ms:g} ms," if defaulted else f"= {ms:g} ms"
    exact = ms * sample_rate_hz / 1000.0
    samples = round(exact)
    if samples < 1:
        raise DspConfigError(path, f"{said} is less than one sample at {sample_rate_hz:g} Hz; set a longer one")
    if abs(exact - samples) > _WHOLE_SAMPLE_TOLERANCE:
        raise DspConfigError(path, f"{said} is {exact:g} samples at {sample_rate_hz:g} Hz; "
                                   "set a duration that is a whole number of samples")
    return samples
