"""Generated C cross-compiled for a Cortex-M core and run in QEMU, with the
firmware's size, its stack use and the exact executed-instruction count of
every inference measured.  The Cortex-M4 (mps2-an386) is rung 4 of the
verification ladder; the other cores of machines.py calibrate the per-core
cost model of leafml.targets.

The inputs are compiled into the image as a const array; the harness
(cortex_m_harness.c) prints each output vector over semihosting, and the
QEMU plugin (insn_count_plugin.c) counts the instructions of each
leafml_invoke call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .harness import FIRMWARE_DIR, check_inputs, size_defines
from .machines import CortexMCore, Machine, get_core
from .plugin import build_plugin
from .qemu import marker_addresses, plugin_option, run_qemu
from .toolchain import (
    FirmwareError,
    ToolchainMissing,
    compile_objects,
    find_tool,
    install_hint,
    link,
    run_tool,
)

# Same strictness as the host rung; per-function sections let the linker
# drop whatever the harness and newlib-nano bring but never call.
COMMON_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "--specs=nano.specs",
                "-ffunction-sections", "-fdata-sections"]
HARNESS_SOURCES = [FIRMWARE_DIR / "cortex_m_harness.c", FIRMWARE_DIR / "cortex_m_startup.c"]
# What ld says when an image does not fit a machine's memory region.
_OVERFLOW_WORDS = ("overflowed by", "will not fit in region")


@dataclass(frozen=True)
class SectionSizes:
    """Berkeley `size` figures, in bytes, measured from the build.

    text: code and read-only data (flash); data: initialised variables (RAM,
    with their initial values also in flash); bss: zero-initialised variables
    (RAM).  The stack is not included.
    """

    text: int
    data: int
    bss: int

    @property
    def flash(self) -> int:
        """Flash bytes: text plus the initial values of data."""
        return self.text + self.data

    @property
    def ram(self) -> int:
        """Static RAM bytes, stack excluded: data plus bss."""
        return self.data + self.bss


@dataclass(frozen=True)
class FirmwareImage:
    """A linked Cortex-M image and its sizes.

    `sizes` covers the whole ELF: model, harness, startup code, the libc
    routines linked in, and the embedded test inputs (N * input_size bytes of
    text).  `model_sizes` covers only the model's own object files, before the
    link (so without the libc routines they call).  `core` is the core the
    code was compiled for, `machine` the QEMU machine it was linked for.
    """

    elf: Path
    sizes: SectionSizes
    model_sizes: SectionSizes
    core: str
    machine: str


@dataclass(frozen=True)
class FirmwareResult:
    """What one QEMU run of the harness measured.

    outputs: int8 [N, output_size], the model's outputs on the core.
    instructions: per inference, the exact number of instructions executed
        by one leafml_invoke call, counting the `bl` that makes it through
        the return.
    stack_bytes: the deepest stack use of any one call, measured by
        painting the free stack (bytes below the caller's stack pointer).
    sizes, model_sizes, elf, core, machine: as in `FirmwareImage`.
    """

    outputs: np.ndarray
    instructions: list[int]
    stack_bytes: int
    sizes: SectionSizes
    model_sizes: SectionSizes
    elf: Path
    core: str
    machine: str


def build_cortex_m(
    core: str,
    sources: list[Path],
    include_dirs: list[Path],
    inputs: np.ndarray,
    output_size: int,
    work_dir: Path,
    opt: str = "-O2",
) -> FirmwareImage:
    """Cross-compile `sources` with the harness and `inputs` into an ELF for `core`.

    `core` is a name from `machines.CORES` ("cortex-m0", ..., "cortex-m55");
    the other arguments are those of `run_cortex_m`.  The image is linked
    for the first of the core's machines whose memories hold it.  Raises
    `FirmwareError` with the first diagnostic on a compile or link error
    (for an image too big for every machine, the last machine's), and
    `ToolchainMissing` when a tool or newlib-nano is not installed.
    """
    spec = get_core(core)
    inputs = check_inputs(inputs)
    if not opt.startswith("-O"):
        raise ValueError(f"opt must be a -O option such as -O2 or -Os, not {opt!r}")
    gcc = find_tool("arm-none-eabi-gcc")
    _require_newlib_nano(gcc)
    work_dir.mkdir(parents=True, exist_ok=True)
    _write_inputs_header(inputs, spec, work_dir / "leafml_inputs.h")

    compile_flags = [*COMMON_FLAGS, *spec.cpu_flags, opt]
    user_includes = [f"-I{d}" for d in include_dirs]
    # The harness's own directories come first so that a stray
    # leafml_inputs.h among the model's includes cannot shadow this run's.
    harness_flags = [*compile_flags, *size_defines(inputs.shape[1], output_size),
                     f"-I{work_dir}", f"-I{FIRMWARE_DIR}", *user_includes]
    what = f"{spec.title} firmware"
    model_objects = compile_objects(gcc, [*compile_flags, *user_includes], sources, work_dir / "model", what)
    harness_objects = compile_objects(gcc, harness_flags, HARNESS_SOURCES, work_dir / "harness", what)
    objects = [*model_objects, *harness_objects]
    # Every machine but the last is tried only while the image is too big for it.
    for machine in spec.machines[:-1]:
        try:
            return _link_image(gcc, objects, model_objects, spec, machine, work_dir)
        except FirmwareError as error:
            if not any(words in error.log for words in _OVERFLOW_WORDS):
                raise
    return _link_image(gcc, objects, model_objects, spec, spec.machines[-1], work_dir)


def run_cortex_m(
    core: str,
    sources: list[Path],
    include_dirs: list[Path],
    inputs: np.ndarray,
    output_size: int,
    work_dir: Path,
    opt: str = "-O2",
    timeout_s: float = 300.0,
) -> FirmwareResult:
    """Build the model for `core`, run it in QEMU on every input, measure.

    `core` is a name from `machines.CORES` ("cortex-m0", "cortex-m3",
    "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55").  `sources` are
    the model's C files (defining leafml_invoke), `include_dirs` where
    model.h and the runtime header are found; `inputs` is int8
    [N, input_size] (the image holds them in flash: several hundred fit the
    4 MiB machines, a few the micro:bit), `output_size` the model's output
    in bytes, `opt` the optimisation flag.  Build products go to `work_dir`.
    QEMU may run for at most `timeout_s` seconds.  Raises `FirmwareError` on
    a build error, a nonzero leafml_invoke status, a fault in the firmware
    or a timeout.
    """
    image = build_cortex_m(core, sources, include_dirs, inputs, output_size, work_dir, opt)
    title = get_core(core).title
    start, end = marker_addresses(image.elf)
    counts_file = work_dir / "instructions.txt"
    plugin_args = plugin_option(build_plugin(), start, end, counts_file)
    console = run_qemu(image.elf, plugin_args, timeout_s, machine=image.machine, title=title)

    outputs, stack_bytes = _parse_console(console, len(inputs), output_size, title)
    instructions = [int(n) for n in counts_file.read_text().split()]
    if len(instructions) != len(inputs):
        raise FirmwareError(f"the QEMU plugin counted {len(instructions)} calls for {len(inputs)} inputs")
    return FirmwareResult(
        outputs=outputs,
        instructions=instructions,
        stack_bytes=stack_bytes,
        sizes=image.sizes,
        model_sizes=image.model_sizes,
        elf=image.elf,
        core=image.core,
        machine=image.machine,
    )


def build_cortex_m4(
    sources: list[Path],
    include_dirs: list[Path],
    inputs: np.ndarray,
    output_size: int,
    work_dir: Path,
    opt: str = "-O2",
) -> FirmwareImage:
    """`build_cortex_m` for the Cortex-M4 of the ladder's rung 4 (mps2-an386)."""
    return build_cortex_m("cortex-m4", sources, include_dirs, inputs, output_size, work_dir, opt)


def run_cortex_m4(
    sources: list[Path],
    include_dirs: list[Path],
    inputs: np.ndarray,
    output_size: int,
    work_dir: Path,
    opt: str = "-O2",
    timeout_s: float = 300.0,
) -> FirmwareResult:
    """`run_cortex_m` for the Cortex-M4 of the ladder's rung 4 (mps2-an386)."""
    return run_cortex_m("cortex-m4", sources, include_dirs, inputs, output_size, work_dir, opt, timeout_s)


def _link_image(gcc: str, objects: list[Path], model_objects: list[Path], core: CortexMCore,
                machine: Machine, work_dir: Path) -> FirmwareImage:
    elf = work_dir / f"leafml_{core.name}_{machine.qemu_name}.elf"
    # -L: the machine's script INCLUDEs the shared cortex_m_sections.ld.
    flags = [*core.cpu_flags, "--specs=nano.specs", "-nostartfiles", f"-L{FIRMWARE_DIR}",
             "-T", str(FIRMWARE_DIR / machine.linker_script), "-Wl,--gc-sections"]
    link(gcc, objects, flags, elf, f"{core.title} firmware")
    return FirmwareImage(elf=elf, sizes=section_sizes([elf]), model_sizes=section_sizes(model_objects),
                         core=core.name, machine=machine.qemu_name)


def section_sizes(files: list[Path]) -> SectionSizes:
    """Summed Berkeley text/data/bss of ELF or object `files`, in bytes."""
    command = [find_tool("arm-none-eabi-size"), *map(str, files)]
    result = run_tool(command, "measuring firmware size", 30.0)
    if result.returncode != 0:
        raise FirmwareError(f"arm-none-eabi-size failed: {result.stderr.strip()}", result.stderr)
    totals = [0, 0, 0]
    # After the header line: text, data, bss, dec, hex, filename per file.
    for line in result.stdout.splitlines()[1:]:
        for i, field in enumerate(line.split()[:3]):
            totals[i] += int(field)
    return SectionSizes(*totals)


def _parse_console(console: str, n: int, output_size: int, title: str) -> tuple[np.ndarray, int]:
    """The output vectors (int8 [n, output_size]) and the stack figure
    (bytes) from the harness's console text; `title` names the core."""
    rows = [bytes.fromhex(line[2:]) for line in console.splitlines() if line.startswith("o ")]
    stack = [int(line.split()[1]) for line in console.splitlines() if line.startswith("stack ")]
    if len(rows) != n or len(stack) != 1:
        raise FirmwareError(f"the {title} harness printed {len(rows)} of {n} outputs and then stopped", console)
    if any(len(row) != output_size for row in rows):
        raise FirmwareError(f"the {title} harness printed an output that is not {output_size} bytes", console)
    return np.frombuffer(b"".join(rows), dtype=np.int8).reshape(n, output_size), stack[0]


def check_toolchain() -> None:
    """Raise `ToolchainMissing` unless rungs 3 and 4 (and every core of
    machines.py) can run here: host cc, arm-none-eabi-gcc with newlib-nano,
    and qemu-system-arm."""
    find_tool("cc")
    _require_newlib_nano(find_tool("arm-none-eabi-gcc"))
    find_tool("qemu-system-arm")


def _require_newlib_nano(gcc: str) -> None:
    # gcc echoes the bare name back when it cannot find the file.
    result = run_tool([gcc, "-print-file-name=nano.specs"], "locating newlib-nano", 30.0)
    if not Path(result.stdout.strip()).is_absolute():
        raise ToolchainMissing(f"newlib-nano (nano.specs) not found for {gcc}; "
                               f"install it with: {install_hint('arm-none-eabi-gcc')}")


def _write_inputs_header(inputs: np.ndarray, core: CortexMCore, path: Path) -> None:
    rows = ",\n".join("{" + ",".join(map(str, row)) + "}" for row in inputs.tolist())
    path.write_text(
        f"/* Generated by leafml.firmware: the test inputs of one {core.title} run. */\n"
        f"#define LEAFML_N_INPUTS {len(inputs)}u\n"
        "static const int8_t leafml_inputs[LEAFML_N_INPUTS][LEAFML_INPUT_SIZE] = {\n"
        f"{rows}\n}};\n"
    )
