"""The MLPerf Tiny reference models through `leafml inspect` and `leafml compile`, one row each.

    python benchmarks/mlperf_tiny.py [--inputs N] [MODEL.tflite ...]

With no MODEL, runs the three int8 reference models in
../shared/data/models/mlperf_tiny/ (keyword spotting DS-CNN, ResNet-8,
FC autoencoder); any other .tflite, such as a microWakeWord model, gives a
row the same way.  Each model goes through the installed commands as a user
would run them: `leafml inspect --json`, then `leafml compile` (verification
ladder on N seeded random inputs, default 100) into a temporary folder, whose
metrics.json gives the figures.  Prints one table:

  ops, MACs          operators in the file; multiply-accumulates per inference (counted)
  weights B          constant tensors in the .tflite (weights, biases, shape operands)
  parity             litert / tflm / host_c / qemu_cortex_m4, byte for byte (measured)
  M4 instr           Cortex-M4 instructions per inference in QEMU (measured, mean)
  MAC/instr          MACs per Cortex-M4 instruction
  flash B            text + rodata + data of the generated model objects (arm-none-eabi-size)
  arena B            static arena of the generated C (planned)
  bound B            lower bound of any arena for this schedule (the largest set of tensors that must be live at once)
  state B            static RAM of a streaming model's variables in the generated C
  TFLM head / total  TFLM's arena for the same file: planned activations / all, variables included (print_allocations)

Exit status 1 unless every rung agrees on every model.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

MLPERF_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "models" / "mlperf_tiny"
MLPERF_MODELS = ("kws_ref_model", "pretrainedResnet_quant", "ad01_int8")
COLUMNS = ("model", "ops", "MACs", "weights B", "parity", "M4 instr", "MAC/instr", "flash B", "arena B", "bound B", "state B", "TFLM head / total", "wall s")


def measure(model: Path, inputs: int, scratch: Path) -> tuple[list[str], bool]:
    """One table row for ``model`` and whether every rung agreed."""
    inspected = subprocess.run(["leafml", "inspect", str(model), "--json"], check=True, capture_output=True, text=True)
    report = json.loads(inspected.stdout)
    out = scratch / model.stem
    compiled = subprocess.run(["leafml", "compile", str(model), "--out", str(out), "--inputs", str(inputs)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if compiled.returncode == 2:
        raise SystemExit(f"{model}: {compiled.stderr.strip().splitlines()[-1]}")
    m = json.loads((out / "metrics.json").read_text())
    parity = "/".join("ok" if ok else "FAIL" for ok in m["parity"].values())
    tflm = m["tflm_arena_bytes"]
    row = [
        model.stem,
        str(report["operator_count"]),
        f"{m['macs']:,}",
        f"{report['weight_bytes']:,}",
        parity,
        f"{m['instructions_cortex_m4']:,}",
        f"{m['macs'] / m['instructions_cortex_m4']:.3f}",
        f"{m['flash_bytes']:,}",
        f"{m['arena_bytes']:,}",
        f"{m['arena_lower_bound_bytes']:,}",
        f"{m['state_bytes']:,}",
        f"{tflm['head']:,} / {tflm['total']:,}",
        f"{m['wall_s']:.1f}",
    ]
    return row, all(m["parity"].values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, metavar="MODEL.tflite",
                        help="models to measure (default: the MLPerf Tiny int8 reference models)")
    parser.add_argument("--inputs", type=int, default=100, help="random inputs per model for the ladder (default: 100)")
    args = parser.parse_args()
    models = args.models or [MLPERF_DIR / f"{name}.tflite" for name in MLPERF_MODELS]
    rows, agreed = [], True
    with tempfile.TemporaryDirectory(prefix="leafml-mlperf-") as scratch:
        for model in models:
            row, ok = measure(model, args.inputs, Path(scratch))
            rows.append(row)
            agreed &= ok
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(COLUMNS)]
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(COLUMNS, widths))))
    for row in rows:
        print("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths))))
    print(f"parity: litert/tflm/host_c/qemu_cortex_m4 on {args.inputs} seeded random inputs per model "
          "(a stream of calls for a streaming model); M4 instr measured in QEMU mps2-an386")
    return 0 if agreed else 1


if __name__ == "__main__":
    sys.exit(main())
