"""``leafml compile`` and :func:`leafml.byom.compile_model`: a .tflite to verified C, its metrics and its refusals.

The tests named ``test_mlperf_*`` and ``test_micro_wake_word_*`` compile
real models and run the whole ladder (about 10-25 s each on 2 cores); the
rest use a small leafml-written model.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import leafml.verify.ladder
from leafml.byom import COMPILE_OUTPUTS, VerificationInputsError, compile_model, random_inputs
from leafml.cli import main
from leafml.firmware import ToolchainMissing
from leafml.frontends.tflite import UnsupportedOperatorError, load_tflite
from leafml.ir import Graph, Node, OpType, QuantParams, Tensor
from leafml.ops import get_op
from test_inspect import float_graph, int8_graph, repack, swap_operators, write

LADDER_TOOLS = ("cc", "arm-none-eabi-gcc", "qemu-system-arm")
DEMO_KEYS = ("parity", "flash_bytes", "arena_bytes", "instructions_cortex_m4")
RUNGS = {"litert", "tflm", "host_c", "qemu_cortex_m4"}


def one_line_error(capsys) -> str:
    """The error line the CLI printed last on stderr, after any progress lines, checked to be the only one."""
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith("leafml: error: ")]
    assert errors == lines[-1:], lines
    return errors[0]


@pytest.mark.requires_tools(*LADDER_TOOLS)
def test_compile_writes_the_c_library_and_metrics_with_every_rung_passing(tmp_path):
    graph = int8_graph()
    model = write(tmp_path, graph.to_tflite())
    out = tmp_path / "out"
    assert main(["compile", str(model), "--out", str(out), "--inputs", "12", "--seed", "3"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(COMPILE_OUTPUTS)
    metrics = json.loads((out / "metrics.json").read_text())
    for key in (*DEMO_KEYS, "macs", "weight_bytes", "tflm_arena_bytes"):
        assert key in metrics
    assert metrics["parity"] == {rung: True for rung in RUNGS}
    assert metrics["macs"] == sum(get_op(n.op).macs(graph, n) for n in graph.nodes)
    assert metrics["instructions_cortex_m4"] > metrics["macs"] > 0
    assert 0 < metrics["arena_bytes"] <= metrics["tflm_arena_bytes"]["head"] < metrics["tflm_arena_bytes"]["total"]
    assert metrics["flash_bytes"] > metrics["weight_bytes"] > 0
    assert (metrics["verification_inputs"], metrics["seed"], metrics["rounding"]) == (12, 3, "double")
    assert "int leafml_invoke(const int8_t *input, int8_t *output)" in (out / "model.h").read_text()


@pytest.mark.requires_tools(*LADDER_TOOLS)
def test_single_rounding_builds_the_c_for_litert_s_arithmetic(tmp_path):
    model = write(tmp_path, int8_graph().to_tflite())
    result = compile_model(model, tmp_path / "out", rounding="single", n_inputs=8)
    assert result.passed and result.metrics["rounding"] == "single" and result.cmodel.rounding == "single"
    assert "single rounding" in (tmp_path / "out" / "model.h").read_text()


@pytest.mark.requires_tools(*LADDER_TOOLS)
def test_float_ends_travel_through_the_ladder_as_bytes(tmp_path):
    """float32 in (QUANTIZE) and float32 out (DEQUANTIZE): the C rungs compare the floats' bytes."""
    g = int8_graph()
    x, y = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    g.add_tensor(Tensor("features", x.shape, np.float32))
    g.add_tensor(Tensor("scores", y.shape, np.float32))
    g.nodes = [Node(OpType.QUANTIZE, ["features"], [x.name]), *g.nodes, Node(OpType.DEQUANTIZE, [y.name], ["scores"])]
    g.inputs, g.outputs = ["features"], ["scores"]
    result = compile_model(write(tmp_path, g.validate().to_tflite()), tmp_path / "out", n_inputs=10)
    assert result.ladder.parity == {rung: True for rung in RUNGS}
    assert "int leafml_invoke(const float *input, float *output)" in (tmp_path / "out" / "model.h").read_text()


@pytest.mark.requires_tools(*LADDER_TOOLS)
def test_a_rung_that_disagrees_makes_the_exit_status_1(tmp_path, monkeypatch):
    real_tflm = leafml.verify.ladder.run_tflm
    monkeypatch.setattr(leafml.verify.ladder, "run_tflm", lambda model, inputs: real_tflm(model, inputs) ^ np.int8(1))
    out = tmp_path / "out"
    assert main(["compile", str(write(tmp_path, int8_graph().to_tflite())), "--out", str(out), "--inputs", "4"]) == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["parity"] == {"litert": True, "tflm": False, "host_c": True, "qemu_cortex_m4": True}
    assert metrics["mismatched_bytes"]["tflm"] == 4 * 5  # every byte of the four [1, 5] outputs


def test_no_verify_writes_the_c_and_null_measurements(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(write(tmp_path, int8_graph().to_tflite())), "--out", str(out), "--no-verify"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["parity"] == {rung: None for rung in RUNGS}
    assert metrics["flash_bytes"] is metrics["instructions_cortex_m4"] is metrics["tflm_arena_bytes"] is None
    assert metrics["arena_bytes"] > 0 and metrics["macs"] > 0 and metrics["weight_bytes"] > 0
    assert "not run" in capsys.readouterr().out


def test_the_output_folder_is_the_demo_s_rules_and_the_user_s_files_stay(tmp_path, capsys):
    model = str(write(tmp_path, int8_graph().to_tflite()))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["compile", model, "--out", str(out), "--no-verify"]) == 2
    assert "is not empty" in one_line_error(capsys) and [p.name for p in out.iterdir()] == ["notes.txt"]
    assert main(["compile", model, "--out", str(out), "--no-verify", "--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "model.c").is_file()
    (tmp_path / "file").write_text("")
    assert main(["compile", model, "--out", str(tmp_path / "file"), "--no-verify"]) == 2
    assert "is a file" in one_line_error(capsys)


def test_unsupported_operators_are_refused_in_one_line_before_anything_is_written(tmp_path, capsys):
    model = write(tmp_path, repack(int8_graph().to_tflite(), swap_operators))
    out = tmp_path / "out"
    assert main(["compile", str(model), "--out", str(out), "--no-verify"]) == 2
    err = one_line_error(capsys)
    assert "cannot compile L2_POOL_2D (no IR operator) x1, FancySoftmax (custom) (no IR operator) x1" in err
    assert f"leafml inspect {model}" in err and not out.exists()
    with pytest.raises(UnsupportedOperatorError) as error:
        compile_model(model, out, verify=False)
    assert error.value.offenders == {"L2_POOL_2D (no IR operator)": 1, "FancySoftmax (custom) (no IR operator)": 1}


def test_a_float_model_is_refused_with_every_float_operator(tmp_path, capsys):
    model = write(tmp_path, float_graph().to_tflite())
    assert main(["compile", str(model), "--out", str(tmp_path / "out"), "--no-verify"]) == 2
    assert "CONV_2D (float arithmetic) x2, MAX_POOL_2D (float arithmetic) x1" in one_line_error(capsys)


def test_missing_tools_are_named_before_any_work(tmp_path, capsys, monkeypatch):
    import leafml.firmware

    def missing():
        raise ToolchainMissing("qemu-system-arm not found; install it with: apt-get install qemu-system-arm")

    monkeypatch.setattr(leafml.firmware, "check_toolchain", missing)
    model = str(write(tmp_path, int8_graph().to_tflite()))
    assert main(["compile", model, "--out", str(tmp_path / "out")]) == 2
    assert "qemu-system-arm not found" in one_line_error(capsys) and not (tmp_path / "out").exists()
    assert main(["compile", model, "--out", str(tmp_path / "out"), "--no-verify"]) == 0  # needs no tools


def test_the_library_call_refuses_a_count_of_inputs_below_one(tmp_path):
    with pytest.raises(VerificationInputsError, match="0 verification inputs asked for; give at least 1"):
        compile_model(write(tmp_path, int8_graph().to_tflite()), tmp_path / "out", n_inputs=0)
    assert not (tmp_path / "out").exists()


def test_a_corrupt_file_is_one_line_and_writes_nothing(tmp_path, capsys):
    model = write(tmp_path, int8_graph().to_tflite()[:300])
    assert main(["compile", str(model), "--out", str(tmp_path / "out"), "--no-verify"]) == 2
    assert one_line_error(capsys).startswith(f"leafml: error: {model}: ") and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "flags",
    [[], ["--out"], ["--inputs", "0"], ["--inputs", "many"], ["--seed", "-1"], ["--rounding", "half"], ["--verify"]],
)
def test_bad_flags_are_usage_errors(tmp_path, capsys, flags):
    model = str(write(tmp_path, int8_graph().to_tflite()))
    out = [] if flags[:1] == ["--out"] or not flags else ["--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_:
        main(["compile", model, *out, *flags])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and ("leafml compile: error:" in err or "leafml: error: unrecognized arguments" in err)


def test_random_inputs_are_seeded_and_cover_the_input_type():
    graph = int8_graph()
    a, b = random_inputs(graph, 50, seed=1), random_inputs(graph, 50, seed=1)
    assert a.dtype == np.int8 and a.shape == (50, 8, 8, 3) and np.array_equal(a, b)
    assert a.min() == -128 and a.max() == 127
    assert not np.array_equal(a, random_inputs(graph, 50, seed=2))


def test_random_float_inputs_sit_on_the_first_quantize_s_grid():
    g = Graph()
    g.add_tensor(Tensor("x", (1, 64), np.float32))
    g.add_tensor(Tensor("q", (1, 64), np.int8, quant=QuantParams(0.25, 3)))
    g.nodes.append(Node(OpType.QUANTIZE, ["x"], ["q"]))
    g.inputs, g.outputs = ["x"], ["q"]
    x = random_inputs(g.validate(), 20, seed=0)
    levels = x / np.float32(0.25) + 3
    assert x.dtype == np.float32 and np.array_equal(levels, np.round(levels)) and levels.min() == -128 and levels.max() == 127


# -- real models: MLPerf Tiny (../shared/data) and microWakeWord (pymicro-wakeword) -----------
MLPERF = "models/mlperf_tiny"


@pytest.mark.requires_tools(*LADDER_TOOLS)
@pytest.mark.parametrize("name", ["ad01_int8", "kws_ref_model", "pretrainedResnet_quant"])
def test_mlperf_compile_agrees_on_every_rung_for_100_inputs(shared_data, tmp_path, capsys, name):
    model = shared_data / MLPERF / f"{name}.tflite"
    out = tmp_path / name
    assert main(["compile", str(model), "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["parity"] == {rung: True for rung in RUNGS} and metrics["verification_inputs"] == 100
    graph = load_tflite(model)
    assert metrics["macs"] == sum(get_op(n.op).macs(graph, n) for n in graph.nodes)
    # The generated code's arena is never larger than what TFLM plans for the same file.
    assert metrics["arena_bytes"] <= metrics["tflm_arena_bytes"]["head"]
    assert metrics["instructions_cortex_m4"] > metrics["macs"]
    assert "rung qemu_cortex_m4" in capsys.readouterr().out


@pytest.mark.requires_tools(*LADDER_TOOLS)
@pytest.mark.parametrize("name", ["okay_nabu", "hey_jarvis"])
def test_micro_wake_word_compile_keeps_state_over_a_stream_of_50_calls(tmp_path, name):
    from test_inspect import micro_wake_word

    result = compile_model(micro_wake_word(name), tmp_path / "out", n_inputs=50)
    assert result.ladder.parity == {rung: True for rung in RUNGS}, result.metrics["mismatched_bytes"]
    assert result.report.outputs[0].dtype == "UINT8"
    assert "uint8_t *output" in (tmp_path / "out" / "model.h").read_text()


def test_max_ram_refuses_a_model_that_does_not_fit_and_writes_nothing(tmp_path):
    from leafml.plan import RamLimitError

    model = write(tmp_path, int8_graph().to_tflite())
    with pytest.raises(RamLimitError, match=r"needs [\d,]+ B of RAM .* --max-ram allows 16 B; largest tensors live at the peak"):
        compile_model(model, tmp_path / "out", verify=False, max_ram=16)
    assert not (tmp_path / "out").exists()
    result = compile_model(model, tmp_path / "ok", verify=False, max_ram=1 << 20)
    assert (tmp_path / "ok" / "model.c").exists() and result.cmodel.arena_bytes <= 1 << 20
