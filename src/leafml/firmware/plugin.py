"""Building the instruction-counting QEMU plugin on demand.

Debian ships QEMU with plugin support but no plugins, so leafml carries the
plugin's C source and compiles it with the host compiler the first time it is
needed.  The shared object is cached under the user's cache directory, keyed
by a hash of the source and the build command, so an edited plugin rebuilds.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .harness import FIRMWARE_DIR
from .toolchain import COMPILE_TIMEOUT_S, FirmwareError, find_tool, first_error_line, run_tool

PLUGIN_SOURCE = FIRMWARE_DIR / "insn_count_plugin.c"
# C11 for the plugin: it is host code, loaded into QEMU, not model code.
PLUGIN_CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden"]


def cache_dir() -> Path:
    """leafml's cache directory: $XDG_CACHE_HOME/leafml, else ~/.cache/leafml."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "leafml"


def build_plugin() -> Path:
    """Path of the compiled instruction-count plugin, building it if needed."""
    cc = find_tool("cc")
    key = hashlib.sha256(PLUGIN_SOURCE.read_bytes())
    key.update(" ".join([cc, *PLUGIN_CFLAGS]).encode())
    target = cache_dir() / f"insn_count_plugin-{key.hexdigest()[:16]}.so"
    if target.exists():
        return target

    target.parent.mkdir(parents=True, exist_ok=True)
    # Build under a private name, then rename: concurrent test workers may
    # race here, and a reader must never load a half-written library.
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    command = [cc, *PLUGIN_CFLAGS, str(PLUGIN_SOURCE), "-o", str(partial)]
    result = run_tool(command, "building the QEMU plugin", COMPILE_TIMEOUT_S)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        message = f"building the QEMU plugin failed: {first_error_line(result.stderr)}"
        raise FirmwareError(message, result.stderr)
    os.replace(partial, target)
    return target
