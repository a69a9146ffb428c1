"""Finding the external tools and running them with timeouts.

The firmware rungs of the verification ladder shell out to a host C compiler,
the GNU Arm Embedded toolchain and QEMU.  Every call goes through `run_tool`,
so nothing here can hang, and every failure becomes a one-line
`FirmwareError` whose `log` keeps the tool's full output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from leafml.errors import LeafmlError

APT_INSTALL = "apt-get install -y --no-install-recommends"
# One command installs everything the Cortex-M rung needs, whichever of its
# tools turned out to be missing.
CORTEX_M_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
_PACKAGES = {
    "cc": "gcc",
    "arm-none-eabi-gcc": CORTEX_M_PACKAGES,
    "arm-none-eabi-size": CORTEX_M_PACKAGES,
    "arm-none-eabi-nm": CORTEX_M_PACKAGES,
    "qemu-system-arm": CORTEX_M_PACKAGES,
}

# gcc names the linker by its full installation path in every message.
_LD_PATH = re.compile(r"^\S*/ld: ")

# Seconds; a compile of generated model C with a few MB of arrays takes a few.
COMPILE_TIMEOUT_S = 120.0


class FirmwareError(LeafmlError):
    """A firmware build or run failed.

    The message is one line; `log` holds the full output of the failing tool.
    """

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class ToolchainMissing(FirmwareError):
    """A required external tool is not installed.

    The message is one line naming the tool and the command that installs it.
    """


def install_hint(name: str) -> str:
    """The shell command that installs the Debian package providing `name`."""
    return f"{APT_INSTALL} {_PACKAGES.get(name, name)}"


def find_tool(name: str) -> str:
    """Absolute path of executable `name` on PATH, or raise `ToolchainMissing`."""
    path = shutil.which(name)
    if path is None:
        raise ToolchainMissing(f"{name} not found on PATH; install it with: {install_hint(name)}")
    return path


def run_tool(command: list[str], what: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """Run `command` capturing text output; raise `FirmwareError` on timeout.

    `what` names the step in messages ("linking firmware", ...).  The exit
    status is left to the caller, which knows what failure means.
    """
    try:
        return subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        log = _text(exc.stdout) + _text(exc.stderr)
        raise FirmwareError(f"{what} did not finish within {timeout_s:g} s", log) from None


def first_error_line(log: str) -> str:
    """The line of a compiler or linker log that says what went wrong.

    gcc's own diagnostics contain "error:"; linker failures ("undefined
    reference", "region ... overflowed", a failed ASSERT) are lines from `ld`
    itself.  collect2's closing "ld returned 1 exit status" never explains
    anything, and "in function" lines only give context.  The linker's long
    installation path is shortened to "ld:".
    """
    lines = [_LD_PATH.sub("ld: ", line.strip()) for line in log.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("collect2") or line.endswith("':"):
            continue
        if "error:" in line or "undefined reference" in line or line.startswith("ld: "):
            return line
    return lines[0] if lines else "(no output)"


def compile_objects(
    compiler: str, flags: list[str], sources: list[Path], prefix: Path, what: str
) -> list[Path]:
    """Compile each of `sources` to an object file named after `prefix`.

    Returns the object paths in the order of `sources`; raises
    `FirmwareError` with the first diagnostic if a compile fails.
    """
    objects = []
    for index, source in enumerate(sources):
        # The index keeps two sources with the same name apart.
        obj = prefix.parent / f"{prefix.name}.{index}.{source.stem}.o"
        command = [compiler, *flags, "-c", str(source), "-o", str(obj)]
        _build(command, f"compiling {source.name} ({what})")
        objects.append(obj)
    return objects


def link(compiler: str, objects: list[Path], flags: list[str], output: Path, what: str) -> None:
    """Link `objects` into `output`; raise `FirmwareError` on failure."""
    _build([compiler, *map(str, objects), *flags, "-o", str(output)], f"linking {what}")


def _build(command: list[str], what: str) -> None:
    result = run_tool(command, what, COMPILE_TIMEOUT_S)
    if result.returncode != 0:
        log = result.stderr + result.stdout
        raise FirmwareError(f"{what} failed: {first_error_line(log)}", log)


def _text(stream: bytes | str | None) -> str:
    if stream is None:
        return ""
    return stream if isinstance(stream, str) else stream.decode(errors="replace")
