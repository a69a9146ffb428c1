"""Refuse a model whose RAM does not fit a limit the user gave (``leafml compile --max-ram``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leafml.errors import LeafmlError

if TYPE_CHECKING:  # codegen builds on plan, not the other way round
    from leafml.codegen.generate import CModel

SHOWN_AT_PEAK = 3  # tensors named in the message


class RamLimitError(LeafmlError):
    """The generated model needs more RAM than allowed; the message gives both numbers and the tensors at the peak."""


def _short(name: str) -> str:
    """A tensor's name as a message shows it: TFLite fuses names with ';', and the first says enough."""
    first = name.split(";")[0]
    return first if len(first) <= 60 else first[:57] + "..."


def check_ram_limit(cmodel: CModel, max_ram: int) -> None:
    """Raise :class:`RamLimitError` if ``cmodel``'s static RAM (arena and streaming state) exceeds ``max_ram`` bytes."""
    needed = cmodel.arena_bytes + cmodel.state_bytes
    if needed <= max_ram:
        return
    buffers = [b for b in cmodel.buffers if b.size]
    steps = {step for b in buffers for step in range(b.first_use, b.last_use + 1)}
    peak = max(sorted(steps), key=lambda step: sum(b.size for b in buffers if b.first_use <= step <= b.last_use), default=0)
    live = sorted((b for b in buffers if b.first_use <= peak <= b.last_use), key=lambda b: -b.size)
    tensors = ", ".join(f"{_short(b.name)} ({b.size:,} B)" for b in live[:SHOWN_AT_PEAK]) or "none"
    state = f" + {cmodel.state_bytes:,} B streaming state" if cmodel.state_bytes else ""
    raise RamLimitError(
        f"the model needs {needed:,} B of RAM ({cmodel.arena_bytes:,} B arena{state}) but --max-ram allows {max_ram:,} B; "
        f"largest tensors live at the peak (node {peak}): {tensors}; shrink those layers (fewer channels, a smaller input) or raise --max-ram"
    )
