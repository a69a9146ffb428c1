"""What the host and the Cortex-M harness share: where their C sources live,
how inputs are checked, and the defines that tie a build to the sizes the
caller expects."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# The harness C sources, linker script and QEMU plugin ship beside this module.
FIRMWARE_DIR = Path(__file__).parent


def check_inputs(inputs: np.ndarray) -> np.ndarray:
    """Return `inputs` as a C-contiguous int8 array of shape [N, input_size].

    Raises TypeError for another dtype (a silent cast would hide a
    quantization bug) and ValueError for another shape or N == 0.
    """
    if not isinstance(inputs, np.ndarray) or inputs.dtype != np.int8:
        raise TypeError(f"inputs must be a numpy int8 array, not {getattr(inputs, 'dtype', type(inputs))}")
    if inputs.ndim != 2 or inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise ValueError(f"inputs must have shape [N, input_size] with N, input_size > 0, not {inputs.shape}")
    return np.ascontiguousarray(inputs)


def size_defines(input_size: int, output_size: int) -> list[str]:
    """Compiler flags that make a harness fail to build unless model.h
    declares these LEAFML_INPUT_SIZE and LEAFML_OUTPUT_SIZE (bytes)."""
    if output_size <= 0:
        raise ValueError(f"output_size must be positive, not {output_size}")
    return [f"-DLEAFML_HARNESS_INPUT_SIZE={input_size}", f"-DLEAFML_HARNESS_OUTPUT_SIZE={output_size}"]
