"""Running a Cortex-M firmware image in one of QEMU's machines (machines.py).

The image talks to the host only through ARM semihosting: SYS_WRITE0 text
goes to the semihosting console, and SYS_EXIT ends QEMU with status 0
(success) or 1 (failure).  QEMU 7.2 writes that console to its own stderr
unless told otherwise, mixed with its error messages, so the console is
routed to a file of its own.  No display, monitor or serial port is attached.
"""

from __future__ import annotations

from pathlib import Path

from .toolchain import FirmwareError, find_tool, run_tool

# The ladder's rung 4; machines.py names the machine of every other core.
LADDER_MACHINE = "mps2-an386"
QUIET_ARGS = ["-display", "none", "-monitor", "none", "-serial", "none"]
# Lines the harness and its fault handler print when they stop the run.
GUEST_ERROR_PREFIX = "leafml firmware:"
MARKERS = ("leafml_mark_start", "leafml_mark_end")


def run_qemu(elf: Path, extra_args: list[str], timeout_s: float, *,
             machine: str = LADDER_MACHINE, title: str = "Cortex-M4") -> str:
    """Run `elf` on QEMU's `machine` with `extra_args`; return the guest's console text.

    `title` names the core in messages.  Raises `FirmwareError` if QEMU does
    not exit within `timeout_s` seconds (a hung firmware), or exits with
    failure: the message is the guest's own error line (a nonzero
    leafml_invoke status, a fault, a stack overflow) or else QEMU's.
    """
    console_file = elf.with_suffix(".console.txt")
    console_file.unlink(missing_ok=True)
    command = [
        find_tool("qemu-system-arm"), "-M", machine, *QUIET_ARGS,
        "-chardev", f"file,id=console,path={_escape(console_file)}",
        "-semihosting-config", "enable=on,target=native,chardev=console",
        "-kernel", str(elf), *extra_args,
    ]
    result = run_tool(command, f"QEMU running {elf.name}", timeout_s)
    console = console_file.read_text(errors="replace") if console_file.exists() else ""
    if result.returncode != 0:
        guest_errors = [line for line in console.splitlines() if line.startswith(GUEST_ERROR_PREFIX)]
        if guest_errors:
            reason = guest_errors[0]
        else:
            qemu_lines = result.stderr.strip().splitlines()
            reason = qemu_lines[0] if qemu_lines else f"QEMU exit status {result.returncode}"
        raise FirmwareError(f"{title} run failed: {reason}", console + result.stderr)
    return console


def marker_addresses(elf: Path) -> tuple[int, int]:
    """Code addresses of the harness labels around the `bl leafml_invoke`."""
    result = run_tool([find_tool("arm-none-eabi-nm"), str(elf)], "reading firmware symbols", 30.0)
    if result.returncode != 0:
        raise FirmwareError(f"arm-none-eabi-nm failed on {elf.name}: {result.stderr.strip()}", result.stderr)
    symbols = {}
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] in MARKERS:
            # Bit 0 of a Thumb code address only selects the instruction set.
            symbols[fields[2]] = int(fields[0], 16) & ~1
    missing = [name for name in MARKERS if name not in symbols]
    if missing:
        raise FirmwareError(f"{elf.name} lacks the harness markers {', '.join(missing)}")
    return symbols[MARKERS[0]], symbols[MARKERS[1]]


def plugin_option(plugin: Path, start: int, end: int, counts_file: Path) -> list[str]:
    """The QEMU arguments that load the instruction-count plugin."""
    return ["-plugin", f"{_escape(plugin)},start={start:#x},end={end:#x},out={_escape(counts_file)}"]


def _escape(path: Path) -> str:
    # QEMU option values escape a comma by doubling it.
    return str(path).replace(",", ",,")
