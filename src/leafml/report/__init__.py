"""The run report: one self-contained HTML page with plots, and metrics.json."""

from leafml.report._report import REQUIRED_METRICS, ReportFiles, write_report
from leafml.report._rows import LADDER, Row, Rung, format_value, parity_rungs

__all__ = [
    "LADDER",
    "REQUIRED_METRICS",
    "ReportFiles",
    "Row",
    "Rung",
    "format_value",
    "parity_rungs",
    "write_report",
]
