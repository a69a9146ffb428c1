"""Whether a build fits a board's flash and RAM, and what to do when it does not.

The reserves are what the rest of the firmware takes (bootloader,
application, RTOS, stack, heap): they depend on the firmware, not on the
board, so the caller states them. A build that does not fit is reported per
exceeded budget, by how much, with options that would close the gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from leafml.targets.catalog import Board

__all__ = ["Fit", "Overflow", "fit_options", "fits"]


@dataclass(frozen=True)
class Overflow:
    """One exceeded budget: ``memory`` is ``"flash"`` or ``"RAM"``; bytes."""

    memory: str
    used_bytes: int
    available_bytes: int

    @property
    def excess_bytes(self) -> int:
        return self.used_bytes - self.available_bytes


@dataclass(frozen=True)
class Fit:
    """Whether a build fits a board's memories; all figures in bytes.

    ``*_available_bytes`` is the board's memory less the caller's reserve;
    headroom is available minus used and is negative when the build overflows.
    """

    flash_used_bytes: int
    flash_available_bytes: int
    ram_used_bytes: int
    ram_available_bytes: int

    @property
    def flash_headroom_bytes(self) -> int:
        return self.flash_available_bytes - self.flash_used_bytes

    @property
    def ram_headroom_bytes(self) -> int:
        return self.ram_available_bytes - self.ram_used_bytes

    @property
    def flash_ok(self) -> bool:
        return self.flash_headroom_bytes >= 0

    @property
    def ram_ok(self) -> bool:
        return self.ram_headroom_bytes >= 0

    @property
    def ok(self) -> bool:
        return self.flash_ok and self.ram_ok

    @property
    def overflows(self) -> list[Overflow]:
        """The exceeded budgets, flash first; empty when the build fits."""
        result = []
        if not self.flash_ok:
            result.append(Overflow("flash", self.flash_used_bytes, self.flash_available_bytes))
        if not self.ram_ok:
            result.append(Overflow("RAM", self.ram_used_bytes, self.ram_available_bytes))
        return result


def fits(
    board: Board,
    flash_bytes: int,
    ram_bytes: int,
    *,
    flash_reserve_bytes: int = 0,
    ram_reserve_bytes: int = 0,
) -> Fit:
    """Check a build's flash and RAM (bytes) against ``board`` after the reserves (bytes)."""
    for name, value in (("flash_bytes", flash_bytes), ("ram_bytes", ram_bytes),
                        ("flash_reserve_bytes", flash_reserve_bytes), ("ram_reserve_bytes", ram_reserve_bytes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer number of bytes, got {value!r}")
    return Fit(
        flash_used_bytes=flash_bytes,
        flash_available_bytes=board.flash_bytes.value - flash_reserve_bytes,
        ram_used_bytes=ram_bytes,
        ram_available_bytes=board.sram_bytes.value - ram_reserve_bytes,
    )


def fit_options(
    fit: Fit,
    weight_bytes: int,
    other_boards: Sequence[Board],
    *,
    flash_reserve_bytes: int = 0,
    ram_reserve_bytes: int = 0,
) -> list[str]:
    """Concrete ways to close each gap of ``fit``, one sentence each; [] when it fits.

    ``weight_bytes`` is the model's constant data (weights, biases,
    requantization parameters); ``other_boards`` are the boards that may be
    proposed instead, checked with the same use and reserves (bytes).
    """
    options = []
    for overflow in fit.overflows:
        excess = overflow.excess_bytes
        if overflow.memory == "flash":
            # int8 -> int4 halves the weight arrays; biases and multipliers stay.
            saved = weight_bytes // 2
            verdict = "enough on its own" if saved >= excess else "not enough on its own"
            options.append(f"int4 weights: save about {saved:,} B of the {weight_bytes:,} B of weights ({verdict})")
            if weight_bytes > excess:
                options.append(f"prune at least {excess / weight_bytes:.0%} of the weights and store them sparse")
            options.append("a smaller model from leafml's zoo (fewer layers or channels)")
        else:
            options.append("smaller activations: fewer channels in the widest layers or a smaller input; "
                           "int4 weights do not help here (RAM holds the int8 activations)")
    if options:
        bigger = [board.id for board in other_boards
                  if fits(board, fit.flash_used_bytes, fit.ram_used_bytes, flash_reserve_bytes=flash_reserve_bytes,
                          ram_reserve_bytes=ram_reserve_bytes).ok]
        if bigger:
            options.append(f"a board that fits as it is: {', '.join(bigger)}")
        else:
            options.append("no board in the catalog fits it as it is")
    return options
