"""The greenhouse node of the product story, ready for reports.

Temperature and humidity on an Arduino Nano 33 BLE Sense every 2 seconds,
an anomaly model per reading, BLE alerts; on two AA cells
(``scenarios/greenhouse.toml``) or on a LiPo cell with a solar panel
(``scenarios/greenhouse_solar.toml``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from leafml.energy._schema import KINDS
from leafml.energy.edge_cloud import compare_edge_cloud
from leafml.energy.scenario import Scenario, Workload, examples_dir, load_scenario
from leafml.energy.simulate import SimulationResult, simulate
from leafml.targets import Figure

__all__ = ["greenhouse_scenario", "greenhouse_summary", "scenario_path"]


def scenario_path(name: str) -> Path:
    """Path of a shipped example scenario, e.g. ``"greenhouse"`` or ``"greenhouse_solar"``."""
    path = examples_dir() / f"{name}.toml"
    if not path.is_file():
        raise FileNotFoundError(f"no example scenario named {name!r}")
    return path


def greenhouse_scenario(solar: bool = False, instructions: int | None = None) -> Scenario:
    """The shipped greenhouse scenario; ``instructions`` replaces its stand-in model's count.

    ``instructions`` is the measured executed-instruction count of one
    inference of the deployed anomaly model (Cortex-M4, QEMU).
    """
    scenario = load_scenario(scenario_path("greenhouse_solar" if solar else "greenhouse"))
    if instructions is None:
        return scenario
    if isinstance(instructions, bool) or not isinstance(instructions, int) or instructions <= 0:
        raise ValueError(f"instructions must be a positive whole number, got {instructions!r}")
    count = Figure(instructions, "measured", "leafml: executed instructions of one inference of the anomaly "
                   "model, Cortex-M4 build in QEMU (mps2-an386)")
    return dataclasses.replace(scenario, inference=Workload("inference", count, None))


def _estimated(result: SimulationResult, keys: list[str]) -> str:
    kinds = {result.inputs[name].kind for key in keys for name in result.component(key).inputs}
    return "estimated from " + " + ".join(kind for kind in KINDS if kind in kinds) + " figures"


def greenhouse_summary(instructions: int | None = None, fleet: int = 1000) -> list[tuple[str, Any, str, str]]:
    """Report rows (label, value, unit, provenance) for the greenhouse node.

    The node on two AA cells (energy per day by component, average power,
    battery life), the solar variant (harvest, energy-neutral or not) and
    edge versus cloud for one device and for ``fleet`` devices.
    ``instructions`` is as for `greenhouse_scenario`.
    """
    battery = simulate(greenhouse_scenario(instructions=instructions))
    solar = simulate(greenhouse_scenario(solar=True, instructions=instructions))
    versus = compare_edge_cloud(battery.scenario, fleet=fleet)
    everything = [c.key for c in battery.components]
    load = [key for key in everything if key != "self_discharge"]
    grid = versus.grid_gco2e_per_kwh.value
    rows: list[tuple[str, Any, str, str]] = [
        ("Greenhouse node: readings and inferences per day", battery.windows_per_day, "per day",
         "scenario: a reading every 2 s"),
        *[(f"Greenhouse node: {c.label}", c.j_per_day, "J/day", _estimated(battery, [c.key]))
          for c in battery.components],
        ("Greenhouse node: average power", battery.average_power_w * 1e6, "uW", _estimated(battery, load)),
        ("Greenhouse node: battery life on 2 x AA", battery.battery_life_days, "days", _estimated(battery, everything)),
        ("Greenhouse solar variant: energy harvested", solar.harvest_j_per_day, "J/day",
         "estimated from assumption figures (panel, sun hours, charger)"),
        ("Greenhouse solar variant: energy lost per day", solar.total_j_per_day, "J/day",
         _estimated(solar, [c.key for c in solar.components])),
        ("Greenhouse solar variant: energy-neutral", solar.energy_neutral, "", "harvest >= daily loss"),
        ("Greenhouse edge (alerts only): energy per device", versus.edge.kwh_per_year(), "kWh/year",
         "estimated (device, network)"),
        ("Greenhouse cloud (raw readings): energy per device", versus.cloud.kwh_per_year(), "kWh/year",
         "estimated (device, network, data centre with PUE)"),
        (f"Greenhouse edge: emissions of {fleet:,} devices", versus.edge.kg_co2e_per_year(grid, fleet),
         "kg CO2e/year", f"estimated at {grid:g} g CO2e/kWh"),
        (f"Greenhouse cloud: emissions of {fleet:,} devices", versus.cloud.kg_co2e_per_year(grid, fleet),
         "kg CO2e/year", f"estimated at {grid:g} g CO2e/kWh"),
    ]
    return rows
