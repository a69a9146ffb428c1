"""The SIMULATED greenhouse data, the anomaly scorers and their C twins, and the detector end to end."""

import numpy as np
import pytest

from leafml.examples import greenhouse as gh
from leafml.ir.graph import QuantParams
from leafml.train.anomaly import (
    AnomalyScorerError,
    GaussianScorer,
    KMeansScorer,
    ReconstructionScorer,
    generate_scorer_c,
    run_scorer_ladder,
    threshold_for,
)

LADDER_TOOLS = ("cc", "arm-none-eabi-gcc", "qemu-system-arm")


def test_simulation_is_seeded_and_physically_plausible():
    a, b = gh.simulate(3, seed=7), gh.simulate(3, seed=7)
    np.testing.assert_array_equal(a.temperature_c, b.temperature_c)
    assert not np.array_equal(a.temperature_c, gh.simulate(3, seed=8).temperature_c)
    assert len(a) == 3 * gh.STEPS_PER_DAY and not a.fault.any()
    assert 10 < a.temperature_c.min() and a.temperature_c.max() < 40
    assert 0 <= a.humidity_rh.min() and a.humidity_rh.max() <= 100
    # The thermostat keeps nights near 16 deg C although outside is colder.
    night = (a.hour_of_day > 1) & (a.hour_of_day < 5)
    assert a.outside_c[night].mean() < 12 and abs(np.median(a.temperature_c[night]) - 16.2) < 0.6


def test_every_fault_is_injected_and_changes_the_readings():
    normal = gh.simulate(10, seed=3)
    faulty = gh.simulate(10, seed=3, fault_days=8)
    np.testing.assert_array_equal(normal.outside_c, faulty.outside_c)  # the same weather
    assert set(np.unique(faulty.fault)) == {0, 1, 2, 3, 4}
    code = {name: k + 1 for k, name in enumerate(gh.FAULTS)}
    heater = faulty.fault == code["heater_failure"]
    assert faulty.temperature_c[heater].mean() < normal.temperature_c[heater].mean() - 2
    stuck = np.flatnonzero(faulty.fault == code["sensor_stuck"])
    for run in np.split(stuck, np.flatnonzero(np.diff(stuck) > 1) + 1):  # each stuck stretch holds its first value
        assert np.all(faulty.temperature_c[run] == faulty.temperature_c[run[0] - 1])
    drift = faulty.fault == code["sensor_drift"]
    assert (faulty.temperature_c - normal.temperature_c)[drift].max() > 2


def test_window_features_scale_and_label_each_window_by_its_last_reading():
    rec = gh.simulate(2, seed=1, fault_days=1)
    x, fault = gh.window_features(rec, stride=4)
    assert x.shape == (len(fault), 2 * gh.WINDOW_STEPS + 2) and x.dtype == np.float32
    end = gh.WINDOW_STEPS - 1 + 4 * 10
    np.testing.assert_allclose(x[10, gh.WINDOW_STEPS - 1], (rec.temperature_c[end] - 20) / 10, rtol=1e-6)
    assert fault[10] == rec.fault[end]
    np.testing.assert_allclose(x[:, -2] ** 2 + x[:, -1] ** 2, 1, rtol=1e-5)
    data = gh.greenhouse_data(seed=0, train_days=3, val_days=1, test_days=6, fault_days=4)
    assert not data.is_anomaly.all() and data.is_anomaly.any()


@pytest.mark.parametrize("scorer", [GaussianScorer(), KMeansScorer(clusters=5)], ids=["gaussian", "kmeans"])
def test_feature_scorers_flag_outliers(scorer):
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(500, 6)).astype(np.float32) * [1, 2, 3, 1, 1, 0.5]
    scorer.fit(normal)
    outliers = normal[:50] + 8
    scores = scorer.score(np.concatenate([normal[:50], outliers]))
    assert scores.dtype == np.float32 and scores[50:].min() > scores[:50].max()
    threshold = threshold_for(scorer.score(normal), 0.02)
    assert np.mean(scorer.score(normal) > threshold) == pytest.approx(0.02, abs=0.005)


def test_scorer_errors_are_one_line():
    with pytest.raises(AnomalyScorerError, match=r"features should be \[N, 3\]"):
        GaussianScorer().fit(np.zeros((4, 3))).score(np.zeros((2, 4)))
    with pytest.raises(AnomalyScorerError, match="clusters must be between 1 and the 3"):
        KMeansScorer(clusters=5).fit(np.zeros((3, 2)))
    with pytest.raises(AnomalyScorerError, match="false_alarm_rate"):
        threshold_for([1.0, 2.0], 1.5)


@pytest.mark.requires_tools(*LADDER_TOOLS)
@pytest.mark.parametrize("kind", ["gaussian", "kmeans", "reconstruction"])
def test_scorer_c_twin_gives_the_numpy_bits_on_host_and_cortex_m4(tmp_path, kind):
    rng = np.random.default_rng(1)
    if kind == "reconstruction":
        scorer = ReconstructionScorer(QuantParams([0.031], [-7]), QuantParams([0.047], [12]), 24)
        inputs = (rng.integers(-128, 128, (40, 24)).astype(np.int8), rng.integers(-128, 128, (40, 24)).astype(np.int8))
    else:
        x = (rng.normal(size=(300, 10)) * rng.uniform(0.1, 30, 10)).astype(np.float32)
        scorer = GaussianScorer().fit(x) if kind == "gaussian" else KMeansScorer(6).fit(x)
        inputs = x[:40] * 1.7
    source = generate_scorer_c(scorer, tmp_path / "c", threshold=0.5)
    result = run_scorer_ladder(scorer, source, inputs, tmp_path / "verify")
    assert result.all_passed, result.mismatches
    assert len(result.instructions) == 40 and result.flash_bytes > 0
    assert "LEAFML_ANOMALY_THRESHOLD 0.5f" in source.header.read_text()


@pytest.mark.requires_tools(*LADDER_TOOLS)
def test_greenhouse_detector_end_to_end(tmp_path):
    from leafml.examples.greenhouse_detector import run_greenhouse_detector

    result = run_greenhouse_detector(tmp_path / "gh", step=lambda text: None)
    m = result.metrics
    assert result.passed and set(m["parity"]) == {"litert", "tflm", "host_c", "qemu_cortex_m4", "scorer_host_c",
                                                   "scorer_qemu_cortex_m4"}
    assert m["data"].startswith("SIMULATED")
    assert m["auc_float"] > 0.65 and m["auc_int8"] > 0.65 and m["auc_per_fault_int8"]["heater_failure"] > 0.9
    assert m["instructions_cortex_m4"] == m["instructions_autoencoder"] + m["instructions_scorer"] > m["macs"]
    labels = [row[0] for row in result.summary]
    assert "Greenhouse node: battery life on 2 x AA" in labels
    assert any("SIMULATED" in label for label in labels)
    assert {p.name for p in (tmp_path / "gh" / "c").iterdir()} >= {"model.c", "anomaly.c", "anomaly.h"}
    assert (tmp_path / "gh" / "roc.png").read_bytes().startswith(b"\x89PNG")
