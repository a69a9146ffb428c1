"""The sample store: index rows, files, originals, transactions, duplicates, labels, groups and splits."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections import Counter, defaultdict

import numpy as np
import pytest

from leafml.cli import main
from leafml.data import ImportStopped, InputError, Recording, Sensor, Store
from leafml.errors import LeafmlError
from leafml.project import init_project
from test_data_importers import edge_impulse, stdlib_wav


def project(tmp_path, rate=16000.0, extra=""):
    root = init_project(tmp_path / "project", sample_rate_hz=rate).root
    if extra:
        toml = root / "leafml.toml"
        toml.write_text(toml.read_text() + extra)
    return root


def clip(folder, name, seed, rate=16000, frames=1600):
    """A 16-bit mono WAV of seeded noise; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    samples = np.random.default_rng(seed).integers(-3000, 3000, size=(frames, 1))
    path = folder / name
    path.write_bytes(stdlib_wav(samples, rate, 2))
    return path


def snapshot(root):
    """Everything that makes up the store: its rows and its files with their bytes."""
    with sqlite3.connect(root / "data" / "index.sqlite") as db:
        rows = db.execute("SELECT * FROM samples ORDER BY id").fetchall()
    files = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted((root / "data").rglob("*")) if p.is_file() and p.name != "index.sqlite"}
    folders = sorted(str(p.relative_to(root)) for p in (root / "data").rglob("*") if p.is_dir())
    return rows, files, folders


def test_import_stores_values_index_row_and_the_original(tmp_path):
    root = project(tmp_path)
    path = clip(tmp_path / "in", "a1_nohash_0.wav", 1)
    with Store(root) as store:
        report = store.import_wav(path, "yes", group=r"^(\w+?)_nohash")
        (sample,) = report.added
        assert store.samples() == [sample]
        assert (sample.label, sample.group, sample.split, sample.length) == ("yes", "a1", None, 1600)
        assert sample.sensors == (Sensor("audio", "FS"),) and sample.sample_rate_hz == 16000.0
        assert sample.source == str(path.resolve()) and sample.source_part == ""
        values = store.load(sample)
        assert values.dtype == np.float32 and values.shape == (1600, 1)
        expected = np.random.default_rng(1).integers(-3000, 3000, size=(1600, 1)) / 32768
        np.testing.assert_array_equal(values, expected.astype(np.float32))
        original = root / "data" / "originals" / f"{sample.source_sha256}.wav"
        assert original.read_bytes() == path.read_bytes()
        assert sample.imported_at.endswith("+00:00")
    assert "added 1 samples (1 labels: yes)" in report.summary()


def test_wav_at_another_rate_is_resampled_to_the_project_rate(tmp_path):
    root = project(tmp_path)
    with Store(root) as store:
        (sample,) = store.import_wav(clip(tmp_path, "a.wav", 2, rate=44100, frames=4410), "x").added
        assert sample.sample_rate_hz == 16000.0 and store.load(sample).shape == (1600, 1)


def test_the_same_data_is_stored_once_whatever_file_or_format_it_comes_in(tmp_path):
    root = project(tmp_path)
    first = clip(tmp_path / "a", "one.wav", 3)
    copy = tmp_path / "b" / "renamed.wav"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    # The same 16-bit audio as an Edge Impulse export.
    ints = np.random.default_rng(3).integers(-3000, 3000, size=1600)
    json_copy = tmp_path / "yes.sample1.json"
    json_copy.write_bytes(edge_impulse(ints.tolist(), [("audio", "wav")], 1000 / 16000))
    with Store(root) as store:
        assert len(store.import_wav(first, "yes").added) == 1
        report = store.import_files([copy, json_copy, first], label_from_filename=True)
        assert report.added == []
        assert [(d.source, d.same_as_id, d.same_as_label) for d in report.duplicates] == [
            (str(copy.resolve()), 1, "yes"), (str(json_copy.resolve()), 1, "yes"), (str(first.resolve()), 1, "yes")]
        assert len(store.samples()) == 1


def test_a_corrupt_file_with_stop_rolls_the_whole_import_back(tmp_path):
    root = project(tmp_path)
    with Store(root) as store:
        store.import_wav(clip(tmp_path / "old", "kept.wav", 10), "old")
    before = snapshot(root)
    folder = tmp_path / "new"
    for i in range(3):
        clip(folder, f"{i}.wav", 20 + i)
    bad = folder / "1.wav"
    bad.write_bytes(bad.read_bytes()[:-100])  # truncated mid-import, after 0.wav is staged
    with Store(root) as store:
        with pytest.raises(ImportStopped, match=r"1.wav: truncated: .* \(nothing was imported"):
            store.import_wav(folder, "new", on_error="stop")
    assert snapshot(root) == before
    assert not (root / "data" / "staging").exists()


def test_skip_reports_a_corrupt_file_and_imports_the_rest(tmp_path):
    root = project(tmp_path)
    folder = tmp_path / "new"
    for i in range(3):
        clip(folder, f"{i}.wav", 30 + i)
    (folder / "1.wav").write_bytes(b"RIFF\x00\x00")
    with Store(root) as store:
        report = store.import_wav(folder, "new", on_error="skip")
        assert [s.source.rsplit("/", 1)[1] for s in report.added] == ["0.wav", "2.wav"]
        assert [(e.path.rsplit("/", 1)[1], e.reason) for e in report.failed] == [
            ("1.wav", "not a WAV file (no RIFF/WAVE header)")]
        assert len(list((root / "data" / "samples").rglob("*.npy"))) == 2


def test_a_failure_while_moving_files_in_leaves_rows_and_files_as_they_were(tmp_path, monkeypatch):
    root = project(tmp_path)
    with Store(root) as store:
        store.import_wav(clip(tmp_path / "old", "kept.wav", 40), "old")
    before = snapshot(root)
    folder = tmp_path / "new"
    for i in range(4):
        clip(folder, f"{i}.wav", 50 + i)
    real_replace, moves = os.replace, []

    def failing_replace(source, target):
        moves.append(target)
        if len(moves) == 3:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr("leafml.data.staging.os.replace", failing_replace)
    with Store(root) as store:
        with pytest.raises(OSError, match="No space left"):
            store.import_wav(folder, "new")
    assert len(moves) == 3
    assert snapshot(root) == before


def test_labels_from_folders_filenames_and_files_themselves(tmp_path):
    root = project(tmp_path, rate=10.0)
    clip(tmp_path / "by_label" / "go", "a.wav", 60, rate=10, frames=20)
    clip(tmp_path / "by_label" / "stop" / "deeper", "b.wav", 61, rate=10, frames=20)
    (tmp_path / "by_label" / "README.md").write_text("not a sample")
    with Store(root) as store:
        report = store.import_folder(tmp_path / "by_label")
        assert sorted(s.label for s in report.added) == ["go", "stop"]
        assert [p.name for p in report.ignored] == ["README.md"]
        named = clip(tmp_path, "wave.s1.wav", 62, rate=10, frames=20)
        assert store.import_wav(named, label_from_filename=True).added[0].label == "wave"
        with pytest.raises(ImportStopped, match="no label: give one"):
            store.import_wav(clip(tmp_path / "x", "c.wav", 63, rate=10, frames=20))
        ts = tmp_path / "m.ts"
        ts.write_text("@dimensions 1\n@classLabel true a b\n@data\n1,2,3:a\n")
        with pytest.raises(ImportStopped, match="carries its own labels"):
            store.import_ts(ts, "b")
        with pytest.raises(LeafmlError, match="either a label or label_from_filename"):
            store.import_ts(ts, "b", label_from_filename=True)


def test_a_sample_with_other_axes_or_a_changed_project_rate_is_refused(tmp_path):
    root = project(tmp_path, rate=100.0)
    csv = tmp_path / "a.csv"
    csv.write_text("x,y\n1,2\n3,4\n")
    other = tmp_path / "b.csv"
    other.write_text("x,z\n1,2\n3,4\n")
    with Store(root) as store:
        store.import_csv(csv, "a")
        with pytest.raises(ImportStopped, match=r"axes \[x, z\] differ from the store's \[x, y\]"):
            store.import_csv(other, "a")
    toml = root / "leafml.toml"
    toml.write_text(toml.read_text().replace("sample_rate_hz = 100.0", "sample_rate_hz = 50.0"))
    with Store(root) as store:
        with pytest.raises(LeafmlError, match=r"holds samples at 100 Hz but .* says sample_rate_hz = 50"):
            store.import_csv(other, "a")


def test_group_regex_that_does_not_match_a_file_name_fails_that_file(tmp_path):
    root = project(tmp_path)
    folder = tmp_path / "in"
    clip(folder, "ab12_nohash_0.wav", 70)
    clip(folder, "stray.wav", 71)
    with Store(root) as store:
        report = store.import_wav(folder, "x", group="^([0-9a-f]+)_nohash", on_error="skip")
        assert [s.group for s in report.added] == ["ab12"]
        assert "does not match the --group pattern" in str(report.failed[0])
        with pytest.raises(LeafmlError, match="is not a regular expression"):
            store.import_wav(folder, "x", group="([")


def test_add_recording_keeps_an_array_from_elsewhere(tmp_path):
    root = project(tmp_path, rate=100.0)
    recording = Recording(np.ones((5, 2)), 100.0, (Sensor("a", ""), Sensor("b", "")))
    with Store(root) as store:
        (sample,) = store.add_recording(recording, label="idle", source="my script").added
        assert sample.source_sha256 is None
        np.testing.assert_array_equal(store.load(sample), np.ones((5, 2), np.float32))


# --- splits --------------------------------------------------------------------


def grouped_store(tmp_path, groups=12, per_group=(2, 7), labels=("a", "b", "c"), seed=0):
    """A store of tiny CSV samples, each group a 'speaker' with several labels."""
    root = project(tmp_path, rate=100.0)
    rng = np.random.default_rng(seed)
    folder = tmp_path / "csv"
    folder.mkdir()
    for g in range(groups):
        for k in range(rng.integers(*per_group)):
            label = labels[rng.integers(len(labels))]
            (folder / f"{label}.s{g:02d}_{k}.csv").write_text(f"v\n{g}\n{k}\n{rng.random()}\n")
    with Store(root) as store:
        store.import_csv(folder, label_from_filename=True, group=r"\.(s\d+)_")
    return root


@pytest.mark.parametrize("seed", range(5))
def test_a_group_never_spans_two_splits(tmp_path, seed):
    root = grouped_store(tmp_path, seed=seed)
    with Store(root) as store:
        store.split(test=0.25, val=0.15, seed=seed, group_by="group")
        sides = defaultdict(set)
        for sample in store.samples():
            sides[sample.group].add(sample.split)
        assert all(len(s) == 1 for s in sides.values())
        assert {side for s in sides.values() for side in s} == {"train", "val", "test"}


def test_splits_are_seeded_and_stratified_by_label(tmp_path):
    root = project(tmp_path, rate=100.0)
    folder = tmp_path / "csv"
    folder.mkdir()
    for label, count in (("common", 60), ("rare", 10)):
        for k in range(count):
            (folder / f"{label}.{k}.csv").write_text(f"v\n{k}\n{len(label)}\n")
    with Store(root) as store:
        store.import_csv(folder, label_from_filename=True)
        counts = store.split(test=0.2, val=0.1, seed=7)
        assert counts == {"train": 49, "val": 7, "test": 14}
        by_label = Counter((s.label, s.split) for s in store.samples())
        assert (by_label["common", "test"], by_label["rare", "test"]) == (12, 2)
        assert (by_label["common", "val"], by_label["rare", "val"]) == (6, 1)
        first = [s.split for s in store.samples()]
        store.split(test=0.2, val=0.1, seed=7, reassign=True)
        assert [s.split for s in store.samples()] == first
        store.split(test=0.2, val=0.1, seed=8, reassign=True)
        assert [s.split for s in store.samples()] != first
        with pytest.raises(LeafmlError, match="fractions in"):
            store.split(test=0.6, val=0.5)


def test_splits_given_at_import_stay_and_new_samples_of_a_group_join_its_side(tmp_path):
    root = project(tmp_path, rate=100.0)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.spk1_0.csv").write_text("v\n1\n2\n")
    (tmp_path / "a" / "x.spk2_0.csv").write_text("v\n3\n4\n")
    (tmp_path / "b").mkdir()
    for k in range(6):
        (tmp_path / "b" / f"x.spk1_{k + 1}.csv").write_text(f"v\n{k}\n9\n")
    with Store(root) as store:
        store.import_csv(tmp_path / "a", label_from_filename=True, group=r"\.(spk\d)_", split="test")
        store.import_csv(tmp_path / "b", label_from_filename=True, group=r"\.(spk\d)_")
        store.split(test=0.5, val=0.0, seed=0, reassign=True)
        assert {s.split for s in store.samples() if s.group == "spk1"} == {"test"}
        assert all(s.split_from == "import" for s in store.samples(split="test") if s.source.endswith("_0.csv"))


# --- the CLI -----------------------------------------------------------------


def test_cli_import_skip_exits_1_and_stop_exits_2_with_one_line(tmp_path, capsys):
    root = project(tmp_path)
    folder = tmp_path / "clips" / "yes"
    clip(folder, "good.wav", 80)
    (folder / "bad.wav").write_bytes(b"RIFF....WAVEjunk")
    assert main(["import", str(tmp_path / "clips"), "--project", str(root), "--on-error", "stop"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("leafml: error: ") and "bad.wav" in error
    assert main(["import", str(tmp_path / "clips"), "--project", str(root), "--on-error", "skip"]) == 1
    captured = capsys.readouterr()
    assert "skipped: " in captured.err and "bad.wav" in captured.err
    assert "added 1 samples (1 labels: yes)" in captured.out
    assert main(["import", str(folder / "good.wav"), "--project", str(root), "--label", "yes"]) == 0
    assert "duplicate, not stored" in capsys.readouterr().out


def test_input_error_message_is_one_line_with_path_and_line():
    assert str(InputError("a.csv", "expected 3 fields, got 2", 7)) == "a.csv:7: expected 3 fields, got 2"
