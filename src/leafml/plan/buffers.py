"""What a memory planner reads and returns, and how a plan is checked and shown.

A *buffer* is a block of bytes that must stay intact from the step that first
writes it to the last step that reads it (both inclusive, counted in node
indices).  A *plan* gives every buffer an offset in one arena.  Two buffers
whose lifetimes share a step must not share a byte; that is the only rule,
and :func:`check_plan` enforces it so that every planner, present or future,
is held to the same test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ALIGNMENT = 4  # bytes; lets kernels read int32 words from any buffer start


class PlanError(ValueError):
    """A plan breaks a rule; the message names the buffers involved."""


@dataclass(frozen=True)
class Buffer:
    """One arena allocation: ``size`` bytes live over steps ``first_use..last_use`` (inclusive)."""

    name: str
    size: int
    first_use: int
    last_use: int

    def __post_init__(self) -> None:
        if self.size < 0:
            raise PlanError(f"buffer {self.name!r} has a negative size ({self.size} bytes)")
        if self.last_use < self.first_use:
            raise PlanError(f"buffer {self.name!r} dies at step {self.last_use} before it is born at step {self.first_use}")

    def lives_with(self, other: Buffer) -> bool:
        """True if the two lifetimes share at least one step."""
        return self.first_use <= other.last_use and other.first_use <= self.last_use


@dataclass(frozen=True)
class Plan:
    """Byte offsets of buffers in one arena of ``arena_bytes`` bytes, and the strategy that placed them."""

    offsets: dict[str, int] = field(default_factory=dict)
    arena_bytes: int = 0
    strategy: str = ""


def align_up(value: int, alignment: int = ALIGNMENT) -> int:
    """``value`` rounded up to a multiple of ``alignment`` (bytes)."""
    return -(-value // alignment) * alignment


def lower_bound(buffers: list[Buffer]) -> int:
    """No plan can use fewer bytes: the largest sum of sizes live at one step."""
    # Sweep the steps where lifetimes start and end: births at a step count before deaths after it.
    events = sorted([(b.first_use, b.size) for b in buffers] + [(b.last_use + 1, -b.size) for b in buffers])
    live = peak = 0
    for _, change in events:
        live += change
        peak = max(peak, live)
    return peak


def check_plan(buffers: list[Buffer], plan: Plan, alignment: int = ALIGNMENT) -> None:
    """Raise :class:`PlanError` unless ``plan`` is valid for ``buffers``.

    Valid means: every buffer has an offset, offsets are multiples of
    ``alignment`` (bytes), every buffer ends inside the arena, and no two
    buffers that are live at the same step share a byte.
    """
    names = [b.name for b in buffers]
    if len(set(names)) != len(names):
        raise PlanError("buffer names are not unique")
    for b in buffers:
        if b.name not in plan.offsets:
            raise PlanError(f"buffer {b.name!r} has no offset")
        offset = plan.offsets[b.name]
        if offset < 0 or offset % alignment:
            raise PlanError(f"buffer {b.name!r} is at offset {offset}, not a non-negative multiple of {alignment}")
        if offset + b.size > plan.arena_bytes:
            raise PlanError(f"buffer {b.name!r} ends at byte {offset + b.size}, past the {plan.arena_bytes}-byte arena")
    # Sweep by offset: only buffers that overlap in bytes need the lifetime test.
    by_offset = sorted((b for b in buffers if b.size), key=lambda b: plan.offsets[b.name])
    for i, a in enumerate(by_offset):
        a_end = plan.offsets[a.name] + a.size
        for b in by_offset[i + 1 :]:
            if plan.offsets[b.name] >= a_end:
                break
            if a.lives_with(b):
                raise PlanError(
                    f"buffers {a.name!r} and {b.name!r} overlap in bytes "
                    f"[{plan.offsets[b.name]}, {min(a_end, plan.offsets[b.name] + b.size)}) while both are live"
                )


_SYMBOLS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def buffer_symbols(buffers: list[Buffer]) -> dict[str, str]:
    """One character per buffer, in order (they repeat after 62), for drawings of a plan."""
    return {b.name: _SYMBOLS[i % len(_SYMBOLS)] for i, b in enumerate(buffers)}


def format_plan(buffers: list[Buffer], plan: Plan, width: int = 64) -> str:
    """The plan as ASCII: one row per step, the arena drawn ``width`` characters wide.

    Each buffer is drawn with its own symbol where it is live (``.`` is free
    memory); a legend below lists offsets, sizes (bytes) and lifetimes.
    """
    lines = [f"arena {plan.arena_bytes} bytes, lower bound {lower_bound(buffers)} bytes"]
    if not buffers:
        return lines[0]
    bytes_per_char = max(plan.arena_bytes, 1) / width
    lines[0] += f", one character = {bytes_per_char:.1f} bytes"
    symbols = buffer_symbols(buffers)
    first = min(b.first_use for b in buffers)
    last = max(b.last_use for b in buffers)
    for step in range(first, last + 1):
        row = ["."] * width
        for b in buffers:
            if b.size and b.first_use <= step <= b.last_use:
                start = int(plan.offsets[b.name] / bytes_per_char)
                end = max(start + 1, math.ceil((plan.offsets[b.name] + b.size) / bytes_per_char))
                row[start:end] = symbols[b.name] * (min(end, width) - start)
        live = sum(b.size for b in buffers if b.first_use <= step <= b.last_use)
        lines.append(f"{step:4d} |{''.join(row)}| {live} bytes live")
    name_width = max(len(b.name) for b in buffers)
    for b in buffers:
        lines.append(
            f"  {symbols[b.name]} {b.name:<{name_width}}  offset {plan.offsets[b.name]:>7}  "
            f"size {b.size:>7}  steps {b.first_use}-{b.last_use}"
        )
    return "\n".join(lines)
