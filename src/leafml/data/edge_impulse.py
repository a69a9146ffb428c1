"""Edge Impulse's data acquisition format, JSON encoding (what its Studio exports).

::

    {"protected": {"ver": "v1", "alg": "HS256" | "none", "iat": ...},
     "signature": "<hex>",
     "payload": {"device_name": ..., "device_type": "...", "interval_ms": 10,
                 "sensors": [{"name": "accX", "units": "m/s2"}, ...],
                 "values": [[x, y, z], ...]}}

``values`` holds one row per step with one number per sensor; with one
sensor it may be a flat list. Audio has units "wav": 16-bit PCM numbers,
stored like a WAV file's samples in full scale (divided by 32768), so a clip
gives the same sample whichever way it arrives. The signature is not
checked (its HMAC key belongs to the Edge Impulse project); the original
file, signature included, is kept in the store.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from leafml.data.recording import InputError, Recording, Sensor
from leafml.data.wav import FULL_SCALE

__all__ = ["decode_edge_impulse_json"]


def decode_edge_impulse_json(path: str | Path, data: bytes) -> Recording:
    """Decode an Edge Impulse data acquisition JSON file into one recording."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise InputError(path, f"not valid JSON: {err.msg} (column {err.colno})", err.lineno) from None
    payload = _field(path, document, "payload", dict, "an object")
    interval_ms = _field(path, payload, "interval_ms", (int, float), "a number of milliseconds", "payload.")
    if isinstance(interval_ms, bool) or not 0 < interval_ms < math.inf:
        raise InputError(path, f"payload.interval_ms should be a positive number of milliseconds, got {interval_ms!r}")
    sensors = _sensors(path, _field(path, payload, "sensors", list, "a list of {name, units}", "payload."))
    rows = _field(path, payload, "values", list, "a list of value rows", "payload.")
    if not rows:
        raise InputError(path, "payload.values is empty")
    if len(sensors) == 1 and not isinstance(rows[0], list):
        rows = [[value] for value in rows]
    values = np.empty((len(rows), len(sensors)))
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(sensors) or not all(_finite(v) for v in row):
            raise InputError(path, f"payload.values[{i}] should be {len(sensors)} finite numbers, got {row!r:.60}")
        values[i] = row
    audio = [s.units == "wav" for s in sensors]
    if any(audio):
        values[:, audio] /= 32768.0
        sensors = tuple(Sensor(s.name, FULL_SCALE) if s.units == "wav" else s for s in sensors)
    return Recording(values, 1000.0 / interval_ms, sensors)


def _field(path, table: Any, key: str, kind, expected: str, prefix: str = "") -> Any:
    if not isinstance(table, dict) or key not in table:
        raise InputError(path, f"no {prefix}{key}: not an Edge Impulse data acquisition file")
    value = table[key]
    if not isinstance(value, kind):
        raise InputError(path, f"{prefix}{key} should be {expected}, got {type(value).__name__}")
    return value


def _sensors(path, items: list) -> tuple[Sensor, ...]:
    if not items:
        raise InputError(path, "payload.sensors is empty")
    sensors = []
    for i, item in enumerate(items):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]
                and isinstance(item.get("units"), str)):
            raise InputError(path, f"payload.sensors[{i}] should be {{\"name\": ..., \"units\": ...}}, "
                                   f"got {item!r:.60}")
        sensors.append(Sensor(item["name"], item["units"]))
    if len({s.name for s in sensors}) != len(sensors):
        raise InputError(path, "payload.sensors names an axis twice")
    return tuple(sensors)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
