"""leafml.toml: creation by `leafml init`, strict loading, one-line errors with the line number."""

from __future__ import annotations

import re

import pytest

from leafml.cli import main
from leafml.errors import LeafmlError
from leafml.project import NotAProject, ProjectFileError, init_project, load_project


def _write(tmp_path, text: str):
    (tmp_path / "leafml.toml").write_text(text, encoding="utf-8")
    return tmp_path


VALID = """\
[project]
name = "gestures"

[data]
sample_rate_hz = 50
wav_channels = "keep"

[data.units]
accX = "m/s2"

[data.csv]
delimiter = ";"
time_column = "t"
time_unit = "s"
axes = ["accX", "accY"]
label_column = "label"

[data.ts]
interval_ms = 20

[dsp]
block = "spectral"
fft_length = 64

[model]
kind = "cnn1d"
"""


def test_init_writes_a_commented_project_that_loads_with_defaults(tmp_path):
    project = init_project(tmp_path / "kws", sample_rate_hz=16000)
    assert project.name == "kws"
    assert project.data.sample_rate_hz == 16000.0
    assert project.data.wav_channels == "mono"
    assert project.data.csv.time_column is None and project.data.csv.interval_ms is None
    assert project.data_dir.is_dir()
    assert dict(project.dsp) == {} and dict(project.train) == {}
    text = (tmp_path / "kws" / "leafml.toml").read_text()
    assert "# Every sample is stored at this rate" in text


def test_init_refuses_a_folder_that_is_not_empty_and_an_existing_project(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(LeafmlError, match="not an empty folder"):
        init_project(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    init_project(tmp_path / "p")
    with pytest.raises(LeafmlError, match="already exists"):
        init_project(tmp_path / "p")


def test_init_quotes_a_name_with_quotes(tmp_path):
    assert init_project(tmp_path / "p", name='my "best" project').name == 'my "best" project'


def test_every_setting_is_read(tmp_path):
    project = load_project(_write(tmp_path, VALID))
    data = project.data
    assert (data.sample_rate_hz, data.wav_channels, dict(data.units)) == (50.0, "keep", {"accX": "m/s2"})
    assert (data.csv.delimiter, data.csv.time_column, data.csv.time_unit) == (";", "t", "s")
    assert data.csv.axes == ("accX", "accY") and data.csv.label_column == "label"
    assert data.ts.interval_ms == 20.0
    # [dsp] and [model] belong to other steps: handed on untouched.
    assert dict(project.dsp) == {"block": "spectral", "fft_length": 64}
    assert dict(project.model) == {"kind": "cnn1d"}


@pytest.mark.parametrize("old, new, line, expected", [
    ('wav_channels = "keep"', 'wav_chanels = "keep"', 6, r"field 'data.wav_chanels' is not a known field "
                                                         r"\(expected one of: sample_rate_hz, wav_channels"),
    ('sample_rate_hz = 50', 'sample_rate_hz = "fast"', 5, r"'data.sample_rate_hz' should be a positive finite"),
    ('sample_rate_hz = 50', 'sample_rate_hz = -1', 5, r"positive finite number, got int -1"),
    ('wav_channels = "keep"', 'wav_channels = "stereo"', 6, r"should be 'mono' or 'keep'|one of 'mono', 'keep'"),
    ('delimiter = ";"', 'delimiter = ";;"', 12, r"'data.csv.delimiter' should be one character"),
    ('time_unit = "s"', 'time_unit = "minutes"', 14, r"one of 's', 'ms', 'us', 'iso8601'"),
    ('axes = ["accX", "accY"]', 'axes = ["accX", "accX"]', 15, r"distinct column names"),
    ('interval_ms = 20', 'interval_ms = 0', 19, r"'data.ts.interval_ms' should be a positive"),
    ('interval_ms = 20', 'step_ms = 20', 19, r"'data.ts.step_ms' is not a known field \(expected one of: "
                                             r"interval_ms\)"),
    ('[model]', '[modle]', 25, r"field 'modle' is not a known field \(expected one of: project, data, dsp, "
                               r"model, train\)"),
    ('accX = "m/s2"', 'accX = 3', 9, r"'data.units.accX' should be a non-empty string"),
    ('[project]\n', 'train = 3\n[project]\n', 1, r"field 'train' should be a table, got int 3"),
])
def test_a_bad_key_or_value_is_one_line_with_its_line_number(tmp_path, old, new, line, expected):
    assert old in VALID
    _write(tmp_path, VALID.replace(old, new))
    with pytest.raises(ProjectFileError) as raised:
        load_project(tmp_path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'leafml.toml'}:{line}: "), message
    assert re.search(expected, message), message


def test_time_column_and_interval_exclude_each_other(tmp_path):
    _write(tmp_path, VALID.replace('label_column = "label"', 'label_column = "label"\ninterval_ms = 10'))
    with pytest.raises(ProjectFileError, match=r":17: field 'data.csv.interval_ms' cannot be set together with "
                                               r"time_column"):
        load_project(tmp_path)


def test_a_missing_rate_and_broken_toml_are_named(tmp_path):
    _write(tmp_path, '[project]\nname = "x"\n[data]\nwav_channels = "mono"\n')
    with pytest.raises(ProjectFileError, match=r"leafml.toml:3: field 'data.sample_rate_hz' is missing"):
        load_project(tmp_path)
    _write(tmp_path, '[project]\nname = "x\n')
    with pytest.raises(ProjectFileError, match=r"not valid TOML: .*line 2"):
        load_project(tmp_path)


def test_a_folder_without_leafml_toml_says_how_to_make_one(tmp_path):
    with pytest.raises(NotAProject, match="leafml init"):
        load_project(tmp_path)


def test_cli_init_and_a_bad_project_file_is_one_error_line(tmp_path, capsys):
    assert main(["init", str(tmp_path / "p"), "--sample-rate-hz", "16000"]) == 0
    assert "created project 'p'" in capsys.readouterr().out
    assert (tmp_path / "p" / "data" / "index.sqlite").is_file()
    toml = tmp_path / "p" / "leafml.toml"
    toml.write_text(toml.read_text().replace("sample_rate_hz = 16000.0", "sample_rate = 16000"))
    assert main(["import", str(tmp_path), "--project", str(tmp_path / "p")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert re.match(r"leafml: error: .*leafml.toml:\d+: field 'data.sample_rate' is not a known field", error)
