"""The memory plan as a picture: buffers as boxes over steps (x) and arena bytes (y), as PNG bytes.

Drawn on a ``matplotlib.figure.Figure`` with its own Agg canvas, as the
report's other plots are, so nothing touches the process's global backend.
Each box carries the symbol that :func:`~leafml.plan.buffers.format_plan`
gives its buffer, so the picture and the ASCII legend read together.
"""

from __future__ import annotations

import io

from leafml.plan.buffers import Buffer, Plan, buffer_symbols, lower_bound


def timeline_png(buffers: list[Buffer], plan: Plan, title: str, bound: int | None = None) -> bytes:
    """PNG of ``plan``: one box per buffer from its first to its last step, at its offset, ``size`` bytes tall.

    Dashed lines mark the arena and the lower bound (``bound`` bytes, by
    default the peak of live bytes of ``buffers``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(9.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    symbols = buffer_symbols(buffers)
    colours = [f"C{i % 10}" for i in range(len(buffers))]
    for b, colour in zip(buffers, colours):
        if not b.size:
            continue
        offset = plan.offsets[b.name]
        ax.add_patch(Rectangle((b.first_use - 0.45, offset), b.last_use - b.first_use + 0.9, b.size, facecolor=colour, alpha=0.6, edgecolor="black"))
        ax.text((b.first_use + b.last_use) / 2, offset + b.size / 2, symbols[b.name], ha="center", va="center", fontsize=8)
    steps = [s for b in buffers for s in (b.first_use, b.last_use)] or [0]
    ax.set_xlim(min(steps) - 0.6, max(steps) + 0.6)
    bound = lower_bound(buffers) if bound is None else bound
    ax.set_ylim(0, max(plan.arena_bytes, bound, 1) * 1.08)
    ax.axhline(plan.arena_bytes, color="black", linestyle="--", linewidth=1, label=f"arena {plan.arena_bytes:,} B")
    ax.axhline(bound, color="red", linestyle=":", linewidth=1, label=f"lower bound {bound:,} B")
    ax.set_xlabel("step (node index)")
    ax.set_ylabel("arena offset (bytes)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the axes, clear of the boxes
    out = io.BytesIO()
    # No "Software" text chunk: it carries a web address, and the report promises none.
    fig.savefig(out, format="png", dpi=100, metadata={"Software": None})
    return out.getvalue()
