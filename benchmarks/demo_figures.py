"""The figures issue 2 must reach, measured by running the real demo.

    python benchmarks/demo_figures.py

Runs `leafml demo` (the installed command, as a user would) into a temporary
folder, reads its metrics.json and prints one table: each figure, its goal
and whether it is met.  Exit status 1 if a goal is missed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        started = time.perf_counter()
        subprocess.run(["leafml", "demo", "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
        command_s = time.perf_counter() - started
        m = json.loads((out / "metrics.json").read_text())
    drop_pp = 100 * (m["accuracy_float"] - m["accuracy_int8"])
    rows = [
        ("float accuracy", f"{m['accuracy_float']:.2%}", "", True),
        ("int8 accuracy", f"{m['accuracy_int8']:.2%}", ">= 95 %", m["accuracy_int8"] >= 0.95),
        ("int8 drop vs float", f"{drop_pp:.2f} pp", "<= 1.0 pp", drop_pp <= 1.0),
        ("parity (litert, tflm, host_c, qemu)", " ".join(str(v) for v in m["parity"].values()), "all True", all(m["parity"].values())),
        ("model flash", f"{m['flash_bytes']:,} B", "", True),
        ("arena RAM (leafml)", f"{m['arena_bytes']:,} B", "", True),
        ("arena RAM (TFLM, head / total)", f"{m['tflm_arena_bytes']['head']:,} / {m['tflm_arena_bytes']['total']:,} B", "", True),
        ("MACs per inference", f"{m['macs']:,}", "", True),
        ("Cortex-M4 instructions per inference", f"{m['instructions_cortex_m4']:,}", "", True),
        ("MAC per instruction", f"{m['macs'] / m['instructions_cortex_m4']:.3f}", "", True),
        ("latency on Nano 33 BLE Sense (est.)", f"{m['latency_s'] * 1e3:.3f} ms", "", True),
        ("energy per inference (est.)", f"{m['energy_j'] * 1e6:.2f} uJ", "", True),
        ("demo wall time (inside)", f"{m['wall_s']:.1f} s", "", True),
        ("`leafml demo` command time", f"{command_s:.1f} s", "< 180 s", command_s < 180),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'measured':>26}  {'goal':>10}  met")
    for name, value, goal, ok in rows:
        print(f"{name:<{width}}  {value:>26}  {goal:>10}  {'yes' if ok else 'NO'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
