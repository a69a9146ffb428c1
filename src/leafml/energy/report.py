"""Tables and files for a simulation: summary rows, the HTML page and its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from leafml.energy.edge_cloud import EdgeCloudComparison
from leafml.energy.simulate import SimulationResult
from leafml.errors import LeafmlError

__all__ = ["OutputExistsError", "SimulationFiles", "simulation_dict", "summary_rows", "write_simulation_report"]

HTML_NAME = "simulation.html"
JSON_NAME = "simulation.json"


class OutputExistsError(LeafmlError):
    """The report would overwrite a file the user has."""


class SimulationFiles(NamedTuple):
    html: Path
    json: Path


def _whole(count: float) -> float | int:
    # A count that came out whole reads better as one: 43,200 rather than 4.32e+04.
    return int(count) if float(count).is_integer() else count


def summary_rows(result: SimulationResult) -> list[tuple[str, Any, str, str]]:
    """(label, value, unit, provenance) rows of the headline figures."""
    estimated = "estimated from the figures below"
    rows: list[tuple[str, Any, str, str]] = [
        ("Windows processed per day", _whole(result.windows_per_day), "per day", f"scenario policy ({result.scenario.policy.kind})"),
        ("Messages sent per day", _whole(result.messages_per_day), "per day", f"scenario radio ({result.scenario.radio.payload})"),
        ("Average power of the electronics", result.average_power_w * 1e6, "uW", estimated),
        ("Energy lost per day (with self-discharge)", result.total_j_per_day, "J/day", estimated),
        ("Usable battery energy", result.battery_usable_j, "J", estimated),
        ("Battery life without harvesting", result.battery_life_days, "days", estimated),
    ]
    if result.harvest_j_per_day is not None:
        with_solar = result.battery_life_days_with_solar
        rows += [
            ("Solar energy stored per day", result.harvest_j_per_day, "J/day", estimated),
            ("Energy-neutral", result.energy_neutral, "", "harvest >= energy lost per day"),
            ("Battery life with harvesting", "unlimited" if with_solar is None else with_solar,
             "" if with_solar is None else "days", estimated),
        ]
    return rows


def simulation_dict(result: SimulationResult, versus: EdgeCloudComparison) -> dict[str, Any]:
    """Both results as one JSON-ready dict."""
    return {"simulation": result.to_dict(), "edge_vs_cloud": versus.to_dict()}


def write_simulation_report(out_dir: Path, result: SimulationResult, versus: EdgeCloudComparison,
                            force: bool = False) -> SimulationFiles:
    """Write ``simulation.html`` (with the energy-per-day plot) and ``simulation.json`` into ``out_dir``.

    Refuses to overwrite either file unless ``force``; nothing else in the
    folder is touched.
    """
    # matplotlib loads only when a report is written, not for every simulation.
    from leafml.report._energy import energy_per_day_png, render_energy_html

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExistsError(f"output path {out_dir} is a file; choose a folder with --out")
    files = SimulationFiles(out_dir / HTML_NAME, out_dir / JSON_NAME)
    for path in files:
        if path.exists() and not force:
            raise OutputExistsError(f"{path} exists; choose another --out or pass --force to overwrite it")

    scenario = result.scenario
    total = result.total_j_per_day
    components = [(c.label, c.j_per_day, c.j_per_day / total, result.provenance(c.key)) for c in result.components]
    plot = energy_per_day_png([(c.label, c.j_per_day) for c in result.components], "Energy per day by component")
    grid = versus.grid_gco2e_per_kwh
    note = (f"Edge: {versus.edge.description}. Cloud: {versus.cloud.description}. Fleet of {versus.fleet:,}; "
            f"grid {grid.value:g} g CO2e/kWh ({grid.kind}: {grid.source}).")
    inputs = [(key, f.value, f.kind, f.source) for key, f in {**result.inputs, **versus.inputs}.items()]
    page = render_energy_html(f"leafml simulate: {scenario.name}", scenario.description, summary_rows(result),
                              components, plot, versus.rows(), note, inputs)
    text = json.dumps(simulation_dict(result, versus), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    out_dir.mkdir(parents=True, exist_ok=True)
    files.html.write_text(page, encoding="utf-8")
    files.json.write_text(text, encoding="utf-8")
    return files
