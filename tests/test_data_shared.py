"""Importers on the real data sets in ../shared/data (skipped without it; CI requires it). Each takes < 2 s."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict

import numpy as np

from leafml.data import Store
from leafml.project import init_project


def _project(tmp_path, rate, extra=""):
    root = init_project(tmp_path / "project", sample_rate_hz=rate).root
    toml = root / "leafml.toml"
    toml.write_text(toml.read_text().replace("[data.csv]\n", "[data.csv]\n" + extra))
    return root


def test_basic_motions_ts_train_and_test(shared_data, tmp_path):
    folder = shared_data / "datasets" / "basic_motions"
    with Store(_project(tmp_path, 10.0)) as store:
        train = store.import_ts(folder / "BasicMotions_TRAIN.ts", split="train")
        test = store.import_ts(folder / "BasicMotions_TEST.ts", split="test")
        assert (len(train.added), len(test.added), train.duplicates, test.duplicates) == (40, 40, [], [])
        assert store.labels() == {"Badminton": 20, "Running": 20, "Standing": 20, "Walking": 20}
        for split in ("train", "test"):
            assert Counter(s.label for s in store.samples(split=split)) == Counter(
                {"Standing": 10, "Running": 10, "Walking": 10, "Badminton": 10})
        first = store.samples()[0]
        values = store.load(first)
        assert values.shape == (100, 6) and first.sample_rate_hz == 10.0
        # The first series of the file, first dimension, first values as printed there.
        assert first.source_part == "line 14" and first.label == "Standing"
        np.testing.assert_allclose(values[:3, 0], [0.079106, 0.079106, -0.903497], rtol=1e-6)


def test_uci_occupancy_csv_one_sample_per_occupancy_run(shared_data, tmp_path):
    folder = shared_data / "datasets" / "uci_occupancy"
    root = _project(tmp_path, 1 / 60, 'time_column = "date"\ntime_unit = "iso8601"\nlabel_column = "Occupancy"\n')
    with Store(root) as store:
        reports = {name: store.import_csv(folder / name, split="train" if name == "datatraining.txt" else "test")
                   for name in ("datatraining.txt", "datatest.txt", "datatest2.txt")}
        assert {name: len(r.added) for name, r in reports.items()} == {
            "datatraining.txt": 41, "datatest.txt": 27, "datatest2.txt": 49}
        train = store.samples(split="train")
        assert sum(s.length for s in train) == 8143
        assert [s.name for s in train[0].sensors] == ["Temperature", "Humidity", "Light", "CO2", "HumidityRatio"]
        with open(folder / "datatraining.txt", newline="") as file:
            rows = list(csv.reader(file))[1:]
        occupied = sum(row[-1] == "1" for row in rows)
        assert sum(s.length for s in train if s.label == "1") == occupied
        stored = np.concatenate([store.load(s) for s in train])
        np.testing.assert_allclose(stored[:, 3], [float(row[5]) for row in rows], rtol=1e-6)


def test_speech_commands_with_speaker_groups_split_without_leaks(shared_data, tmp_path):
    folder = shared_data / "datasets" / "speech_commands_subset"
    with Store(_project(tmp_path, 16000.0)) as store:
        report = store.import_folder(folder, group=r"^([0-9a-f]+)_nohash")
        assert (len(report.added), report.failed, len(store.labels())) == (300, [], 30)
        assert sorted(p.name for p in report.ignored) == ["LICENSE", "README.md", "testing_list.txt",
                                                          "validation_list.txt"]
        assert len({s.group for s in store.samples()}) == 41
        # 279 clips are one second long; the rest were trimmed shorter by the data set's makers.
        assert Counter(s.length == 16000 for s in store.samples()) == {True: 279, False: 21}
        counts = store.split(test=0.2, val=0.1, seed=0, group_by="group")
        assert sum(counts.values()) == 300 and min(counts.values()) > 0
        sides = defaultdict(set)
        for sample in store.samples():
            sides[sample.group].add(sample.split)
        assert all(len(s) == 1 for s in sides.values())
