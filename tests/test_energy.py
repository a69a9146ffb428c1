"""The physics of the duty-cycle simulation, pinned by hand-worked numbers.

A toy board and scenario with round numbers are written here (so the figures
do not move when the shipped catalog is refined); test_energy_scenario.py
and test_energy_cli.py import them.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from leafml.energy import (
    RADIOS,
    ScenarioError,
    compare_edge_cloud,
    greenhouse_scenario,
    greenhouse_summary,
    load_scenario,
    lora_time_on_air_s,
    simulate,
    streamed_raw,
)
from leafml.energy import physics as p
from leafml.energy.policies import Adaptive, AlwaysOn, Threshold
from leafml.energy.scenario import Solar, Workload
from leafml.report import format_value
from leafml.report._rows import rows_from
from leafml.targets import Figure, estimate

TOY_BOARD = """\
schema = 2
id = "toy"
name = "Toy board"
mcu = "toy-mcu"
core = "cortex-m4"
clock_hz = { value = 64_000_000, kind = "datasheet", source = "toy datasheet" }
sram_bytes = { value = 262_144, kind = "datasheet", source = "toy datasheet" }
flash_bytes = { value = 1_048_576, kind = "datasheet", source = "toy datasheet" }
supply_v = { value = 3.0, kind = "datasheet", source = "toy datasheet" }
datasheet_supply_v = { value = 3.0, kind = "datasheet", source = "toy datasheet" }
regulator = { value = "ldo", kind = "assumption", source = "toy" }
active_current_a.ldo = { value = 5.0e-3, kind = "datasheet", source = "toy datasheet" }
sleep_current_a.idle = { value = 2.0e-6, kind = "datasheet", source = "toy datasheet" }
sleep_current_a.off = { value = 0.5e-6, kind = "datasheet", source = "toy datasheet" }
"""

# The error tests in test_energy_scenario.py count lines in this text:
# [battery] is on line 30 and capacity_mah on line 32.
TOY_SCENARIO = """\
schema = 1
name = "Toy node"

[device]
board = "toy.toml"
sleep_mode = "idle"
other_current_a = 1e-6
wake_overhead_s = 1e-3

[sensor]
current_a = 1e-3
on_time_per_window_s = 0.01
bytes_per_window = 4

[inference]
energy_j = 22.5e-6

[policy]
kind = "periodic"
period_s = 10.0

[radio]
technology = "ble"
payload = "events"
events_per_day = 24
bytes_per_event = 10
energy_per_connection_j = 1e-3
energy_per_byte_j = 1e-5

[battery]
chemistry = "alkaline"
capacity_mah = 1000
voltage_v = 3.0
self_discharge_pct_per_month = 1.0
usable_fraction = 0.9
"""


def write_toy(folder: Path, scenario: str = TOY_SCENARIO) -> Path:
    """Write the toy board and ``scenario`` into ``folder``; return the scenario's path."""
    (folder / "toy.toml").write_text(TOY_BOARD, encoding="utf-8")
    path = folder / "node.toml"
    path.write_text(scenario, encoding="utf-8")
    return path


@pytest.fixture
def toy(tmp_path):
    return load_scenario(write_toy(tmp_path))


# --- units and the small formulas ---------------------------------------------


def test_energy_is_power_times_time():
    assert p.power_w(3.0, 5e-3) == pytest.approx(0.015)
    assert p.energy_j(0.015, 2.0) == pytest.approx(0.03)
    assert p.energy_j(2.0, 3.0) == p.energy_j(3.0, 2.0) == 6.0


def test_unit_conversions():
    assert p.battery_energy_j(1000, 3.7) == pytest.approx(1.0 * 3600 * 3.7)  # 1 Ah at 3.7 V
    assert p.kwh(3.6e6) == pytest.approx(1.0)
    assert p.kg_co2e(2.0, 500.0) == pytest.approx(1.0)  # 2 kWh x 500 g/kWh
    assert p.solar_j_per_day(1.0, 1.0, 1.0) == pytest.approx(3600.0)  # 1 W for an hour
    assert p.network_j(1e9, 1.0) == pytest.approx(3.6e6)  # one GB at 1 kWh/GB
    assert p.average_power_w(86_400.0) == pytest.approx(1.0)  # 1 J every second
    # A month's self-discharge, accumulated day by day, is the quoted percentage.
    assert p.self_discharge_j_per_day(1000.0, 3.0) * p.DAYS_PER_MONTH == pytest.approx(30.0)


def test_battery_life_needs_a_drain():
    assert p.battery_life_days(100.0, 4.0) == 25.0
    with pytest.raises(ValueError):
        p.battery_life_days(100.0, 0.0)


def test_lora_time_on_air_matches_semtech_formula():
    # SF9 BW125 CR4/5, 13 bytes: 4.096 ms symbols, 12.25 preamble symbols (50.176 ms)
    # and 28 payload symbols (114.688 ms), 164.864 ms in all.
    assert lora_time_on_air_s(13, spreading_factor=9) == pytest.approx(0.164864)
    # SF12 turns low data rate optimisation on: 32.768 ms symbols, 8 + ceil(100/40) x 5 = 23
    # payload symbols, (12.25 + 23) x 32.768 ms.
    assert lora_time_on_air_s(13, spreading_factor=12) == pytest.approx(35.25 * 0.032768)


def test_every_radio_cost_is_positive_and_sourced():
    for name, radio in RADIOS.items():
        for figure in (radio.energy_per_connection_j, radio.energy_per_byte_j):
            assert figure.value > 0 and figure.source.strip(), name
            assert figure.kind in ("measured", "datasheet", "assumption"), name
        assert radio.message_j(10) == pytest.approx(radio.energy_per_connection_j.value
                                                    + 10 * radio.energy_per_byte_j.value)


# --- a known scenario computed by hand ------------------------------------------


def test_known_scenario_by_hand(toy):
    result = simulate(toy)
    active_w = 3.0 * 5e-3                      # 0.015 W while the CPU runs
    windows = 86_400 / 10.0                    # 8,640 wakes a day
    inference_s = 22.5e-6 / active_w           # 1.5 ms: the given energy spent at active power
    busy_s = 1e-3 + inference_s                # plus 1 ms of wake overhead
    expected = {
        "sensor": 3.0 * 1e-3 * 0.01 * windows,                 # 0.2592 J
        "mcu_active": windows * active_w * busy_s,              # 0.324 J
        "mcu_sleep": 3.0 * 2e-6 * (86_400 - windows * busy_s),  # 0.51827 J
        "board_other": 3.0 * 1e-6 * 86_400,                    # 0.2592 J
        "radio": 24 * (1e-3 + 10 * 1e-5),                       # 0.0264 J
        "supply_loss": 0.0,
        "self_discharge": 1000 * 3.6 * 3.0 * 0.01 / (365.2425 / 12),  # 1 % of 10,800 J a month
    }
    assert result.j_per_day() == pytest.approx(expected)
    total = sum(expected.values())
    load = total - expected["self_discharge"]
    assert result.total_j_per_day == pytest.approx(total)
    assert result.average_power_w == pytest.approx(load / 86_400)
    assert result.battery_usable_j == pytest.approx(1000 * 3.6 * 3.0 * 0.9)
    assert result.battery_life_days == pytest.approx(9720.0 / total)
    assert result.windows_per_day == windows and result.messages_per_day == 24 and result.bytes_per_day == 240
    assert result.energy_neutral is None and result.battery_life_days_with_solar is None


def test_an_instruction_count_goes_through_the_board_estimate(toy):
    counted = dataclasses.replace(toy, inference=Workload("inference", Figure(64_000, "measured", "test"), None))
    cost = estimate(toy.device.board, 64_000)
    result = simulate(counted)
    windows = 8640
    assert result.component("mcu_active").j_per_day == pytest.approx(
        windows * (0.015 * 1e-3 + cost.energy_j.typical))
    assert result.inputs["inference.instructions"].kind == "measured"
    assert "board.cpi" in result.component("mcu_active").inputs


def test_every_component_names_its_figures_and_their_kinds(toy):
    result = simulate(toy)
    for component in result.components:
        assert component.inputs and all(key in result.inputs for key in component.inputs)
    # Bare numbers in the file are assumptions; the board's currents are datasheet figures.
    assert result.inputs["sensor.current_a"].kind == "assumption"
    assert result.provenance("mcu_sleep") == "datasheet + assumption"
    assert result.to_dict()["energy_j_per_day"] == pytest.approx(result.j_per_day())


def test_supply_efficiency_adds_the_regulator_loss(toy):
    base = simulate(toy)
    lossy = dataclasses.replace(toy, device=dataclasses.replace(
        toy.device, supply_efficiency=Figure(0.8, "assumption", "test")))
    result = simulate(lossy)
    rail_j = base.load_j_per_day
    assert result.component("supply_loss").j_per_day == pytest.approx(rail_j * (1 / 0.8 - 1))
    assert result.load_j_per_day == pytest.approx(rail_j / 0.8)


def test_always_on_keeps_cpu_and_sensor_running(toy):
    result = simulate(dataclasses.replace(toy, policy=AlwaysOn(Figure(1.0, "assumption", "test"))))
    assert result.component("mcu_active").j_per_day == pytest.approx(0.015 * 86_400)
    assert result.component("mcu_sleep").j_per_day == 0.0
    assert result.component("sensor").j_per_day == pytest.approx(3.0 * 1e-3 * 86_400)
    assert result.windows_per_day == 86_400


def test_threshold_wakes_only_on_triggers_and_pays_for_the_monitor(toy):
    policy = Threshold(Figure(100, "assumption", "test"), Figure(5e-6, "datasheet", "test"))
    result = simulate(dataclasses.replace(toy, policy=policy))
    assert result.windows_per_day == 100
    # 100 sampled windows plus the sensor watching its threshold all day.
    assert result.component("sensor").j_per_day == pytest.approx(3.0 * 1e-3 * 0.01 * 100 + 3.0 * 5e-6 * 86_400)


def test_adaptive_mixes_two_periods(toy):
    policy = Adaptive(Figure(60.0, "assumption", "t"), Figure(2.0, "assumption", "t"), Figure(0.25, "assumption", "t"))
    result = simulate(dataclasses.replace(toy, policy=policy))
    # A quarter of the day at one window per 2 s, the rest at one per minute.
    assert result.windows_per_day == pytest.approx(0.25 * 86_400 / 2 + 0.75 * 86_400 / 60)


def test_raw_payload_sends_every_window(toy):
    radio = dataclasses.replace(toy.radio, payload="raw", events_per_day=None, windows_per_message=4)
    result = simulate(dataclasses.replace(toy, radio=radio))
    assert result.messages_per_day == pytest.approx(8640 / 4)
    assert result.bytes_per_day == pytest.approx(8640 * 4)
    assert result.component("radio").j_per_day == pytest.approx(2160 * 1e-3 + 34_560 * 1e-5)


def test_a_window_longer_than_its_period_is_refused(toy):
    hurried = dataclasses.replace(toy, policy=dataclasses.replace(toy.policy, period_s=Figure(1e-3, "assumption", "t")))
    with pytest.raises(ScenarioError, match="policy.period_s.*keeps the CPU busy"):
        simulate(hurried)


# --- harvesting -----------------------------------------------------------------


def _with_panel(scenario, panel_w):
    one = Figure(1.0, "assumption", "test")
    return dataclasses.replace(scenario, solar=Solar(Figure(panel_w, "assumption", "test"), one, one))


def test_energy_neutral_exactly_at_the_threshold(toy):
    total = simulate(toy).total_j_per_day
    at = simulate(_with_panel(toy, total / 3600))        # 1 sun hour, a lossless charger
    assert at.harvest_j_per_day == pytest.approx(total)
    assert at.energy_neutral is True and at.battery_life_days_with_solar is None

    short = simulate(_with_panel(toy, 0.9 * total / 3600))
    assert short.energy_neutral is False
    # The panel covers 90 % of the loss, so the battery lasts ten times longer.
    assert short.battery_life_days_with_solar == pytest.approx(10 * short.battery_life_days)


def test_a_dark_panel_is_not_energy_neutral(toy):
    result = simulate(_with_panel(toy, 0.0))
    assert result.energy_neutral is False
    assert result.battery_life_days_with_solar == pytest.approx(result.battery_life_days)


# --- edge versus cloud ------------------------------------------------------------


def test_fleet_scales_linearly(toy):
    one = compare_edge_cloud(toy, fleet=1)
    many = compare_edge_cloud(toy, fleet=250)
    for path_one, path_many in ((one.edge, many.edge), (one.cloud, many.cloud)):
        assert path_many.kwh_per_year(250) == pytest.approx(250 * path_one.kwh_per_year())
        assert path_many.kg_co2e_per_year(400, 250) == pytest.approx(250 * path_one.kg_co2e_per_year(400))


def test_cloud_path_by_hand(toy):
    versus = compare_edge_cloud(toy, fleet=1, grid_gco2e_per_kwh=100.0)
    cloud = toy.cloud
    windows = 8640
    assert versus.cloud.datacentre_j_per_day == pytest.approx(
        windows * cloud.energy_per_inference_j.value * cloud.pue.value)
    assert versus.cloud.network_j_per_day == pytest.approx(windows * 4 / 1e9 * cloud.network_kwh_per_gb.value * 3.6e6)
    assert versus.edge.datacentre_j_per_day == 0.0
    total_j = versus.cloud.total_j_per_day * 365
    assert versus.cloud.kwh_per_year() == pytest.approx(total_j / 3.6e6)
    assert versus.cloud.kg_co2e_per_year(100.0) == pytest.approx(total_j / 3.6e6 * 0.1)
    assert versus.grid_gco2e_per_kwh.value == 100.0


def test_raw_variant_runs_no_model_and_sends_every_window(toy):
    raw = streamed_raw(toy)
    assert raw.inference is None and raw.dsp is None and raw.radio.payload == "raw"
    result = simulate(raw)
    assert result.messages_per_day == pytest.approx(8640)
    # Only the wake overhead is left on the CPU: 1 ms at 15 mW per window.
    assert result.component("mcu_active").j_per_day == pytest.approx(8640 * 0.015 * 1e-3)


def test_bad_fleet_and_grid_are_refused(toy):
    with pytest.raises(ValueError, match="fleet"):
        compare_edge_cloud(toy, fleet=0)
    with pytest.raises(ValueError, match="grid"):
        compare_edge_cloud(toy, grid_gco2e_per_kwh=-1.0)


# --- the shipped greenhouse example --------------------------------------------------


def test_greenhouse_scenario_is_plausible():
    result = simulate(greenhouse_scenario())
    assert result.windows_per_day == 43_200  # a reading every 2 s
    assert 1e-6 < result.average_power_w < 1e-3
    assert 365 < result.battery_life_days < 20 * 365
    solar = simulate(greenhouse_scenario(solar=True))
    assert solar.energy_neutral is True
    versus = compare_edge_cloud(result.scenario, fleet=1000)
    assert versus.cloud.kwh_per_year() > versus.edge.kwh_per_year()


def test_greenhouse_takes_the_measured_instruction_count():
    stand_in = simulate(greenhouse_scenario()).component("mcu_active").j_per_day
    bigger = simulate(greenhouse_scenario(instructions=10_000_000)).component("mcu_active").j_per_day
    assert bigger > stand_in
    with pytest.raises(ValueError):
        greenhouse_scenario(instructions=0)


def test_greenhouse_summary_rows_fit_the_report():
    rows = greenhouse_summary(fleet=10)
    rows_from(rows)  # every number has a unit and a provenance
    labels = [row[0] for row in rows]
    assert len(set(labels)) == len(labels)
    assert all(format_value(row[1]) for row in rows)
    assert not any(isinstance(row[1], float) and not math.isfinite(row[1]) for row in rows)
