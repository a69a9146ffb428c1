"""Target boards and cores as data, and the first-order cost of running a model on one."""

from leafml.targets.catalog import Board, BoardFileError, BoardNotFound, list_boards, load_board, user_board_dirs
from leafml.targets.cores import Core, CpiRange, get_core, list_cores
from leafml.targets.estimate import Estimate, Range, estimate
from leafml.targets.fit import Fit, Overflow, fit_options, fits
from leafml.targets.schema import DataFileError, Figure

__all__ = [
    "Board",
    "BoardFileError",
    "BoardNotFound",
    "Core",
    "CpiRange",
    "DataFileError",
    "Estimate",
    "Figure",
    "Fit",
    "Overflow",
    "Range",
    "estimate",
    "fit_options",
    "fits",
    "get_core",
    "list_boards",
    "list_cores",
    "load_board",
    "user_board_dirs",
]
