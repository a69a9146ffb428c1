"""First-order latency and energy of one inference, and whether a model fits.

The model is deliberately small, so every step can be checked by hand::

    cycles        = instructions x CPI                  (cycles)
    latency       = cycles / clock                      (seconds)
    active power  = supply voltage x active current     (watts)
    energy        = active power x latency              (joules per inference)

Only the instruction count is measured (executed instructions of the
Cortex-M4 build in QEMU). CPI is a modelling assumption given as a
low/typical/high range, and the current is a datasheet typical, so latency
and energy are estimates and are reported as ranges. The energy counts the
SoC only, at the board rail voltage, while the CPU runs; sleep between
inferences is the duty-cycle model's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from leafml.targets.catalog import Board

__all__ = ["Estimate", "Fit", "Range", "estimate", "fits"]


@dataclass(frozen=True)
class Range:
    """A low/typical/high triple; the unit is named by the field holding it."""

    low: float
    typical: float
    high: float

    def scaled(self, factor: float) -> Range:
        """Each bound multiplied by ``factor`` (a positive factor keeps the order)."""
        return Range(self.low * factor, self.typical * factor, self.high * factor)


@dataclass(frozen=True)
class Estimate:
    """Cost of one inference on one board, with the provenance of each input.

    ``instructions`` is measured; the names in ``modelled`` are datasheet
    figures or assumptions whose documents are in ``sources``; everything
    else (cycles, latency, power, energy) is estimated from those.
    """

    board_id: str
    instructions: int
    cpi: Range
    cycles: Range
    latency_s: Range
    energy_j: Range
    active_power_w: float
    supply_v: float
    active_current_a: float
    regulator: str
    sources: Mapping[str, str] = field(hash=False)
    measured: tuple[str, ...] = ("instructions",)
    modelled: tuple[str, ...] = ("cpi", "active_current_a", "supply_v")


def estimate(board: Board, instructions: int, regulator: str | None = None) -> Estimate:
    """Estimate cycles, latency (s) and energy (J) of one inference.

    ``instructions`` is the executed-instruction count of one inference,
    measured in QEMU. ``regulator`` picks the board's active-current figure
    (``"dcdc"``, ``"ldo"``...); by default the board file's own choice.
    """
    if isinstance(instructions, bool) or not isinstance(instructions, int) or instructions <= 0:
        raise ValueError(f"instructions must be a positive integer count, got {instructions!r}")
    current = board.active_current(regulator)
    cpi = Range(board.cpi.low, board.cpi.typical, board.cpi.high)
    cycles = cpi.scaled(instructions)
    latency_s = cycles.scaled(1.0 / board.clock_hz.value)
    power_w = board.supply_v.value * current.value
    return Estimate(
        board_id=board.id,
        instructions=instructions,
        cpi=cpi,
        cycles=cycles,
        latency_s=latency_s,
        energy_j=latency_s.scaled(power_w),
        active_power_w=power_w,
        supply_v=board.supply_v.value,
        active_current_a=current.value,
        regulator=regulator if regulator is not None else board.regulator.value,
        sources=MappingProxyType({
            "cpi": board.cpi.source,
            "active_current_a": current.source,
            "supply_v": board.supply_v.source,
            "clock_hz": board.clock_hz.source,
        }),
    )


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


def fits(
    board: Board,
    flash_bytes: int,
    ram_bytes: int,
    *,
    flash_reserve_bytes: int = 0,
    ram_reserve_bytes: int = 0,
) -> Fit:
    """Check a build's flash and RAM (bytes) against ``board``.

    The reserves are what the rest of the firmware already takes (bootloader,
    runtime, stack, heap); they are the caller's to state because they depend
    on the firmware, not on the board.
    """
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
