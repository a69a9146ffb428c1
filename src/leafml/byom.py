"""Bring your own model: what ``leafml inspect`` and ``leafml compile`` arrange.

::

    report = inspect_model("kws.tflite")              # every operator, supported or not
    result = compile_model("kws.tflite", "out/kws")   # C library + verification ladder + metrics.json

:func:`inspect_model` works at the level of the file (:func:`read_tflite`),
so it describes models leafml cannot import.  It judges each operator on
its own: the operator is imported as a one-operator model by the same
frontend that imports whole models, so an operator is "supported" exactly
when the frontend, the reference interpreter and the C generator take it.
The streaming-state operators (CALL_ONCE, VAR_HANDLE, READ_VARIABLE,
ASSIGN_VARIABLE) only mean something together and are imported as one
part.  :func:`compile_model` refuses a model with any unsupported operator,
listing them all, before it writes anything.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from leafml.codegen.emitters import EMITTERS
from leafml.errors import LeafmlError
from leafml.export.tflite_ops import BY_CODE
from leafml.frontends.tflite import LOWERED_HERE, TfliteFormatError, UnsupportedOperatorError, read_model_file, read_tflite, to_graph
from leafml.frontends.tflite_model import TfliteModel, TfliteOperator, TfliteSubgraph, TfliteTensor
from leafml.interpreter import runs_integer_kernel
from leafml.ir.graph import Graph, Node, OpType
from leafml.ops import get_op
from leafml.verify.ladder import RUNGS

# What compile_model writes into its output folder; anything else there is the user's.
COMPILE_OUTPUTS = ("model.h", "model.c", "leafml_runtime.h", "metrics.json")
DEFAULT_INPUTS = 100

# Why an operator is not supported, from the first obstacle met.
NO_IR_OPERATOR = "no IR operator"
UNSUPPORTED_PARAMETER = "unsupported parameter"
NO_C_EMITTER = "no C emitter"
FLOAT_ARITHMETIC = "float arithmetic"

# Streaming state: imported together (see _import_state).
VARIABLE_ACCESS = (fb.BuiltinOperator.READ_VARIABLE, fb.BuiltinOperator.ASSIGN_VARIABLE)
STATE_OPERATORS = (fb.BuiltinOperator.CALL_ONCE, fb.BuiltinOperator.VAR_HANDLE, *VARIABLE_ACCESS)

# Option-table fields shown as an operator's parameters: pairs print as HxW.
_PAIRS = {"stride": ("strideH", "strideW"), "filter": ("filterHeight", "filterWidth"), "dilation": ("dilationHFactor", "dilationWFactor")}
_ENUMS = {"padding": ("padding", fb.Padding), "activation": ("fusedActivationFunction", fb.ActivationFunctionType)}
_SCALARS = {"depth_multiplier": "depthMultiplier", "axis": "axis", "keep_dims": "keepDims", "beta": "beta", "alpha": "alpha", "new_shape": "newShape"}


class VerificationInputsError(LeafmlError):
    """The number of verification inputs is not a positive count."""


@dataclass(frozen=True)
class TensorInfo:
    """A model input or output: element type, shape and quantization (``real = scale * (q - zero_point)``)."""

    index: int
    name: str
    dtype: str  # TFLite's type name: INT8, FLOAT32, ...
    shape: tuple[int, ...]
    scale: tuple[float, ...] = ()  # one per tensor, or one per channel along ``axis``; () when not quantized
    zero_point: tuple[int, ...] = ()
    axis: int = 0


@dataclass(frozen=True)
class OperatorRow:
    """One operator of the model's main subgraph, as ``leafml inspect`` shows it.

    ``macs`` is None where leafml has no operator (hence no cost rule) for
    it; ``weight_bytes`` counts the constant operands stored in the file.
    ``support`` is ``"yes"`` or the first obstacle (:data:`NO_IR_OPERATOR`,
    :data:`UNSUPPORTED_PARAMETER`, :data:`NO_C_EMITTER`,
    :data:`FLOAT_ARITHMETIC`), and ``reason`` says what exactly.
    """

    index: int
    type: str
    inputs: tuple[tuple[int, ...], ...]  # shapes of the operands computed at run time
    constants: tuple[tuple[int, ...], ...]  # shapes of the constant operands (weights, biases...)
    outputs: tuple[tuple[int, ...], ...]
    parameters: dict[str, Any]
    macs: int | None
    weight_bytes: int
    support: str
    reason: str | None = None

    @property
    def supported(self) -> bool:
        return self.support == "yes"


@dataclass(frozen=True)
class ModelReport:
    """What :func:`inspect_model` found in a .tflite file."""

    source: str
    file_bytes: int
    subgraphs: int
    tensors: int  # in the main subgraph
    weight_bytes: int  # constant tensors the main subgraph's operators read, each counted once, bytes
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    operators: tuple[OperatorRow, ...]

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one inference, over the operators leafml has a cost rule for."""
        return sum(row.macs or 0 for row in self.operators)

    @property
    def supported(self) -> bool:
        return all(row.supported for row in self.operators)

    def offenders(self) -> dict[str, int]:
        """``"TYPE (obstacle)"`` -> how many operators leafml cannot compile for that reason."""
        counts: dict[str, int] = {}
        for row in self.operators:
            if not row.supported:
                key = f"{row.type} ({row.support})"
                counts[key] = counts.get(key, 0) + 1
        return counts

    def to_dict(self) -> dict:
        """A JSON-ready dict: everything above plus the totals."""
        return {
            **dataclasses.asdict(self),
            "operator_count": len(self.operators),
            "macs": self.macs,
            "supported": self.supported,
            "operators": [{**dataclasses.asdict(row), "supported": row.supported} for row in self.operators],
        }


def inspect_model(path: str | Path) -> ModelReport:
    """Describe the .tflite file at ``path``: I/O, one row per operator of the main subgraph, totals.

    Raises TfliteFormatError only for a file that is not a readable TFLite
    model; operators leafml lacks are reported, not refused.
    """
    data = read_model_file(path)
    return describe_model(read_tflite(data, str(path)), len(data))


def describe_model(model: TfliteModel, file_bytes: int) -> ModelReport:
    """The :class:`ModelReport` of an already read model."""
    sub = model.subgraphs[0]
    constants = {i for op in sub.operators for i in op.inputs if i >= 0 and sub.tensors[i].is_constant}
    verdicts = {op.index: _import_alone(model, sub, op) for op in sub.operators if op.code not in STATE_OPERATORS}
    verdicts |= _import_state(model, sub)
    return ModelReport(
        source=model.source,
        file_bytes=file_bytes,
        subgraphs=len(model.subgraphs),
        tensors=len(sub.tensors),
        weight_bytes=sum(sub.tensors[i].data.nbytes for i in constants),
        inputs=tuple(_tensor_info(sub.tensors[i]) for i in sub.inputs),
        outputs=tuple(_tensor_info(sub.tensors[i]) for i in sub.outputs),
        operators=tuple(_operator_row(sub, op, verdicts[op.index]) for op in sub.operators),
    )


def _tensor_info(t: TfliteTensor) -> TensorInfo:
    if t.quant is None:
        return TensorInfo(t.index, t.name, t.type.name, t.shape)
    q = t.quant
    return TensorInfo(t.index, t.name, t.type.name, t.shape, tuple(map(float, q.scale)), tuple(map(int, q.zero_point)), q.axis)


@dataclass(frozen=True)
class _Verdict:
    """How one operator imported: into ``nodes`` of ``graph``, or not, for ``reason``."""

    graph: Graph | None
    nodes: tuple[Node, ...] = ()
    support: str = "yes"
    reason: str | None = None


def _operator_row(sub: TfliteSubgraph, op: TfliteOperator, verdict: _Verdict) -> OperatorRow:
    operands = [sub.tensors[i] for i in op.inputs if i >= 0]
    support, reason, macs = verdict.support, verdict.reason, None
    if verdict.graph is not None:
        graph = verdict.graph
        macs = sum(get_op(node.op).macs(graph, node) for node in verdict.nodes)
        support, reason = next((found for found in (_c_support(graph, node) for node in verdict.nodes) if found[0] != "yes"), ("yes", None))
    return OperatorRow(
        index=op.index,
        type=f"{op.name} (custom)" if op.is_custom else op.name,
        inputs=tuple(t.shape for t in operands if not t.is_constant),
        constants=tuple(t.shape for t in operands if t.is_constant),
        outputs=tuple(sub.tensors[i].shape for i in op.outputs),
        parameters=_parameters(op.options),
        macs=macs,
        weight_bytes=sum(t.data.nbytes for t in operands if t.is_constant),
        support=support,
        reason=reason,
    )


def _import_part(model: TfliteModel, sub: TfliteSubgraph, operators, inputs, outputs) -> Graph:
    """``operators`` of ``sub`` imported as a model of their own, reading ``inputs`` and giving ``outputs`` (tensor indices)."""
    part = dataclasses.replace(sub, operators=tuple(operators), inputs=tuple(dict.fromkeys(inputs)), outputs=tuple(dict.fromkeys(outputs)))
    subgraphs = (*model.subgraphs[: sub.index], part, *model.subgraphs[sub.index + 1 :])
    return to_graph(dataclasses.replace(model, subgraphs=subgraphs), sub.index)


def _import_alone(model: TfliteModel, sub: TfliteSubgraph, op: TfliteOperator) -> _Verdict:
    if op.is_custom or op.code not in BY_CODE and op.code not in LOWERED_HERE:
        kind = "custom operator" if op.is_custom else "operator"
        return _Verdict(None, support=NO_IR_OPERATOR, reason=f"leafml has no {kind} {op.name}")
    runtime_inputs = [i for i in op.inputs if i >= 0 and not sub.tensors[i].is_constant]
    try:
        graph = _import_part(model, sub, [op], runtime_inputs, op.outputs)
    except LeafmlError as e:
        # The frontend names the file and the operator: the row already does.
        reason = str(e).removeprefix(f"{model.source}: ").removeprefix(f"{op.label}: ").removeprefix(f"{op.label} ")
        return _Verdict(None, support=UNSUPPORTED_PARAMETER, reason=reason)
    return _Verdict(graph, tuple(graph.nodes))


def _import_state(model: TfliteModel, sub: TfliteSubgraph) -> dict[int, _Verdict]:
    """Verdicts on the streaming-state operators, which only make sense together: they are imported as one part.

    READ_VARIABLE outputs and ASSIGN_VARIABLE values stand in for the
    computation around them.  VAR_HANDLE and CALL_ONCE leave no node.
    """
    state = [op for op in sub.operators if op.code in STATE_OPERATORS]
    if not state:
        return {}
    reads = [i for op in state if op.code == fb.BuiltinOperator.READ_VARIABLE for i in op.outputs]
    values = [i for op in state if op.code == fb.BuiltinOperator.ASSIGN_VARIABLE for i in op.inputs[1:] if i >= 0 and not sub.tensors[i].is_constant]
    try:
        graph = _import_part(model, sub, state, values, reads + values)
    except LeafmlError as e:
        reason = str(e).removeprefix(f"{model.source}: ")
        blamed = [op for op in state if op.label in reason] or state
        return {op.index: _Verdict(None, support=UNSUPPORTED_PARAMETER, reason=reason if op in blamed else f"depends on {blamed[0].label}: {reason}") for op in state}
    # The importer appends one node per READ_VARIABLE and ASSIGN_VARIABLE, in order.
    nodes = iter(graph.nodes)
    return {op.index: _Verdict(graph, (next(nodes),) if op.code in VARIABLE_ACCESS else ()) for op in state}


def _c_support(graph: Graph, node: Node) -> tuple[str, str | None]:
    """Whether generate_c takes ``node`` (the per-node rules of its support check)."""
    op = node.op
    if op not in EMITTERS:
        return NO_C_EMITTER, f"the C generator has no {op.value} kernel"
    if not runs_integer_kernel(graph, node) and EMITTERS[op].kernel is not None:
        return FLOAT_ARITHMETIC, f"{op.value} computes in float32 and the C kernels are integer-only; convert the model with full-integer (int8) quantization"
    return "yes", None


def _parameters(options: Any) -> dict[str, Any]:
    """The option-table fields worth a column: stride, filter, dilation, padding, activation, axis..."""
    if options is None:
        return {}
    found: dict[str, Any] = {}
    for name, (h, w) in _PAIRS.items():
        if hasattr(options, h):
            found[name] = f"{getattr(options, h)}x{getattr(options, w)}"
    for name, (attr, enum) in _ENUMS.items():
        if hasattr(options, attr):
            value = getattr(options, attr)
            found[name] = next((k for k, v in vars(enum).items() if v == value and not k.startswith("_")), str(value))
    for name, attr in _SCALARS.items():
        value = getattr(options, attr, None)
        if value is not None:
            found[name] = [int(v) for v in value] if name == "new_shape" else value
    return found


@dataclass
class CompileResult:
    """What :func:`compile_model` wrote and measured; ``metrics`` is metrics.json's content."""

    out_dir: Path
    report: ModelReport
    cmodel: Any  # leafml.codegen.CModel
    ladder: Any | None  # leafml.verify.ladder.LadderResult; None with verify=False
    metrics: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every rung that ran gave the reference interpreter's bytes (vacuously, when none ran)."""
        return self.ladder is None or self.ladder.all_passed


def compile_model(
    path: str | Path,
    out_dir: str | Path,
    *,
    verify: bool = True,
    force: bool = False,
    rounding: str = "double",
    n_inputs: int = DEFAULT_INPUTS,
    seed: int = 0,
    max_ram: int | None = None,
    step: Callable[[str], None] = lambda text: None,
) -> CompileResult:
    """Write the C library of the .tflite at ``path`` into ``out_dir`` and verify it.

    Writes model.h, model.c and leafml_runtime.h (C99, static arena, built
    for ``rounding``) and metrics.json.  Unless ``verify`` is False, runs
    the verification ladder on ``n_inputs`` random inputs drawn from
    ``seed``: the reference interpreter against LiteRT and TFLM running the
    file's own bytes, the host C build and the Cortex-M4 build in QEMU (a
    streaming model takes the inputs as one stream of calls, never reset).
    ``out_dir`` must be new or empty unless ``force``, which overwrites only
    :data:`COMPILE_OUTPUTS`.  ``max_ram`` (bytes) refuses, before anything
    is written, a model whose arena and state need more (RamLimitError).
    ``step(text)`` announces each stage.

    Raises UnsupportedOperatorError listing every operator leafml cannot
    compile, TfliteFormatError for an unreadable file, ToolchainMissing
    (before any work) when ``verify`` needs a missing compiler or QEMU.
    """
    from leafml.codegen import generate_c
    from leafml.firmware import check_toolchain
    from leafml.pipeline import prepare_output
    from leafml.plan import check_ram_limit
    from leafml.quant.fixedpoint import check_rounding

    started = time.perf_counter()
    rounding = check_rounding(rounding)
    if n_inputs < 1:
        raise VerificationInputsError(f"{n_inputs} verification inputs asked for; give at least 1")
    if verify:
        check_toolchain()  # before any work, not after it
    path = Path(path)
    step(f"Reading {path}")
    data = read_model_file(path)
    model = read_tflite(data, str(path))
    report = describe_model(model, len(data))
    _refuse_unsupported(report, path)
    graph = to_graph(model)
    if max_ram is not None:
        # Planned in a scratch folder first, so a refused model writes nothing.
        with tempfile.TemporaryDirectory() as scratch:
            check_ram_limit(generate_c(graph, scratch, rounding=rounding), max_ram)

    out = prepare_output(Path(out_dir), force)
    step(f"Generating C99 into {out} ({rounding} rounding)")
    cmodel = generate_c(graph, out, rounding=rounding)
    result = CompileResult(out, report, cmodel, None)
    result.metrics = {
        "model": str(path),
        "rounding": rounding,
        "parity": {name: None for name in RUNGS},
        "flash_bytes": None,
        "arena_bytes": cmodel.arena_bytes,
        "arena_lower_bound_bytes": cmodel.memory.lower_bound,
        "state_bytes": cmodel.state_bytes,
        "instructions_cortex_m4": None,
        "macs": cmodel.macs,
        "weight_bytes": cmodel.weight_bytes,
        "tflm_arena_bytes": None,
        "tflite_bytes": len(data),
        "operators": len(report.operators),
    }
    # Written before the ladder too: a run that stops in it leaves no earlier run's figures behind.
    _write_metrics(out, result.metrics, started)
    if verify:
        result.ladder = _verify(graph, data, cmodel, rounding, n_inputs, seed, step)
        result.metrics.update(_ladder_metrics(result.ladder, data, n_inputs, seed))
        _write_metrics(out, result.metrics, started)
    return result


def _write_metrics(out: Path, metrics: dict, started: float) -> None:
    metrics["wall_s"] = time.perf_counter() - started
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


def _refuse_unsupported(report: ModelReport, path: Path) -> None:
    offenders = report.offenders()
    if offenders:
        listed = ", ".join(f"{name} x{count}" for name, count in offenders.items())
        raise UnsupportedOperatorError(
            f"{path}: leafml cannot compile {listed}; `leafml inspect {path}` gives each operator's reason", offenders
        )


def _verify(graph: Graph, data: bytes, cmodel, rounding: str, n_inputs: int, seed: int, step):
    from leafml.verify.ladder import run_ladder

    inputs = random_inputs(graph, n_inputs, seed)
    step(f"Verifying on {n_inputs} random inputs (seed {seed}): LiteRT, TFLM, host C, Cortex-M4 in QEMU")
    with tempfile.TemporaryDirectory(prefix="leafml-compile-") as work:
        return run_ladder(graph, data, inputs, cmodel.sources, [cmodel.include_dir], Path(work),
                          c_rounding=rounding, on_rung=lambda name: step(f"  rung: {name}"))


def _ladder_metrics(ladder, data: bytes, n_inputs: int, seed: int) -> dict:
    from leafml.verify.peers import tflm_arena_bytes

    firmware = ladder.firmware
    return {
        "parity": ladder.parity,
        "flash_bytes": firmware.model_sizes.flash,
        "instructions_cortex_m4": int(round(float(np.mean(firmware.instructions)))),
        "tflm_arena_bytes": tflm_arena_bytes(data),
        "verification_inputs": n_inputs,
        "seed": seed,
        "instructions_cortex_m4_min": int(min(firmware.instructions)),
        "instructions_cortex_m4_max": int(max(firmware.instructions)),
        "model_sizes": dataclasses.asdict(firmware.model_sizes),
        "stack_bytes": firmware.stack_bytes,
        "mismatched_bytes": {name: r.mismatched_bytes for name, r in ladder.rungs.items()},
    }


def random_inputs(graph: Graph, count: int, seed: int) -> np.ndarray:
    """``count`` seeded random inputs for ``graph``'s first input, batch first.

    Integer inputs cover their type's whole range.  A float32 input that a
    QUANTIZE node reads gets values on that node's int8 grid, so every
    quantized level is reachable; any other float32 input gets standard
    normal values.
    """
    t = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(seed)
    shape = (count, *t.shape[1:])
    if t.dtype.kind in "iu":
        info = np.iinfo(t.dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=t.dtype, endpoint=True)
    quantize = next((n for n in graph.consumers(t.name) if n.op is OpType.QUANTIZE), None)
    if quantize is None:
        return rng.standard_normal(shape).astype(t.dtype)
    q = graph.tensors[quantize.outputs[0]].quant
    levels = rng.integers(-128, 127, size=shape, endpoint=True)
    return (q.scalar_scale * (levels - q.scalar_zero_point)).astype(t.dtype)
