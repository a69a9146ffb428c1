"""``leafml simulate``: battery life, energy per day and edge versus cloud for a scenario file."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from leafml.commands import whole_number


def _intensity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a number of g CO2e/kWh >= 0, got {text!r}")
    return value


def register(commands) -> None:
    simulate = commands.add_parser(
        "simulate", help="energy per day, battery life and edge versus cloud of a duty-cycle scenario (TOML)")
    simulate.add_argument("scenario", type=Path, metavar="SCENARIO.toml",
                          help="scenario file; the greenhouse example ships in leafml/energy/scenarios/")
    simulate.add_argument("--fleet", type=whole_number("devices"), default=1, metavar="N",
                          help="number of devices for the edge-versus-cloud totals (default: 1)")
    simulate.add_argument("--grid-gco2-per-kwh", type=_intensity, default=None, metavar="X",
                          help="grid carbon intensity in g CO2e/kWh (default: the scenario's, else the world average)")
    simulate.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    simulate.add_argument("--out", type=Path, metavar="DIR", help="also write simulation.html and simulation.json here")
    simulate.add_argument("--force", action="store_true", help="overwrite simulation.html and simulation.json in DIR")
    simulate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from leafml.energy import compare_edge_cloud, load_scenario, simulate
    from leafml.energy.report import simulation_dict, summary_rows, write_simulation_report

    scenario = load_scenario(args.scenario)
    result = simulate(scenario)
    versus = compare_edge_cloud(scenario, fleet=args.fleet, grid_gco2e_per_kwh=args.grid_gco2_per_kwh)
    files = write_simulation_report(args.out, result, versus, force=args.force) if args.out else None
    if args.json:
        print(json.dumps(simulation_dict(result, versus), indent=2, ensure_ascii=False, allow_nan=False))
        return 0
    _print_tables(result, versus, summary_rows(result), files)
    return 0


def _print_tables(result, versus, summary, files) -> None:
    from rich.console import Console
    from rich.table import Table

    from leafml.report import format_value

    console = Console()
    total = result.total_j_per_day
    energy = Table(title=f"{result.scenario.name}: energy per day")
    for name, justify in (("component", "left"), ("J/day", "right"), ("share", "right"), ("rests on", "left")):
        energy.add_column(name, justify=justify)
    for c in result.components:
        energy.add_row(c.label, format_value(c.j_per_day), f"{c.j_per_day / total:.1%}", result.provenance(c.key))
    energy.add_row("total", format_value(total), "100.0%", "", style="bold")
    console.print(energy)

    headline = Table(title="Summary")
    for name, justify in (("figure", "left"), ("value", "right"), ("unit", "left"), ("how", "left")):
        headline.add_column(name, justify=justify)
    for label, value, unit, how in summary:
        headline.add_row(label, format_value(value), unit, how)
    console.print(headline)

    grid = versus.grid_gco2e_per_kwh.value
    compared = Table(title=f"Edge versus cloud (estimated): fleet of {versus.fleet:,}, grid {grid:g} g CO2e/kWh")
    for name, justify in (("figure", "left"), ("edge", "right"), ("cloud", "right"), ("unit", "left")):
        compared.add_column(name, justify=justify)
    for label, edge, cloud, unit in versus.rows():
        compared.add_row(label, format_value(edge), format_value(cloud), unit)
    console.print(compared)
    console.print(f"edge: {versus.edge.description}; cloud: {versus.cloud.description}")
    if files is not None:
        console.print(f"report: {files.html}")
