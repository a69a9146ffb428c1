"""Classical models as C: scikit-learn == numpy reference == host C == Cortex-M4 in QEMU."""

import json

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import ExtraTreesClassifier, GradientBoostingClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from leafml.errors import LeafmlError
from leafml.trees import TreeEnsemble, TreeModelError, from_sklearn, generate_tree_c, run_tree_ladder

LADDER_TOOLS = ("cc", "arm-none-eabi-gcc", "qemu-system-arm")


def _data(classes: int, seed: int = 0):
    x, y = make_classification(600, 8, n_informative=5, n_classes=classes, n_clusters_per_class=1, random_state=seed)
    labels = np.array(["idle", "walk", "run", "jump"])[y]
    return x.astype(np.float32), labels


MODELS = {
    "decision_tree": (lambda: DecisionTreeClassifier(max_depth=6, random_state=0), 3),
    "random_forest": (lambda: RandomForestClassifier(n_estimators=12, max_depth=6, random_state=0), 4),
    "extra_trees": (lambda: ExtraTreesClassifier(n_estimators=8, max_depth=5, random_state=0), 3),
    "boosting_binary": (lambda: GradientBoostingClassifier(n_estimators=25, max_depth=3, random_state=0), 2),
    "boosting_multiclass": (lambda: GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=0), 3),
}


def _fitted(name):
    make, classes = MODELS[name]
    x, y = _data(classes)
    return make().fit(x[:400], y[:400]), x


def _indices(ensemble: TreeEnsemble, labels) -> np.ndarray:
    return np.array([ensemble.classes.index(str(v)) for v in labels])


@pytest.mark.parametrize("name", MODELS)
def test_reference_predicts_what_sklearn_predicts(name):
    estimator, x = _fitted(name)
    ensemble = from_sklearn(estimator)
    np.testing.assert_array_equal(ensemble.predict(x), _indices(ensemble, estimator.predict(x)))
    # The scores too, bit for bit (a decision tree's are its predicted class, one-hot).
    if name.startswith("boosting"):
        np.testing.assert_array_equal(ensemble.scores(x), estimator.decision_function(x).reshape(len(x), -1))
    elif name != "decision_tree":
        np.testing.assert_array_equal(ensemble.scores(x), estimator.predict_proba(x))


def test_thresholds_split_float32_inputs_exactly_at_their_boundaries():
    estimator, x = _fitted("random_forest")
    ensemble = from_sklearn(estimator)
    # Features sitting exactly on and one float32 step around every threshold.
    t = ensemble.threshold[ensemble.feature >= 0]
    f = ensemble.feature[ensemble.feature >= 0]
    probes = np.repeat(x[:1], 3 * len(t), axis=0)
    for i, (feature, bound) in enumerate(zip(f, t)):
        for j, value in enumerate((np.nextafter(bound, -np.inf), bound, np.nextafter(bound, np.inf))):
            probes[3 * i + j, feature] = value
    np.testing.assert_array_equal(ensemble.predict(probes), _indices(ensemble, estimator.predict(probes)))


@pytest.mark.parametrize("name", ["random_forest", "boosting_multiclass"])
def test_int8_trees_predict_what_sklearn_predicts_on_the_dequantized_codes(name):
    estimator, x = _fitted(name)
    ensemble = from_sklearn(estimator).with_int8_features(x[:400])
    codes = ensemble.quantize_features(x)
    assert codes.dtype == np.int8 and ensemble.threshold.dtype == np.int16
    expected = _indices(ensemble, estimator.predict(ensemble.dequantize_features(codes)))
    np.testing.assert_array_equal(ensemble.predict(codes), expected)
    # Every code around the thresholds, not only the data's.
    sweep = np.repeat(codes[:1], 256, axis=0)
    sweep[:, 0] = np.arange(-128, 128)
    np.testing.assert_array_equal(ensemble.predict(sweep),
                                  _indices(ensemble, estimator.predict(ensemble.dequantize_features(sweep))))


def test_saved_trees_load_bit_for_bit():
    estimator, x = _fitted("boosting_binary")
    for ensemble in (from_sklearn(estimator), from_sklearn(estimator).with_int8_features(x)):
        loaded = TreeEnsemble.from_dict(json.loads(json.dumps(ensemble.to_dict())))
        codes = ensemble.quantize_features(x) if ensemble.is_int8 else x
        np.testing.assert_array_equal(loaded.scores(codes), ensemble.scores(codes))
        np.testing.assert_array_equal(loaded.threshold, ensemble.threshold)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: DecisionTreeRegressor().fit([[0.0], [1.0]], [0.0, 1.0]), "DecisionTreeRegressor is not supported"),
        (lambda: DecisionTreeClassifier(), "not fitted"),
        (lambda: DecisionTreeClassifier().fit([[0.0], [1.0]], [[0, 1], [1, 0]]), "2 outputs"),
        (lambda: GradientBoostingClassifier(n_estimators=2, init=DecisionTreeClassifier()).fit([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1]),
         "custom init"),
    ],
)
def test_unsupported_models_are_refused_in_one_line(make, message):
    with pytest.raises(TreeModelError, match=message) as error:
        from_sklearn(make())
    assert isinstance(error.value, LeafmlError) and "\n" not in str(error.value)


def test_bad_features_are_refused():
    estimator, x = _fitted("decision_tree")
    ensemble = from_sklearn(estimator)
    with pytest.raises(TreeModelError, match="NaN"):
        ensemble.predict(np.where(np.arange(8) == 2, np.nan, x[:1]))
    with pytest.raises(TreeModelError, match=r"\[N, 8\]"):
        ensemble.predict(x[:, :5])
    with pytest.raises(TreeModelError, match="quantize the features"):
        ensemble.with_int8_features(x).predict(x)


@pytest.mark.requires_tools("cc")
@pytest.mark.parametrize("int8", [False, True])
def test_generated_c_is_strict_c99_pedantic(tmp_path, int8):
    from leafml.firmware import find_tool
    from leafml.firmware.toolchain import compile_objects

    estimator, x = _fitted("boosting_multiclass")
    ensemble = from_sklearn(estimator)
    source = generate_tree_c(ensemble.with_int8_features(x) if int8 else ensemble, tmp_path / "c")
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", f"-I{source.source.parent}"]
    compile_objects(find_tool("cc"), flags, [source.source], tmp_path / "obj", "pedantic build")
    assert "generated by leafml" in source.header.read_text()


@pytest.mark.requires_tools(*LADDER_TOOLS)
@pytest.mark.parametrize("name, int8", [*((name, False) for name in MODELS), ("random_forest", True), ("boosting_binary", True)])
def test_every_rung_agrees_and_the_device_is_measured(tmp_path, name, int8):
    estimator, x = _fitted(name)
    ensemble = from_sklearn(estimator)
    if int8:
        ensemble = ensemble.with_int8_features(x[:400])
    features = x[400:460]
    features = ensemble.quantize_features(features) if int8 else features
    source = generate_tree_c(ensemble, tmp_path / "c")
    result = run_tree_ladder(ensemble, source, features, tmp_path / "verify", estimator=estimator)
    assert result.parity == {"sklearn": True, "host_c": True, "qemu_cortex_m4": True}, result.mismatches
    assert len(result.instructions) == 60 and min(result.instructions) > 20
    assert result.flash_bytes >= source.const_bytes > 0
    assert 0 < result.stack_bytes < 512
