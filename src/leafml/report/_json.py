"""Metrics to JSON that any reader can load back.

Numpy scalars and arrays become Python numbers and lists. NaN and infinity
are refused rather than written, because ``json`` would emit tokens that are
not JSON and other readers would reject the file; a figure that is unknown
belongs in the dict as None.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

import numpy as np

__all__ = ["dumps_metrics", "jsonable"]


def jsonable(value: Any, where: str = "metrics") -> Any:
    """``value`` as plain JSON types; ``where`` names it in error messages."""
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist(), where)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value}, which JSON cannot hold; use None for an unknown figure")
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-string key {key!r}; JSON object keys are strings")
            out[key] = jsonable(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [jsonable(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{where} is a {type(value).__name__}, which has no JSON form")


def dumps_metrics(metrics: Mapping[str, Any]) -> str:
    """Pretty-printed JSON text of ``metrics``, ending in a newline."""
    return json.dumps(jsonable(metrics), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
