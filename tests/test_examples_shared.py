"""The examples on real data from ../shared/data (never part of the product), through
benchmarks/examples.py: the functions the benchmark prints are the ones checked here.

Slow-ish, real data: about 10 s each on two cores (training, then every rung
of the ladder including QEMU).  They skip without ../shared/data, and fail
instead under LEAFML_REQUIRE_SHARED_DATA=1 (CI).
"""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.requires_tools("cc", "arm-none-eabi-gcc", "qemu-system-arm")

_SPEC = importlib.util.spec_from_file_location("leafml_examples", Path(__file__).parents[1] / "benchmarks" / "examples.py")
examples = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(examples)


def _agrees(parity: dict) -> bool:
    return all(v is not False for v in parity.values()) and any(v for v in parity.values())


def test_shared_basic_motions_project_build(shared_data, tmp_path):
    figures = examples.basic_motions(shared_data, tmp_path)
    assert figures["test_samples"] == 40
    assert figures["accuracy_float"] >= 0.9 and figures["accuracy_int8"] >= 0.9
    assert figures["parity"] == {"litert": True, "tflm": True, "host_c": True, "qemu_cortex_m4": True}


def test_shared_uci_occupancy_mlp_and_forest(shared_data, tmp_path):
    figures = examples.uci_occupancy(shared_data, tmp_path, ladder_rows=100)
    assert (figures["datatest"]["rows"], figures["datatest2"]["rows"]) == (2665, 9752)
    for test in ("datatest", "datatest2"):
        f = figures[test]
        assert f["mlp_int8"] >= 0.95 and abs(f["mlp_float"] - f["mlp_int8"]) <= 0.01
        assert f["forest_float"] >= 0.9 and abs(f["forest_float"] - f["forest_int8"]) <= 0.01
    assert figures["mlp_parity"] == {"litert": True, "tflm": True, "host_c": True, "qemu_cortex_m4": True}
    assert figures["forest_parity"] == {"sklearn": True, "host_c": True, "qemu_cortex_m4": True}


def test_shared_speech_commands_pipeline_and_dsp(shared_data, tmp_path):
    # A pipeline check: 60 clips are far too few for a useful keyword model, so no accuracy goal.
    figures = examples.speech_commands(shared_data, tmp_path)
    assert sum(figures["windows"].values()) == 60
    assert _agrees(figures["parity"])
    dsp = figures["dsp"]
    assert dsp["cortex_m4_equals_host"] and dsp["max_abs_diff_vs_numpy"] <= 1e-3 * max(1.0, dsp["max_abs_numpy"])
    assert figures["instructions"] > dsp["instructions"] > 0
    assert 0.0 <= figures["accuracy_int8"] <= 1.0
