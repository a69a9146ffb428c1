"""``leafml inspect`` and :func:`leafml.byom.inspect_model`: every operator reported, supported or not, never a crash."""

from __future__ import annotations

import json

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb
from hypothesis import given, settings
from hypothesis import strategies as st

from leafml.byom import FLOAT_ARITHMETIC, NO_C_EMITTER, NO_IR_OPERATOR, UNSUPPORTED_PARAMETER, describe_model, inspect_model
from leafml.cli import main
from leafml.codegen.emitters import EMITTERS
from leafml.frontends.tflite import TfliteFormatError, read_tflite
from leafml.ir import Activation, Graph, OpType, Padding
from leafml.ops import get_op
from int8_graphs import GraphBuilder, quantize
from test_tflite_fuzz import FUZZ, MUTATIONS, mutate, structural_positions

MLPERF = "models/mlperf_tiny"


def float_graph() -> Graph:
    return (
        GraphBuilder((1, 8, 8, 3), seed=2)
        .conv(4, 3, padding=Padding.SAME, activation=Activation.RELU)
        .max_pool(2, 2)
        .conv(6, 2, stride=2, activation=Activation.RELU6)
        .reshape((1, 24))
        .fully_connected(5)
        .softmax()
        .build()
    )


def int8_graph() -> Graph:
    return quantize(float_graph(), np.random.default_rng(3).normal(size=(32, 8, 8, 3)).astype(np.float32))


def repack(data: bytes, edit) -> bytes:
    """``data`` unpacked with the schema's object API, changed by ``edit(model)``, and packed again."""
    model = fb.ModelT.InitFromPackedBuf(data, 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def write(tmp_path, data: bytes, name: str = "model.tflite"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_leafml_model_is_reported_operator_by_operator(tmp_path):
    graph = int8_graph()
    report = inspect_model(write(tmp_path, graph.to_tflite()))
    assert [row.type for row in report.operators] == [node.op.value for node in graph.nodes]
    assert [row.macs for row in report.operators] == [get_op(node.op).macs(graph, node) for node in graph.nodes]
    assert report.supported and all(row.supported and row.reason is None for row in report.operators)
    conv = report.operators[0]
    assert conv.inputs == ((1, 8, 8, 3),) and conv.constants == ((4, 3, 3, 3), (4,)) and conv.outputs == ((1, 8, 8, 4),)
    assert conv.parameters == {"stride": "1x1", "dilation": "1x1", "padding": "SAME", "activation": "RELU"}
    assert conv.weight_bytes == 4 * 3 * 3 * 3 + 4 * 4  # int8 weights, int32 biases
    assert report.operators[1].parameters["filter"] == "2x2" and report.operators[2].parameters["activation"] == "RELU6"
    constants = sum(t.nbytes for t in graph.tensors.values() if t.is_constant)
    assert report.weight_bytes == constants + 2 * 4  # the file also holds RESHAPE's int32 shape operand
    x = graph.tensors[graph.inputs[0]]
    assert report.inputs[0].dtype == "INT8" and report.inputs[0].shape == x.shape
    assert report.inputs[0].scale == (float(x.quant.scale[0]),) and report.inputs[0].zero_point == (x.quant.scalar_zero_point,)
    assert report.outputs[0].scale == (1 / 256,) and report.outputs[0].zero_point == (-128,)  # SOFTMAX's fixed output


def test_json_carries_every_row_and_the_totals(tmp_path, capsys):
    path = write(tmp_path, int8_graph().to_tflite())
    assert main(["inspect", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    report = inspect_model(path)
    assert printed["operator_count"] == len(printed["operators"]) == 6
    assert printed["macs"] == report.macs > 0 and printed["weight_bytes"] == report.weight_bytes
    assert printed["tensors"] == report.tensors and printed["file_bytes"] == path.stat().st_size
    assert printed["supported"] is True
    assert printed["operators"][0] == {
        "index": 0, "type": "CONV_2D", "inputs": [[1, 8, 8, 3]], "constants": [[4, 3, 3, 3], [4]], "outputs": [[1, 8, 8, 4]],
        "parameters": {"stride": "1x1", "dilation": "1x1", "padding": "SAME", "activation": "RELU"},
        "macs": report.operators[0].macs, "weight_bytes": 124, "support": "yes", "reason": None, "supported": True,
    }
    assert printed["inputs"][0]["dtype"] == "INT8"


def test_the_tables_show_rows_totals_and_the_verdict(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    path = write(tmp_path, int8_graph().to_tflite())
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    report = inspect_model(path)
    assert "FULLY_CONNECTED" in out and "stride=2x2" in out and "scale 0.00390625, zero point -128" in out
    assert f"Totals: 6 operators, {report.macs:,} MACs" in out and f"{report.tensors} tensors" in out
    assert "Every operator is supported" in out


def swap_operators(model):
    """MAX_POOL_2D becomes L2_POOL_2D (a builtin leafml lacks), SOFTMAX a custom operator."""
    for code in model.operatorCodes:
        if code.builtinCode == fb.BuiltinOperator.MAX_POOL_2D:
            code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.L2_POOL_2D
        if code.builtinCode == fb.BuiltinOperator.SOFTMAX:
            code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.CUSTOM
            code.customCode = b"FancySoftmax"


def test_operators_leafml_lacks_are_reported_not_refused(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, repack(int8_graph().to_tflite(), swap_operators))
    report = inspect_model(path)
    pool, softmax = report.operators[1], report.operators[5]
    assert (pool.type, pool.support, pool.macs) == ("L2_POOL_2D", NO_IR_OPERATOR, None)
    assert pool.parameters["filter"] == "2x2" and pool.reason == "leafml has no operator L2_POOL_2D"
    assert (softmax.type, softmax.support) == ("FancySoftmax (custom)", NO_IR_OPERATOR)
    assert not report.supported and [row.supported for row in report.operators] == [True, False, True, True, True, False]
    assert report.offenders() == {"L2_POOL_2D (no IR operator)": 1, "FancySoftmax (custom) (no IR operator)": 1}
    assert report.macs == sum(row.macs for row in report.operators if row.macs is not None)

    monkeypatch.setenv("COLUMNS", "200")
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "leafml cannot compile 2 of 6 operators" in out
    assert "operator 1 L2_POOL_2D: no IR operator: leafml has no operator L2_POOL_2D" in out


def test_an_unsupported_fused_activation_is_an_unsupported_parameter(tmp_path):
    def tanh_conv(model):
        model.subgraphs[0].operators[0].builtinOptions.fusedActivationFunction = fb.ActivationFunctionType.TANH

    report = inspect_model(write(tmp_path, repack(int8_graph().to_tflite(), tanh_conv)))
    conv = report.operators[0]
    assert conv.parameters["activation"] == "TANH" and conv.support == UNSUPPORTED_PARAMETER and conv.macs is None
    assert "fused activation code" in conv.reason and "NONE, RELU and RELU6" in conv.reason
    assert all(row.supported for row in report.operators[1:])


def test_float_arithmetic_is_named_per_operator(tmp_path):
    report = inspect_model(write(tmp_path, float_graph().to_tflite()))
    verdicts = {row.type: row.support for row in report.operators}
    # RESHAPE moves bytes whatever their type; everything else would compute in float.
    assert verdicts == {"CONV_2D": FLOAT_ARITHMETIC, "MAX_POOL_2D": FLOAT_ARITHMETIC, "RESHAPE": "yes",
                        "FULLY_CONNECTED": FLOAT_ARITHMETIC, "SOFTMAX": FLOAT_ARITHMETIC}
    assert "full-integer (int8) quantization" in report.operators[0].reason
    assert report.macs == sum(get_op(n.op).macs(float_graph(), n) for n in float_graph().nodes)


def test_an_operator_without_a_c_emitter_is_named(tmp_path, monkeypatch):
    monkeypatch.delitem(EMITTERS, OpType.SOFTMAX)
    softmax = inspect_model(write(tmp_path, int8_graph().to_tflite())).operators[-1]
    assert (softmax.support, softmax.reason) == (NO_C_EMITTER, "the C generator has no SOFTMAX kernel")
    assert softmax.macs == 0  # leafml still has the operator and its cost rule


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty or truncated"), (b"hello, world", "not a TFLite flatbuffer"), ("truncated", "")],
)
def test_a_corrupt_file_is_the_reader_s_one_line_error(tmp_path, capsys, content, message):
    if content == "truncated":
        content = int8_graph().to_tflite()[:200]
    path = write(tmp_path, content)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"leafml: error: {path}: ") and err.count("\n") == 1 and message in err


def test_a_missing_file_or_a_folder_is_one_line(tmp_path, capsys):
    for path in (tmp_path / "missing.tflite", tmp_path):
        assert main(["inspect", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"leafml: error: {path}: cannot read the file") and err.count("\n") == 1


def test_the_model_argument_is_required():
    with pytest.raises(SystemExit) as exit_:
        main(["inspect"])
    assert exit_.value.code == 2


# -- MLPerf Tiny (../shared/data) --------------------------------------------------------
# Operators, and the MACs of the operators that multiply weights (CONV_2D,
# DEPTHWISE_CONV_2D, FULLY_CONNECTED), as ../shared/data/README.md lists them.
MLPERF_FIGURES = {"kws_ref_model": (13, 2_656_768), "pretrainedResnet_quant": (16, 12_501_632), "ad01_int8": (10, 264_192)}
WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@pytest.mark.parametrize("name", sorted(MLPERF_FIGURES))
def test_mlperf_models_inspect_with_the_published_mac_counts(shared_data, name):
    path = shared_data / MLPERF / f"{name}.tflite"
    operators, weighted_macs = MLPERF_FIGURES[name]
    report = inspect_model(path)
    assert len(report.operators) == operators and report.supported
    assert sum(row.macs for row in report.operators if row.type in WEIGHTED) == weighted_macs
    # Pooling's window sums count too (leafml's rule for AVERAGE_POOL_2D); nothing else is uncounted.
    assert report.macs == sum(row.macs for row in report.operators)
    assert report.inputs[0].dtype == report.outputs[0].dtype == "INT8"
    assert 0 < report.weight_bytes < report.file_bytes == path.stat().st_size


def test_mlperf_hybrid_kws_names_its_int8_weights(shared_data):
    report = inspect_model(shared_data / MLPERF / "kws_ref_model_float32.tflite")
    convs = [row for row in report.operators if row.type == "CONV_2D"]
    assert len(convs) == 5 and all(row.support == UNSUPPORTED_PARAMETER and "dynamic-range" in row.reason for row in convs)
    assert {row.support for row in report.operators if row.type != "CONV_2D"} <= {FLOAT_ARITHMETIC, "yes"}


def test_mlperf_float_resnet_needs_quantizing(shared_data, capsys):
    path = shared_data / MLPERF / "pretrainedResnet.tflite"
    assert main(["inspect", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["supported"] is False and printed["macs"] == inspect_model(shared_data / MLPERF / "pretrainedResnet_quant.tflite").macs
    assert {row["support"] for row in printed["operators"]} == {FLOAT_ARITHMETIC, "yes"}


# -- a streaming model: microWakeWord (the pymicro-wakeword package) ------------------------
def micro_wake_word(name: str):
    pytest.importorskip("pymicro_wakeword", reason="the pymicro-wakeword package is not installed (pip install pymicro-wakeword)")
    from importlib.resources import files

    return files("pymicro_wakeword") / "models" / f"{name}.tflite"


def test_a_streaming_model_reports_its_state_operators():
    report = inspect_model(micro_wake_word("okay_nabu"))
    counts: dict[str, int] = {}
    for row in report.operators:
        counts[row.type] = counts.get(row.type, 0) + 1
    assert report.subgraphs == 2 and len(report.operators) == 61
    assert counts["VAR_HANDLE"] == counts["READ_VARIABLE"] == counts["ASSIGN_VARIABLE"] == 6 and counts["CALL_ONCE"] == 1
    assert report.supported, report.offenders()
    assert report.inputs[0].dtype == "INT8" and report.inputs[0].shape == (1, 3, 40) and report.outputs[0].dtype == "UINT8"
    assert all(row.macs == 0 for row in report.operators if row.type in ("CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "SPLIT_V"))


# -- hostile files: inspect reports or refuses in one line, never crashes -------------------
def hostile_models() -> dict[str, bytes]:
    models = {"int8": int8_graph().to_tflite(), "float": float_graph().to_tflite()}
    try:
        models["streaming"] = micro_wake_word("okay_nabu").read_bytes()
    except pytest.skip.Exception:
        pass  # the leafml-written models still run
    return models


HOSTILE = hostile_models()
HOSTILE_STRUCTURE = {name: structural_positions(data) for name, data in HOSTILE.items()}


@settings(FUZZ, max_examples=600)
@given(which=st.sampled_from(sorted(HOSTILE)), mutations=MUTATIONS)
def test_mutated_models_are_described_or_refused_in_one_line(which, mutations):
    data = mutate(HOSTILE[which], HOSTILE_STRUCTURE[which], mutations)
    try:
        model = read_tflite(data, "mutated.tflite")
    except TfliteFormatError as e:
        assert "\n" not in str(e)
        return
    report = describe_model(model, len(data))
    assert len(report.operators) == len(model.subgraphs[0].operators)
    assert all(row.supported or (row.reason and "\n" not in row.reason) for row in report.operators)
