"""Compile and run generated model C: on the host (rung 3 of the verification
ladder), on a Cortex-M4 in QEMU (rung 4), and on the other Cortex-M cores QEMU
emulates (M0, M3, M7, M33, M55), where flash and RAM sizes, stack use and
exact executed-instruction counts are measured."""

from .cortex_m import (
    FirmwareImage,
    FirmwareResult,
    SectionSizes,
    build_cortex_m,
    build_cortex_m4,
    check_toolchain,
    run_cortex_m,
    run_cortex_m4,
)
from .host import run_host
from .machines import CORES, CortexMCore
from .toolchain import FirmwareError, ToolchainMissing, find_tool

__all__ = [
    "CORES",
    "CortexMCore",
    "FirmwareError",
    "FirmwareImage",
    "FirmwareResult",
    "SectionSizes",
    "ToolchainMissing",
    "build_cortex_m",
    "build_cortex_m4",
    "check_toolchain",
    "find_tool",
    "run_cortex_m",
    "run_cortex_m4",
    "run_host",
]
