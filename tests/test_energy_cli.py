"""``leafml simulate``: tables, JSON, the HTML report, and one-line refusals."""

from __future__ import annotations

import base64
import json
import re

import pytest
from test_energy import TOY_SCENARIO, write_toy

from leafml.cli import main
from leafml.energy import scenario_path
from leafml.report._energy import energy_per_day_png, render_energy_html

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_prints_the_tables(tmp_path, capsys):
    assert main(["simulate", str(write_toy(tmp_path)), "--fleet", "3"]) == 0
    out = capsys.readouterr().out
    for text in ("Toy node: energy per day", "MCU sleep", "Battery life",
                 "Edge versus cloud (estimated): fleet of 3", "Energy for 3 devices per year"):
        assert text in out


def test_json_carries_every_figure_with_its_source(tmp_path, capsys):
    assert main(["simulate", str(write_toy(tmp_path)), "--json", "--fleet", "10", "--grid-gco2-per-kwh", "100"]) == 0
    data = json.loads(capsys.readouterr().out)
    simulation, versus = data["simulation"], data["edge_vs_cloud"]
    assert simulation["windows_per_day"] == 8640
    assert set(simulation["energy_j_per_day"]) == {"sensor", "mcu_active", "mcu_sleep", "board_other", "radio",
                                                   "supply_loss", "self_discharge"}
    assert all(f["kind"] in ("measured", "datasheet", "assumption") and f["source"]
               for f in simulation["inputs"].values())
    assert versus["fleet"] == 10 and versus["grid_gco2e_per_kwh"] == 100
    assert versus["cloud"]["kwh_per_fleet_year"] == pytest.approx(10 * versus["cloud"]["kwh_per_device_year"])


def test_shipped_greenhouse_runs(capsys):
    assert main(["simulate", str(scenario_path("greenhouse_solar")), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["simulation"]["energy_neutral"] is True


def test_out_writes_the_report_and_keeps_the_users_files(tmp_path, capsys):
    scenario = write_toy(tmp_path)
    out = tmp_path / "report"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["simulate", str(scenario), "--out", str(out)]) == 0
    page = (out / "simulation.html").read_text(encoding="utf-8")
    assert "Energy per day by component" in page and "Figures and sources" in page
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1))
    assert png.startswith(PNG_MAGIC)
    assert json.loads((out / "simulation.json").read_text())["simulation"]["scenario"] == "Toy node"

    capsys.readouterr()
    assert main(["simulate", str(scenario), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("leafml: error: ") and "--force" in err and err.count("\n") == 1
    assert main(["simulate", str(scenario), "--out", str(out), "--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine"


def test_a_bad_scenario_exits_2_with_one_line(tmp_path, capsys):
    scenario = write_toy(tmp_path, TOY_SCENARIO.replace("capacity_mah = 1000", "capacity_mah = -5"))
    assert main(["simulate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert err == f"leafml: error: {scenario}:32: 'battery.capacity_mah' should be a positive number (mAh), got int -5\n"


@pytest.mark.parametrize("flags", [["--fleet", "0"], ["--fleet", "many"], ["--grid-gco2-per-kwh", "-3"]])
def test_bad_flags_are_usage_errors(tmp_path, flags):
    with pytest.raises(SystemExit) as exited:
        main(["simulate", str(write_toy(tmp_path)), *flags])
    assert exited.value.code == 2


def test_energy_page_escapes_caller_text():
    hostile = "<script>alert('x')</script>"
    png = energy_per_day_png([(hostile, 1.0), ("radio", 0.5)], hostile)
    assert png.startswith(PNG_MAGIC)
    page = render_energy_html(hostile, hostile, [(hostile, 1.0, "J", hostile)], [(hostile, 1.0, 0.5, hostile)], png,
                              [(hostile, 1.0, 2.0, "J")], hostile, [(hostile, 1.0, "assumption", hostile)])
    assert hostile not in page
    assert "http" not in page


def test_energy_plot_refuses_nonsense():
    with pytest.raises(ValueError):
        energy_per_day_png([], "empty")
    with pytest.raises(ValueError):
        energy_per_day_png([("sensor", -1.0)], "negative")
