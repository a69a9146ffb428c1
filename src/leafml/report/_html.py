"""The report page as one self-contained HTML string.

Self-contained means no external address at all: styles are inline and plots
are inline PNG data URIs, so the file opens the same offline, attached to a
mail or archived years later. Every piece of caller text passes through
`html.escape`, labels and class names included.
"""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

from leafml.report._rows import Row, Rung, format_value

__all__ = ["render_html"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d1d1f; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pass { color: #136f2a; font-weight: 600; } .fail { color: #b00020; font-weight: 600; }
.notrun { color: #6b6b6b; }
img { max-width: 100%; height: auto; }
.foot { color: #6b6b6b; font-size: 0.9rem; margin-top: 2rem; }
"""


def page(title: str, body: Sequence[str], style: str = _STYLE, before: Sequence[str] = ()) -> str:
    """A whole self-contained HTML page: ``before`` (e.g. a banner comment), head with ``title`` and ``style``, then ``body`` parts.

    Empty parts are dropped; the title is escaped, the body parts are HTML already.
    """
    head = [*before, "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            f"<title>{escape(title)}</title>", f"<style>{style}</style>", "</head>", "<body>"]
    return "\n".join(part for part in [*head, *body, "</body>", "</html>", ""] if part) + "\n"


def _cell(value: Any, css: str = "") -> str:
    attr = f' class="{css}"' if css else ""
    return f"<td{attr}>{escape(str(value))}</td>"


def _table(headers: Sequence[str], body_rows: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body_rows) + "\n</tbody></table>"


def _summary(rows: Sequence[Row]) -> str:
    lines = [
        "<tr>" + _cell(r.label) + _cell(format_value(r.value), "num") + _cell(r.unit) + _cell(r.provenance) + "</tr>"
        for r in rows
    ]
    return _table(["Figure", "Value", "Unit", "Measured or estimated"], lines)


def _ladder(rungs: Sequence[Rung]) -> str:
    verdicts = {True: ("pass", "pass"), False: ("FAIL", "fail"), None: ("not run", "notrun")}
    lines = []
    for rung in rungs:
        text, css = verdicts[rung.passed]
        lines.append("<tr>" + _cell(rung.name) + _cell(rung.compares) + _cell(text, css) + "</tr>")
    return _table(["Rung", "Compares", "Result"], lines)


def _extra(rows: Sequence[tuple[str, Any]]) -> str:
    lines = ["<tr>" + _cell(key) + _cell(format_value(value)) + "</tr>" for key, value in rows]
    return _table(["Key", "Value"], lines)


def render_html(
    title: str,
    summary: Sequence[Row],
    rungs: Sequence[Rung],
    confusion_png_uri: str,
    confusion_alt: str,
    extra: Sequence[tuple[str, Any]],
) -> str:
    """The whole page. ``confusion_png_uri`` must be a ``data:`` URI."""
    if not confusion_png_uri.startswith("data:image/png;base64,"):
        raise ValueError("the confusion-matrix image must be an inline data:image/png URI")
    parts = [
        f"<h1>{escape(title)}</h1>",
        "<h2>Summary</h2>",
        _summary(summary),
        "<h2>Verification ladder</h2>",
        "<p>Each rung runs the same int8 model another way and compares its outputs.</p>",
        _ladder(rungs),
        "<h2>Confusion matrix</h2>",
        f'<img src="{confusion_png_uri}" alt="{escape(confusion_alt)}">',
    ]
    if extra:
        parts += ["<h2>Details</h2>", _extra(extra)]
    parts.append('<p class="foot">metrics.json beside this file holds the metrics in machine-readable form.</p>')
    return page(title, parts)
