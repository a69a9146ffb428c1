"""The .tflite writer, and rungs 1-2 of the ladder: LiteRT and TFLM agree with the reference."""

import numpy as np
import pytest
import torch
from ai_edge_litert import schema_py_generated as fb

from leafml import Quantizer, from_torch, quantize_array
from leafml.ir import GraphError
from leafml.verify.ladder import compare
from leafml.verify.peers import run_litert, run_tflm, tflm_arena_bytes
from torch_models import cnn, images, nhwc


@pytest.fixture(scope="module")
def float_graph():
    return from_torch(cnn(), torch.zeros(1, 1, 12, 12))


@pytest.fixture(scope="module")
def int8_graph(float_graph):
    return Quantizer(float_graph).fit(nhwc(images(64, seed=1))).graph_


@pytest.fixture(scope="module")
def int8_inputs(int8_graph):
    return quantize_array(nhwc(images(200, seed=3)), int8_graph.tensors[int8_graph.inputs[0]].quant)


def test_file_reads_back_through_the_schema(int8_graph):
    data = int8_graph.to_tflite()
    assert data[4:8] == b"TFL3"
    model = fb.ModelT.InitFromPackedBuf(data, 0)
    sub = model.subgraphs[0]
    assert len(sub.operators) == len(int8_graph.nodes)
    codes = [model.operatorCodes[op.opcodeIndex].builtinCode for op in sub.operators]
    assert codes[0] == fb.BuiltinOperator.CONV_2D and codes[-1] == fb.BuiltinOperator.SOFTMAX
    w_name = int8_graph.nodes[0].inputs[1]
    w = next(t for t in sub.tensors if t.name.decode() == w_name)
    assert w.type == fb.TensorType.INT8
    np.testing.assert_array_equal(np.array(w.quantization.scale, np.float32), int8_graph.tensors[w_name].quant.scale)
    assert bytes(model.buffers[w.buffer].data) == int8_graph.tensors[w_name].data.tobytes()


def test_float_model_runs_in_both_peers(float_graph):
    x = nhwc(images(20, seed=4))
    expected = float_graph.run(x)[0]
    data = float_graph.to_tflite()
    np.testing.assert_allclose(run_litert(data, x), expected, atol=1e-6)
    np.testing.assert_allclose(run_tflm(data, x), expected, atol=1e-6)


def test_litert_equals_reference_in_single_rounding(int8_graph, int8_inputs):
    got = run_litert(int8_graph.to_tflite(), int8_inputs)
    assert compare("litert", got, int8_graph.run(int8_inputs, rounding="single")[0]).passed


def test_tflm_equals_reference_in_double_rounding(int8_graph, int8_inputs):
    got = run_tflm(int8_graph.to_tflite(), int8_inputs)
    assert compare("tflm", got, int8_graph.run(int8_inputs, rounding="double")[0]).passed


def test_the_rounding_modes_really_differ_somewhere(int8_graph, int8_inputs):
    # Guards the two tests above against passing for the wrong reason.
    hidden = int8_graph.copy()
    hidden.outputs = [hidden.nodes[-2].outputs[0]]  # the logits, before softmax saturates differences
    single, double = (hidden.run(int8_inputs, rounding=r)[0] for r in ("single", "double"))
    assert np.any(single != double)


def test_tflm_reports_its_arena(int8_graph):
    figures = tflm_arena_bytes(int8_graph.to_tflite())
    assert figures["total"] == figures["head"] + figures["tail"] > 0


def test_writer_validates_first(int8_graph):
    broken = int8_graph.copy()
    broken.outputs = ["nowhere"]
    with pytest.raises(GraphError):
        broken.to_tflite()
