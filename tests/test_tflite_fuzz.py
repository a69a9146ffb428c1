"""Hostile .tflite input: every malformed file is one LeafmlError line, never a traceback, hang or blow-up.

Fixed cases name what the reader must say; property tests mutate the
bytes of real models (leafml-written ones always, the MLPerf Tiny models
when the shared data is there) and accept only a validated Graph or a
TfliteFormatError / UnsupportedOperatorError / GraphError, within a
deadline per case.  Runs derandomized: the same cases every time.
"""

from __future__ import annotations

import inspect
import re
import time
from datetime import timedelta

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from leafml.frontends.tflite import TfliteFormatError, UnsupportedOperatorError, load_tflite, read_tflite
from leafml.frontends.tflite_unpack import OPTION_STRINGS
from leafml.ir import Graph, GraphError
from test_tflite_import import MLPERF, repack, small_float_graph, small_int8_graph


@pytest.fixture(scope="module")
def small_model() -> bytes:
    return small_int8_graph().to_tflite()


def refusal(data: bytes, expected: type = TfliteFormatError) -> str:
    """The message of the error ``load_tflite(data)`` raises, checked to be one line."""
    with pytest.raises(expected) as error:
        load_tflite(data)
    message = str(error.value)
    assert message and "\n" not in message
    return message


# -- fixed cases ----------------------------------------------------------------------
def test_empty_and_foreign_files(small_model):
    assert "0 bytes is too short" in refusal(b"")
    assert "not a TFLite flatbuffer" in refusal(small_model[:4] + b"ONNX" + small_model[8:])
    assert "not a TFLite flatbuffer" in refusal(b"PK\x03\x04" + bytes(100))  # a zip (.keras)


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_truncated_files(small_model, fraction):
    refusal(small_model[: max(9, int(len(small_model) * fraction))])


def _sub(model):
    return model.subgraphs[0]


INDEX_CASES = {
    "buffer": (lambda m: setattr(_sub(m).tensors[1], "buffer", 99), r"tensor 1 'conv_w' refers to buffer 99 of \d+$"),
    "operator input": (lambda m: setattr(_sub(m).operators[1], "inputs", [99]), r"operator 1 \(MAX_POOL_2D\) input 0 is tensor 99 of 13$"),
    "operator output": (lambda m: setattr(_sub(m).operators[1], "outputs", [-1]), r"operator 1 \(MAX_POOL_2D\) output is tensor -1 of 13$"),
    "optional -1 as subgraph input": (lambda m: setattr(_sub(m), "inputs", [-1]), r"subgraph input is tensor -1 of 13$"),
    "operator code": (lambda m: setattr(_sub(m).operators[2], "opcodeIndex", 40), r"operator 2 uses operator code 40 of \d+$"),
    "signature subgraph": (lambda m: setattr(m, "signatureDefs", [fb.SignatureDefT(subgraphIndex=3)]), r"signature 0 refers to subgraph 3 of 1$"),
    "metadata buffer": (lambda m: setattr(m, "metadata", [fb.MetadataT(name=b"x", buffer=77)]), r"metadata 0 refers to buffer 77 of \d+$"),
}


@pytest.mark.parametrize("case", sorted(INDEX_CASES))
def test_indices_out_of_range(small_model, case):
    edit, message = INDEX_CASES[case]
    assert re.search(message, refusal(repack(small_model, edit)))


def _set_shape(index: int, shape: list[int]):
    return lambda m: setattr(_sub(m).tensors[index], "shape", np.array(shape, dtype=np.int32))


def _set_quant(index: int, scales: int, zero_points: int, axis: int = 0):
    def edit(m):
        q = _sub(m).tensors[index].quantization
        q.scale, q.zeroPoint, q.quantizedDimension = [0.5] * scales, [0] * zero_points, axis

    return edit


def _opcode(code: int, custom: bytes | None = None):
    def edit(m):
        m.operatorCodes[0].builtinCode = code
        m.operatorCodes[0].deprecatedBuiltinCode = min(code, fb.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
        m.operatorCodes[0].customCode = custom

    return edit


def _cycle(m):
    ops = _sub(m).operators
    ops[0].inputs = [ops[1].outputs[0], *ops[0].inputs[1:]]  # the first conv reads the max pool's output


def _write_twice(m):
    ops = _sub(m).operators
    ops[1].outputs = list(ops[0].outputs)


def _calls(*targets: int):
    def edit(m):
        m.operatorCodes.append(fb.OperatorCodeT(deprecatedBuiltinCode=fb.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES, builtinCode=fb.BuiltinOperator.CALL_ONCE))
        for target in targets:
            call = fb.OperatorT(opcodeIndex=len(m.operatorCodes) - 1, inputs=[], outputs=[])
            call.builtinOptionsType, call.builtinOptions = fb.BuiltinOptions.CallOnceOptions, fb.CallOnceOptionsT(initSubgraphIndex=target)
            _sub(m).operators.append(call)

    return edit


SCHEMA_CASES = {
    "huge dimension": (_set_shape(0, [1, 2**30, 2**30, 3]), r"tensor 0 'input' of shape \(1, 1073741824, 1073741824, 3\) would need \d+ bytes; TFLite tensors stay under 2 GiB$"),
    "negative dimension": (_set_shape(0, [1, -10, 10, 3]), r"tensor 0 'input' has a negative dimension in \(1, -10, 10, 3\)$"),
    "rank": (_set_shape(0, [1] * 9), r"tensor 0 'input' has rank 9; leafml reads tensors of rank 8 or less$"),
    "constant size": (_set_shape(1, [4, 3, 3, 2]), r"tensor 1 'conv_w' holds 108 bytes of data; its shape \(4, 3, 3, 2\) of INT8 needs 72$"),
    "tensor type": (lambda m: setattr(_sub(m).tensors[3], "type", 99), r"tensor 3 'conv' has type 99, which the TFLite schema does not define$"),
    "zero points": (_set_quant(3, 1, 2), r"tensor 3 'conv' has 1 quantization scales but 2 zero points$"),
    "channel scales": (_set_quant(1, 3, 3), r"tensor 1 'conv_w' has 3 per-channel scales, which do not match dimension 0 of its shape \(4, 3, 3, 3\)$"),
    "cycle": (_cycle, r"operator 0 \(CONV_2D\) reads tensor 4 'maxpool' before any operator produces it \(a cycle, or operators out of order\)$"),
    "written twice": (_write_twice, r"operator 1 \(MAX_POOL_2D\) writes tensor 3 'conv', already written by operator 0$"),
    "writes a constant": (lambda m: setattr(_sub(m).operators[1], "outputs", [1]), r"operator 1 \(MAX_POOL_2D\) writes tensor 1 'conv_w', which is a constant$"),
    "output never produced": (lambda m: _sub(m).operators.pop(), r"subgraph output tensor 12 'softmax' is never produced$"),
    "unknown operator code": (_opcode(5000), r"operator code 0 is builtin operator 5000, which this TFLite schema does not know"),
    "nameless custom operator": (_opcode(fb.BuiltinOperator.CUSTOM), r"operator code 0 is a CUSTOM operator without a name$"),
    "schema version": (lambda m: setattr(m, "version", 2), r"schema version 2; TFLite and leafml read version 3"),
    "no subgraph": (lambda m: setattr(m, "subgraphs", []), r"has no subgraph; a model needs at least one$"),
    "buffer 0 with data": (lambda m: setattr(m.buffers[0], "data", np.ones(4, np.uint8)), r"buffer 0 holds data; the schema reserves it as the empty buffer$"),
    "data outside the flatbuffer": (lambda m: setattr(m.buffers[1], "offset", 8), r"buffer 1 stores its data outside the flatbuffer"),
    "recursive subgraph": (_calls(0), r"subgraphs call each other in a cycle \(0 -> 0\); TFLite subgraphs cannot recurse$"),
    "called subgraph out of range": (_calls(4), r"operator 7 \(CALL_ONCE\) calls subgraph 4 of 1$"),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_CASES))
def test_schema_violations_are_named(small_model, case):
    edit, message = SCHEMA_CASES[case]
    assert re.search(message, refusal(repack(small_model, edit)))


def test_errors_start_with_the_file_name(small_model, tmp_path):
    path = tmp_path / "broken.tflite"
    path.write_bytes(repack(small_model, _cycle))
    assert refusal(str(path)).startswith(f"{path}: operator 0 (CONV_2D) reads")


# -- amplification: offsets shared so a small file unpacks into a huge one -------------
def shared_table_file(copies: int, name_bytes: int) -> bytes:
    """A valid flatbuffer whose ``copies`` subgraphs all point at one table of ``copies`` tensors sharing one name."""
    b = flatbuffers.Builder(1024)
    name = b.CreateString("n" * name_bytes)
    fb.TensorStart(b)
    fb.TensorAddName(b, name)
    tensor = fb.TensorEnd(b)
    fb.SubGraphStartTensorsVector(b, copies)
    for _ in range(copies):
        b.PrependUOffsetTRelative(tensor)
    tensors = b.EndVector()
    fb.SubGraphStart(b)
    fb.SubGraphAddTensors(b, tensors)
    subgraph = fb.SubGraphEnd(b)
    fb.ModelStartSubgraphsVector(b, copies)
    for _ in range(copies):
        b.PrependUOffsetTRelative(subgraph)
    subgraphs = b.EndVector()
    fb.ModelStart(b)
    fb.ModelAddVersion(b, 3)
    fb.ModelAddSubgraphs(b, subgraphs)
    b.Finish(fb.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.mark.parametrize(("copies", "name_bytes", "message"), [(3000, 1, "more tables than the file can hold"), (40, 10_000, "strings add up to more than the file's size")])
def test_shared_offsets_cannot_blow_up_the_unpack(copies, name_bytes, message):
    # Unpacked naively these make 9 M tensor objects, or 16 MB of names from a 10 kB file.
    data = shared_table_file(copies, name_bytes)
    start = time.perf_counter()
    assert message in refusal(data)
    assert time.perf_counter() - start < 1.0


def shared_buffer_file(copies: int, data_bytes: int) -> bytes:
    """A flatbuffer whose ``copies`` buffers all point at one data vector of ``data_bytes``."""
    b = flatbuffers.Builder(1024)
    data = b.CreateNumpyVector(np.ones(data_bytes, dtype=np.uint8))
    fb.BufferStart(b)
    empty = fb.BufferEnd(b)
    fb.BufferStart(b)
    fb.BufferAddData(b, data)
    shared = fb.BufferEnd(b)
    fb.ModelStartBuffersVector(b, copies + 1)
    for offset in [shared] * copies + [empty]:
        b.PrependUOffsetTRelative(offset)
    buffers = b.EndVector()
    fb.ModelStart(b)
    fb.ModelAddVersion(b, 3)
    fb.ModelAddBuffers(b, buffers)
    b.Finish(fb.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_shared_vectors_cannot_blow_up_what_is_read():
    # Unpacking these is cheap (numpy views), but every reader of the buffers would see 50x the file.
    assert "its vectors add up to more bytes than the file holds" in refusal(shared_buffer_file(50, 4000))
    assert "has no subgraph" in refusal(shared_buffer_file(1, 4000))  # one copy is fine


def test_the_unpack_budget_covers_every_table_vector_and_string_of_the_schema():
    # tflite_unpack walks these by name; a binding update that adds one must extend the walk.
    source = inspect.getsource(fb)
    table_vectors = {(parent, field) for _, parent, field in re.findall(r"(\w+)T\.InitFromObj\((\w+)\.(\w+)\(i\)\)", source)}
    assert table_vectors == {
        ("model", "OperatorCodes"), ("model", "Subgraphs"), ("model", "Buffers"), ("model", "Metadata"), ("model", "SignatureDefs"),
        ("model", "ExternalBufferGroups"), ("model", "ExternalBuffers"), ("subGraph", "Tensors"), ("subGraph", "Operators"),
        ("sparsityParameters", "DimMetadata"), ("tensor", "VariantTensors"), ("signatureDef", "Inputs"), ("signatureDef", "Outputs"),
    }
    strings = {
        (name, method)
        for name, cls in vars(fb).items()
        if inspect.isclass(cls) and not name.endswith("T")
        for method, fn in vars(cls).items()
        if inspect.isfunction(fn) and "self._tab.String(" in inspect.getsource(fn)
    }
    option_strings = {(kind.__name__, field) for kind, fields in OPTION_STRINGS.values() for field in fields}
    walked = {("Model", "Description"), ("OperatorCode", "CustomCode"), ("SubGraph", "Name"), ("Tensor", "Name"), ("Metadata", "Name"),
              ("SignatureDef", "SignatureKey"), ("TensorMap", "Name"), ("ExternalBufferGroup", "Name"), ("ExternalBuffer", "Packing")}
    assert strings == walked | option_strings


# -- property tests: mutated real models ------------------------------------------------
INTERESTING_WORDS = [0, 1, 2, 3, 4, 7, 8, 16, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]

# A position is drawn as (structural?, index): structural positions avoid the
# weight bytes, where a mutation only changes numbers and proves little.
POSITION = st.tuples(st.booleans(), st.integers(min_value=0, max_value=2**31))
MUTATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("flip"), POSITION, st.integers(0, 7)),
        st.tuples(st.just("byte"), POSITION, st.integers(0, 255)),
        st.tuples(st.just("word"), POSITION, st.sampled_from(INTERESTING_WORDS)),
        st.tuples(st.just("truncate"), POSITION, st.none()),
        st.tuples(st.just("insert"), POSITION, st.binary(min_size=1, max_size=8)),
    ),
    min_size=1,
    max_size=4,
)


def structural_positions(data: bytes) -> np.ndarray:
    """Byte offsets of ``data`` outside its buffers' contents (tables, vectors, strings)."""
    outside = np.ones(len(data), dtype=bool)
    base = np.frombuffer(data, np.uint8).__array_interface__["data"][0]
    model = fb.Model.GetRootAs(data, 0)
    for i in range(model.BuffersLength()):
        contents = model.Buffers(i).DataAsNumpy()
        if isinstance(contents, np.ndarray) and contents.size:
            start = contents.__array_interface__["data"][0] - base
            outside[start : start + contents.size] = False
    return np.flatnonzero(outside)


def mutate(data: bytes, structural: np.ndarray, mutations) -> bytes:
    out = bytearray(data)
    for kind, (in_structure, index), value in mutations:
        if not out:
            break
        pos = int(structural[index % len(structural)]) if in_structure else index % len(out)
        pos = min(pos, len(out) - 1)
        if kind == "flip":
            out[pos] ^= 1 << value
        elif kind == "byte":
            out[pos] = value
        elif kind == "word":
            pos -= pos % 4  # flatbuffer offsets, lengths and indices are 4-byte aligned
            out[pos : pos + 4] = value.to_bytes(4, "little")
        elif kind == "truncate":
            del out[pos:]
        else:
            out[pos:pos] = value
    return bytes(out)


def loads_or_refuses(data: bytes) -> None:
    """The property: a validated Graph, or one line of TfliteFormatError/UnsupportedOperatorError/GraphError."""
    try:
        graph = load_tflite(data)
    except (TfliteFormatError, UnsupportedOperatorError, GraphError) as e:
        assert str(e) and "\n" not in str(e)
        event(type(e).__name__)  # shown by pytest --hypothesis-show-statistics
    else:
        assert isinstance(graph, Graph)
        graph.validate()
        event("loaded")


FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=2),  # a case takes milliseconds; a hang or blow-up takes far longer
    suppress_health_check=[HealthCheck.too_slow],
)

SMALL_MODELS = {"int8": small_int8_graph().to_tflite(), "float": small_float_graph().to_tflite()}
SMALL_STRUCTURE = {name: structural_positions(data) for name, data in SMALL_MODELS.items()}


@settings(FUZZ, max_examples=1500)
@given(which=st.sampled_from(sorted(SMALL_MODELS)), mutations=MUTATIONS)
def test_mutated_leafml_models_load_or_are_refused(which, mutations):
    loads_or_refuses(mutate(SMALL_MODELS[which], SMALL_STRUCTURE[which], mutations))


@pytest.fixture(scope="module")
def mlperf_models(shared_data) -> dict[str, tuple[bytes, np.ndarray]]:
    models = {}
    for name in ("ad01_int8", "kws_ref_model", "pretrainedResnet_quant", "pretrainedResnet"):
        data = (shared_data / MLPERF / f"{name}.tflite").read_bytes()
        models[name] = (data, structural_positions(data))
    return models


@settings(FUZZ, max_examples=1000)
@given(which=st.sampled_from(["ad01_int8", "kws_ref_model", "pretrainedResnet_quant", "pretrainedResnet"]), mutations=MUTATIONS)
def test_mutated_mlperf_models_load_or_are_refused(mlperf_models, which, mutations):
    data, structural = mlperf_models[which]
    loads_or_refuses(mutate(data, structural, mutations))


def test_unmutated_models_load(small_model):
    # The property tests would pass vacuously if every base model were refused.
    for data in SMALL_MODELS.values():
        assert isinstance(load_tflite(data), Graph)
    assert read_tflite(small_model).subgraphs[0].operators
