"""The Cortex-M cores leafml measures and the QEMU machines that run them.

Each core names the compiler flags that build for it (instruction set and
float ABI, so the count is that of code a real part of that core would run)
and the QEMU 7.2 machines that emulate it, each with its linker script.  A
core lists more than one machine only when the first has too little memory
for larger models: the micro:bit, QEMU's only Cortex-M0, has 256 KiB of flash
and 16 KiB of RAM.  An ARMv6-M image executes the same instructions on any
later M-profile core (ARMv6-M is a subset of ARMv7-M), so running it on the
Cortex-M3 of mps2-an385 gives the Cortex-M0 count, not the M3's; the M3's own
count comes from the M3 build.
"""

from __future__ import annotations

from dataclasses import dataclass

from .toolchain import FirmwareError

__all__ = ["CORES", "CortexMCore", "Machine", "get_core"]


@dataclass(frozen=True)
class Machine:
    """A QEMU machine and the linker script placing the harness in its memory."""

    qemu_name: str  # the -M argument
    linker_script: str  # file name beside this module
    cpu: str  # the core QEMU emulates on it, for messages


@dataclass(frozen=True)
class CortexMCore:
    """A core leafml builds for: name, compiler flags, machines to run on."""

    name: str  # "cortex-m4"
    title: str  # "Cortex-M4", used in messages
    cpu_flags: tuple[str, ...]
    machines: tuple[Machine, ...]  # tried in order; the first the image fits runs it


_AN385 = Machine("mps2-an385", "mps2_an385.ld", "Cortex-M3")

CORES: dict[str, CortexMCore] = {
    core.name: core
    for core in (
        # ARMv6-M has no FPU: float (the softmax) runs in libgcc's soft-float routines.
        CortexMCore("cortex-m0", "Cortex-M0", ("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"),
                    (Machine("microbit", "microbit.ld", "Cortex-M0"), _AN385)),
        CortexMCore("cortex-m3", "Cortex-M3", ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"), (_AN385,)),
        CortexMCore("cortex-m4", "Cortex-M4",
                    ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
                    (Machine("mps2-an386", "mps2_an386.ld", "Cortex-M4"),)),
        # QEMU's Cortex-M7 has the double-precision FPU, as the STM32H7 parts do.
        CortexMCore("cortex-m7", "Cortex-M7",
                    ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
                    (Machine("mps2-an500", "mps2_an500.ld", "Cortex-M7"),)),
        CortexMCore("cortex-m33", "Cortex-M33",
                    ("-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
                    (Machine("mps2-an505", "mps2_an505.ld", "Cortex-M33"),)),
        # -mcpu=cortex-m55 implies MVE with floating point (Helium), which
        # GCC's vectoriser may use in the kernels' inner loops.
        CortexMCore("cortex-m55", "Cortex-M55", ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
                    (Machine("mps3-an547", "mps3_an547.ld", "Cortex-M55"),)),
    )
}


def get_core(name: str) -> CortexMCore:
    """The core called ``name`` (``"cortex-m4"``...); `FirmwareError` names the known ones."""
    if name not in CORES:
        raise FirmwareError(f"no Cortex-M core named {name!r}; choose one of: {', '.join(CORES)}")
    return CORES[name]
