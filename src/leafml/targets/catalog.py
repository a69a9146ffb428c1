"""Board catalog: one TOML file per board, loaded into `Board`.

A board file is data with its provenance: every figure carries the document it
came from, so an estimate built on it can be checked by a reader. The format
is described at the top of ``boards/nano33_ble_sense.toml``; adding a board is
adding one file, either to the shipped ``boards/`` folder or to the user's
own folder (`user_board_dirs`): ``$LEAFML_BOARDS`` (folders separated like
``PATH``), else ``$XDG_CONFIG_HOME/leafml/boards`` (by default
``~/.config/leafml/boards``).

Loading is strict. A missing field, a wrong type or an unknown key is refused
with one line naming the file, the line and the field, and what was expected.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from leafml.errors import LeafmlError
from leafml.targets.cores import Core, CpiRange, get_core
from leafml.targets.schema import (
    DataFileError,
    Figure,
    Invalid,
    figure,
    figures_by_name,
    optional,
    positive_int,
    positive_number,
    read_toml,
    table,
    text,
    wrong,
)

__all__ = ["Board", "BoardFileError", "BoardNotFound", "list_boards", "load_board", "user_board_dirs"]

SCHEMA_VERSION = 2
BOARDS_ENV = "LEAFML_BOARDS"


class BoardFileError(DataFileError):
    """A board file that does not follow the schema; the message is one line."""


class BoardNotFound(LeafmlError, FileNotFoundError):
    """No board of that name in the catalog or the user's board folders."""


@dataclass(frozen=True)
class Board:
    """A microcontroller board as the cost model sees it.

    Units are in the field names: hertz, bytes, volts, amperes. Currents are
    the SoC's typical draw at ``datasheet_supply_v``; ``active_current_a`` maps
    a regulator name (e.g. ``"dcdc"``, ``"ldo"``) to the current with the CPU
    running at ``clock_hz``, and ``regulator`` names the one used by default.
    ``sleep_current_a`` has ``"idle"`` (deep sleep keeping RAM, timer
    wake-up) and ``"off"`` (deepest state, RAM lost), and ``"sleep"`` (CPU
    halted, clocks running) when the file gives it. ``core`` names the core
    in the cost model and ``core_model`` is that core; ``accelerator`` names
    an on-chip NPU or similar that leafml's C does not use, or is None.
    """

    id: str
    name: str
    mcu: str
    core: str
    clock_hz: Figure
    sram_bytes: Figure
    flash_bytes: Figure
    supply_v: Figure
    datasheet_supply_v: Figure
    regulator: Figure
    active_current_a: Mapping[str, Figure] = field(hash=False)
    sleep_current_a: Mapping[str, Figure] = field(hash=False)
    accelerator: Figure | None
    core_model: Core
    path: Path = field(compare=False)

    @property
    def cpi(self) -> CpiRange:
        """The cycles-per-instruction range of the board's core (`Core.cpi`)."""
        return self.core_model.cpi

    def active_current(self, regulator: str | None = None) -> Figure:
        """The CPU-running current (amperes) with ``regulator``, default the board's."""
        name = self.regulator.value if regulator is None else regulator
        if name not in self.active_current_a:
            known = ", ".join(sorted(self.active_current_a))
            raise ValueError(f"board {self.id!r} has no active current for regulator {name!r} (known: {known})")
        return self.active_current_a[name]


# --- schema -------------------------------------------------------------------


def _schema_version(value: Any, path: str) -> int:
    if isinstance(value, bool) or value != SCHEMA_VERSION:
        raise wrong(path, str(SCHEMA_VERSION), value)
    return value


def _core(value: Any, path: str) -> str:
    core_id = text(value, path)
    try:
        get_core(core_id)
    except KeyError as unknown:
        raise Invalid(path, f"names no core of the cost model: {unknown.args[0]}") from None
    return core_id


def _sleep_states(value: Any, path: str) -> Mapping[str, Figure]:
    one = figure(positive_number, ranged=True)
    states = table(value, path, {"sleep": optional(one), "idle": one, "off": one})
    return MappingProxyType({name: fig for name, fig in states.items() if fig is not None})


_BOARD_SPEC = {
    "schema": _schema_version,
    "id": text,
    "name": text,
    "mcu": text,
    "core": _core,
    "clock_hz": figure(positive_int),
    "sram_bytes": figure(positive_int),
    "flash_bytes": figure(positive_int),
    "supply_v": figure(positive_number),
    "datasheet_supply_v": figure(positive_number),
    "regulator": figure(text),
    "active_current_a": figures_by_name(positive_number, ranged=True),
    "sleep_current_a": _sleep_states,
    "accelerator": optional(figure(text)),
}


def _board_builder(path: Path):
    def build(data: dict[str, Any]) -> Board:
        fields = table(data, "", _BOARD_SPEC)
        fields.pop("schema")
        if fields["id"] != path.stem:
            raise wrong("id", f"{path.stem!r} (the file name without .toml)", fields["id"])
        if fields["regulator"].value not in fields["active_current_a"]:
            known = ", ".join(fields["active_current_a"])
            raise wrong("regulator.value", f"a key of active_current_a ({known})", fields["regulator"].value)
        return Board(path=path, core_model=get_core(fields["core"]), **fields)

    return build


# --- finding and loading ------------------------------------------------------


def shipped_boards_dir() -> Path:
    """The folder of the boards that ship with leafml."""
    return Path(str(resources.files("leafml.targets") / "boards"))


def user_board_dirs() -> list[Path]:
    """The user's board folders: ``$LEAFML_BOARDS`` (``os.pathsep``-separated),
    else ``$XDG_CONFIG_HOME/leafml/boards`` (``~/.config/leafml/boards``)."""
    listed = os.environ.get(BOARDS_ENV)
    if listed:
        return [Path(part).expanduser() for part in listed.split(os.pathsep) if part]
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return [Path(config) / "leafml" / "boards"]


def _board_files() -> dict[str, Path]:
    """Board id -> file, shipped boards first; two files with one id are refused."""
    files: dict[str, Path] = {}
    for folder in [shipped_boards_dir(), *user_board_dirs()]:
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            if path.stem in files:
                raise BoardFileError(f"{path}: board id {path.stem!r} is already defined by {files[path.stem]}; "
                                     "rename one of the two files (the id is the file name)")
            files[path.stem] = path
    return files


def load_board(name_or_path: str | Path) -> Board:
    """Load a board by name (``"nano33_ble_sense"``, shipped or the user's) or by TOML path.

    Raises `BoardFileError` with a one-line message naming the file, line
    and field when the file breaks the schema, and `BoardNotFound` for an
    unknown name or a missing file.
    """
    label = str(name_or_path)
    if isinstance(name_or_path, Path) or label.endswith(".toml") or "/" in label or "\\" in label:
        path = Path(name_or_path)
        if not path.is_file():
            raise BoardNotFound(f"board file {path} does not exist")
    else:
        files = _board_files()
        if label not in files:
            raise BoardNotFound(f"no board named {label!r}; known: {', '.join(sorted(files))} "
                                f"(add your own TOML to {user_board_dirs()[0]})")
        path = files[label]
    return read_toml(path, _board_builder(path), BoardFileError)


def list_boards() -> list[Board]:
    """Every board, shipped and the user's, sorted by id."""
    return [load_board(path) for _, path in sorted(_board_files().items())]
