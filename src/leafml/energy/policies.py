"""Event-driven policies: when the node wakes, and how many windows it processes a day.

Each policy knows its windows per day and the shortest time it leaves
between two windows, which a window's work must fit in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from leafml.energy.physics import SECONDS_PER_DAY
from leafml.targets import Figure

__all__ = ["Adaptive", "AlwaysOn", "Periodic", "Policy", "Threshold"]


@dataclass(frozen=True)
class AlwaysOn:
    """The CPU never sleeps and the sensor streams; a window is processed every ``period_s``."""

    period_s: Figure
    kind: ClassVar[str] = "always_on"

    def windows_per_day(self) -> float:
        """Windows processed per day (1/day)."""
        return SECONDS_PER_DAY / self.period_s.value

    def shortest_gap_s(self) -> tuple[str, float]:
        """(the key of the figure that sets it, the shortest time between two windows in s)."""
        return "period_s", self.period_s.value


@dataclass(frozen=True)
class Periodic:
    """Wake every ``period_s``, sample one window, process it, sleep."""

    period_s: Figure
    kind: ClassVar[str] = "periodic"

    def windows_per_day(self) -> float:
        """Windows processed per day (1/day)."""
        return SECONDS_PER_DAY / self.period_s.value

    def shortest_gap_s(self) -> tuple[str, float]:
        """(the key of the figure that sets it, the shortest time between two windows in s)."""
        return "period_s", self.period_s.value


@dataclass(frozen=True)
class Threshold:
    """Sleep while the sensor watches a threshold itself (``monitor_current_a``); wake on each trigger."""

    triggers_per_day: Figure
    monitor_current_a: Figure
    kind: ClassVar[str] = "threshold"

    def windows_per_day(self) -> float:
        """Windows processed per day (1/day)."""
        return self.triggers_per_day.value

    def shortest_gap_s(self) -> tuple[str, float]:
        """(the key of the figure that sets it, the shortest time between two windows in s)."""
        # Triggers come when they come; on average they are this far apart.
        return "triggers_per_day", SECONDS_PER_DAY / self.triggers_per_day.value


@dataclass(frozen=True)
class Adaptive:
    """Periodic at ``slow_period_s``, and at ``fast_period_s`` for ``fast_fraction`` of the day."""

    slow_period_s: Figure
    fast_period_s: Figure
    fast_fraction: Figure
    kind: ClassVar[str] = "adaptive"

    def windows_per_day(self) -> float:
        """Windows processed per day (1/day)."""
        fast = self.fast_fraction.value
        return SECONDS_PER_DAY * (fast / self.fast_period_s.value + (1 - fast) / self.slow_period_s.value)

    def shortest_gap_s(self) -> tuple[str, float]:
        """(the key of the figure that sets it, the shortest time between two windows in s)."""
        return "fast_period_s", self.fast_period_s.value


Policy = AlwaysOn | Periodic | Threshold | Adaptive
