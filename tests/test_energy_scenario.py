"""Scenario files: the format is strict, and every refusal is one line naming file, line and key."""

from __future__ import annotations

import pytest
from test_energy import TOY_SCENARIO, write_toy

from leafml.energy import ScenarioError, load_scenario, parse_scenario, scenario_path
from leafml.errors import LeafmlError

BATTERY_HEADER_LINE = 30
CAPACITY_LINE = 32


def refusal(tmp_path, text: str) -> str:
    """The one-line message with which ``text`` is refused."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_toy(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    assert isinstance(caught.value, LeafmlError)
    return message


def test_the_toy_scenario_loads(tmp_path):
    scenario = load_scenario(write_toy(tmp_path))
    assert scenario.name == "Toy node" and scenario.device.board.id == "toy"
    assert scenario.battery.capacity_mah.value == 1000


def test_shipped_examples_load():
    for name in ("greenhouse", "greenhouse_solar"):
        assert load_scenario(scenario_path(name)).name.startswith("Greenhouse")


def test_missing_key_points_at_its_table(tmp_path):
    message = refusal(tmp_path, TOY_SCENARIO.replace("capacity_mah = 1000\n", ""))
    assert message.startswith(f"{tmp_path / 'node.toml'}:{BATTERY_HEADER_LINE}: 'battery.capacity_mah' is missing")
    assert "positive number (mAh)" in message


def test_unknown_key_is_a_typo_not_a_missing_key(tmp_path):
    message = refusal(tmp_path, TOY_SCENARIO.replace("capacity_mah = 1000", "capacity_mha = 1000"))
    assert f":{CAPACITY_LINE}: 'battery.capacity_mha' is not a known key" in message
    assert "capacity_mah" in message  # the allowed keys are listed


def test_wrong_type_is_refused(tmp_path):
    message = refusal(tmp_path, TOY_SCENARIO.replace("capacity_mah = 1000", 'capacity_mah = "1000"'))
    assert f":{CAPACITY_LINE}: 'battery.capacity_mah' should be a positive number (mAh), got str '1000'" in message


def test_negative_capacity_is_refused(tmp_path):
    message = refusal(tmp_path, TOY_SCENARIO.replace("capacity_mah = 1000", "capacity_mah = -5"))
    assert f":{CAPACITY_LINE}: 'battery.capacity_mah' should be a positive number (mAh), got int -5" in message


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("capacity_mah = 1000", "capacity_mah = true", "should be a positive number (mAh), got bool True"),
    ("capacity_mah = 1000", "capacity_mah = nan", "should be a positive number (mAh), got float nan"),
    ("usable_fraction = 0.9", "usable_fraction = 1.5", "'battery.usable_fraction' should be a fraction in (0, 1]"),
    ("chemistry = \"alkaline\"", "chemistry = \"plutonium\"", "should be one of 'alkaline'"),
    ("kind = \"periodic\"", "kind = \"sometimes\"", "'policy.kind' should be one of 'always_on'"),
    ("technology = \"ble\"", "technology = \"zigbee\"", "'radio.technology' should be one of 'ble'"),
    ("sleep_mode = \"idle\"", "sleep_mode = \"coma\"", "'device.sleep_mode' should be one of 'idle', 'off'"),
    ("bytes_per_event = 10", "bytes_per_event = 2.5", "'radio.bytes_per_event' should be a whole number >= 1"),
    ("energy_j = 22.5e-6", "instructions = 64000.5", "should be a whole number of instructions"),
    ("energy_j = 22.5e-6", "energy_j = 1e-6\ninstructions = 5", "needs exactly one of 'instructions' or 'energy_j'"),
    ("schema = 1", "schema = 2", "'schema' should be 1"),
    ("period_s = 10.0", "period_s = 0.001", "'policy.period_s' leaves 0.001 s between windows"),
    ("events_per_day = 24", "events_per_day = 9000", "'radio.events_per_day' is 9000 but only 8640 windows"),
])
def test_bad_values_are_refused_with_what_is_allowed(tmp_path, old, new, expected):
    assert old in TOY_SCENARIO
    assert expected in refusal(tmp_path, TOY_SCENARIO.replace(old, new))


def test_a_sourced_figure_table_is_checked_too(tmp_path):
    sourced = 'capacity_mah = { value = 1000, kind = "datasheet", source = "cell datasheet, table 2" }'
    scenario = load_scenario(write_toy(tmp_path, TOY_SCENARIO.replace("capacity_mah = 1000", sourced)))
    assert scenario.battery.capacity_mah.kind == "datasheet"
    guessed = sourced.replace('"datasheet"', '"guess"')
    message = refusal(tmp_path, TOY_SCENARIO.replace("capacity_mah = 1000", guessed))
    assert f":{CAPACITY_LINE}: 'battery.capacity_mah.kind' should be one of 'datasheet', 'measured', 'assumption'" in message


def test_sensor_timing_is_given_one_way(tmp_path):
    both = TOY_SCENARIO.replace("on_time_per_window_s = 0.01", "on_time_per_window_s = 0.01\nsample_rate_hz = 100.0")
    assert "needs exactly one of 'on_time_per_window_s' or 'sample_rate_hz'" in refusal(tmp_path, both)
    by_rate = TOY_SCENARIO.replace("on_time_per_window_s = 0.01", "sample_rate_hz = 100.0\nsamples_per_window = 1")
    assert load_scenario(write_toy(tmp_path, by_rate)).sensor.on_time_per_window_s.value == pytest.approx(0.01)


def test_features_need_a_dsp_block(tmp_path):
    features = TOY_SCENARIO.replace('payload = "events"\nevents_per_day = 24\nbytes_per_event = 10',
                                    'payload = "features"')
    assert "'radio.payload' is 'features' but [dsp] gives no feature_bytes_per_window" in refusal(tmp_path, features)


def test_keys_of_another_policy_are_refused(tmp_path):
    message = refusal(tmp_path, TOY_SCENARIO.replace("period_s = 10.0", "period_s = 10.0\ntriggers_per_day = 4"))
    assert "'policy.triggers_per_day' is not a known key; allowed in [policy]: kind, period_s" in message


def test_unknown_board_lists_the_catalog(tmp_path):
    message = refusal(tmp_path, TOY_SCENARIO.replace('board = "toy.toml"', 'board = "no_such_board"'))
    assert ":5: 'device.board' names no board" in message and "nano33_ble_sense" in message


def test_broken_toml_and_missing_file(tmp_path):
    assert "not valid TOML" in refusal(tmp_path, TOY_SCENARIO + "\n[battery\n")
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "absent.toml")


def test_parse_scenario_names_the_text_in_errors():
    with pytest.raises(ScenarioError, match=r"^inline:\d+: 'policy.kind' should be one of"):
        text = TOY_SCENARIO.replace('board = "toy.toml"', 'board = "nano33_ble_sense"')
        parse_scenario(text.replace('kind = "periodic"', 'kind = "never"'), label="inline")
