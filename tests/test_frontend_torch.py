"""PyTorch frontend: the float graph computes what the module computes."""

import numpy as np
import pytest
import torch
from torch import nn

from leafml import from_torch
from leafml.frontends.torch import UnsupportedModelError
from leafml.ir import Activation, OpType, Padding
from torch_models import cnn, images, nhwc


def convert(model, shape=(1, 12, 12)):
    return from_torch(model, torch.zeros(1, *shape))


def test_graph_matches_torch_with_folded_batchnorm_and_fused_activations():
    model, x = cnn(), images(16)
    g = convert(model).validate()
    ops = [n.op for n in g.nodes]
    assert OpType.SOFTMAX in ops and len(ops) == 8  # BN, ReLU and Dropout left no nodes
    assert [n.attrs.activation for n in g.nodes if n.op is OpType.CONV_2D] == [Activation.RELU, Activation.RELU6]
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(g.run(nhwc(x))[0], expected, atol=1e-5)


def test_the_module_is_not_modified():
    model = cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    convert(model)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_layout_is_nhwc_with_ohwi_weights():
    g = convert(cnn())
    assert g.tensors[g.inputs[0]].shape == (1, 12, 12, 1)
    conv = g.nodes[0]
    assert g.tensors[conv.inputs[1]].shape == (6, 3, 3, 1)


def test_flatten_of_a_multi_channel_map_permutes_the_linear_columns():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)).eval()
    x = images(4, (2, 4, 4))
    g = from_torch(model, torch.zeros(1, 2, 4, 4))
    with torch.no_grad():
        np.testing.assert_allclose(g.run(nhwc(x))[0], model(torch.from_numpy(x)).numpy(), atol=1e-5)


class FunctionalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2, padding=0)
        self.fc = nn.Linear(4 * 5 * 5, 3)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = x.view(x.size(0), -1)
        return torch.softmax(self.fc(x), dim=-1)


def test_functional_calls_and_view_are_understood():
    model = FunctionalNet().eval()
    x = images(5)
    g = from_torch(model, torch.zeros(1, 1, 12, 12))
    with torch.no_grad():
        np.testing.assert_allclose(g.run(nhwc(x))[0], model(torch.from_numpy(x)).numpy(), atol=1e-5)


def test_symmetric_padding_equal_to_tflite_same_maps_to_same():
    g = convert(nn.Sequential(nn.Conv2d(1, 2, 3, padding=1)).eval())
    assert g.nodes[0].attrs.padding is Padding.SAME


def test_padding_that_tflite_cannot_express_is_refused():
    # stride 2, padding 1 on an even input pads the top in torch but the bottom in TFLite.
    with pytest.raises(UnsupportedModelError, match="neither VALID nor TFLite SAME"):
        convert(nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1)).eval())


def test_unsupported_layer_is_named_with_the_supported_list():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sigmoid())
    with pytest.raises(UnsupportedModelError, match=r"layer '1' \(Sigmoid\) is not supported; supported: Conv2d, Linear"):
        convert(model)


def test_relu_that_cannot_be_fused_is_refused():
    with pytest.raises(UnsupportedModelError, match="must directly follow"):
        convert(nn.Sequential(nn.ReLU(), nn.Conv2d(1, 2, 3)))


def test_grouped_conv_that_is_not_depthwise_is_refused():
    with pytest.raises(UnsupportedModelError, match="groups=2"):
        convert(nn.Sequential(nn.Conv2d(4, 4, 3, groups=2)), (4, 12, 12))


def test_example_input_must_be_a_float_batch_of_one():
    with pytest.raises(UnsupportedModelError, match="batch 1"):
        from_torch(cnn(), torch.zeros(2, 1, 12, 12))
    with pytest.raises(UnsupportedModelError, match="float32"):
        from_torch(cnn(), torch.zeros(1, 1, 12, 12, dtype=torch.float64))
