"""leafml_runtime.h: the kernels a model needs, pasted from ``kernels/*.h`` in dependency order.

Kernel files are plain C99 fragments without include guards or includes:
the assembled header provides ``<stddef.h>``, ``<stdint.h>`` and
``<string.h>`` once, fixes the rounding mode with ``LEAFML_SINGLE_ROUNDING``,
and guards the whole.  Every function in them is ``static`` and prefixed
``leafml_``, so two generated models can live in one firmware.
"""

from __future__ import annotations

from importlib import resources

from leafml.quant.fixedpoint import Rounding

# Each kernel file and the files it builds on (pasted before it).
REQUIRES: dict[str, tuple[str, ...]] = {
    "fixedpoint.h": ("round_half_even.h",),
    "window.h": (),
    "conv.h": ("fixedpoint.h", "window.h", "dsp.h"),
    "dsp.h": ("fixedpoint.h",),
    "fully_connected.h": ("fixedpoint.h", "dsp.h"),
    "pooling.h": ("window.h",),
    "max_pool.h": ("pooling.h",),
    "average_pool.h": ("pooling.h",),
    "softmax.h": ("fixedpoint.h",),
    "activations.h": (),
    "quantize.h": ("activations.h", "round_half_even.h"),
    "depthwise_conv.h": ("fixedpoint.h", "window.h", "dsp.h"),
    "in_place.h": ("window.h",),
    "nd.h": (),
    "round_half_even.h": (),
    "strided_copy.h": ("nd.h",),
    "pad.h": ("strided_copy.h",),
    "concatenation.h": ("strided_copy.h",),
    "broadcast.h": ("nd.h",),
    "add.h": ("fixedpoint.h", "broadcast.h"),
    "mul.h": ("fixedpoint.h", "broadcast.h", "round_half_even.h"),
    "mean.h": ("nd.h", "fixedpoint.h", "round_half_even.h"),
}


def kernel_source(name: str) -> str:
    """The text of one kernel file shipped in ``leafml/codegen/kernels``."""
    return resources.files("leafml.codegen").joinpath("kernels", name).read_text(encoding="utf-8")


def kernel_closure(kernels: list[str]) -> list[str]:
    """``kernels`` plus everything they build on, each once, dependencies first."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dependency in REQUIRES[name]:
            visit(dependency)
        ordered.append(name)

    for name in kernels:
        visit(name)
    return ordered


def runtime_header(kernels: list[str], rounding: Rounding, banner: str) -> str:
    """The text of leafml_runtime.h holding ``kernels`` (file names) for ``rounding``."""
    mode = "single rounding (LiteRT)" if rounding == "single" else "gemmlowp double rounding (TFLM, CMSIS-NN)"
    parts = [
        f"/* {banner}\n * int8 kernels; requantization uses {mode}. */",
        "#ifndef LEAFML_RUNTIME_H\n#define LEAFML_RUNTIME_H",
        "#include <stddef.h>\n#include <stdint.h>\n#include <string.h>",
        f"#define LEAFML_SINGLE_ROUNDING {int(rounding == 'single')}",
    ]
    for name in kernel_closure(kernels):
        parts.append(f"/* ---- {name} ---- */\n" + kernel_source(name).strip())
    parts.append("#endif /* LEAFML_RUNTIME_H */")
    return "\n\n".join(parts) + "\n"
