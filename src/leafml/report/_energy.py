"""The energy report: a bar plot of energy per day by component, and its page.

Like the run report, the page is self-contained (inline styles, the plot as
a ``data:`` URI) and every caller string is escaped. The page is built from
plain rows so this module needs nothing from `leafml.energy`.
"""

from __future__ import annotations

import io
from html import escape
from typing import Any, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leafml.report._html import _cell, _table, page
from leafml.report._plot import png_data_uri
from leafml.report._rows import format_value, rows_from

__all__ = ["energy_per_day_png", "render_energy_html"]


def energy_per_day_png(components: Sequence[tuple[str, float]], title: str) -> bytes:
    """PNG of a horizontal bar chart: one bar per (label, J/day), labelled with its share."""
    if not components:
        raise ValueError("an energy-per-day plot needs at least one component")
    values = [float(j) for _, j in components]
    if any(j < 0 for j in values):
        raise ValueError("energy per day cannot be negative")
    total = sum(values)
    labels = [str(label) for label, _ in components]

    fig = Figure(figsize=(8.0, 0.5 * len(labels) + 1.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    rows = range(len(labels))
    ax.barh(rows, values, color="#3a7d44")
    ax.set_yticks(rows, labels=labels)
    ax.invert_yaxis()  # first component on top, as in the table
    ax.set_xlabel("energy per day (J/day)")
    ax.set_title(title)
    for row, value in zip(rows, values):
        share = f" ({value / total:.0%})" if total > 0 else ""
        ax.text(value, row, f" {value:.3g}{share}", va="center")
    ax.set_xlim(0, max(values) * 1.3 if max(values) > 0 else 1.0)

    buffer = io.BytesIO()
    # No "Software" chunk: it carries a web address and the report promises none.
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _rows_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int]) -> str:
    body = ["<tr>" + "".join(_cell(format_value(v), "num" if i in numeric else "") for i, v in enumerate(row)) + "</tr>"
            for row in rows]
    return _table(headers, body)


def render_energy_html(
    title: str,
    description: str,
    summary: Sequence[Sequence[Any]],
    components: Sequence[Sequence[Any]],
    plot_png: bytes,
    comparison: Sequence[Sequence[Any]],
    comparison_note: str,
    inputs: Sequence[Sequence[Any]],
) -> str:
    """The whole energy page.

    ``summary`` holds (label, value, unit, provenance) rows; ``components``
    (component, J/day, share 0-1, provenance); ``comparison`` (figure, edge,
    cloud, unit); ``inputs`` (key, value, kind, source), the figures behind
    everything else.
    """
    summary_rows = rows_from(summary)
    shares = [(label, j, f"{share:.1%}", how) for label, j, share, how in components]
    parts = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(description)}</p>" if description else "",
        "<h2>Summary</h2>",
        _rows_table(["Figure", "Value", "Unit", "Measured or estimated"], summary_rows, numeric=(1,)),
        "<h2>Energy per day by component</h2>",
        f'<img src="{png_data_uri(plot_png)}" alt="{escape("bar chart of energy per day (J/day) by component")}">',
        _rows_table(["Component", "J/day", "Share", "Rests on"], shares, numeric=(1, 2)),
        "<h2>Edge versus cloud</h2>",
        f"<p>{escape(comparison_note)}</p>",
        _rows_table(["Figure", "Edge", "Cloud", "Unit"], comparison, numeric=(1, 2)),
        "<h2>Figures and sources</h2>",
        _rows_table(["Key", "Value", "Kind", "Source"], inputs, numeric=(1,)),
        '<p class="foot">simulation.json beside this file holds the same figures in machine-readable form.</p>',
    ]
    return page(title, parts)
