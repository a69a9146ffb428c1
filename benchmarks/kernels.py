"""Cortex-M kernel cost of the MLPerf Tiny models, per model and per node, measured in QEMU.

    python benchmarks/kernels.py [--core cortex-m4] [--nodes] [MODEL.tflite ...]

With no MODEL, the three int8 reference models in
../shared/data/models/mlperf_tiny/.  For each model the generated C runs on
`--core` for 3 seeded random inputs and one line gives: instructions per
inference (measured, the mean), MACs (counted) and MAC per instruction, the
model's flash (text + data of its object files) against its weight and bias
bytes, the deepest stack use (measured), and whether the outputs equal the
reference interpreter's (TFLM rounding).  `--nodes` adds each node's
instructions, measured by running its statement twice and taking the
difference (one more build per node).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

import leafml
from leafml.codegen import generate_c
from leafml.firmware import run_cortex_m
from leafml.ir import OpType
from leafml.ops import get_op

MLPERF_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "models" / "mlperf_tiny"
MLPERF_MODELS = ("kws_ref_model", "pretrainedResnet_quant", "ad01_int8")
WEIGHTED = (OpType.CONV_2D, OpType.DEPTHWISE_CONV_2D, OpType.FULLY_CONNECTED)
NODE_COMMENT = re.compile(r"(?=^    /\* node (\d+) )", re.MULTILINE)
OUTPUT_COPY = re.compile(r"^    mem(?:cpy|move)\(output", re.MULTILINE)


def measure(model: Path, core: str, nodes: bool, scratch: Path) -> bool:
    """Print the model's line (and its nodes' lines); return whether the outputs were bit-exact."""
    graph = leafml.load_tflite(model)
    x = graph.tensors[graph.inputs[0]]
    inputs = np.random.default_rng(0).integers(-128, 128, (3, *x.shape[1:])).astype(x.dtype)
    expected = np.stack([graph.run(sample[None], rounding="double")[0] for sample in inputs]).reshape(3, -1)
    c = generate_c(graph, scratch / "c")
    result = run_cortex_m(core, c.sources, [c.include_dir], inputs.reshape(3, -1), c.output_size, scratch / "run")
    exact = bool(np.array_equal(result.outputs, expected.view(np.int8)))
    instructions = float(np.mean(result.instructions))
    weights = sum(graph.tensors[name].nbytes for n in graph.nodes if n.op in WEIGHTED for name in n.inputs[1:])
    flash = result.model_sizes.text + result.model_sizes.data
    print(f"{model.stem}  {core}: {instructions:,.0f} instructions, {c.macs:,} MACs "
          f"({c.macs / instructions:.3f} MAC/instr), "
          f"flash {flash:,} B (weights+bias {weights:,} B, +{flash - weights:,}), stack {result.stack_bytes:,} B, "
          f"{'bit-exact' if exact else 'OUTPUTS DIFFER'}")
    if nodes:
        source = c.source.read_text()
        tail = OUTPUT_COPY.search(source).start()
        parts = NODE_COMMENT.split(source[:tail])
        # split() keeps each node's index group: [head, index, statement, index, statement, ...]
        head, pairs = parts[0], list(zip(parts[1::2], parts[2::2]))
        for k, (index, statement) in enumerate(pairs):
            body = "".join(s if i != k else s + s for i, (_, s) in enumerate(pairs))
            doubled = head + body + source[tail:]
            folder = scratch / f"node{index}"
            folder.mkdir()
            (folder / "model.c").write_text(doubled)
            twice = run_cortex_m(core, [folder / "model.c"], [c.include_dir], inputs[:1].reshape(1, -1),
                                 c.output_size, folder / "run")
            node = graph.nodes[int(index)]
            cost, macs = twice.instructions[0] - result.instructions[0], get_op(node.op).macs(graph, node)
            ratio = f"{macs / cost:.3f} MAC/instr" if macs and cost > 0 else ""
            print(f"  node {int(index):2d} {node.op.value:18s} {cost:10,d} instructions {macs:10,d} MACs  {ratio}")
    return exact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, metavar="MODEL.tflite",
                        help="models to measure (default: the MLPerf Tiny int8 reference models)")
    parser.add_argument("--core", default="cortex-m4", help="Cortex-M core to run on (default: cortex-m4)")
    parser.add_argument("--nodes", action="store_true", help="also measure each node (one more build per node)")
    args = parser.parse_args()
    models = args.models or [MLPERF_DIR / f"{name}.tflite" for name in MLPERF_MODELS]
    exact = True
    for model in models:
        with tempfile.TemporaryDirectory(prefix="leafml-kernels-") as scratch:
            exact &= measure(model, args.core, args.nodes, Path(scratch))
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
