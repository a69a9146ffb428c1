"""``leafml train`` and ``leafml test`` as library calls on a project folder.

    trained = train_project("my_project")      # writes my_project/model/
    report = evaluate_project("my_project")    # float and int8 on the test split

What ``model/`` holds after training (leafml's files; any other file there
is left alone):

* ``model.json`` — the model type and options, classes, feature shape, the
  fitted DSP state, the training figures;
* a network: ``model.pt`` (PyTorch weights of the classifier, logits) and
  ``model.tflite`` (the deployed int8 model: float32 features in, through a
  QUANTIZE node, class probabilities out);
* trees: ``trees.json`` (the float trees, and the int8 ones when
  ``features = "int8"``), exactly scikit-learn's predictions;
* after ``leafml test``: ``evaluation.json`` and ``evaluation.png``.

A failed training leaves the previous model as it was: the new files are
written beside it and moved in only at the end.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from leafml.errors import LeafmlError
from leafml.evaluate import ClassifierEvaluation, evaluate_classifier
from leafml.train.dataset import ProjectData, load_project_data
from leafml.train.settings import ModelSettings, TrainSettings, read_settings

__all__ = ["MODEL_FILES", "MODEL_FOLDER", "NotTrained", "EvaluationReport", "TrainedModel", "load_trained", "model_input",
           "evaluate_project", "evaluate_trained", "train_project"]

MODEL_FOLDER = "model"
MODEL_FILES = ("model.json", "model.pt", "model.tflite", "trees.json", "evaluation.json", "evaluation.png")


class NotTrained(LeafmlError):
    """The project has no trained model (or a damaged one)."""


@dataclass
class TrainedModel:
    """A project's model: a network (``network``: logits; ``graph``: deployed int8) or trees (``trees``)."""

    model: ModelSettings
    train: TrainSettings
    class_names: tuple[str, ...]
    feature_shape: tuple[int, int]
    dsp_state: dict
    info: dict[str, Any]
    network: Any = None  # torch.nn.Module
    graph: Any = None  # leafml Graph, int8 with float32 input
    trees: dict[str, Any] | None = None  # "float" and possibly "int8": TreeEnsemble
    estimator: Any = None  # the scikit-learn model, only right after training


def model_input(model_type: str, features: np.ndarray, layout: str) -> np.ndarray:
    """Features float32 [N, rows, columns] as a model of ``model_type`` takes them.

    ``layout`` "torch": [N, rows*columns] (mlp, trees), [N, columns, rows]
    (conv1d: columns are channels), [N, 1, rows, columns] (CNNs).
    ``layout`` "ir": the leafml graph's NHWC layout of the same data.
    """
    n, rows, columns = features.shape
    if model_type == "conv1d":
        shaped = features.transpose(0, 2, 1) if layout == "torch" else features[:, None]
    elif model_type in ("small_cnn", "ds_cnn"):
        shaped = features[:, None] if layout == "torch" else features[..., None]
    else:
        shaped = features.reshape(n, rows * columns)
    return np.ascontiguousarray(shaped, dtype=np.float32)


def _network(model: ModelSettings, shape: tuple[int, int], classes: int):
    from leafml.train import zoo

    rows, columns = shape
    o = model.options
    if model.type == "mlp":
        return zoo.mlp(rows * columns, classes, o["hidden"])
    if model.type == "conv1d":
        return zoo.conv1d(columns, rows, classes, o["width"], o["blocks"], o["kernel"])
    if model.type == "small_cnn":
        return zoo.small_cnn(1, rows, columns, classes, o["width_mult"])
    return zoo.ds_cnn(1, rows, columns, classes, o["filters"], o["blocks"])


def _estimator(model: ModelSettings, seed: int):
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    o = {k: v for k, v in model.options.items() if k != "features"}
    kind = {"decision_tree": DecisionTreeClassifier, "random_forest": RandomForestClassifier,
            "gradient_boosting": GradientBoostingClassifier}[model.type]
    return kind(random_state=seed, **o)


def train_project(root: str | Path, *, step: Callable[[str], None] = print,
                  on_epoch: Callable[[int, float, float], None] | None = None) -> TrainedModel:
    """Train the project's ``[model]`` on its samples and save it to ``model/``; see the module docstring."""
    from leafml.data import Store

    with Store(root) as store:
        model, settings = read_settings(store.project)
        step(f"Reading samples and computing features ({'[dsp] pipeline' if store.project.dsp else 'no [dsp] table'})")
        data = load_project_data(store, settings)
    counts = data.counts()
    step(f"Training {model.type} on {counts['train']} windows of {len(data.class_names)} classes "
         f"(validation {counts['val']}, test {counts.get('test', 0)})")
    started = time.perf_counter()
    trained = _train_trees(model, settings, data) if model.is_tree else _train_network(model, settings, data, on_epoch)
    trained.info.update(windows=counts, train_s=time.perf_counter() - started,
                        validation_from_train=data.validation_from_train)
    _save(Path(root) / MODEL_FOLDER, trained)
    return trained


def _train_trees(model: ModelSettings, settings: TrainSettings, data: ProjectData) -> TrainedModel:
    from leafml.trees import from_sklearn

    x_train = model_input(model.type, data.x["train"], "torch")
    estimator = _estimator(model, settings.seed).fit(x_train, np.array(data.class_names)[data.y["train"]])
    trees = {"float": from_sklearn(estimator)}
    if model.options["features"] == "int8":
        trees["int8"] = trees["float"].with_int8_features(x_train)
    deployed = trees.get("int8", trees["float"])
    x_val = model_input(model.type, data.x["val"], "torch")
    codes = deployed.quantize_features(x_val) if deployed.is_int8 else x_val
    info = {"val_accuracy": float(np.mean(deployed.predict(codes) == data.y["val"])),
            "nodes": deployed.n_nodes, "depth": deployed.depth(), "trees": deployed.n_trees}
    return TrainedModel(model, settings, data.class_names, data.feature_shape, _dsp_state(data), info,
                        trees=trees, estimator=estimator)


def _train_network(model: ModelSettings, settings: TrainSettings, data: ProjectData, on_epoch) -> TrainedModel:
    import torch

    from leafml.frontends.torch import from_torch
    from leafml.quant.ptq import Quantizer, with_float_input
    from leafml.train.trainer import balanced_class_weights, train_classifier
    from leafml.train.zoo import deployable

    torch.manual_seed(settings.seed)  # the initial weights too: a seed names one model
    network = _network(model, data.feature_shape, len(data.class_names))
    weights = balanced_class_weights(data.y["train"], len(data.class_names)) if settings.class_weights == "balanced" else None
    x_train = model_input(model.type, data.x["train"], "torch")
    result = train_classifier(network, x_train, data.y["train"], model_input(model.type, data.x["val"], "torch"),
                              data.y["val"], epochs=settings.epochs, batch_size=settings.batch_size,
                              lr=settings.learning_rate, patience=settings.patience, seed=settings.seed,
                              class_weights=weights, on_epoch=on_epoch)
    float_graph = from_torch(deployable(network), torch.from_numpy(x_train[:1]))
    graph = with_float_input(Quantizer(float_graph).fit(model_input(model.type, data.x["train"], "ir")).graph_)
    info = {"val_accuracy": result.best_score, "epochs_run": result.epochs_run, "best_epoch": result.best_epoch + 1}
    return TrainedModel(model, settings, data.class_names, data.feature_shape, _dsp_state(data), info,
                        network=network, graph=graph)


def _dsp_state(data: ProjectData) -> dict:
    return data.dsp.fitted_state() if data.dsp is not None else {}


def _save(folder: Path, trained: TrainedModel) -> None:
    import torch

    staging = folder.parent / f".{folder.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    meta = {"type": trained.model.type, "options": trained.model.options, "train": vars(trained.train),
            "classes": list(trained.class_names), "feature_shape": list(trained.feature_shape),
            "dsp_state": trained.dsp_state, "info": trained.info}
    (staging / "model.json").write_text(json.dumps(meta, indent=1, default=list), encoding="utf-8")
    if trained.trees is not None:
        (staging / "trees.json").write_text(json.dumps({k: t.to_dict() for k, t in trained.trees.items()}), encoding="utf-8")
    else:
        torch.save(trained.network.state_dict(), staging / "model.pt")
        (staging / "model.tflite").write_bytes(trained.graph.to_tflite())
    folder.mkdir(exist_ok=True)
    for name in MODEL_FILES:  # leafml's own files only: the new ones in, stale ones out
        (folder / name).unlink(missing_ok=True)
    for file in staging.iterdir():
        file.replace(folder / file.name)
    staging.rmdir()


def load_trained(root: str | Path) -> TrainedModel:
    """The model ``train_project`` saved in ``root/model/``."""
    import torch

    from leafml.frontends.tflite import load_tflite
    from leafml.project import load_project
    from leafml.trees import TreeEnsemble

    folder = Path(root) / MODEL_FOLDER
    project = load_project(root)
    if not (folder / "model.json").is_file():
        raise NotTrained(f"{root} has no trained model ({folder / 'model.json'} is missing): run `leafml train {root}` first")
    model, settings = read_settings(project)
    try:
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        if meta["type"] != model.type or meta["options"] != json.loads(json.dumps(model.options, default=list)):
            raise NotTrained(f"the model in {folder} is a {meta['type']} with other options than [model] now asks for; "
                             f"run `leafml train {root}` again")
        trained = TrainedModel(model, settings, tuple(meta["classes"]), tuple(meta["feature_shape"]), meta["dsp_state"],
                               meta["info"])
        if model.is_tree:
            saved = json.loads((folder / "trees.json").read_text(encoding="utf-8"))
            trained.trees = {k: TreeEnsemble.from_dict(v) for k, v in saved.items()}
        else:
            trained.network = _network(model, trained.feature_shape, len(trained.class_names))
            trained.network.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
            trained.network.eval()
            trained.graph = load_tflite(folder / "model.tflite")
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        raise NotTrained(f"the model in {folder} is incomplete or damaged ({type(e).__name__}); "
                         f"run `leafml train {root}` again") from None
    return trained


@dataclass
class EvaluationReport:
    """Float and int8 evaluations of one split (``split``: "test", or "val" when the store has no test samples)."""

    split: str
    evaluations: dict[str, ClassifierEvaluation]
    inputs: np.ndarray  # the features evaluated, [N, rows, columns]
    labels: np.ndarray

    def to_dict(self) -> dict:
        return {"split": self.split, **{name: ev.to_dict() for name, ev in self.evaluations.items()}}


def evaluate_trained(trained: TrainedModel, data: ProjectData) -> EvaluationReport:
    """Float and int8 predictions of ``trained`` on the test split of ``data`` (validation without one)."""
    import torch

    split = "test" if "test" in data.x else "val"
    x, y = data.x[split], data.y[split]
    if trained.trees is not None:
        flat = model_input(trained.model.type, x, "torch")
        predictions = {"float": trained.trees["float"].predict(flat)}
        if "int8" in trained.trees:
            predictions["int8"] = trained.trees["int8"].predict(trained.trees["int8"].quantize_features(flat))
    else:
        with torch.no_grad():
            logits = trained.network(torch.from_numpy(model_input(trained.model.type, x, "torch"))).numpy()
        scores = trained.graph.run(model_input(trained.model.type, x, "ir"), rounding="double")[0]
        predictions = {"float": np.argmax(logits, axis=1), "int8": np.argmax(scores, axis=1)}
    evaluations = {name: evaluate_classifier(y, p, trained.class_names) for name, p in predictions.items()}
    return EvaluationReport(split, evaluations, x, y)


def evaluate_project(root: str | Path, *, step: Callable[[str], None] = print) -> EvaluationReport:
    """Evaluate the trained model on the project's test split; write ``model/evaluation.json`` and ``.png``."""
    from leafml.data import Store
    from leafml.train.plots import evaluation_png

    trained = load_trained(root)
    with Store(root) as store:
        step("Reading samples and computing features")
        data = load_project_data(store, trained.train, dsp_state=trained.dsp_state)
    if data.class_names != trained.class_names:
        raise NotTrained(f"the store's classes ({', '.join(data.class_names)}) differ from the model's; "
                         f"run `leafml train {root}` again")
    report = evaluate_trained(trained, data)
    folder = Path(root) / MODEL_FOLDER
    (folder / "evaluation.json").write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    (folder / "evaluation.png").write_bytes(evaluation_png(report.evaluations, f"{trained.model.type} on the {report.split} split"))
    return report
