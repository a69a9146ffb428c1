"""The model zoo, the layers it needs in the torch frontend and quantizer, the trainer,
and the zoo through a project: ``leafml train``, ``leafml test``, ``leafml build``."""

import numpy as np
import pytest
import torch
from torch import nn

import leafml
from leafml.cli import main
from leafml.frontends.torch import UnsupportedModelError, from_torch
from leafml.ir.graph import OpType
from leafml.quant.ptq import Quantizer, quantize_array, with_float_input
from leafml.train import zoo
from leafml.train.trainer import TrainingError, balanced_class_weights, train_autoencoder, train_classifier

LADDER_TOOLS = ("cc", "arm-none-eabi-gcc", "qemu-system-arm")


def _randomize_batchnorm(model: nn.Module) -> nn.Module:
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=g) - 0.5)
    return model.eval()


def _ir_layout(x: np.ndarray) -> np.ndarray:
    if x.ndim == 4:
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    if x.ndim == 3:
        return np.ascontiguousarray(x.transpose(0, 2, 1)[:, None])
    return x


ZOO = {
    "mlp": (lambda: zoo.deployable(zoo.mlp(12, 4, (16, 8))), (12,)),
    "conv1d": (lambda: zoo.deployable(zoo.conv1d(6, 40, 4, width=8)), (6, 40)),
    "small_cnn": (lambda: zoo.deployable(zoo.small_cnn(1, 8, 12, 3)), (1, 8, 12)),
    "ds_cnn": (lambda: zoo.deployable(zoo.ds_cnn(1, 25, 10, 5, filters=16, blocks=2)), (1, 25, 10)),
    "dense_autoencoder": (lambda: zoo.dense_autoencoder(20, (16,), 4).eval(), (20,)),
}


def _zoo_model(name):
    torch.manual_seed(0)
    make, shape = ZOO[name]
    model = _randomize_batchnorm(make())
    x = np.random.default_rng(0).normal(size=(64, *shape)).astype(np.float32)
    return model, x


@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_converts_with_the_float_outputs_of_torch(name):
    model, x = _zoo_model(name)
    graph = from_torch(model, torch.from_numpy(x[:1]))
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(graph.run(_ir_layout(x))[0].reshape(expected.shape), expected, atol=2e-5)


@pytest.mark.requires_tools(*LADDER_TOOLS)
@pytest.mark.parametrize("name", ZOO)
def test_zoo_model_int8_passes_every_rung(tmp_path, name):
    from leafml.codegen import generate_c
    from leafml.verify.ladder import run_ladder

    model, x = _zoo_model(name)
    graph = Quantizer(from_torch(model, torch.from_numpy(x[:1]))).fit(_ir_layout(x)).graph_
    codes = quantize_array(_ir_layout(x[:24]), graph.tensors[graph.inputs[0]].quant)
    cmodel = generate_c(graph, tmp_path / "c")
    ladder = run_ladder(graph, graph.to_tflite(), codes, cmodel.sources, [cmodel.include_dir], tmp_path / "build")
    assert ladder.all_passed, {k: r.mismatched_bytes for k, r in ladder.rungs.items()}
    assert min(ladder.firmware.instructions) > cmodel.macs > 0


def test_depthwise_weights_are_quantized_per_channel_along_axis_3():
    model, x = _zoo_model("ds_cnn")
    graph = Quantizer(from_torch(model, torch.from_numpy(x[:1]))).fit(_ir_layout(x)).graph_
    depthwise = [n for n in graph.nodes if n.op is OpType.DEPTHWISE_CONV_2D]
    assert len(depthwise) == 2
    for node in depthwise:
        w, b = graph.tensors[node.inputs[1]], graph.tensors[node.inputs[2]]
        assert w.quant.axis == 3 and w.quant.scale.size == w.shape[3] == 16
        assert b.dtype == np.int32 and b.quant.scale.size == 16


@pytest.mark.parametrize(
    "layer, shape",
    [
        (nn.Conv1d(3, 4, 5, padding=2), (3, 20)),
        (nn.Conv1d(3, 4, 3, stride=2), (3, 21)),
        (nn.Conv1d(3, 4, 3, dilation=2, padding="same", bias=False), (3, 16)),
        (nn.Conv1d(4, 8, 3, padding=1, groups=4), (4, 16)),  # depthwise, multiplier 2
        (nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), (4, 9, 9)),
        (nn.Conv2d(2, 6, (3, 1), stride=(2, 1), groups=2), (2, 11, 5)),
        (nn.MaxPool1d(2), (3, 20)),
        (nn.AvgPool1d(3, stride=2), (3, 21)),
        (nn.AdaptiveAvgPool1d(1), (3, 20)),
        (nn.AdaptiveAvgPool2d((1, 1)), (3, 5, 7)),
    ],
)
def test_one_d_depthwise_and_global_layers_convert(layer, shape):
    model = nn.Sequential(layer).eval()
    x = np.random.default_rng(2).normal(size=(5, *shape)).astype(np.float32)
    graph = from_torch(model, torch.from_numpy(x[:1]))
    with torch.no_grad():
        expected = _ir_layout(model(torch.from_numpy(x)).numpy())
    np.testing.assert_allclose(graph.run(_ir_layout(x))[0], expected, atol=1e-5)


def test_flattened_signal_feeds_linear_in_torch_order():
    model = nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 10, 2)).eval()
    x = np.random.default_rng(4).normal(size=(6, 3, 10)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(from_torch(model, torch.from_numpy(x[:1])).run(_ir_layout(x))[0], expected, atol=1e-5)


def test_batchnorm_folds_into_depthwise_and_relu_fuses():
    model = _randomize_batchnorm(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, groups=3), nn.BatchNorm2d(3), nn.ReLU6()))
    x = np.random.default_rng(3).normal(size=(4, 3, 6, 6)).astype(np.float32)
    graph = from_torch(model, torch.from_numpy(x[:1]))
    assert [n.op for n in graph.nodes] == [OpType.DEPTHWISE_CONV_2D]
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(graph.run(_ir_layout(x))[0], expected, atol=1e-5)


@pytest.mark.parametrize(
    "model, message",
    [
        (nn.Sequential(nn.Conv2d(4, 4, 3, groups=2)), "groups=2"),
        (nn.Sequential(nn.AdaptiveAvgPool2d(2)), "size 1"),
        (nn.Sequential(nn.Conv1d(2, 2, 2, padding=1)), "neither VALID nor TFLite SAME"),
    ],
)
def test_unsupported_layers_are_refused_in_one_line(model, message):
    with pytest.raises(UnsupportedModelError, match=message) as error:
        from_torch(model.eval(), torch.zeros(1, 2, 8) if isinstance(model[0], nn.Conv1d) else torch.zeros(1, 4, 8, 8))
    assert "\n" not in str(error.value)


def test_zoo_sizes_are_checked():
    with pytest.raises(zoo.ModelSpecError, match="kernel must be odd"):
        zoo.conv1d(3, 32, 2, kernel=4)
    with pytest.raises(zoo.ModelSpecError, match="cannot be halved 6 times"):
        zoo.conv1d(3, 32, 2, blocks=6)
    with pytest.raises(zoo.ModelSpecError, match=r"hidden\[1\]"):
        zoo.mlp(3, 2, (8, 0))


def test_float_input_graph_quantizes_first_and_round_trips_through_tflite():
    model, x = _zoo_model("mlp")
    graph = with_float_input(Quantizer(from_torch(model, torch.from_numpy(x[:1]))).fit(x).graph_)
    assert graph.nodes[0].op is OpType.QUANTIZE and graph.tensors[graph.inputs[0]].dtype == np.float32
    loaded = leafml.load_tflite(graph.to_tflite())
    for rounding in ("single", "double"):
        np.testing.assert_array_equal(loaded.run(x, rounding=rounding)[0], graph.run(x, rounding=rounding)[0])


def _blobs(seed=0, n=240):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 6)).astype(np.float32) + y[:, None] * 3.0
    return x, y


def test_training_is_deterministic_and_keeps_the_best_epoch():
    x, y = _blobs()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = zoo.mlp(6, 3, (8,))
        result = train_classifier(model, x[:180], y[:180], x[180:], y[180:], epochs=12, batch_size=16, lr=1e-2, seed=3)
        runs.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*runs))
    assert result.best_score == max(result.val_score) > 0.8
    assert result.epochs_run == 12 and len(result.train_loss) == 12


def test_early_stopping_and_progress_callback():
    x, y = _blobs()
    seen = []
    # Validation labels unrelated to the inputs: the validation loss soon rises, and training stops.
    shuffled = np.random.default_rng(5).permutation(y[180:])
    result = train_classifier(zoo.mlp(6, 3, (8,)), x[:180], y[:180], x[180:], shuffled, epochs=200, patience=3,
                              lr=1e-2, seed=0, on_epoch=lambda *args: seen.append(args))
    assert result.epochs_run < 200 and len(seen) == result.epochs_run
    assert result.epochs_run - 1 - result.best_epoch == 3


def test_balanced_class_weights_weigh_rare_classes_up():
    weights = balanced_class_weights(np.array([0] * 90 + [1] * 10), 2)
    np.testing.assert_allclose(weights, [100 / 180, 100 / 20])
    with pytest.raises(TrainingError, match="class"):
        balanced_class_weights(np.array([0, 0, 2]), 3)
    x, y = _blobs()
    rare = np.r_[np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:6]]
    result = train_classifier(zoo.mlp(6, 3, (8,)), x[rare], y[rare], x[rare], y[rare], epochs=3,
                              class_weights=balanced_class_weights(y[rare], 3))
    assert result.epochs_run == 3


def test_autoencoder_learns_to_reconstruct():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 16))
    x = (rng.normal(size=(400, 2)) @ basis).astype(np.float32)
    model = zoo.dense_autoencoder(16, (32,), 4)
    result = train_autoencoder(model, x[:300], x[300:], epochs=60, batch_size=16, seed=0)
    assert not result.higher_is_better
    assert result.best_score < 0.1 * float(np.mean(x[300:] ** 2))
    with pytest.raises(TrainingError, match="NaN"):
        train_autoencoder(model, np.full((4, 16), np.nan, np.float32), x[:4])


# -- the zoo through a project: leafml train / test / build ---------------------------------------
def _project(tmp_path, model: str, dsp: str = "", train: str = 'epochs = 25\nbatch_size = 8\nval = 0.2\n'):
    """A project of three SIMULATED 2-axis motions (sines of 1, 3 and 6 Hz in noise), 18 samples each."""
    from leafml.data import Recording, Sensor, Store
    from leafml.project import init_project

    root = tmp_path / "motion"
    init_project(root, sample_rate_hz=50.0)
    rng = np.random.default_rng(0)
    t = np.arange(100) / 50.0
    with Store(root) as store:
        for label, hz in (("slow", 1.0), ("medium", 3.0), ("fast", 6.0)):
            for i in range(18):
                phase = rng.uniform(0, 2 * np.pi)
                values = np.stack([np.sin(2 * np.pi * hz * t + phase), np.cos(2 * np.pi * hz * t + phase)], axis=1)
                values = (values * rng.uniform(0.5, 2.0) + rng.normal(0, 0.3, values.shape)).astype(np.float32)
                store.add_recording(Recording(values, 50.0, (Sensor("x", "g"), Sensor("y", "g"))), label=label,
                                    source=f"simulated {label} {i}")
    text = (root / "leafml.toml").read_text()
    text = text.replace("[dsp]\n", f"[dsp]\n{dsp}").replace("[model]\n", f"[model]\n{model}").replace("[train]\n", f"[train]\n{train}")
    (root / "leafml.toml").write_text(text)
    return root


def test_train_then_test_in_a_project(tmp_path, capsys):
    import json

    root = _project(tmp_path, 'type = "mlp"\nhidden = [16]\n', 'sample_rate_hz = 50\naxes = 2\nwindow_ms = 1000\n'
                    'window_stride_ms = 500\nblocks = ["spectral", "normalize"]\n')
    assert main(["train", "--project", str(root)]) == 0
    assert "validation accuracy" in capsys.readouterr().out
    assert {p.name for p in (root / "model").iterdir()} == {"model.json", "model.pt", "model.tflite"}
    assert main(["test", "--project", str(root)]) == 0
    shown = capsys.readouterr().out
    assert "accuracy" in shown and "int8" in shown and "confusion matrix" in shown
    evaluation = json.loads((root / "model" / "evaluation.json").read_text())
    assert evaluation["split"] == "test" and evaluation["int8"]["accuracy"] >= 0.9
    assert (root / "model" / "evaluation.png").read_bytes().startswith(b"\x89PNG")
    # Training again is deterministic and replaces only leafml's files.
    (root / "model" / "notes.txt").write_text("mine")
    before = (root / "model" / "model.tflite").read_bytes()
    assert main(["train", "--project", str(root)]) == 0
    assert (root / "model" / "model.tflite").read_bytes() == before
    assert (root / "model" / "notes.txt").read_text() == "mine" and not (root / "model" / "evaluation.json").exists()


@pytest.mark.requires_tools(*LADDER_TOOLS)
def test_build_a_network_with_dsp_runs_every_rung(tmp_path, capsys):
    import json

    root = _project(tmp_path, 'type = "conv1d"\nwidth = 8\n', 'sample_rate_hz = 50\naxes = 2\nwindow_ms = 1000\n'
                    'window_stride_ms = 500\nblocks = ["raw", "normalize"]\n')
    assert main(["build", "--project", str(root)]) == 0
    metrics = json.loads((root / "build" / "metrics.json").read_text())
    assert metrics["parity"] == {"litert": True, "tflm": True, "host_c": True, "qemu_cortex_m4": True}
    assert metrics["dsp"]["cortex_m4_equals_host"] and metrics["dsp"]["instructions"] > 0
    assert metrics["instructions_cortex_m4"] == metrics["model"]["instructions"] + metrics["dsp"]["instructions"]
    assert metrics["accuracy_int8"] >= 0.9 and metrics["flash_bytes"] > 0 and metrics["latency_s"] > 0
    assert {p.name for p in (root / "build" / "c").iterdir()} >= {"model.c", "model.h", "dsp.c", "dsp.h"}
    assert "report.html" in capsys.readouterr().out


@pytest.mark.requires_tools(*LADDER_TOOLS)
def test_build_int8_trees_verifies_sklearn_and_the_c(tmp_path):
    import json

    root = _project(tmp_path, 'type = "random_forest"\nn_estimators = 5\nmax_depth = 4\nfeatures = "int8"\n',
                    'sample_rate_hz = 50\naxes = 2\nwindow_ms = 1000\nblocks = ["spectral"]\n')
    assert main(["build", "--project", str(root)]) == 0
    metrics = json.loads((root / "build" / "metrics.json").read_text())
    assert metrics["parity"] == {"litert": None, "tflm": None, "host_c": True, "qemu_cortex_m4": True}
    assert metrics["model"]["sklearn_parity"] is True and metrics["accuracy_int8"] >= 0.9
    assert (root / "build" / "c" / "trees.c").is_file()


@pytest.mark.parametrize(
    "model, train, message",
    [
        ("", "", r"leafml.toml:\d+: field 'model.type' is missing: choose one of mlp, conv1d"),
        ('type = "lstm"\n', "", r"field 'model.type' should be one of 'mlp'"),
        ('type = "mlp"\nwidth = 3\n', "", r"field 'model.width' is not a known field \(expected one of: hidden\)"),
        ('type = "conv1d"\nkernel = 4\n', "", r"field 'model.kernel' should be a whole number >= 1, odd"),
        ('type = "mlp"\n', "test = 0.6\nval = 0.5\n", r"field 'train.val' plus train.test is 1.1"),
        ('type = "mlp"\n', 'class_weights = "auto"\n', r"field 'train.class_weights' should be one of 'none', 'balanced'"),
    ],
)
def test_bad_model_and_train_tables_are_one_line_errors(tmp_path, capsys, model, train, message):
    root = _project(tmp_path, model, train=train)
    assert main(["train", "--project", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("leafml: error: ") and "\n" not in err
    assert __import__("re").search(message, err), err


def test_test_without_a_model_and_build_over_foreign_files_are_refused(tmp_path, capsys):
    root = _project(tmp_path, 'type = "mlp"\n')
    assert main(["test", "--project", str(root)]) == 2
    assert "run `leafml train" in capsys.readouterr().err
    (root / "build" / "c").mkdir(parents=True)
    (root / "build" / "c" / "main.c").write_text("int main(void) { return 0; }\n")
    assert main(["build", "--project", str(root)]) == 2
    assert "holds files leafml did not generate (main.c)" in capsys.readouterr().err
    assert (root / "build" / "c" / "main.c").is_file()
