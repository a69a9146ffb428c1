"""Battery chemistries: the self-discharge and usable share a scenario gets by default.

A scenario names its chemistry and may state both figures itself; these
defaults are typical values, each with where it comes from, for a cell at
room temperature.
"""

from __future__ import annotations

from dataclasses import dataclass

from leafml.targets import Figure

__all__ = ["CHEMISTRIES", "Chemistry"]

_SELF_DISCHARGE_TABLES = (
    "Typical self-discharge tables: Battery University BU-802b 'What does Elevated Self-discharge Do?', "
    "Table 3, and Wikipedia 'Self-discharge', table 'Typical self-discharge by battery type' "
    "(both read through secondary copies, not checked against the primary measurements)"
)


@dataclass(frozen=True)
class Chemistry:
    """Default figures of one battery chemistry."""

    name: str
    description: str
    self_discharge_pct_per_month: Figure
    usable_fraction: Figure


CHEMISTRIES: dict[str, Chemistry] = {
    "alkaline": Chemistry(
        "alkaline",
        "primary zinc-manganese dioxide cells (AA, AAA)",
        Figure(0.25, "assumption", f"3 % per year (the high end of 2-3 % per year). {_SELF_DISCHARGE_TABLES}"),
        Figure(0.8, "assumption", "Assumption: rated capacities are to 0.8 V per cell; a 3 V board stops "
               "near 1.0 V per cell, leaving about a fifth of the charge unused"),
    ),
    "lithium_primary": Chemistry(
        "lithium_primary",
        "primary lithium cells (Li-FeS2 AA, Li-MnO2 coin cells)",
        Figure(10 / 60, "assumption", f"10 % in 5 years. {_SELF_DISCHARGE_TABLES}"),
        Figure(0.9, "assumption", "Assumption: a flat discharge curve lets a 3 V board use most of the charge"),
    ),
    "li_ion": Chemistry(
        "li_ion",
        "rechargeable lithium-ion cells with a protection circuit",
        Figure(3.0, "assumption", f"2-3 % per month, the high end. {_SELF_DISCHARGE_TABLES}"),
        Figure(0.8, "assumption", "Assumption: a 3.3 V regulator needs about 3.5 V, so the cell is used "
               "from 4.2 V to about 3.5 V, roughly four fifths of its charge"),
    ),
    "lipo": Chemistry(
        "lipo",
        "rechargeable lithium-polymer pouch cells with a protection circuit",
        Figure(5.0, "assumption", f"About 5 % per month. {_SELF_DISCHARGE_TABLES}"),
        Figure(0.8, "assumption", "Assumption: a 3.3 V regulator needs about 3.5 V, so the cell is used "
               "from 4.2 V to about 3.5 V, roughly four fifths of its charge"),
    ),
    "nimh": Chemistry(
        "nimh",
        "standard rechargeable nickel-metal hydride cells",
        Figure(30.0, "assumption", f"30 % per month. {_SELF_DISCHARGE_TABLES}"),
        Figure(0.9, "assumption", "Assumption: a flat 1.2 V plateau; most of the charge is above a 1.0 V cut-off"),
    ),
    "nimh_lsd": Chemistry(
        "nimh_lsd",
        "low self-discharge nickel-metal hydride cells",
        Figure(15 / 12, "assumption", "15 % in a year. Typical figure quoted by HDP Power's "
               "'self-discharge difference between lithium and nickel-based battery chemistries' table; "
               "not checked against a cell datasheet"),
        Figure(0.9, "assumption", "Assumption: a flat 1.2 V plateau; most of the charge is above a 1.0 V cut-off"),
    ),
}
