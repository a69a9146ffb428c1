"""First-order latency and energy of one inference on a board.

The model is deliberately small, so every step can be checked by hand::

    cycles        = instructions x CPI                  (cycles)
    latency       = cycles / clock                      (seconds)
    active power  = supply voltage x active current     (watts)
    energy        = active power x latency              (joules per inference)

Only the instruction count is measured: executed instructions of one
inference of the board core's QEMU build (`leafml.targets.cores`; for a core
QEMU lacks, another core's count, marked ``proxy``). CPI is a modelling
assumption given as a low/typical/high range, and the current a datasheet
typical (with the datasheet's range when it gives one), so latency and
energy are estimates and are reported as ranges. The energy counts the SoC
only, at the board rail voltage, while the CPU runs; sleep between
inferences is the duty-cycle model's business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from leafml.targets.catalog import Board

__all__ = ["Estimate", "Range", "estimate"]


@dataclass(frozen=True)
class Range:
    """A low/typical/high triple; the unit is named by the field holding it."""

    low: float
    typical: float
    high: float

    def scaled(self, factor: float) -> Range:
        """Each bound multiplied by ``factor`` (a positive factor keeps the order)."""
        return Range(self.low * factor, self.typical * factor, self.high * factor)

    def times(self, other: Range) -> Range:
        """Bound by bound product with another range of positive numbers."""
        return Range(self.low * other.low, self.typical * other.typical, self.high * other.high)


@dataclass(frozen=True)
class Estimate:
    """Cost of one inference on one board, with the provenance of each input.

    ``instructions`` is measured on the QEMU core ``measured_on`` (another
    instruction set than the board's when ``proxy``); the names in
    ``modelled`` are datasheet figures or assumptions whose documents are in
    ``sources``; everything else (cycles, latency, power, energy) is
    estimated from those. ``active_power_w`` and ``active_current_a`` are
    the typical figures, ``active_power_range_w`` the datasheet's range
    (peak power: its high end).
    """

    board_id: str
    instructions: int
    measured_on: str
    proxy: bool
    cpi: Range
    cycles: Range
    latency_s: Range
    energy_j: Range
    active_power_w: float
    active_power_range_w: Range
    supply_v: float
    active_current_a: float
    regulator: str
    sources: Mapping[str, str] = field(hash=False)
    measured: tuple[str, ...] = ("instructions",)
    modelled: tuple[str, ...] = ("cpi", "active_current_a", "supply_v", "clock_hz")


def estimate(board: Board, instructions: int, regulator: str | None = None) -> Estimate:
    """Estimate cycles, latency (s) and energy (J) of one inference.

    ``instructions`` is the executed-instruction count of one inference,
    measured in QEMU on the core ``board.core_model.measured_on``.
    ``regulator`` picks the board's active-current figure (``"dcdc"``,
    ``"ldo"``...); by default the board file's own choice.
    """
    if isinstance(instructions, bool) or not isinstance(instructions, int) or instructions <= 0:
        raise ValueError(f"instructions must be a positive integer count, got {instructions!r}")
    core = board.core_model
    current = board.active_current(regulator)
    cpi = Range(core.cpi.low, core.cpi.typical, core.cpi.high)
    cycles = cpi.scaled(instructions)
    latency_s = cycles.scaled(1.0 / board.clock_hz.value)
    low_a, high_a = current.bounds
    power_w = Range(low_a, current.value, high_a).scaled(board.supply_v.value)
    return Estimate(
        board_id=board.id,
        instructions=instructions,
        measured_on=core.measured_on,
        proxy=core.proxy,
        cpi=cpi,
        cycles=cycles,
        latency_s=latency_s,
        energy_j=latency_s.times(power_w),
        active_power_w=power_w.typical,
        active_power_range_w=power_w,
        supply_v=board.supply_v.value,
        active_current_a=current.value,
        regulator=regulator if regulator is not None else board.regulator.value,
        sources=MappingProxyType({
            "cpi": core.cpi.source,
            "active_current_a": current.source,
            "supply_v": board.supply_v.source,
            "clock_hz": board.clock_hz.source,
        }),
    )
