"""Published MLPerf Tiny measurements of the reference models (``mlperf_tiny.toml``).

Other stacks' measurements on real boards, looked up by the SHA-256 of the
.tflite being profiled, so leafml's estimate can be shown beside them,
clearly labelled as someone else's numbers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from leafml.targets.schema import DataFileError, Figure, figure, optional, positive_number, read_toml, table, text, wrong

__all__ = ["PublishedResult", "published_results"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PublishedResult:
    """One published measurement: model, catalog board, stack; latency (s), energy (J) or None."""

    model: str
    board_id: str
    stack: str
    latency_s: Figure
    energy_j: Figure | None


_RESULT_SPEC = {"board": text, "stack": text, "latency_s": figure(positive_number),
                "energy_j": optional(figure(positive_number))}


def _sha256(value: Any, path: str) -> str:
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise wrong(path, "64 lower-case hexadecimal digits", value)
    return value


def _results(value: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(value, dict) or not value:
        raise wrong(path, "a table of one or more results", value)
    return [table(entry, f"{path}.{name}", _RESULT_SPEC) for name, entry in value.items()]


_MODEL_SPEC = {"title": text, "file": text, "sha256": _sha256, "results": _results}


def _by_hash(data: dict[str, Any]) -> dict[str, list[PublishedResult]]:
    if data.get("schema") != SCHEMA_VERSION or isinstance(data.get("schema"), bool):
        raise wrong("schema", str(SCHEMA_VERSION), data.get("schema"))
    found: dict[str, list[PublishedResult]] = {}
    for key, entry in data.items():
        if key == "schema":
            continue
        model = table(entry, key, _MODEL_SPEC)
        found[model["sha256"]] = [
            PublishedResult(model["title"], r["board"], r["stack"], r["latency_s"], r["energy_j"])
            for r in model["results"]
        ]
    return found


@cache
def _table() -> dict[str, list[PublishedResult]]:
    path = Path(str(resources.files("leafml.targets") / "mlperf_tiny.toml"))
    return read_toml(path, _by_hash, DataFileError)


def published_results(tflite_bytes: bytes) -> list[PublishedResult]:
    """The published measurements of this exact .tflite file; [] for any other model."""
    return list(_table().get(hashlib.sha256(tflite_bytes).hexdigest(), []))
