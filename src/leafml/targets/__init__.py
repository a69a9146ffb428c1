"""Target boards as data, and the first-order cost of running a model on one."""

from leafml.targets.catalog import Board, BoardFileError, CpiRange, Figure, list_boards, load_board
from leafml.targets.estimate import Estimate, Fit, Range, estimate, fits

__all__ = [
    "Board",
    "BoardFileError",
    "CpiRange",
    "Estimate",
    "Figure",
    "Fit",
    "Range",
    "estimate",
    "fits",
    "list_boards",
    "load_board",
]
