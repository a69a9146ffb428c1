"""leafml: TinyML from data to a verified microcontroller build.

The pipeline as library calls::

    graph = leafml.from_torch(module, example_input)          # float IR
    int8 = leafml.Quantizer(graph).fit(calibration).graph_     # TFLite-spec int8
    open("model.tflite", "wb").write(int8.to_tflite())
    leafml.codegen.generate_c(int8, "out/c")                   # C99, static arena

Heavy dependencies (torch, the peers) load only when first used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Graph": "leafml.ir.graph",
    "Tensor": "leafml.ir.graph",
    "Node": "leafml.ir.graph",
    "OpType": "leafml.ir.graph",
    "QuantParams": "leafml.ir.graph",
    "GraphError": "leafml.ir.graph",
    "LeafmlError": "leafml.errors",
    "from_torch": "leafml.frontends.torch",
    "load_tflite": "leafml.frontends.tflite",
    "Session": "leafml.interpreter",
    "Quantizer": "leafml.quant.ptq",
    "quantize_array": "leafml.quant.ptq",
    "dequantize_array": "leafml.quant.ptq",
    "run_ladder": "leafml.verify.ladder",
    "inspect_model": "leafml.byom",
    "compile_model": "leafml.byom",
    "plan_graph": "leafml.plan",
    "check_ram_limit": "leafml.plan",
    "load_board": "leafml.targets",
    "list_boards": "leafml.targets",
    "estimate": "leafml.targets",
    "load_scenario": "leafml.energy",
    "simulate": "leafml.energy",
    "compare_edge_cloud": "leafml.energy",
    "DspPipeline": "leafml.dsp",
    "generate_dsp_c": "leafml.dsp",
    "Store": "leafml.data",
    "init_project": "leafml.project",
    "load_project": "leafml.project",
    "train_project": "leafml.train.workflow",
    "evaluate_project": "leafml.train.workflow",
    "build_project": "leafml.train.build",
    "from_sklearn": "leafml.trees",
    "generate_tree_c": "leafml.trees",
    "evaluate_classifier": "leafml.evaluate",
    "roc_auc": "leafml.evaluate",
}

_SUBPACKAGES = (
    "codegen", "data", "firmware", "frontends", "ir", "ops", "quant", "report", "targets", "train", "verify",
)

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"leafml.{name}")
    raise AttributeError(f"module 'leafml' has no attribute {name!r}")
