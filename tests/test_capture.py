"""The serial data forwarder: line parsing, and `leafml capture` against a pseudo-terminal playing a real recording."""

from __future__ import annotations

import os
import threading
import time
import tty

import numpy as np
import pytest

from leafml.cli import main
from leafml.data import Store
from leafml.data.serial_capture import CaptureError, parse_capture
from leafml.project import init_project


def _lines(rows, rate_hz=10.0, first=b"partial,1"):
    return [(0.0, first)] + [(i / rate_hz, row) for i, row in enumerate(rows, start=1)]


def test_banners_partial_lines_and_odd_lines_are_dropped_and_counted():
    rows = [b"leafml imu v1 ready", b"1,2,3", b"4\t5\t6", b"7 8 9", b"1,2", b"10,11,12\r", b"\xff\xfe"]
    # Four data lines in 0.4 s: 7.5 data lines per second.
    capture = parse_capture(_lines(rows), b"raw", 7.5, None, {"ch1": "g"})
    np.testing.assert_array_equal(capture.recording.values, [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
    assert [s.name for s in capture.recording.sensors] == ["ch0", "ch1", "ch2"]
    assert capture.recording.sensors[1].units == "g"
    assert capture.dropped_lines == 4 and capture.raw == b"raw"


def test_named_axes_pick_the_line_width():
    capture = parse_capture(_lines([b"1,2", b"3,4", b"5,6,7", b"8,9,10"]), b"", 10.0, ["x", "y", "z"], {})
    np.testing.assert_array_equal(capture.recording.values, [[5, 6, 7], [8, 9, 10]])


def test_a_board_at_another_rate_than_stated_is_refused():
    rows = [f"{i},0".encode() for i in range(20)]
    with pytest.raises(CaptureError, match=r"sent 20 lines/s but it is taken to sample at 10 Hz: pass --rate-hz 20"):
        parse_capture(_lines(rows, rate_hz=20.0), b"", 10.0, None, {})
    assert parse_capture(_lines(rows, rate_hz=20.0), b"", 20.0, None, {}).recording.rate_hz == 20.0


def test_no_data_lines_says_what_to_check():
    with pytest.raises(CaptureError, match="no CSV data lines among the 3 lines"):
        parse_capture(_lines([b"hello", b"world"]), b"", 10.0, None, {})


def _basic_motions_walking(shared_data) -> np.ndarray:
    """The first Walking series of BasicMotions' training file: [100 steps, 6 axes] at 10 Hz, as printed there."""
    for line in (shared_data / "datasets" / "basic_motions" / "BasicMotions_TRAIN.ts").read_text().splitlines():
        if line.endswith(":Walking"):
            dimensions = line.split(":")[:-1]
            return np.array([[float(v) for v in d.split(",")] for d in dimensions]).T
    raise AssertionError("no Walking series")


def test_leafml_capture_from_a_pseudo_terminal_playing_basic_motions(shared_data, tmp_path, capsys):
    """A writer thread plays a real 10 Hz IMU recording, as a board would print it, into a pty; `leafml
    capture` records 2 s of it. Bounded: the writer stops when the capture ends or after 5 s."""
    series = _basic_motions_walking(shared_data)
    text_rows = [",".join(f"{v:.6f}" for v in row) for row in series]
    root = init_project(tmp_path / "imu", sample_rate_hz=10.0).root
    board, port = os.openpty()
    tty.setraw(port)
    stop = threading.Event()

    def play():
        os.write(board, b"IMU ready, printing ax,ay,az,gx,gy,gz at 10 Hz\r\n")
        start = time.monotonic()
        for i, row in enumerate(text_rows):
            delay = start + 0.1 * i - time.monotonic()
            if stop.wait(max(delay, 0.0)) or time.monotonic() - start > 5.0:
                return
            os.write(board, row.encode() + b"\r\n")

    writer = threading.Thread(target=play, daemon=True)
    try:
        writer.start()
        status = main(["capture", "--port", os.ttyname(port), "--baud", "115200", "--label", "walking",
                       "--seconds", "2", "--axes", "ax,ay,az,gx,gy,gz", "--project", str(root)])
    finally:
        stop.set()
        writer.join(timeout=5)
        os.close(board)
        os.close(port)
    assert status == 0, capsys.readouterr().err
    assert "stored as sample 1 ('walking'" in capsys.readouterr().out
    with Store(root) as store:
        (sample,) = store.samples()
        values = store.load(sample)
        assert [s.name for s in sample.sensors] == ["ax", "ay", "az", "gx", "gy", "gz"]
        assert sample.source.startswith("serial /dev/") and sample.label == "walking"
        # About 2 s at 10 Hz: consecutive lines exactly as played. Opening the port discards what the
        # board printed before, and the first line received may be partial, so they start a little way in.
        assert 16 <= len(values) <= 22
        (start,) = np.flatnonzero((series.astype(np.float32) == values[0]).all(axis=1))
        np.testing.assert_array_equal(values, series[start: start + len(values)].astype(np.float32))
        original = root / "data" / "originals" / f"{sample.source_sha256}.txt"
        assert text_rows[start].encode() in original.read_bytes()
