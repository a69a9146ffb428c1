"""The two real runtimes leafml is verified against.

* LiteRT (``ai-edge-litert``, default op resolver, x86-64): most int8
  operators run in its XNNPACK delegate (convolutions, fully-connected,
  MUL, MEAN, LOGISTIC, TANH, QUANTIZE...), the rest in LiteRT's own kernels
  (SOFTMAX from a float expf table, RELU with TFLite's rounding...).  The
  reference interpreter's ``"single"`` mode reproduces exactly that per
  operator; each operator module says which arithmetic it follows.  The
  BUILTIN_REF resolver is not used: it is neither runtime users deploy.
* TFLM (``tflite-micro``'s Python interpreter): the runtime of a
  microcontroller, double rounding; bit-exact with ``"double"`` mode.

Both take the .tflite bytes that leafml wrote and a batch of int8 (or
float32) inputs, run them one sample at a time (the models have batch 1) and
return the outputs stacked.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

import numpy as np

from leafml.errors import LeafmlError

PEER_ROUNDING = {"litert": "single", "tflm": "double"}


class PeerError(LeafmlError, RuntimeError):
    """A peer runtime refused or failed to run a model."""


def run_litert(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """Outputs of LiteRT's interpreter (default resolver) for each sample of ``inputs``."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        # LiteRT logs "Created TensorFlow Lite XNNPACK delegate" on stderr from C++.
        interpreter = Interpreter(model_content=model)
        _capture_stderr(interpreter.allocate_tensors)
    except (RuntimeError, ValueError) as e:
        raise PeerError(f"LiteRT could not load the model: {e}") from None
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    outputs = []
    for sample in inputs:
        interpreter.set_tensor(input_index, sample[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(output_index)[0].copy())
    return np.stack(outputs)


def tflm_interpreter(model: bytes):
    """A TFLM Python interpreter for ``model`` (PeerError if TFLM refuses it)."""
    from tflite_micro.python.tflite_micro import runtime

    try:
        # TFLM's default arena is too small for larger models; the arena it
        # really plans is reported by tflm_arena_bytes, not by this bound.
        return runtime.Interpreter.from_bytes(model, arena_size=max(1 << 20, 4 * len(model)))
    except (RuntimeError, ValueError) as e:
        raise PeerError(f"TFLM could not load the model: {e}") from None


def run_tflm(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """Outputs of TFLM's interpreter for each sample of ``inputs``."""
    interpreter = tflm_interpreter(model)
    outputs = []
    for sample in inputs:
        interpreter.set_input(sample[None], 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0)[0].copy())
    return np.stack(outputs)


def tflm_arena_bytes(model: bytes) -> dict[str, int]:
    """TFLM's own arena figures for ``model``: ``head`` (planned activations), ``tail`` and ``total`` bytes.

    Read from ``print_allocations()``, which TFLM's C++ logger writes to the
    process's stderr, so that file descriptor itself is captured.
    """
    interpreter = tflm_interpreter(model)
    text = _capture_stderr(interpreter.print_allocations)
    figures = {key: int(m.group(1)) for key in ("head", "tail", "total") if (m := re.search(rf"Arena allocation {key} (\d+) bytes", text))}
    if set(figures) != {"head", "tail", "total"}:
        raise PeerError("could not read TFLM's arena figures from print_allocations()")
    return figures


def _capture_stderr(fn) -> str:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            fn()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        return tmp.read().decode(errors="replace")


