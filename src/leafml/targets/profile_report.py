"""A profile as rows, a self-contained HTML page and JSON.

Every number carries its unit and says whether it is measured (QEMU
instruction counts, ``arm-none-eabi-size``, the stack paint), estimated
(latency, energy, power: modelled CPI and datasheet currents) or someone
else's published measurement (MLPerf Tiny, labelled as such).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any, Sequence

from leafml.errors import LeafmlError
from leafml.report._html import page
from leafml.targets.estimate import Range
from leafml.targets.profile import BoardProfile, Profile

__all__ = ["REPORT_FILES", "ReportExists", "board_rows", "published_rows", "range_text", "write_profile_report"]

REPORT_FILES = ("profile.html", "profile.json")
# The first line of every page leafml writes, so a rerun may replace its
# own report but never a file of the user's that happens to share the name.
BANNER = "<!-- leafml profile report -->"

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d1d1f; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.no { color: #b00020; font-weight: 600; } .yes { color: #136f2a; font-weight: 600; }
.foot { color: #6b6b6b; font-size: 0.9rem; margin-top: 2rem; }
"""

BOARD_COLUMNS = ("Board", "MCU", "Core (count from)", "Clock (MHz)", "Instructions (measured)",
                 "Latency ms (estimated)", "Energy uJ (estimated)", "Peak power mW (estimated)",
                 "Flash used / available (B)", "RAM used / available (B)", "Fits")
PUBLISHED_COLUMNS = ("Model", "Board", "Stack (other stack's measurement)", "Latency ms (measured)",
                     "Energy uJ (measured)", "leafml latency ms (estimated)", "leafml energy uJ (estimated)")


class ReportExists(LeafmlError):
    """A file the report would overwrite that leafml did not write."""


def _num(value: float) -> str:
    # Three significant digits, without exponents for the thousands.
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def range_text(value: Range, scale: float) -> str:
    """``value`` times ``scale`` as "typical (low-high)", three significant digits."""
    return f"{_num(value.typical * scale)} ({_num(value.low * scale)}-{_num(value.high * scale)})"


def board_rows(profile: Profile) -> list[tuple[str, ...]]:
    """One row of `BOARD_COLUMNS` per board, as text."""
    rows = []
    for row in profile.boards:
        est, fit, board = row.estimate, row.fit, row.board
        source = board.core
        if est.proxy:
            source += f" (proxy: {row.measurement.core} count)"
        elif row.measurement.core != board.core:
            source += f" (counted on {row.measurement.core})"
        rows.append((
            board.id, board.mcu, source, f"{board.clock_hz.value / 1e6:g}",
            f"{row.measurement.mean_instructions:,}",
            range_text(est.latency_s, 1e3),
            range_text(est.energy_j, 1e6),
            _num(est.active_power_range_w.high * 1e3),
            f"{fit.flash_used_bytes:,} / {fit.flash_available_bytes:,}",
            f"{fit.ram_used_bytes:,} / {fit.ram_available_bytes:,}",
            "yes" if fit.ok else "no",
        ))
    return rows


def published_rows(profile: Profile) -> list[tuple[str, ...]]:
    """One row of `PUBLISHED_COLUMNS` per published MLPerf Tiny result on a profiled board."""
    rows = []
    for row in profile.boards:
        est = row.estimate
        for result in row.published:
            energy = _num(result.energy_j.value * 1e6) if result.energy_j is not None else "not published"
            rows.append((result.model, row.board.id, result.stack, _num(result.latency_s.value * 1e3), energy,
                         range_text(est.latency_s, 1e3),
                         range_text(est.energy_j, 1e6)))
    return rows


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            css = ' class="num"' if i in numeric else (f' class="{value}"' if value in ("yes", "no") else "")
            cells.append(f"<td{css}>{escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"


def _details(row: BoardProfile) -> str:
    est, m = row.estimate, row.measurement
    items = [
        f"instructions: measured in QEMU ({m.machine}, {m.core} build), per inference "
        f"{min(m.instructions):,}-{max(m.instructions):,} over {len(m.instructions)} random inputs"
        + ("; another instruction set than the board's (proxy), converted by the CPI" if est.proxy else ""),
        f"flash {m.flash_bytes:,} B and static RAM + stack {m.ram_bytes:,} B (stack {m.stack_bytes:,} B): "
        "measured (arm-none-eabi-size of the model's objects, stack paint in QEMU)",
        f"CPI {est.cpi.typical} ({est.cpi.low}-{est.cpi.high}), modelled: {est.sources['cpi']}",
        f"active current {est.active_current_a * 1e3:.3g} mA at {est.supply_v} V ({est.regulator}): "
        f"{est.sources['active_current_a']}",
        f"clock: {est.sources['clock_hz']}",
    ]
    if row.board.accelerator is not None:
        items.append(f"accelerator not used by leafml's C: {row.board.accelerator.value}")
    for overflow in row.fit.overflows:
        items.append(f"does not fit: {overflow.memory} exceeded by {overflow.excess_bytes:,} B "
                     f"({overflow.used_bytes:,} B used, {overflow.available_bytes:,} B available)")
    items += [f"option: {option}" for option in row.options]
    lis = "".join(f"<li>{escape(item)}</li>" for item in items)
    return f"<h3>{escape(row.board.name)}</h3><ul>{lis}</ul>"


def render_html(profile: Profile) -> str:
    """The whole page, self-contained (no external address)."""
    title = f"leafml profile: {profile.model}"
    parts = [
        f"<h1>{escape(title)}</h1>",
        "<p>Instruction counts, flash, RAM and stack are <b>measured</b> (QEMU, arm-none-eabi-size). "
        "Latency, energy and power are <b>estimated</b>: instructions x cycles per instruction (a modelled "
        "range per core) / clock, and supply voltage x datasheet current. Ranges are low-high around the "
        f"typical value. Reserves for the rest of the firmware: flash {profile.flash_reserve_bytes:,} B, "
        f"RAM {profile.ram_reserve_bytes:,} B.</p>",
        "<h2>Boards</h2>",
        _table(BOARD_COLUMNS, board_rows(profile), {3, 4, 5, 6, 7, 8, 9}),
    ]
    published = published_rows(profile)
    if published:
        parts += [
            "<h2>Published MLPerf Tiny measurements (other stacks)</h2>",
            "<p>These are other software stacks' measurements on real boards, published by MLPerf Tiny "
            "submitters, not leafml's; leafml's estimate for its own C is shown beside them.</p>",
            _table(PUBLISHED_COLUMNS, published, {3, 4, 5, 6}),
        ]
    parts += ["<h2>Details and sources</h2>", *(_details(row) for row in profile.boards),
              '<p class="foot">profile.json beside this file holds the same figures.</p>']
    return page(title, parts, style=_STYLE, before=[BANNER])


def profile_json(profile: Profile) -> dict[str, Any]:
    """The profile as plain data; units in the key names."""
    return {
        "model": profile.model,
        "flash_reserve_bytes": profile.flash_reserve_bytes,
        "ram_reserve_bytes": profile.ram_reserve_bytes,
        "measured": {core: {"machine": m.machine, "instructions": list(m.instructions),
                            "flash_bytes": m.flash_bytes, "ram_bytes": m.ram_bytes, "stack_bytes": m.stack_bytes}
                     for core, m in profile.measurements.items()},
        "boards": [{
            "board": row.board.id,
            "core": row.board.core,
            "measured_on": row.estimate.measured_on,
            "proxy": row.estimate.proxy,
            "instructions": row.measurement.mean_instructions,
            "cpi": vars(row.estimate.cpi),
            "latency_s": vars(row.estimate.latency_s),
            "energy_j": vars(row.estimate.energy_j),
            "active_power_w": vars(row.estimate.active_power_range_w),
            "flash_used_bytes": row.fit.flash_used_bytes,
            "flash_available_bytes": row.fit.flash_available_bytes,
            "ram_used_bytes": row.fit.ram_used_bytes,
            "ram_available_bytes": row.fit.ram_available_bytes,
            "fits": row.fit.ok,
            "options": list(row.options),
            "published": [{"model": r.model, "stack": r.stack, "latency_s": r.latency_s.value,
                           "energy_j": None if r.energy_j is None else r.energy_j.value,
                           "source": r.latency_s.source} for r in row.published],
        } for row in profile.boards],
    }


def write_profile_report(profile: Profile, out_dir: Path) -> Path:
    """Write profile.html and profile.json into ``out_dir``; return the HTML path.

    A file of either name that leafml did not write is never overwritten:
    `ReportExists` asks for another folder.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, json_path = (out_dir / name for name in REPORT_FILES)
    if html_path.exists() and not html_path.read_text(errors="replace").startswith(BANNER):
        raise ReportExists(f"{html_path} exists and was not written by leafml profile; choose another folder with --out")
    if json_path.exists() and not html_path.exists():
        raise ReportExists(f"{json_path} exists without a leafml profile.html beside it; choose another folder with --out")
    html_path.write_text(render_html(profile), encoding="utf-8")
    json_path.write_text(json.dumps(profile_json(profile), indent=2) + "\n", encoding="utf-8")
    return html_path
