"""The greenhouse anomaly detector, end to end, on SIMULATED data (:mod:`leafml.examples.greenhouse`).

A dense autoencoder learns normal days; its int8 reconstruction error is
the anomaly score.  ``run_greenhouse_detector`` trains it, quantizes it,
writes its .tflite and a C library (``model.c``: the autoencoder,
``anomaly.c``: the score and its alarm threshold), runs the autoencoder
down the whole verification ladder and the scorer on the host and the
Cortex-M4, measures the instructions of one detection, scores the
simulated faults (ROC-AUC, float and int8) and costs the node with
``leafml.energy.greenhouse_summary``.  ``leafml demo`` runs it beside the
digits model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from leafml.examples.greenhouse import FAULTS, WINDOW_STEPS, greenhouse_data

__all__ = ["GreenhouseResult", "run_greenhouse_detector"]

LADDER_SAMPLES = 120  # test windows sent down the ladder (every rung, QEMU included)
FALSE_ALARM_RATE = 0.01  # of normal validation windows above the alarm threshold
HIDDEN, CODE = (32,), 4  # the autoencoder: inputs -> 32 -> 4 -> 32 -> inputs


@dataclass
class GreenhouseResult:
    """Figures for metrics.json (``metrics``), and report rows: (label, value, unit, provenance) and (key, value)."""

    metrics: dict[str, Any]
    summary: list[tuple[str, Any, str, str]] = field(default_factory=list)
    extra: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(self.metrics["parity"].values())


def _per_fault_auc(fault: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    from leafml.evaluate import roc_auc

    result = {}
    for k, name in enumerate(FAULTS, start=1):
        chosen = (fault == 0) | (fault == k)
        if np.any(fault == k):
            result[name] = roc_auc(fault[chosen] == k, scores[chosen])
    return result


def run_greenhouse_detector(out: Path, *, seed: int = 0, step: Callable[[str], None] = print,
                            on_epoch=None) -> GreenhouseResult:
    """Build and verify the detector into ``out`` (model.tflite, c/, build/, roc.png); return its figures."""
    import torch

    from leafml.codegen import generate_c
    from leafml.energy import greenhouse_summary
    from leafml.evaluate import evaluate_anomaly
    from leafml.frontends.torch import from_torch
    from leafml.quant.ptq import Quantizer, quantize_array
    from leafml.train.anomaly import ReconstructionScorer, generate_scorer_c, run_scorer_ladder, threshold_for
    from leafml.train.plots import roc_png
    from leafml.train.trainer import train_autoencoder
    from leafml.train.zoo import dense_autoencoder
    from leafml.verify.ladder import run_ladder

    out.mkdir(parents=True, exist_ok=True)
    data = greenhouse_data(seed)
    step(f"Greenhouse (SIMULATED data): training an autoencoder on {len(data.x_train)} windows of normal days")
    torch.manual_seed(seed)
    model = dense_autoencoder(data.x_train.shape[1], HIDDEN, CODE)
    train_autoencoder(model, data.x_train, data.x_val, seed=seed, on_epoch=on_epoch)
    with torch.no_grad():
        reconstruction = model(torch.from_numpy(data.x_test)).numpy()
    float_scores = ((reconstruction - data.x_test) ** 2).mean(axis=1)

    step("Greenhouse: int8 autoencoder and its reconstruction-error scorer, scored on SIMULATED faults")
    graph = Quantizer(from_torch(model, torch.from_numpy(data.x_train[:1]))).fit(data.x_train).graph_
    input_quant = graph.tensors[graph.inputs[0]].quant
    scorer = ReconstructionScorer.for_graph(graph)

    def int8_scores(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        codes = quantize_array(x, input_quant)
        outputs = graph.run(codes, rounding="double")[0]
        return codes, outputs, scorer.score(codes, outputs)

    codes, outputs, scores = int8_scores(data.x_test)
    threshold = threshold_for(int8_scores(data.x_val)[2], FALSE_ALARM_RATE)
    flagged = scores > threshold
    ev_float, ev_int8 = evaluate_anomaly(data.is_anomaly, float_scores), evaluate_anomaly(data.is_anomaly, scores)
    (out / "roc.png").write_bytes(roc_png({"float (PyTorch)": ev_float, "int8 (reference interpreter)": ev_int8},
                                          "Greenhouse detector on SIMULATED faults"))

    step(f"Greenhouse: model.tflite and C; verifying {LADDER_SAMPLES} windows on every rung")
    model_bytes = graph.to_tflite()
    (out / "model.tflite").write_bytes(model_bytes)
    cmodel = generate_c(graph, out / "c")
    csource = generate_scorer_c(scorer, out / "c", threshold=threshold)
    chosen = np.linspace(0, len(codes) - 1, LADDER_SAMPLES).astype(int)
    ladder = run_ladder(graph, model_bytes, codes[chosen], cmodel.sources, [cmodel.include_dir], out / "build")
    scorer_ladder = run_scorer_ladder(scorer, csource, (codes[chosen], outputs[chosen]), out / "build" / "scorer")
    ae_instructions = int(round(float(np.mean(ladder.firmware.instructions))))
    scorer_instructions = int(round(float(np.mean(scorer_ladder.instructions))))
    instructions = ae_instructions + scorer_instructions

    parity = {**ladder.parity, **{f"scorer_{name}": count == 0 for name, count in scorer_ladder.mismatches.items()}}
    per_fault_float, per_fault_int8 = _per_fault_auc(data.fault_test, float_scores), _per_fault_auc(data.fault_test, scores)
    metrics = {
        "data": "SIMULATED (leafml.examples.greenhouse)",
        "auc_float": ev_float.auc,
        "auc_int8": ev_int8.auc,
        "auc_per_fault_float": per_fault_float,
        "auc_per_fault_int8": per_fault_int8,
        "threshold": threshold,
        "detection_rate_int8": float(np.mean(flagged[data.is_anomaly])),
        "false_alarm_rate_int8": float(np.mean(flagged[~data.is_anomaly])),
        "parity": parity,
        "instructions_cortex_m4": instructions,
        "instructions_autoencoder": ae_instructions,
        "instructions_scorer": scorer_instructions,
        "flash_bytes": ladder.firmware.model_sizes.flash + scorer_ladder.flash_bytes,
        "arena_bytes": cmodel.arena_bytes,
        "macs": cmodel.macs,
        "test_windows": len(codes),
        "anomalous_windows": int(data.is_anomaly.sum()),
        "ladder_samples": LADDER_SAMPLES,
    }
    summary = [
        ("Greenhouse detector ROC-AUC, float (SIMULATED faults)", ev_float.auc, "fraction (0-1)", "measured (PyTorch) on simulated data"),
        ("Greenhouse detector ROC-AUC, int8 (SIMULATED faults)", ev_int8.auc, "fraction (0-1)",
         "measured (reference interpreter + scorer) on simulated data"),
        ("Greenhouse detector flash (autoencoder + scorer)", metrics["flash_bytes"], "bytes", "measured (arm-none-eabi-size of the objects)"),
        ("Greenhouse detector Cortex-M4 instructions per reading", instructions, "instructions",
         f"measured (QEMU: autoencoder {ae_instructions} + scorer {scorer_instructions}, mean over {LADDER_SAMPLES} windows)"),
        *greenhouse_summary(instructions=instructions, fleet=1000),
    ]
    extra = [
        ("Greenhouse data", f"SIMULATED: {len(data.x_train)} training windows of normal days, {len(codes)} test windows "
                            f"({metrics['anomalous_windows']} during injected faults), {WINDOW_STEPS} readings each"),
        *[(f"Greenhouse AUC, {name} (float / int8)", f"{per_fault_float[name]:.3f} / {per_fault_int8[name]:.3f}")
          for name in per_fault_int8],
        ("Greenhouse alarm at 1 % false alarms on normal validation days",
         f"detects {metrics['detection_rate_int8']:.1%} of anomalous test windows, "
         f"flags {metrics['false_alarm_rate_int8']:.1%} of normal ones (int8)"),
        ("Greenhouse verification (autoencoder rungs, scorer rungs)",
         ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in parity.items())),
        ("Greenhouse ROC curves", str(out / "roc.png")),
    ]
    return GreenhouseResult(metrics, summary, extra)
