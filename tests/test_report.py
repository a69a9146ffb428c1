"""The HTML report and metrics.json."""

import base64
import html as html_lib
import io
import json
import re

import matplotlib.image
import numpy as np
import pytest

from leafml.report import LADDER, Rung, format_value, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = "<script>alert('x')</script>"


def make_metrics(**changes):
    metrics = {
        "accuracy_float": np.float64(0.9375),
        "accuracy_int8": np.float32(0.921875),
        "parity": {"litert": np.bool_(True), "tflm": True, "host_c": False, "qemu_cortex_m4": None},
        "flash_bytes": np.int64(48_212),
        "arena_bytes": 6_144,
        "instructions_cortex_m4": np.int64(1_234_567),
        "latency_s": 0.0203125,
        "energy_j": 4.22e-4,
        "wall_s": 12.5,
        "per_class_recall": np.array([0.5, 1.0]),
    }
    metrics.update(changes)
    return metrics


SUMMARY = [
    ("Accuracy, int8", 0.921875, "fraction (0-1)", "measured on the test split"),
    ("Flash", 48_212, "bytes", "measured (arm-none-eabi size)"),
    ("Latency per inference", 0.0203125, "s", "estimated (QEMU instructions x CPI / clock)"),
    (HOSTILE, 1.0, "J", "estimated"),
]


def write(tmp_path, **kwargs):
    args = dict(
        out_dir=tmp_path / "out",
        metrics=make_metrics(),
        confusion=np.array([[5, 1], [0, 6]]),
        class_names=["yes", HOSTILE],
        summary=SUMMARY,
        extra=[(HOSTILE, "value " + HOSTILE), ("board", "nano33_ble_sense")],
        title="Run " + HOSTILE,
    )
    args.update(kwargs)
    files = write_report(**args)
    return files, files.html.read_text(encoding="utf-8")


def test_writes_both_files_into_a_new_directory(tmp_path):
    files, _ = write(tmp_path)
    assert files.html == tmp_path / "out" / "report.html"
    assert files.metrics_json == tmp_path / "out" / "metrics.json"
    assert files.metrics_json.is_file()


def test_html_has_no_external_reference(tmp_path):
    _, html = write(tmp_path)
    assert "http://" not in html.lower()
    assert "https://" not in html.lower()
    assert "<link" not in html
    for src in re.findall(r'src="([^"]*)"', html):
        assert src.startswith("data:"), src


def test_confusion_matrix_is_an_inline_png_that_decodes(tmp_path):
    _, html = write(tmp_path)
    found = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(found) == 1
    png = base64.b64decode(found[0], validate=True)
    assert png.startswith(PNG_MAGIC)
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100


def test_caller_text_is_escaped_everywhere(tmp_path):
    _, html = write(tmp_path)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    # The title, the summary label, the extra key and value, and the class names in the alt text.
    assert html.count("&lt;script&gt;") >= 5


def test_summary_shows_value_unit_and_provenance(tmp_path):
    _, html = write(tmp_path)
    assert "<th>Measured or estimated</th>" in html
    assert '<td class="num">48,212</td><td>bytes</td><td>measured (arm-none-eabi size)</td>' in html
    assert '<td class="num">0.02031</td><td>s</td>' in html


def test_ladder_has_one_row_per_rung_with_its_verdict(tmp_path):
    _, html = write(tmp_path)
    ladder = html.split("<h2>Verification ladder</h2>")[1].split("<h2>")[0]
    assert ladder.count("<tr><td>") == len(LADDER) == 4
    assert ladder.count('class="pass">pass<') == 2
    assert ladder.count('class="fail">FAIL<') == 1
    assert ladder.count('class="notrun">not run<') == 1
    for name, compares in LADDER.values():
        assert name in ladder
        assert html_lib.escape(compares) in ladder


def test_caller_may_pass_its_own_rungs(tmp_path):
    rungs = [Rung("Reference vs itself", "a trivial check", True), ("Board", "on hardware", None)]
    _, html = write(tmp_path, parity=rungs)
    assert "Reference vs itself" in html
    assert "on hardware" in html


def test_metrics_json_round_trips_with_numpy_scalars(tmp_path):
    files, _ = write(tmp_path)
    loaded = json.loads(files.metrics_json.read_text(encoding="utf-8"))
    assert loaded == {
        "accuracy_float": 0.9375,
        "accuracy_int8": 0.921875,
        "parity": {"litert": True, "tflm": True, "host_c": False, "qemu_cortex_m4": None},
        "flash_bytes": 48_212,
        "arena_bytes": 6_144,
        "instructions_cortex_m4": 1_234_567,
        "latency_s": 0.0203125,
        "energy_j": 4.22e-4,
        "wall_s": 12.5,
        "per_class_recall": [0.5, 1.0],
    }
    assert type(loaded["flash_bytes"]) is int
    assert type(loaded["parity"]["litert"]) is bool
    # Pretty-printed, one key per line.
    assert '\n  "accuracy_float": 0.9375,\n' in files.metrics_json.read_text(encoding="utf-8")


def test_non_finite_metric_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"metrics\['energy_j'\] is nan"):
        write(tmp_path, metrics=make_metrics(energy_j=np.float32("nan")))


def test_metrics_without_a_required_key_are_refused(tmp_path):
    metrics = make_metrics()
    del metrics["arena_bytes"]
    with pytest.raises(ValueError, match="arena_bytes"):
        write(tmp_path, metrics=metrics)


def test_parity_with_a_wrong_key_is_refused(tmp_path):
    with pytest.raises(ValueError, match="parity"):
        write(tmp_path, metrics=make_metrics(parity={"litert": True}))


def test_a_number_without_unit_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'Latency' has a number but no unit"):
        write(tmp_path, summary=[("Latency", 0.02, "", "estimated")])


def test_confusion_matrix_must_match_the_class_names(tmp_path):
    with pytest.raises(ValueError, match="2x2"):
        write(tmp_path, confusion=np.zeros((3, 3), dtype=int))


@pytest.mark.parametrize(
    "value, text",
    [(1234567, "1,234,567"), (np.int64(48), "48"), (0.0203125, "0.02031"), (None, "n/a"), (True, "yes"), ("x", "x")],
)
def test_format_value(value, text):
    assert format_value(value) == text
