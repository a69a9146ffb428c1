"""Energy of a deployed model over time: duty cycle, battery, harvesting, edge versus cloud, carbon.

    scenario = load_scenario("greenhouse.toml")        # TOML, validated line by line
    result = simulate(scenario)                         # J/day by component, W, battery days
    versus = compare_edge_cloud(scenario, fleet=1000)   # kWh and kg CO2e, edge vs raw-to-cloud

Every figure carries its provenance (measured, datasheet or assumption) and
source; `RADIOS`, `CHEMISTRIES` and the cloud defaults hold the sourced
defaults a scenario falls back on.
"""

from leafml.energy._schema import ScenarioError
from leafml.energy.batteries import CHEMISTRIES
from leafml.energy.cloud import (
    DEFAULT_ENERGY_PER_CLOUD_INFERENCE,
    DEFAULT_GRID_INTENSITY,
    DEFAULT_NETWORK_INTENSITY,
    DEFAULT_PUE,
)
from leafml.energy.edge_cloud import EdgeCloudComparison, PathEnergy, compare_edge_cloud, streamed_raw
from leafml.energy.greenhouse import greenhouse_scenario, greenhouse_summary, scenario_path
from leafml.energy.radios import RADIOS, lora_time_on_air_s
from leafml.energy.scenario import Scenario, load_scenario, parse_scenario
from leafml.energy.simulate import COMPONENTS, Component, SimulationResult, simulate

__all__ = [
    "CHEMISTRIES",
    "COMPONENTS",
    "DEFAULT_ENERGY_PER_CLOUD_INFERENCE",
    "DEFAULT_GRID_INTENSITY",
    "DEFAULT_NETWORK_INTENSITY",
    "DEFAULT_PUE",
    "RADIOS",
    "Component",
    "EdgeCloudComparison",
    "PathEnergy",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "compare_edge_cloud",
    "greenhouse_scenario",
    "greenhouse_summary",
    "load_scenario",
    "lora_time_on_air_s",
    "parse_scenario",
    "scenario_path",
    "simulate",
    "streamed_raw",
]
