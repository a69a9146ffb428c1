"""A duty-cycle scenario: what the node senses, computes and sends, and what powers it.

Scenarios are TOML files (``scenarios/greenhouse.toml`` is the annotated
example). `load_scenario` reads one strictly: a missing, unknown or
ill-typed key, or a figure out of its range, is refused with one line that
names the file, the line, the key and what is allowed.

Tables: ``[device]`` (board and sleep mode), ``[sensor]``, ``[dsp]``
(optional), ``[inference]``, ``[policy]`` (always_on, periodic, threshold
or adaptive), ``[radio]`` (ble, lora, wifi or nbiot; raw data, features or
events), ``[battery]``, ``[solar]`` (optional) and ``[cloud]`` (optional,
for edge versus cloud).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from leafml.energy import _schema as s
from leafml.energy.batteries import CHEMISTRIES
from leafml.energy.cloud import (
    DEFAULT_ENERGY_PER_CLOUD_INFERENCE,
    DEFAULT_GRID_INTENSITY,
    DEFAULT_NETWORK_INTENSITY,
    DEFAULT_PUE,
)
from leafml.energy.policies import Adaptive, AlwaysOn, Periodic, Policy, Threshold
from leafml.energy.radios import RADIOS
from leafml.targets import Board, BoardFileError, Figure, estimate, load_board

__all__ = [
    "Battery", "Cloud", "Device", "Radio", "Scenario", "Sensor", "Solar", "Work", "Workload", "examples_dir",
    "load_scenario", "parse_scenario", "timing_problems",
]

SCHEMA_VERSION = 1
_NO_CURRENT = Figure(0.0, "assumption", "none given: no other part of the board draws current")
_NO_OVERHEAD = Figure(0.0, "assumption", "none given: the CPU wakes only for DSP and inference")
_DIRECT_SUPPLY = Figure(1.0, "assumption", "none given: the battery feeds the board's rail directly")


@dataclass(frozen=True)
class Device:
    """The board, the sleep state it waits in, what else on it draws current.

    ``supply_efficiency`` is the share of the battery's energy that reaches
    the board's rail (about V_rail / V_battery through a linear regulator).
    """

    board: Board
    sleep_mode: str
    regulator: str
    other_current_a: Figure
    wake_overhead_s: Figure
    supply_efficiency: Figure


@dataclass(frozen=True)
class Sensor:
    """Current while sampling, time it samples per window, raw bytes it yields per window."""

    name: str
    current_a: Figure
    on_time_per_window_s: Figure
    bytes_per_window: int


@dataclass(frozen=True)
class Work:
    """One run of a workload on a board: energy (J), CPU time (s) and the figures behind them."""

    energy_j: float
    time_s: float
    inputs: dict[str, Figure]


@dataclass(frozen=True)
class Workload:
    """DSP or inference once per window: an instruction count for the board estimate, or a given energy."""

    name: str
    instructions: Figure | None
    energy_j: Figure | None
    feature_bytes: int = 0

    def on(self, board: Board, regulator: str) -> Work:
        """Energy and time of one run on ``board``, typical CPI.

        A given energy is turned into time at the board's active power: the
        CPU is assumed to be what spends it.
        """
        current = board.active_current(regulator)
        if self.instructions is not None:
            cost = estimate(board, int(self.instructions.value), regulator)
            cpi = Figure(board.cpi.typical, board.cpi.kind, board.cpi.source)
            return Work(cost.energy_j.typical, cost.latency_s.typical, {
                f"{self.name}.instructions": self.instructions, "board.cpi": cpi,
                "board.clock_hz": board.clock_hz, "board.active_current_a": current, "board.supply_v": board.supply_v})
        active_w = board.supply_v.value * current.value
        return Work(self.energy_j.value, self.energy_j.value / active_w, {
            f"{self.name}.energy_j": self.energy_j, "board.active_current_a": current, "board.supply_v": board.supply_v})


@dataclass(frozen=True)
class Radio:
    """What is sent (raw, features or events), how often, and what a message costs."""

    technology: str
    payload: str
    energy_per_connection_j: Figure
    energy_per_byte_j: Figure
    events_per_day: Figure | None = None
    bytes_per_event: int = 0
    windows_per_message: int = 1


@dataclass(frozen=True)
class Battery:
    """The battery: capacity (mAh) at a nominal voltage (V), self-discharge (%/month), usable share."""

    chemistry: str
    capacity_mah: Figure
    voltage_v: Figure
    self_discharge_pct_per_month: Figure
    usable_fraction: Figure


@dataclass(frozen=True)
class Solar:
    """A panel (W at full sun), peak-sun hours a day (h/day) and the charger's efficiency (0-1)."""

    panel_w: Figure
    sun_hours_per_day: Figure
    charger_efficiency: Figure


@dataclass(frozen=True)
class Cloud:
    """The cloud path of edge versus cloud: each window streamed raw and classified in a data centre."""

    energy_per_inference_j: Figure
    pue: Figure
    network_kwh_per_gb: Figure
    grid_gco2e_per_kwh: Figure
    windows_per_message: int = 1


@dataclass(frozen=True)
class Scenario:
    """A whole scenario; ``inference`` is None only for the raw-streaming variant of edge versus cloud."""

    name: str
    description: str
    label: str
    device: Device
    sensor: Sensor
    dsp: Workload | None
    inference: Workload | None
    policy: Policy
    radio: Radio
    battery: Battery
    solar: Solar | None
    cloud: Cloud

    def workloads(self) -> list[Workload]:
        """The DSP and inference run per window, those the scenario has."""
        return [w for w in (self.dsp, self.inference) if w is not None]


def timing_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """(key, problem) for each way the duty cycle cannot keep up with itself."""
    problems = []
    device = scenario.device
    busy_s = device.wake_overhead_s.value + sum(
        w.on(device.board, device.regulator).time_s for w in scenario.workloads())
    key, gap_s = scenario.policy.shortest_gap_s()
    if busy_s > gap_s:
        problems.append((f"policy.{key}", f"leaves {gap_s:.4g} s between windows but one window keeps the CPU busy "
                         f"{busy_s:.4g} s: allow more time between windows or use a faster board"))
    sampling_s = scenario.sensor.on_time_per_window_s.value
    if not isinstance(scenario.policy, AlwaysOn) and sampling_s > gap_s:
        problems.append(("sensor.on_time_per_window_s", f"samples {sampling_s:.4g} s per window but windows are "
                         f"{gap_s:.4g} s apart: shorten the sampling or use policy 'always_on'"))
    events = scenario.radio.events_per_day
    if events is not None and events.value > scenario.policy.windows_per_day():
        problems.append(("radio.events_per_day", f"is {events.value:g} but only "
                         f"{scenario.policy.windows_per_day():g} windows a day are classified: lower it"))
    return problems


# --- reading ------------------------------------------------------------------


def _device(top: s.Section, base_dir: Path | None) -> Device:
    table = top.section("device", ("board", "sleep_mode", "regulator", "other_current_a", "wake_overhead_s",
                                   "supply_efficiency"))
    name = table.text("board")
    path = (base_dir / name) if base_dir is not None and name.endswith(".toml") else name
    try:
        board = load_board(path)
    except FileNotFoundError as missing:
        raise table.error("board", f"names no board: {missing}") from None
    except BoardFileError as broken:
        raise table.error("board", f"is a broken board file: {broken}") from None
    sleep_mode = table.text("sleep_mode", tuple(board.sleep_current_a))
    regulator = table.text("regulator", tuple(board.active_current_a), default=board.regulator.value)
    return Device(board, sleep_mode, regulator,
                  table.figure("other_current_a", "A", s.NON_NEGATIVE, default=_NO_CURRENT),
                  table.figure("wake_overhead_s", "s", s.NON_NEGATIVE, default=_NO_OVERHEAD),
                  table.figure("supply_efficiency", "share reaching the rail", s.FRACTION, default=_DIRECT_SUPPLY))


def _sensor(top: s.Section) -> Sensor:
    table = top.section("sensor", ("name", "current_a", "on_time_per_window_s", "sample_rate_hz",
                                   "samples_per_window", "bytes_per_window"))
    if table.one_of("on_time_per_window_s", "sample_rate_hz") == "on_time_per_window_s":
        on_time = table.figure("on_time_per_window_s", "s")
    else:
        rate = table.figure("sample_rate_hz", "Hz")
        samples = table.count("samples_per_window", "samples", minimum=1)
        on_time = Figure(samples / rate.value, rate.kind, f"{samples} samples at {rate.value:g} Hz; {rate.source}")
    return Sensor(table.text("name", default="sensor"), table.figure("current_a", "A"), on_time,
                  table.count("bytes_per_window", "bytes"))


def _workload(top: s.Section, name: str, required: bool) -> Workload | None:
    allowed = ("instructions", "energy_j") + (("feature_bytes_per_window",) if name == "dsp" else ())
    table = top.section(name, allowed, required)
    if table is None:
        return None
    feature_bytes = table.count("feature_bytes_per_window", "bytes", default=0) if name == "dsp" else 0
    if table.one_of("instructions", "energy_j") == "energy_j":
        return Workload(name, None, table.figure("energy_j", "J"), feature_bytes)
    count = table.figure("instructions", "instructions")
    if count.value != int(count.value):
        raise table.error("instructions", f"should be a whole number of instructions, got {count.value:g}")
    return Workload(name, count, None, feature_bytes)


# The keys a policy or a radio table may hold depend on its kind or payload,
# so that word is read first (against every key) and the table again after.
_POLICY_KEYS = {
    "always_on": ("period_s",),
    "periodic": ("period_s",),
    "threshold": ("triggers_per_day", "monitor_current_a"),
    "adaptive": ("slow_period_s", "fast_period_s", "fast_fraction"),
}
_PAYLOAD_KEYS = {
    "raw": ("windows_per_message",),
    "features": ("windows_per_message",),
    "events": ("events_per_day", "bytes_per_event"),
}


def _every(keys: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(key for group in keys.values() for key in group))


def _policy(top: s.Section) -> Policy:
    kind = top.section("policy", ("kind", *_every(_POLICY_KEYS))).text("kind", tuple(_POLICY_KEYS))
    table = top.section("policy", ("kind", *_POLICY_KEYS[kind]))
    if kind == "threshold":
        return Threshold(table.figure("triggers_per_day", "windows per day"),
                         table.figure("monitor_current_a", "A", s.NON_NEGATIVE))
    if kind == "adaptive":
        slow, fast = table.figure("slow_period_s", "s"), table.figure("fast_period_s", "s")
        if fast.value > slow.value:
            raise table.error("fast_period_s", f"is {fast.value:g} s, longer than slow_period_s "
                              f"({slow.value:g} s): the fast period must be the shorter one")
        return Adaptive(slow, fast, table.figure("fast_fraction", "share of the day", s.SHARE))
    return (AlwaysOn if kind == "always_on" else Periodic)(table.figure("period_s", "s"))


def _radio(top: s.Section, dsp: Workload | None) -> Radio:
    common = ("technology", "payload", "energy_per_connection_j", "energy_per_byte_j")
    payload = top.section("radio", (*common, *_every(_PAYLOAD_KEYS))).text("payload", tuple(_PAYLOAD_KEYS))
    table = top.section("radio", (*common, *_PAYLOAD_KEYS[payload]))
    profile = RADIOS[table.text("technology", tuple(RADIOS))]
    costs = (table.figure("energy_per_connection_j", "J", s.NON_NEGATIVE, default=profile.energy_per_connection_j),
             table.figure("energy_per_byte_j", "J", s.NON_NEGATIVE, default=profile.energy_per_byte_j))
    if payload == "events":
        events = table.figure("events_per_day", "messages per day", s.NON_NEGATIVE)
        return Radio(profile.technology, payload, *costs, events, table.count("bytes_per_event", "bytes", minimum=1))
    if payload == "features" and (dsp is None or dsp.feature_bytes == 0):
        raise table.error("payload", "is 'features' but [dsp] gives no feature_bytes_per_window: add it or send 'raw'")
    return Radio(profile.technology, payload, *costs,
                 windows_per_message=table.count("windows_per_message", "windows", minimum=1, default=1))


def _battery(top: s.Section) -> Battery:
    table = top.section("battery", ("chemistry", "capacity_mah", "voltage_v", "self_discharge_pct_per_month",
                                    "usable_fraction"))
    chemistry = CHEMISTRIES[table.text("chemistry", tuple(CHEMISTRIES))]
    return Battery(chemistry.name, table.figure("capacity_mah", "mAh"), table.figure("voltage_v", "V"),
                   table.figure("self_discharge_pct_per_month", "% per month", s.PERCENT,
                                default=chemistry.self_discharge_pct_per_month),
                   table.figure("usable_fraction", "share of the capacity", s.FRACTION,
                                default=chemistry.usable_fraction))


def _solar(top: s.Section) -> Solar | None:
    table = top.section("solar", ("panel_w", "sun_hours_per_day", "charger_efficiency"), required=False)
    if table is None:
        return None
    return Solar(table.figure("panel_w", "W", s.NON_NEGATIVE),
                 table.figure("sun_hours_per_day", "h/day", s.HOURS_OF_DAY),
                 table.figure("charger_efficiency", "share reaching the battery", s.FRACTION))


def _cloud(top: s.Section) -> Cloud:
    keys = ("energy_per_inference_j", "pue", "network_kwh_per_gb", "grid_gco2e_per_kwh", "windows_per_message")
    table = top.section("cloud", keys, required=False)
    if table is None:
        return Cloud(DEFAULT_ENERGY_PER_CLOUD_INFERENCE, DEFAULT_PUE, DEFAULT_NETWORK_INTENSITY, DEFAULT_GRID_INTENSITY)
    return Cloud(
        table.figure("energy_per_inference_j", "J of IT energy", s.NON_NEGATIVE,
                     default=DEFAULT_ENERGY_PER_CLOUD_INFERENCE),
        table.figure("pue", "facility energy / IT energy", s.AT_LEAST_ONE, default=DEFAULT_PUE),
        table.figure("network_kwh_per_gb", "kWh/GB", s.NON_NEGATIVE, default=DEFAULT_NETWORK_INTENSITY),
        table.figure("grid_gco2e_per_kwh", "g CO2e/kWh", s.NON_NEGATIVE, default=DEFAULT_GRID_INTENSITY),
        table.count("windows_per_message", "windows", minimum=1, default=1),
    )


def parse_scenario(text: str, label: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    """Read a scenario from TOML ``text``; ``label`` names it in errors, board paths are relative to ``base_dir``."""
    src = s.SourceText(label, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise s.ScenarioError(f"{label}: not valid TOML: {err}") from None
    top = s.Section(src, data, "", ("schema", "name", "description", "device", "sensor", "dsp", "inference",
                                    "policy", "radio", "battery", "solar", "cloud"))
    if top.count("schema", "version", minimum=SCHEMA_VERSION) != SCHEMA_VERSION:
        raise top.error("schema", f"should be {SCHEMA_VERSION}, the only version this leafml reads")
    dsp = _workload(top, "dsp", required=False)
    scenario = Scenario(
        name=top.text("name"), description=top.text("description", default=""), label=label,
        device=_device(top, base_dir), sensor=_sensor(top), dsp=dsp,
        inference=_workload(top, "inference", required=True), policy=_policy(top), radio=_radio(top, dsp),
        battery=_battery(top), solar=_solar(top), cloud=_cloud(top))
    problems = timing_problems(scenario)
    if problems:
        raise src.error(*problems[0])
    return scenario


def examples_dir() -> Path:
    """The folder of the example scenarios shipped with leafml."""
    return Path(str(resources.files("leafml.energy") / "scenarios"))


def load_scenario(path: str | Path) -> Scenario:
    """Read the scenario TOML file at ``path`` (see the module docstring for the format)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise s.ScenarioError(f"{path}: no such scenario file; give the path of a .toml scenario "
                              f"(examples: {examples_dir()})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise s.ScenarioError(f"{path}: cannot read the scenario file ({err})") from None
    return parse_scenario(text, str(path), path.parent)
