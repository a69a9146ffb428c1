"""The per-core cost model: which QEMU count a core starts from, and its CPI.

QEMU counts instructions exactly but knows nothing of cycles, so every core
carries a cycles-per-instruction range with the reasoning behind it
(``cores.toml``). Cores QEMU emulates are counted on their own instruction
set; the others (Xtensa) borrow a Cortex-M4 count and say so (``proxy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from leafml.firmware.machines import CORES as QEMU_CORES
from leafml.targets.schema import (
    DataFileError,
    Invalid,
    kind,
    positive_number,
    read_toml,
    table,
    text,
    wrong,
)

__all__ = ["Core", "CpiRange", "get_core", "list_cores"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class CpiRange:
    """Cycles per executed instruction (dimensionless): low, typical, high."""

    low: float
    typical: float
    high: float
    kind: str
    source: str


@dataclass(frozen=True)
class Core:
    """A CPU core as the cost model sees it.

    ``measured_on`` is the `leafml.firmware` core whose QEMU build is
    counted; with ``proxy`` it is another instruction set, and ``cpi``
    converts that core's instructions into this core's cycles.
    """

    id: str
    name: str
    measured_on: str
    proxy: bool
    cpi: CpiRange


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise wrong(path, "true or false", value)
    return value


def _measured_on(value: Any, path: str) -> str:
    if value not in QEMU_CORES:
        raise wrong(path, f"a core leafml measures in QEMU ({', '.join(QEMU_CORES)})", value)
    return value


def _cpi(value: Any, path: str) -> CpiRange:
    spec = {"low": positive_number, "typical": positive_number, "high": positive_number,
            "kind": kind, "source": text}
    cpi = CpiRange(**table(value, path, spec))
    if not cpi.low <= cpi.typical <= cpi.high:
        raise Invalid(path, f"should have low <= typical <= high, got {cpi.low}, {cpi.typical}, {cpi.high}")
    return cpi


_CORE_SPEC = {"name": text, "measured_on": _measured_on, "proxy": _boolean, "cpi": _cpi}


def _cores_from_data(data: dict[str, Any]) -> Mapping[str, Core]:
    if data.get("schema") != SCHEMA_VERSION or isinstance(data.get("schema"), bool):
        raise wrong("schema", str(SCHEMA_VERSION), data.get("schema"))
    cores = {}
    for core_id, entry in data.items():
        if core_id != "schema":
            cores[core_id] = Core(id=core_id, **table(entry, core_id, _CORE_SPEC))
    return MappingProxyType(cores)


def _cores_file() -> Path:
    return Path(str(resources.files("leafml.targets") / "cores.toml"))


@cache
def _cores() -> Mapping[str, Core]:
    return read_toml(_cores_file(), _cores_from_data, DataFileError)


def list_cores() -> list[Core]:
    """Every core of the cost model, in the order of ``cores.toml``."""
    return list(_cores().values())


def get_core(core_id: str) -> Core:
    """The core ``core_id`` ("cortex-m4", "xtensa-lx6"...); KeyError names the known ones."""
    cores = _cores()
    if core_id not in cores:
        raise KeyError(f"no core {core_id!r} in the cost model (known: {', '.join(cores)})")
    return cores[core_id]
