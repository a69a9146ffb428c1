"""Edge versus cloud: classify on the device, or stream every window raw to a data centre.

The edge path is the scenario as written. The cloud path senses the same
windows but runs no DSP or inference on the device: its radio sends each
window raw (``[cloud] windows_per_message`` per message) and a data centre
classifies it. Per device and day::

    device      the node's electronics (simulate's load, self-discharge excluded)
    network     payload bytes x network intensity (kWh/GB)
    datacentre  windows x energy per cloud inference x PUE   (cloud path only)

Gateways (a BLE hub, a LoRa gateway) serve both paths alike and are left
out, as are the energy of making the devices and batteries. Device energy
counts at the same grid intensity as the rest, as if it were mains energy
stored in the battery.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from leafml.energy import physics as p
from leafml.energy.scenario import Scenario
from leafml.energy.simulate import SimulationResult, simulate
from leafml.targets import Figure

__all__ = ["EdgeCloudComparison", "PathEnergy", "compare_edge_cloud", "streamed_raw"]


@dataclass(frozen=True)
class PathEnergy:
    """Energy of one path, per device and day (J/day), and the battery life it leaves (days)."""

    name: str
    description: str
    device_j_per_day: float
    network_j_per_day: float
    datacentre_j_per_day: float
    battery_life_days: float

    @property
    def total_j_per_day(self) -> float:
        return self.device_j_per_day + self.network_j_per_day + self.datacentre_j_per_day

    def kwh_per_year(self, devices: int = 1) -> float:
        """Energy (kWh/year) of ``devices`` devices on this path."""
        return p.kwh(self.total_j_per_day * p.DAYS_PER_YEAR) * devices

    def kg_co2e_per_year(self, grid_gco2e_per_kwh: float, devices: int = 1) -> float:
        """Emissions (kg CO2e/year) of ``devices`` devices at a grid intensity (g CO2e/kWh)."""
        return p.kg_co2e(self.kwh_per_year(devices), grid_gco2e_per_kwh)


@dataclass(frozen=True)
class EdgeCloudComparison:
    """Both paths for one scenario, a fleet size and a grid intensity, with the figures used."""

    edge: PathEnergy
    cloud: PathEnergy
    fleet: int
    grid_gco2e_per_kwh: Figure
    inputs: Mapping[str, Figure]

    def rows(self) -> list[tuple[str, float, float, str]]:
        """(figure, edge, cloud, unit) rows: per device, then for the fleet."""
        grid = self.grid_gco2e_per_kwh.value
        rows = [
            ("Device electronics energy per day", self.edge.device_j_per_day, self.cloud.device_j_per_day, "J/day"),
            ("Network energy per day", self.edge.network_j_per_day, self.cloud.network_j_per_day, "J/day"),
            ("Data-centre energy per day (with PUE)", self.edge.datacentre_j_per_day,
             self.cloud.datacentre_j_per_day, "J/day"),
            ("Battery life", self.edge.battery_life_days, self.cloud.battery_life_days, "days"),
            ("Energy per device per year", self.edge.kwh_per_year(), self.cloud.kwh_per_year(), "kWh/year"),
            ("Emissions per device per year", self.edge.kg_co2e_per_year(grid), self.cloud.kg_co2e_per_year(grid),
             "kg CO2e/year"),
        ]
        if self.fleet != 1:
            rows += [
                (f"Energy for {self.fleet:,} devices per year", self.edge.kwh_per_year(self.fleet),
                 self.cloud.kwh_per_year(self.fleet), "kWh/year"),
                (f"Emissions for {self.fleet:,} devices per year", self.edge.kg_co2e_per_year(grid, self.fleet),
                 self.cloud.kg_co2e_per_year(grid, self.fleet), "kg CO2e/year"),
            ]
        return rows

    def to_dict(self) -> dict[str, Any]:
        grid = self.grid_gco2e_per_kwh.value

        def one(path: PathEnergy) -> dict[str, Any]:
            return {
                "description": path.description,
                "device_j_per_day": path.device_j_per_day,
                "network_j_per_day": path.network_j_per_day,
                "datacentre_j_per_day": path.datacentre_j_per_day,
                "battery_life_days": path.battery_life_days,
                "kwh_per_device_year": path.kwh_per_year(),
                "kg_co2e_per_device_year": path.kg_co2e_per_year(grid),
                "kwh_per_fleet_year": path.kwh_per_year(self.fleet),
                "kg_co2e_per_fleet_year": path.kg_co2e_per_year(grid, self.fleet),
            }

        return {
            "fleet": self.fleet,
            "grid_gco2e_per_kwh": grid,
            "edge": one(self.edge),
            "cloud": one(self.cloud),
            "inputs": {k: {"value": f.value, "kind": f.kind, "source": f.source} for k, f in self.inputs.items()},
        }


def streamed_raw(scenario: Scenario) -> Scenario:
    """The cloud variant of ``scenario``: same sensing, no DSP or inference, every window sent raw."""
    radio = dataclasses.replace(scenario.radio, payload="raw", events_per_day=None, bytes_per_event=0,
                                windows_per_message=scenario.cloud.windows_per_message)
    return dataclasses.replace(scenario, name=f"{scenario.name} (raw to the cloud)", dsp=None, inference=None,
                               radio=radio)


def _network_j(result: SimulationResult, network_kwh_per_gb: float) -> float:
    return p.network_j(result.bytes_per_day, network_kwh_per_gb)


def compare_edge_cloud(scenario: Scenario, fleet: int = 1, grid_gco2e_per_kwh: float | None = None) -> EdgeCloudComparison:
    """Energy (kWh) and emissions (kg CO2e) of on-device inference versus raw streaming to the cloud.

    ``fleet`` is the number of devices (>= 1); ``grid_gco2e_per_kwh``
    (g CO2e/kWh) replaces the scenario's grid intensity when given.
    """
    if isinstance(fleet, bool) or not isinstance(fleet, int) or fleet < 1:
        raise ValueError(f"fleet must be a whole number of devices >= 1, got {fleet!r}")
    cloud = scenario.cloud
    grid = cloud.grid_gco2e_per_kwh
    if grid_gco2e_per_kwh is not None:
        if not 0 <= grid_gco2e_per_kwh < float("inf"):
            raise ValueError(f"grid intensity must be a number of g CO2e/kWh >= 0, got {grid_gco2e_per_kwh!r}")
        grid = Figure(float(grid_gco2e_per_kwh), "assumption", "given by the caller (--grid-gco2-per-kwh)")
    network = cloud.network_kwh_per_gb.value
    edge = simulate(scenario)
    raw = simulate(streamed_raw(scenario))
    datacentre_j = raw.windows_per_day * cloud.energy_per_inference_j.value * cloud.pue.value
    return EdgeCloudComparison(
        edge=PathEnergy("edge", f"inference on the device, {scenario.radio.payload} sent over "
                        f"{scenario.radio.technology}", edge.load_j_per_day, _network_j(edge, network), 0.0,
                        edge.battery_life_days),
        cloud=PathEnergy("cloud", f"every window sent raw over {scenario.radio.technology}, inference in a "
                         "data centre", raw.load_j_per_day, _network_j(raw, network), datacentre_j,
                         raw.battery_life_days),
        fleet=fleet,
        grid_gco2e_per_kwh=grid,
        inputs={"cloud.energy_per_inference_j": cloud.energy_per_inference_j, "cloud.pue": cloud.pue,
                "cloud.network_kwh_per_gb": cloud.network_kwh_per_gb, "cloud.grid_gco2e_per_kwh": grid},
    )
