"""`simulate`: a day in the life of a sensor node, as energy per component.

One day is the unit because duty cycles repeat daily and batteries and
panels are rated per day. For each component::

    sensor          sensor power x sampling time per window x windows per day
                    (all day when always on; plus the threshold monitor)
    mcu_active      (wake overhead x active power + DSP + inference) per window
                    x windows per day (active power all day when always on)
    mcu_sleep       sleep power x the rest of the day
    board_other     other board current x rail voltage x one day
    radio           messages x energy per connection + bytes x energy per byte
    supply_loss     all of the above x (1 / supply efficiency - 1)
    self_discharge  nominal battery energy x % per month / days per month

Every current is drawn at the board's rail voltage (``supply_v``), as the
board estimate does; what a regulator between battery and rail wastes is
the supply loss. Battery life is the usable energy over the day's total.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from leafml.energy import physics as p
from leafml.energy._schema import KINDS, ScenarioError
from leafml.energy.policies import AlwaysOn, Threshold
from leafml.energy.scenario import Scenario, Work, timing_problems
from leafml.targets import Figure

__all__ = ["COMPONENTS", "Component", "SimulationResult", "simulate", "traffic_per_day"]

# Component keys, in the order reports show them, with their labels.
COMPONENTS = {
    "sensor": "Sensor",
    "mcu_active": "MCU active (wake, DSP, inference)",
    "mcu_sleep": "MCU sleep",
    "board_other": "Other board current",
    "radio": "Radio",
    "supply_loss": "Supply loss (battery to rail)",
    "self_discharge": "Battery self-discharge",
}


@dataclass(frozen=True)
class Component:
    """One share of the day's energy (J/day) and the keys of the input figures it rests on."""

    key: str
    label: str
    j_per_day: float
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class SimulationResult:
    """A day of one scenario: energy by component (J/day), power (W), battery life (days).

    ``inputs`` holds every figure used, keyed like ``"sensor.current_a"`` or
    ``"board.sleep_current_a"``, each with its kind (measured, datasheet,
    assumption) and source; every other number here is computed from them.
    """

    scenario: Scenario
    windows_per_day: float
    messages_per_day: float
    bytes_per_day: float
    components: tuple[Component, ...]
    inputs: Mapping[str, Figure]
    battery_nominal_j: float
    battery_usable_j: float
    harvest_j_per_day: float | None

    def component(self, key: str) -> Component:
        return next(c for c in self.components if c.key == key)

    def j_per_day(self) -> dict[str, float]:
        """Energy per day (J/day) by component key."""
        return {c.key: c.j_per_day for c in self.components}

    def provenance(self, key: str) -> str:
        """The kinds of figure a component rests on, e.g. ``"datasheet + assumption"``."""
        kinds = {self.inputs[name].kind for name in self.component(key).inputs}
        return " + ".join(kind for kind in KINDS if kind in kinds)

    @property
    def load_j_per_day(self) -> float:
        """Energy the electronics draw per day (J/day), self-discharge excluded."""
        return sum(c.j_per_day for c in self.components if c.key != "self_discharge")

    @property
    def total_j_per_day(self) -> float:
        """Energy the battery loses per day (J/day): the load plus self-discharge."""
        return sum(c.j_per_day for c in self.components)

    @property
    def average_power_w(self) -> float:
        """Average power (W) the electronics draw, self-discharge excluded."""
        return p.average_power_w(self.load_j_per_day)

    @property
    def battery_life_days(self) -> float:
        """Days (d) a full battery lasts with no harvesting."""
        return p.battery_life_days(self.battery_usable_j, self.total_j_per_day)

    @property
    def energy_neutral(self) -> bool | None:
        """Whether harvesting covers the whole day's loss; None without a panel."""
        return None if self.harvest_j_per_day is None else self.harvest_j_per_day >= self.total_j_per_day

    @property
    def battery_life_days_with_solar(self) -> float | None:
        """Days (d) a full battery lasts with harvesting; None without a panel or when energy-neutral."""
        if self.harvest_j_per_day is None or self.energy_neutral:
            return None
        return p.battery_life_days(self.battery_usable_j, self.total_j_per_day - self.harvest_j_per_day)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form; units in the key names."""
        return {
            "scenario": self.scenario.name,
            "windows_per_day": self.windows_per_day,
            "messages_per_day": self.messages_per_day,
            "bytes_sent_per_day": self.bytes_per_day,
            "average_power_w": self.average_power_w,
            "energy_j_per_day": self.j_per_day(),
            "total_j_per_day": self.total_j_per_day,
            "battery_usable_j": self.battery_usable_j,
            "battery_life_days": self.battery_life_days,
            "harvest_j_per_day": self.harvest_j_per_day,
            "energy_neutral": self.energy_neutral,
            "battery_life_days_with_solar": self.battery_life_days_with_solar,
            "components": [
                {"key": c.key, "label": c.label, "j_per_day": c.j_per_day, "provenance": self.provenance(c.key),
                 "inputs": list(c.inputs)} for c in self.components
            ],
            "inputs": {k: {"value": f.value, "kind": f.kind, "source": f.source} for k, f in self.inputs.items()},
        }


def traffic_per_day(scenario: Scenario, windows_per_day: float) -> tuple[float, float]:
    """(messages, payload bytes) the radio sends per day."""
    radio = scenario.radio
    if radio.payload == "events":
        events = radio.events_per_day.value
        return events, events * radio.bytes_per_event
    per_window = scenario.sensor.bytes_per_window if radio.payload == "raw" else scenario.dsp.feature_bytes
    return windows_per_day / radio.windows_per_message, windows_per_day * per_window


def _inputs(scenario: Scenario, works: list[Work]) -> dict[str, Figure]:
    """Every figure the day rests on, keyed by where it comes from."""
    device, sensor, radio, battery, policy = (scenario.device, scenario.sensor, scenario.radio, scenario.battery,
                                              scenario.policy)
    inputs = {
        "board.supply_v": device.board.supply_v,
        "board.active_current_a": device.board.active_current(device.regulator),
        "board.sleep_current_a": device.board.sleep_current_a[device.sleep_mode],
        "device.other_current_a": device.other_current_a,
        "device.wake_overhead_s": device.wake_overhead_s,
        "device.supply_efficiency": device.supply_efficiency,
        "sensor.current_a": sensor.current_a,
        "sensor.on_time_per_window_s": sensor.on_time_per_window_s,
        **{f"policy.{f.name}": getattr(policy, f.name) for f in fields(policy)},
        "radio.energy_per_connection_j": radio.energy_per_connection_j,
        "radio.energy_per_byte_j": radio.energy_per_byte_j,
        "battery.capacity_mah": battery.capacity_mah,
        "battery.voltage_v": battery.voltage_v,
        "battery.self_discharge_pct_per_month": battery.self_discharge_pct_per_month,
        "battery.usable_fraction": battery.usable_fraction,
    }
    if radio.events_per_day is not None:
        inputs["radio.events_per_day"] = radio.events_per_day
    if scenario.solar is not None:
        inputs |= {f"solar.{f.name}": getattr(scenario.solar, f.name) for f in fields(scenario.solar)}
    for work in works:
        inputs |= work.inputs
    return inputs


def _mcu_j_per_day(scenario: Scenario, works: list[Work], windows: float) -> tuple[float, float]:
    """(active, sleep) energy of the CPU per day (J/day)."""
    board, device = scenario.device.board, scenario.device
    active_w = p.power_w(board.supply_v.value, board.active_current(device.regulator).value)
    if isinstance(scenario.policy, AlwaysOn):
        return p.energy_j(active_w, p.SECONDS_PER_DAY), 0.0
    sleep_w = p.power_w(board.supply_v.value, board.sleep_current_a[device.sleep_mode].value)
    overhead_s = device.wake_overhead_s.value
    busy_s = windows * (overhead_s + sum(w.time_s for w in works))
    active_j = windows * (p.energy_j(active_w, overhead_s) + sum(w.energy_j for w in works))
    return active_j, p.energy_j(sleep_w, p.SECONDS_PER_DAY - busy_s)


def _sensor_j_per_day(scenario: Scenario, windows: float) -> float:
    """Energy of the sensor per day (J/day): its windows, or all day, plus a threshold monitor."""
    rail_v, sensor, policy = scenario.device.board.supply_v.value, scenario.sensor, scenario.policy
    sampling_s = p.SECONDS_PER_DAY if isinstance(policy, AlwaysOn) else windows * sensor.on_time_per_window_s.value
    sensor_j = p.energy_j(p.power_w(rail_v, sensor.current_a.value), sampling_s)
    if isinstance(policy, Threshold):
        sensor_j += p.energy_j(p.power_w(rail_v, policy.monitor_current_a.value), p.SECONDS_PER_DAY)
    return sensor_j


def simulate(scenario: Scenario) -> SimulationResult:
    """Energy per day by component, average power and battery life of ``scenario``.

    Raises `ScenarioError` when the duty cycle cannot keep up with itself
    (a window takes longer than the time between windows).
    """
    problems = timing_problems(scenario)
    if problems:
        key, problem = problems[0]
        raise ScenarioError(f"{scenario.label}: '{key}' {problem}")
    device, radio, battery, solar = scenario.device, scenario.radio, scenario.battery, scenario.solar
    works = [w.on(device.board, device.regulator) for w in scenario.workloads()]
    inputs = _inputs(scenario, works)
    windows = scenario.policy.windows_per_day()
    mcu_active_j, mcu_sleep_j = _mcu_j_per_day(scenario, works, windows)
    messages, sent_bytes = traffic_per_day(scenario, windows)
    nominal_j = p.battery_energy_j(battery.capacity_mah.value, battery.voltage_v.value)

    policy_keys = tuple(key for key in inputs if key.startswith("policy."))
    work_keys = tuple(key for work in works for key in work.inputs)
    shares = {
        "sensor": (_sensor_j_per_day(scenario, windows),
                   ("sensor.current_a", "sensor.on_time_per_window_s", "board.supply_v", *policy_keys)),
        "mcu_active": (mcu_active_j, ("board.supply_v", "board.active_current_a", "device.wake_overhead_s",
                                      *work_keys, *policy_keys)),
        "mcu_sleep": (mcu_sleep_j, ("board.supply_v", "board.sleep_current_a", *work_keys, *policy_keys)),
        "board_other": (p.energy_j(p.power_w(device.board.supply_v.value, device.other_current_a.value),
                                   p.SECONDS_PER_DAY), ("board.supply_v", "device.other_current_a")),
        "radio": (messages * radio.energy_per_connection_j.value + sent_bytes * radio.energy_per_byte_j.value,
                  ("radio.energy_per_connection_j", "radio.energy_per_byte_j",
                   *(("radio.events_per_day",) if radio.events_per_day is not None else policy_keys))),
    }
    rail_j = sum(j for j, _ in shares.values())
    shares |= {
        "supply_loss": (rail_j * (1.0 / device.supply_efficiency.value - 1.0), ("device.supply_efficiency",)),
        "self_discharge": (p.self_discharge_j_per_day(nominal_j, battery.self_discharge_pct_per_month.value),
                           ("battery.capacity_mah", "battery.voltage_v", "battery.self_discharge_pct_per_month")),
    }
    return SimulationResult(
        scenario=scenario,
        windows_per_day=windows,
        messages_per_day=messages,
        bytes_per_day=sent_bytes,
        components=tuple(Component(key, COMPONENTS[key], j, tuple(dict.fromkeys(keys)))
                         for key, (j, keys) in shares.items()),
        inputs=inputs,
        battery_nominal_j=nominal_j,
        battery_usable_j=nominal_j * battery.usable_fraction.value,
        harvest_j_per_day=None if solar is None else p.solar_j_per_day(
            solar.panel_w.value, solar.sun_hours_per_day.value, solar.charger_efficiency.value),
    )
