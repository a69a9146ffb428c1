"""Streaming state: TFLite's resource variables imported, run call after call, and compiled to C.

A small ring buffer written with the schema's object API pins the semantics
against LiteRT and TFLM (state persists across invokes; a READ_VARIABLE
after an ASSIGN_VARIABLE in the same invoke sees the new value, one before it
keeps the old), then the four microWakeWord models of ``pymicro-wakeword``
run 50-call sequences byte-identical in the reference Session, both peers,
the host C build and the Cortex-M4 build in QEMU.  What leafml cannot follow
is refused in one line, also for mutated bytes of a real model.
"""

from __future__ import annotations

import importlib.resources
import re
import subprocess
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb
from hypothesis import given, settings

import leafml
from int8_graphs import CORTEX_M4_C_FLAGS, STRICT_C_FLAGS, single_int8_op
from leafml.codegen import generate_c
from leafml.firmware import find_tool, run_cortex_m4, run_host
from leafml.frontends.tflite import load_tflite, read_tflite, supported_operators
from leafml.interpreter import Session
from leafml.ir import Graph, GraphError, OpType, QuantParams
from leafml.ops import VariableAttrs
from leafml.verify.peers import run_litert, run_tflm, tflm_arena_bytes
from test_tflite_fuzz import FUZZ, MUTATIONS, loads_or_refuses, mutate, structural_positions

B = fb.BuiltinOperator
QUANT = (0.5, -3)


# -- a ring buffer, written by hand: the state operators in their TFLite form ---------
class _Subgraph:
    """Tensors and operators of one subgraph, with the model's buffers and operator codes."""

    def __init__(self, model: fb.ModelT, name: str):
        self.model, self.sub = model, fb.SubGraphT()
        self.sub.name, self.sub.tensors, self.sub.operators, self.sub.inputs, self.sub.outputs = name, [], [], [], []

    def tensor(self, name: str, shape, kind=fb.TensorType.INT8, data: np.ndarray | None = None, quant=QUANT) -> int:
        t = fb.TensorT()
        t.name, t.shape, t.type, t.buffer = name, np.array(shape, dtype=np.int32), kind, 0
        if data is not None:
            self.model.buffers.append(fb.BufferT(data=np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)))
            t.buffer = len(self.model.buffers) - 1
        if kind == fb.TensorType.INT8:
            t.quantization = fb.QuantizationParametersT(scale=[quant[0]], zeroPoint=[quant[1]])
        self.sub.tensors.append(t)
        return len(self.sub.tensors) - 1

    def op(self, code: int, inputs: list[int], outputs: list[int], kind: int = fb.BuiltinOptions.NONE, options=None) -> None:
        codes = [c.builtinCode for c in self.model.operatorCodes]
        if code not in codes:
            self.model.operatorCodes.append(fb.OperatorCodeT(builtinCode=code, deprecatedBuiltinCode=min(code, 127), version=1))
            codes.append(code)
        self.sub.operators.append(fb.OperatorT(opcodeIndex=codes.index(code), inputs=inputs, outputs=outputs, builtinOptionsType=kind, builtinOptions=options))

    def var_handle(self, shared_name: str) -> int:
        handle = self.tensor(f"{shared_name}_handle", [], fb.TensorType.RESOURCE)
        self.op(B.VAR_HANDLE, [], [handle], fb.BuiltinOptions.VarHandleOptions, fb.VarHandleOptionsT(container="", sharedName=shared_name))
        return handle


def pack(model: fb.ModelT) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def ring_buffer_tflite(rows: int = 2, width: int = 4, initial: np.ndarray | None = None) -> bytes:
    """A streaming model that remembers its last ``rows`` inputs of ``width`` values.

    Each call reads the state (``old``), appends the input (``window``), keeps
    the newest ``rows`` rows as the new state, reads the state again
    (``new``) and outputs ``window`` followed by ``new``: the history before
    and after the assignment.
    """
    model = fb.ModelT(version=3, buffers=[fb.BufferT()], operatorCodes=[])
    if initial is None:
        initial = np.arange(rows * width, dtype=np.int8).reshape(1, rows, width)
    init = _Subgraph(model, "init")
    init.op(B.ASSIGN_VARIABLE, [init.var_handle("ring"), init.tensor("initial", [1, rows, width], data=initial)], [])
    main = _Subgraph(model, "main")
    x = main.tensor("x", [1, 1, width])
    main.op(B.CALL_ONCE, [], [], fb.BuiltinOptions.CallOnceOptions, fb.CallOnceOptionsT(initSubgraphIndex=1))
    handle = main.var_handle("ring")
    old, window, kept, new = (main.tensor(name, [1, n, width]) for name, n in (("old", rows), ("window", rows + 1), ("kept", rows), ("new", rows)))
    y = main.tensor("y", [1, 2 * rows + 1, width])
    concat = (fb.BuiltinOptions.ConcatenationOptions, fb.ConcatenationOptionsT(axis=1))
    slice_operands = [main.tensor(name, [3], fb.TensorType.INT32, np.array(v, np.int32)) for name, v in (("begin", [0, 1, 0]), ("end", [1, rows + 1, width]), ("strides", [1, 1, 1]))]
    main.op(B.READ_VARIABLE, [handle], [old])
    main.op(B.CONCATENATION, [old, x], [window], *concat)
    main.op(B.STRIDED_SLICE, [window, *slice_operands], [kept], fb.BuiltinOptions.StridedSliceOptions, fb.StridedSliceOptionsT())
    main.op(B.ASSIGN_VARIABLE, [handle, kept], [])
    main.op(B.READ_VARIABLE, [handle], [new])
    main.op(B.CONCATENATION, [window, new], [y], *concat)
    main.sub.inputs, main.sub.outputs = [x], [y]
    model.subgraphs = [main.sub, init.sub]
    return pack(model)


def edited(data: bytes, edit) -> bytes:
    model = fb.ModelT.InitFromPackedBuf(data, 0)
    edit(model)
    return pack(model)


def calls(count: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, size=(count, *shape), dtype=np.int8)


@pytest.fixture(scope="module")
def ring() -> tuple[bytes, Graph]:
    data = ring_buffer_tflite()
    return data, load_tflite(data)


# -- import ---------------------------------------------------------------------------
def test_the_ring_buffer_imports_as_one_variable_read_and_assigned(ring):
    _, graph = ring
    assert [n.op for n in graph.nodes] == [OpType.READ_VARIABLE, OpType.CONCATENATION, OpType.STRIDED_SLICE, OpType.ASSIGN_VARIABLE, OpType.READ_VARIABLE, OpType.CONCATENATION]
    assert list(graph.variables) == ["ring"]
    ring_state = graph.variables["ring"]
    np.testing.assert_array_equal(ring_state.data, np.arange(8, dtype=np.int8).reshape(1, 2, 4))
    assert (ring_state.quant.scalar_scale, ring_state.quant.scalar_zero_point) == QUANT
    assert all(n.attrs == VariableAttrs("ring") for n in graph.nodes if n.op in (OpType.READ_VARIABLE, OpType.ASSIGN_VARIABLE))
    assert {"CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "SPLIT_V"} <= set(supported_operators())


def test_the_copy_of_a_graph_has_its_own_variables(ring):
    _, graph = ring
    copy = graph.copy()
    copy.variables["ring"].data[...] = 0
    assert graph.variables["ring"].data.any() and copy.validate() is copy


def refusal(data: bytes) -> str:
    with pytest.raises(leafml.LeafmlError) as error:
        load_tflite(data, subgraph=0)
    message = str(error.value)
    assert "\n" not in message
    return message


def _second_call_once_last(m):
    ops = m.subgraphs[0].operators
    ops.append(ops[0])


def _no_call_once(m):
    m.subgraphs[0].operators.pop(0)


def _init_computes(m):
    init = m.subgraphs[1]
    init.tensors[1].buffer = 0  # the initial value is no longer a constant...
    init.inputs = [1]  # ...but the init subgraph's input


def _init_has_other_operators(m):
    init = m.subgraphs[1]
    init.tensors.append(fb.TensorT(name="relu", shape=np.array([1, 2, 4], np.int32), type=fb.TensorType.INT8))
    m.operatorCodes.append(fb.OperatorCodeT(builtinCode=B.RELU, deprecatedBuiltinCode=B.RELU, version=1))
    init.operators.append(fb.OperatorT(opcodeIndex=len(m.operatorCodes) - 1, inputs=[1], outputs=[len(init.tensors) - 1]))


def _read_of_a_plain_tensor(m):
    m.subgraphs[0].operators[2].inputs = [0]  # READ_VARIABLE of the input x


STATE_REFUSALS = {
    "CALL_ONCE after a read": (_second_call_once_last, r"operator 8 \(CALL_ONCE\) comes after a READ_VARIABLE or ASSIGN_VARIABLE, so it would reset the state"),
    "no initial value": (_no_call_once, r"operator 1 \(READ_VARIABLE\) uses variable 'ring' before it has a value; leafml needs a CALL_ONCE first"),
    "computed initial value": (_init_computes, r"subgraph 1 \(run by operator 0 \(CALL_ONCE\)\): operator 1 \(ASSIGN_VARIABLE\) assigns tensor 1 'initial', computed at run time"),
    "initialiser computes": (_init_has_other_operators, r"operator 2 \(RELU\) is not VAR_HANDLE or ASSIGN_VARIABLE"),
    "read of a plain tensor": (_read_of_a_plain_tensor, r"operator 2 \(READ_VARIABLE\) uses tensor 0 'x' as a variable, but no VAR_HANDLE before it produced that tensor"),
}


@pytest.mark.parametrize("case", sorted(STATE_REFUSALS))
def test_state_leafml_cannot_follow_is_refused_in_one_line(case):
    edit, message = STATE_REFUSALS[case]
    assert re.search(message, refusal(edited(ring_buffer_tflite(), edit)))


def test_validate_checks_each_variable_and_the_tensors_holding_it(ring):
    graph = ring[1].copy()
    graph.tensors["old"].quant = QuantParams(0.25, -3)
    with pytest.raises(GraphError, match=r"tensor 'old' .* does not hold variable 'ring''s bytes .* needs the variable's dtype, shape and quantization"):
        graph.validate()
    graph = ring[1].copy()
    graph.variables["ring"].data = None
    with pytest.raises(GraphError, match="variable 'ring' has no initial value"):
        graph.validate()
    graph = ring[1].copy()
    graph.nodes[0].attrs = VariableAttrs("ringg")
    with pytest.raises(GraphError, match="names variable 'ringg'; the graph's variables are 'ring'"):
        graph.validate()


# -- semantics: reference Session == LiteRT == TFLM ------------------------------------------
def test_state_persists_and_a_read_after_an_assign_sees_the_new_value(ring):
    _, graph = ring
    x = calls(4, (1, 4), seed=1)
    y = Session(graph).invoke(x)[0]
    history = np.concatenate([np.arange(8, dtype=np.int8).reshape(2, 4), x[:, 0]])
    for t in range(4):
        np.testing.assert_array_equal(y[t, :3], history[t : t + 3])  # the value read before the assignment
        np.testing.assert_array_equal(y[t, 3:], history[t + 1 : t + 3])  # and the one read after it


@pytest.mark.parametrize(("peer", "rounding"), [(run_tflm, "double"), (run_litert, "single")])
def test_the_ring_buffer_runs_like_the_peers_call_after_call(ring, peer, rounding):
    data, graph = ring
    x = calls(20, (1, 4), seed=2)
    np.testing.assert_array_equal(peer(data, x), Session(graph, rounding).invoke(x)[0])


def test_reset_restores_the_initial_state(ring):
    session = Session(ring[1])
    x = calls(3, (1, 4), seed=3)
    first = session.invoke(x)[0]
    assert not np.array_equal(session.invoke(x)[0], first)  # the state moved on
    np.testing.assert_array_equal(session.reset().invoke(x)[0], first)


def test_run_refuses_a_stateful_graph_and_points_to_session(ring):
    with pytest.raises(GraphError, match=r"keeps state in 1 variable\(s\).*leafml\.Session\(graph\)\.invoke\(x\)"):
        ring[1].run(calls(1, (1, 4), seed=0))


# -- generated C --------------------------------------------------------------------------
RESET_DRIVER = r"""
/* Runs every input of stdin in order, calls leafml_reset(), runs them again: all outputs to stdout. */
#include <stdio.h>
#include "model.h"

int main(void)
{
    static int8_t inputs[64][LEAFML_INPUT_SIZE];
    static int8_t output[LEAFML_OUTPUT_SIZE];
    size_t count = fread(inputs, LEAFML_INPUT_SIZE, 64, stdin);
    for (int pass = 0; pass < 2; ++pass) {
        for (size_t i = 0; i < count; ++i) {
            if (leafml_invoke(inputs[i], output) != LEAFML_OK) {
                return 1;
            }
            fwrite(output, 1, sizeof output, stdout);
        }
        leafml_reset();
    }
    return 0;
}
"""


def run_with_reset_between(model, x: np.ndarray, work_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The host build's outputs for the calls ``x`` (at most 64), then for the same calls after leafml_reset()."""
    (work_dir / "driver.c").write_text(RESET_DRIVER)
    exe = work_dir / "driver"
    command = [find_tool("cc"), "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{model.include_dir}", str(model.source), str(work_dir / "driver.c"), "-o", str(exe)]
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    ran = subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True)
    before, after = np.frombuffer(ran.stdout, dtype=np.int8).reshape(2, len(x), -1)
    return before, after


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc")
@pytest.mark.parametrize("rounding", ["double", "single"])
def test_the_ring_buffer_in_c_streams_and_resets(ring, tmp_path, rounding):
    graph = ring[1]
    model = generate_c(graph, tmp_path / "c", rounding=rounding)
    assert model.state_bytes == 8
    header = model.header.read_text()
    assert "#define LEAFML_STATE_SIZE 8" in header and "void leafml_reset(void);" in header
    for compiler, flags in (("cc", []), ("arm-none-eabi-gcc", CORTEX_M4_C_FLAGS)):
        built = subprocess.run([find_tool(compiler), *STRICT_C_FLAGS, *flags, str(model.source), "-o", str(tmp_path / f"{compiler}.o")], capture_output=True, text=True)
        assert built.returncode == 0, built.stderr
    x = calls(12, (1, 4), seed=4)
    before, after = run_with_reset_between(model, x, tmp_path)
    expected = Session(graph, rounding).invoke(x)[0].reshape(12, -1)
    np.testing.assert_array_equal(before, expected)
    np.testing.assert_array_equal(after, expected)  # leafml_reset() started the stream again


def test_a_stateless_model_has_no_state_in_c(tmp_path):
    model = generate_c(single_int8_op(OpType.RELU, None, QUANT, QUANT), tmp_path / "c")
    assert model.state_bytes == 0
    assert "reset" not in model.header.read_text() + model.source.read_text()


# -- the microWakeWord models (real models: about 3 s each, most of it building and running the C) ------
WAKE_WORDS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")
CALLS = 50
OKAY_NABU = (importlib.resources.files("pymicro_wakeword") / "models" / "okay_nabu.tflite").read_bytes()
OKAY_NABU_STRUCTURE = structural_positions(OKAY_NABU)


@pytest.fixture(scope="module", params=WAKE_WORDS)
def wake_word(request) -> tuple[str, bytes, Graph]:
    data = (importlib.resources.files("pymicro_wakeword") / "models" / f"{request.param}.tflite").read_bytes()
    return request.param, data, load_tflite(data)


def stream(seed: int, count: int = CALLS) -> np.ndarray:
    """``count`` seeded random int8 feature windows [3, 40], each call with its own loudness (upper bound)."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(-128, rng.integers(-100, 128), size=(3, 40), dtype=np.int8) for _ in range(count)])


def logits(graph: Graph) -> Graph:
    """The graph with the input of its LOGISTIC as output: int8 scores that move with every call."""
    probe = graph.copy()
    probe.outputs = [next(n.inputs[0] for n in graph.nodes if n.op is OpType.LOGISTIC)]
    return probe.validate()


def every_tensor_as_output(data: bytes) -> bytes:
    """The model with each int8/uint8 tensor the main subgraph computes made a subgraph output too."""

    def edit(m):
        main = m.subgraphs[0]
        outputs = [int(i) for i in main.outputs]
        for op in main.operators:
            outputs += [int(o) for o in (op.outputs if op.outputs is not None else []) if main.tensors[o].type in (fb.TensorType.INT8, fb.TensorType.UINT8) and o not in outputs]
        main.outputs = outputs

    return edited(data, edit)


def test_a_wake_word_model_imports_with_its_state_as_variables(wake_word):
    name, data, graph = wake_word
    counts = read_tflite(data).operator_counts()
    assert counts["CALL_ONCE"] == 1 and counts["READ_VARIABLE"] == counts["ASSIGN_VARIABLE"] == counts["VAR_HANDLE"] == len(graph.variables) == 6
    ops = {n.op for n in graph.nodes}
    assert {OpType.READ_VARIABLE, OpType.ASSIGN_VARIABLE, OpType.CONV_2D, OpType.DEPTHWISE_CONV_2D, OpType.LOGISTIC, OpType.QUANTIZE} <= ops
    for variable in graph.variables.values():  # every state starts at its zero point, as TFLM's reset would set it
        assert np.all(variable.data == variable.quant.scalar_zero_point)
    assert graph.tensors[graph.outputs[0]].dtype == np.uint8


@pytest.mark.parametrize(("peer", "rounding"), [(run_tflm, "double"), (run_litert, "single")])
def test_fifty_calls_give_the_peers_bytes(wake_word, peer, rounding):
    _, data, graph = wake_word
    x = stream(seed=10)
    np.testing.assert_array_equal(peer(data, x), Session(graph, rounding).invoke(x)[0])


def test_every_tensor_of_fifty_calls_gives_the_peers_bytes(wake_word):
    """Stronger than the outputs (mostly 0 on random features): every activation, call after call."""
    from ai_edge_litert.interpreter import Interpreter
    from tflite_micro.python.tflite_micro import runtime

    data = every_tensor_as_output(wake_word[1])
    graph = load_tflite(data)
    x = stream(seed=11)
    expected = {rounding: Session(graph, rounding).invoke(x) for rounding in ("double", "single")}
    tflm = runtime.Interpreter.from_bytes(data)  # one interpreter for the whole stream, never reset
    litert = Interpreter(model_content=data)
    litert.allocate_tensors()
    litert_outputs = [d["index"] for d in litert.get_output_details()]
    for call in range(CALLS):
        tflm.set_input(x[call : call + 1], 0)
        tflm.invoke()
        litert.set_tensor(litert.get_input_details()[0]["index"], x[call : call + 1])
        litert.invoke()
        for k, name in enumerate(graph.outputs):
            np.testing.assert_array_equal(tflm.get_output(k), expected["double"][k][call : call + 1], err_msg=f"TFLM, call {call}, {name}")
            np.testing.assert_array_equal(litert.get_tensor(litert_outputs[k]), expected["single"][k][call : call + 1], err_msg=f"LiteRT, call {call}, {name}")


def test_state_carries_from_call_to_call_and_reset_forgets_it(wake_word):
    session = Session(logits(wake_word[2]))
    a, b, c = stream(seed=12, count=3)
    after_a = session.invoke(np.stack([a, c]))[0][1]
    after_b = session.reset().invoke(np.stack([b, c]))[0][1]
    assert after_a != after_b  # the same input c scores differently after a different first call
    np.testing.assert_array_equal(session.reset().invoke(np.stack([a, c]))[0][1], after_a)


@pytest.mark.requires_tools("cc", "arm-none-eabi-gcc", "qemu-system-arm")
def test_fifty_calls_in_c_on_the_host_and_cortex_m4_give_the_reference_bytes(wake_word, tmp_path):
    name, data, graph = wake_word
    x = stream(seed=13)
    flat = x.reshape(CALLS, -1)
    models, expected = {}, {}
    for rounding in ("double", "single"):
        models[rounding] = model = generate_c(graph, tmp_path / rounding / "c", rounding=rounding)
        expected[rounding] = Session(graph, rounding).invoke(x)[0].view(np.int8).reshape(CALLS, -1)
        np.testing.assert_array_equal(run_host(model.sources, [model.include_dir], flat, model.output_size, tmp_path / rounding / "host"), expected[rounding])
        assert model.state_bytes == sum(v.nbytes for v in graph.variables.values())
    model = models["double"]  # TFLM's rounding, the default, on the microcontroller
    firmware = run_cortex_m4(model.sources, [model.include_dir], flat, model.output_size, tmp_path / "cortex_m4")
    np.testing.assert_array_equal(firmware.outputs, expected["double"])
    assert len(firmware.instructions) == CALLS
    assert model.arena_bytes <= tflm_arena_bytes(data)["head"]  # the state lives outside the arena
    # The logits move with every call where the outputs are mostly 0: they check the C's state handling, and its reset.
    scores = logits(graph)
    model = generate_c(scores, tmp_path / "logits" / "c")
    before, after = run_with_reset_between(model, x, tmp_path / "logits")
    np.testing.assert_array_equal(before, Session(scores).invoke(x)[0])
    np.testing.assert_array_equal(after, before)


def test_split_v_sizes_that_do_not_add_up_are_refused():
    def edit(m):
        main = m.subgraphs[0]
        split = next(op for op in main.operators if m.operatorCodes[op.opcodeIndex].builtinCode == B.SPLIT_V)
        m.buffers[main.tensors[split.inputs[1]].buffer].data = np.frombuffer(np.array([32, 31], np.int32).tobytes(), np.uint8)

    assert re.search(r"operator 25 \(SPLIT_V\) splits axis 3 of 64 elements into sizes \[32, 31\]$", refusal(edited(OKAY_NABU, edit)))


@settings(FUZZ, max_examples=500)
@given(mutations=MUTATIONS)
def test_mutated_wake_word_models_load_or_are_refused_in_one_line(mutations):
    """The state lowering reads untrusted files too: mutated bytes load, or fail with one line."""
    loads_or_refuses(mutate(OKAY_NABU, OKAY_NABU_STRUCTURE, mutations))
