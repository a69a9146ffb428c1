"""The demo pipeline: data -> trained CNN -> int8 -> .tflite and C -> verified -> costed -> report.

Beside the digits CNN it builds the greenhouse anomaly detector of the
product story on SIMULATED data (:mod:`leafml.examples.greenhouse_detector`):
trained, quantized, verified on every rung, measured, and costed as a node.

Each step is a library call; this module only arranges them and collects
the figures.  ``run_demo`` is what ``leafml demo`` runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from leafml.errors import LeafmlError

DEMO_BOARD = "nano33_ble_sense"
# What leafml demo writes; anything else in the output folder is the user's.
DEMO_OUTPUTS = ("model.tflite", "c", "build", "greenhouse", "report.html", "metrics.json")


class OutputFolderError(LeafmlError):
    """The output folder holds files leafml did not write."""


def prepare_output(out: Path, force: bool) -> Path:
    """Create ``out``, or refuse one that holds other files unless ``force``.

    With ``force`` the demo overwrites its own outputs and leaves every other
    file in the folder untouched.
    """
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"output path {out} is a file; choose a folder with --out")
    if out.exists() and any(out.iterdir()) and not force:
        raise OutputFolderError(f"output folder {out} is not empty; choose another with --out or pass --force to overwrite leafml's files in it")
    out.mkdir(parents=True, exist_ok=True)
    return out


@dataclass
class DigitsSplit:
    """scikit-learn's digits (8x8 grey images scaled to 0..1, NCHW) split for training."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] = field(default_factory=lambda: [str(d) for d in range(10)])


def load_digits_split(seed: int = 0) -> DigitsSplit:
    """Stratified 68/12/20 train/validation/test split of the 1,797 digits."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.15, stratify=y_rest, random_state=seed)
    return DigitsSplit(x_train, y_train, x_val, y_val, x_test, y_test)


def nchw_to_nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


Progress = Callable[[str], None]


def run_demo(out: Path, *, force: bool = False, seed: int = 0, step: Progress = print, on_epoch=None) -> dict:
    """Run the whole pipeline into ``out``; return the metrics written to metrics.json.

    ``step(text)`` announces each step; ``on_epoch(epoch, loss, val_acc)``
    reports training progress.
    """
    import torch

    from leafml.codegen import generate_c
    from leafml.examples.greenhouse_detector import run_greenhouse_detector
    from leafml.firmware import check_toolchain
    from leafml.frontends.torch import from_torch
    from leafml.quant.ptq import Quantizer, quantize_array
    from leafml.report import write_report
    from leafml.targets import estimate, fits, load_board
    from leafml.train.trainer import accuracy, train_classifier
    from leafml.train.zoo import small_cnn
    from leafml.verify.ladder import run_ladder
    from leafml.verify.peers import tflm_arena_bytes

    started = time.perf_counter()
    check_toolchain()  # before any work, not after it
    out = prepare_output(out, force)
    torch.set_num_threads(min(2, torch.get_num_threads()))

    step("Loading scikit-learn's digits (1,797 real 8x8 handwritten digits)")
    data = load_digits_split(seed)

    step(f"Training a small CNN with PyTorch on {len(data.x_train)} images")
    torch.manual_seed(seed)  # the initial weights too, so a seed names one model
    model = small_cnn(1, 8, 8, 10)
    train_classifier(model, data.x_train, data.y_train, data.x_val, data.y_val, seed=seed, on_epoch=on_epoch)
    with torch.no_grad():
        accuracy_float = accuracy(model(torch.from_numpy(data.x_test)).numpy(), data.y_test)

    step("Converting to leafml IR and quantizing to int8 (TFLite spec, per-channel weights)")
    deployed = torch.nn.Sequential(model, torch.nn.Softmax(dim=1)).eval()
    float_graph = from_torch(deployed, torch.from_numpy(data.x_test[:1]))
    graph = Quantizer(float_graph).fit(nchw_to_nhwc(data.x_train)).graph_
    test_q = quantize_array(nchw_to_nhwc(data.x_test), graph.tensors[graph.inputs[0]].quant)
    scores = graph.run(test_q, rounding="double")[0]
    accuracy_int8 = accuracy(scores, data.y_test)

    step("Exporting model.tflite and generating C99 (static arena, weights in flash)")
    model_bytes = graph.to_tflite()
    (out / "model.tflite").write_bytes(model_bytes)
    cmodel = generate_c(graph, out / "c")

    step(f"Verifying on all {len(test_q)} test images: LiteRT, TFLM, host C, Cortex-M4 in QEMU")
    ladder = run_ladder(graph, model_bytes, test_q, cmodel.sources, [cmodel.include_dir], out / "build",
                        on_rung=lambda name: step(f"  rung: {name}"))
    firmware = ladder.firmware
    instructions = int(round(float(np.mean(firmware.instructions))))

    step(f"Estimating cost on {DEMO_BOARD}")
    board = load_board(DEMO_BOARD)
    cost = estimate(board, instructions)
    flash_bytes = firmware.model_sizes.flash
    fit = fits(board, flash_bytes, cmodel.arena_bytes)
    tflm_arena = tflm_arena_bytes(model_bytes)

    greenhouse = run_greenhouse_detector(out / "greenhouse", seed=seed, step=step)

    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (data.y_test, np.argmax(scores, axis=1)), 1)
    wall_s = time.perf_counter() - started
    metrics = {
        "accuracy_float": accuracy_float,
        "accuracy_int8": accuracy_int8,
        "parity": ladder.parity,
        "flash_bytes": flash_bytes,
        "arena_bytes": cmodel.arena_bytes,
        "instructions_cortex_m4": instructions,
        "latency_s": cost.latency_s.typical,
        "energy_j": cost.energy_j.typical,
        "wall_s": wall_s,
        "board": board.id,
        "test_samples": len(test_q),
        "macs": cmodel.macs,
        "weight_bytes": cmodel.weight_bytes,
        "tflite_bytes": len(model_bytes),
        "tflm_arena_bytes": tflm_arena,
        "instructions_cortex_m4_min": int(min(firmware.instructions)),
        "instructions_cortex_m4_max": int(max(firmware.instructions)),
        "firmware_sizes": {"text": firmware.sizes.text, "data": firmware.sizes.data, "bss": firmware.sizes.bss},
        "model_sizes": {"text": firmware.model_sizes.text, "data": firmware.model_sizes.data, "bss": firmware.model_sizes.bss},
        "stack_bytes": firmware.stack_bytes,
        "latency_s_range": [cost.latency_s.low, cost.latency_s.high],
        "energy_j_range": [cost.energy_j.low, cost.energy_j.high],
        "fits_board": fit.ok,
        "mismatched_bytes": {name: r.mismatched_bytes for name, r in ladder.rungs.items()},
        "greenhouse": greenhouse.metrics,
    }
    summary = [
        ("Float accuracy (test split)", accuracy_float, "fraction (0-1)", "measured (PyTorch)"),
        ("int8 accuracy (test split)", accuracy_int8, "fraction (0-1)", "measured (reference interpreter)"),
        ("Model flash (code + weights)", flash_bytes, "bytes", "measured (arm-none-eabi-size of the model objects)"),
        ("Arena RAM", cmodel.arena_bytes, "bytes", "planned (static arena of the generated C)"),
        ("TFLM planned activations (head) for the same model", tflm_arena["head"], "bytes", "measured (tflite-micro print_allocations)"),
        ("TFLM whole arena (head + runtime tail)", tflm_arena["total"], "bytes", "measured (tflite-micro print_allocations, x86-64 build)"),
        ("Cortex-M4 instructions per inference", instructions, "instructions", "measured (QEMU mps2-an386, mean over test split)"),
        (f"Latency on {board.name}", cost.latency_s.typical, "s", f"estimated (CPI {cost.cpi.typical}, range {cost.latency_s.low:.3g}-{cost.latency_s.high:.3g} s)"),
        (f"Energy per inference on {board.name}", cost.energy_j.typical, "J", f"estimated ({cost.supply_v} V x {cost.active_current_a * 1e3:.2f} mA, {cost.regulator})"),
        ("MACs per inference", cmodel.macs, "MAC", "counted from the graph"),
        ("Demo wall time", wall_s, "s", "measured"),
        *greenhouse.summary,
    ]
    extra = [
        ("Board", f"{board.name} ({board.mcu}, {board.core})"),
        ("Fits the board (flash, RAM)", f"{fit.flash_ok}, {fit.ram_ok}"),
        ("Cortex-M4 instructions min / max", f"{min(firmware.instructions)} / {max(firmware.instructions)}"),
        ("Firmware text / data / bss (whole ELF with harness and test inputs)", f"{firmware.sizes.text} / {firmware.sizes.data} / {firmware.sizes.bss} bytes"),
        ("Deepest stack use of one inference", f"{firmware.stack_bytes} bytes (measured)"),
        *[(f"Source: {k}", v) for k, v in cost.sources.items()],
        *greenhouse.extra,
    ]
    step("Writing report.html and metrics.json")
    write_report(out, metrics, confusion, data.class_names, summary=summary, extra=extra, title="leafml demo: digits CNN")
    metrics["report"] = str(out / "report.html")
    return metrics
