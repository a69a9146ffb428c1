"""The decoders of leafml.data on small files the tests write: WAV, CSV, .ts, Edge Impulse JSON; resampling."""

from __future__ import annotations

import json
import struct
import wave

import numpy as np
import pytest

from leafml.data.csv_format import decode_csv
from leafml.data.edge_impulse import decode_edge_impulse_json
from leafml.data.recording import InputError, Sensor
from leafml.data.resample import resample
from leafml.data.ts_format import decode_ts
from leafml.data.wav import decode_wav
from leafml.project import CsvFormat

# --- WAV ----------------------------------------------------------------------


def stdlib_wav(frames: np.ndarray, rate: int, width: int) -> bytes:
    """A PCM WAV file written by Python's own `wave` module; ``frames`` int [n, channels]."""
    import io

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(width)
        out.setframerate(rate)
        if width == 1:
            raw = (frames + 128).astype(np.uint8).tobytes()
        elif width == 3:
            little = frames.astype("<i4").view(np.uint8).reshape(-1, 4)
            raw = little[:, :3].tobytes()
        else:
            raw = frames.astype(f"<i{width}").tobytes()
        out.writeframes(raw)
    return buffer.getvalue()


def float_wav(frames: np.ndarray, rate: int, extensible: bool = False) -> bytes:
    """An IEEE float WAV (format tag 3, or WAVE_FORMAT_EXTENSIBLE with the float sub-format)."""
    count, bits = frames.shape[1], frames.dtype.itemsize * 8
    block = count * bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if extensible else 3, count, rate, rate * block, block, bits)
    if extensible:
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", 3) + bytes(14)
    data = frames.astype(frames.dtype.newbyteorder("<")).tobytes()
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_pcm_wav_of_every_width_decodes_exactly_to_full_scale(width):
    rng = np.random.default_rng(width)
    top = 1 << (8 * width - 1)
    frames = rng.integers(-top, top, size=(257, 2))
    frames[:2] = [[-top, top - 1], [0, 1]]  # the extremes and zero
    recording = decode_wav("x.wav", stdlib_wav(frames, 22050, width), "keep")
    assert recording.rate_hz == 22050
    assert recording.sensors == (Sensor("audio0", "FS"), Sensor("audio1", "FS"))
    np.testing.assert_array_equal(recording.values, frames / top)


def test_float_wav_plain_and_extensible_and_the_mono_mix():
    frames = np.array([[0.5, -0.25], [1.0, 0.0], [-1.0, -0.5]], dtype=np.float32)
    for extensible in (False, True):
        recording = decode_wav("x.wav", float_wav(frames, 8000, extensible), "keep")
        np.testing.assert_array_equal(recording.values, frames)
    mono = decode_wav("x.wav", float_wav(frames.astype(np.float64), 8000), "mono")
    assert mono.sensors == (Sensor("audio", "FS"),)
    np.testing.assert_array_equal(mono.values[:, 0], frames.mean(axis=1))


@pytest.mark.parametrize("damage, reason", [
    (lambda b: b[:-5], r"truncated: the data chunk declares 1024 bytes but the file holds 1019"),
    (lambda b: b[:30], r"truncated or incomplete|corrupt fmt chunk"),
    (lambda b: b[:40], r"truncated or incomplete: no data chunk"),
    (lambda b: b"RIFX" + b[4:], r"not a WAV file"),
    (lambda b: b[:20] + struct.pack("<H", 2) + b[22:], r"unsupported WAV encoding \(format tag 0x0002, 16 bits\)"),
])
def test_a_damaged_wav_is_refused_with_its_reason(damage, reason):
    good = stdlib_wav(np.zeros((512, 1), dtype=int), 16000, 2)
    with pytest.raises(InputError, match=reason) as raised:
        decode_wav("clip.wav", damage(good), "mono")
    assert str(raised.value).startswith("clip.wav: ")


# --- resampling ------------------------------------------------------------------


def test_polyphase_resampling_keeps_a_tone_and_its_level():
    seconds, tone_hz = 0.5, 440.0
    t = np.arange(int(44100 * seconds)) / 44100
    out = resample(np.sin(2 * np.pi * tone_hz * t)[:, None], 44100, 16000)
    assert out.shape == (8000, 1)
    t16 = np.arange(8000) / 16000
    expected = np.sin(2 * np.pi * tone_hz * t16)
    middle = slice(400, -400)  # away from the filter's edges
    assert np.max(np.abs(out[middle, 0] - expected[middle])) < 2e-3


def test_same_rates_within_the_tolerance_are_left_alone():
    values = np.arange(6.0).reshape(3, 2)
    assert resample(values, 1 / 60, 0.0166667) is values


# --- CSV ------------------------------------------------------------------------


def _csv(text: str, fmt: CsvFormat = CsvFormat(), rate: float = 100.0):
    return decode_csv("walk.csv", text.encode(), fmt, rate, {"accX": "m/s2"})


def test_csv_with_a_millisecond_time_column():
    (recording,) = _csv("timestamp,accX,accY\n0,1.5,2\n20,1.25,3\n40,1,4\n",
                        CsvFormat(time_column="timestamp", time_unit="ms"))
    assert recording.rate_hz == pytest.approx(50.0)
    assert recording.sensors == (Sensor("accX", "m/s2"), Sensor("accY", ""))
    np.testing.assert_array_equal(recording.values, [[1.5, 2], [1.25, 3], [1, 4]])
    assert recording.part == "lines 2-4" and recording.label is None


def test_csv_with_a_fixed_interval_or_the_project_step_and_chosen_axes():
    text = "a;b;c\n1;2;3\n4;5;6\n"
    (fixed,) = _csv(text, CsvFormat(delimiter=";", interval_ms=4, axes=("c", "a")))
    assert fixed.rate_hz == 250.0
    np.testing.assert_array_equal(fixed.values, [[3, 1], [6, 4]])
    (default,) = _csv(text, CsvFormat(delimiter=";"), rate=16.0)
    assert default.rate_hz == 16.0 and default.values.shape == (2, 3)


def test_csv_label_column_makes_one_sample_per_run_and_r_row_names_are_skipped():
    text = ('"date","v","Occupancy"\n'
            '"1","2015-02-04 17:51:00",1,0\n"2","2015-02-04 17:52:00",2,0\n'
            '"3","2015-02-04 17:53:00",3,1\n"4","2015-02-04 17:54:01",4,0\n')
    fmt = CsvFormat(time_column="date", time_unit="iso8601", label_column="Occupancy")
    recordings = _csv(text, fmt)
    assert [(r.label, r.part, r.values[:, 0].tolist()) for r in recordings] == [
        ("0", "lines 2-3", [1, 2]), ("1", "lines 4-4", [3]), ("0", "lines 5-5", [4])]
    assert recordings[0].rate_hz == pytest.approx(1 / 60)


@pytest.mark.parametrize("text, fmt, line, reason", [
    ("t,x\n0,1\n10,2,3\n", CsvFormat(time_column="t"), 3, "expected 2 fields, got 3"),
    ("t,x\n0,1\n10,abc\n", CsvFormat(time_column="t"), 3, "column 'x': 'abc' is not a number"),
    ("t,x\n0,1\n10,\n", CsvFormat(time_column="t"), 3, "column 'x': '' is not a number"),
    ("t,x\n0,1\n10,nan\n", CsvFormat(time_column="t"), 3, "column 'x': 'nan' is not a finite number"),
    ("t,x\n0,1\n10,2\n10,3\n", CsvFormat(time_column="t"), 4, "the time does not increase"),
    ("t,x\n0,1\n10,2\n20,3\n60,4\n", CsvFormat(time_column="t"), 5, "uneven time step of 0.04 s where the median "
                                                                     "step is 0.01 s"),
    ("1,2\n3,4\n", CsvFormat(), 1, "no header row"),
    ("x,y\n1,2\n", CsvFormat(time_column="time"), 1, "no column 'time' \\(the header has: x, y\\)"),
    ("t,x\n5,1\n", CsvFormat(time_column="t"), 2, "one data row cannot show its rate"),
    ('t,x\n0,"1\n', CsvFormat(time_column="t"), 2, "malformed CSV: unexpected end of data"),
])
def test_a_malformed_csv_row_is_named_by_file_and_line(text, fmt, line, reason):
    with pytest.raises(InputError, match=reason) as raised:
        _csv(text, fmt)
    assert str(raised.value).startswith(f"walk.csv:{line}: ")


def test_csv_that_is_not_text_or_has_no_rows():
    with pytest.raises(InputError, match=r"walk.csv: not UTF-8 text"):
        decode_csv("walk.csv", b"a,b\n\xff\xfe,1\n", CsvFormat(), 1.0, {})
    with pytest.raises(InputError, match=r"walk.csv:1: no data rows"):
        _csv("a,b\n\n")


# --- .ts ------------------------------------------------------------------------

TS = """\
# a comment
@problemName Tiny
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength true
@seriesLength 3
@classLabel true up down
@data
1,2,3:4,5,6:up
-1,-2,-3:0.5,0.25,0:down
"""


def test_ts_gives_one_labelled_sample_per_series():
    recordings = decode_ts("m.ts", TS.encode(), 10.0, {"dim1": "deg/s"})
    assert [r.label for r in recordings] == ["up", "down"]
    assert [r.part for r in recordings] == ["line 11", "line 12"]
    assert recordings[0].sensors == (Sensor("dim0", ""), Sensor("dim1", "deg/s"))
    np.testing.assert_array_equal(recordings[1].values, [[-1, 0.5], [-2, 0.25], [-3, 0]])
    assert recordings[0].rate_hz == 10.0


@pytest.mark.parametrize("old, new, line, reason", [
    ("1,2,3:4,5,6:up", "1,2,3:4,?,6:up", 11, r"dimension 1 has missing values \('\?'\)"),
    ("1,2,3:4,5,6:up", "1,2,3:4,5,6:left", 11, r"class 'left' is not among @classLabel up down"),
    ("1,2,3:4,5,6:up", "1,2,3:4,5:up", 11, r"different lengths \[2, 3\]"),
    ("1,2,3:4,5,6:up", "1,2:4,5:up", 11, r"expected @seriesLength 3 values, got 2"),
    ("1,2,3:4,5,6:up", "1,2,3:up", 11, r"expected 2 dimensions, got 1"),
    ("1,2,3:4,5,6:up", "1,2,x:4,5,6:up", 11, r"dimension 0: 'x' is not a number"),
    ("@timeStamps false", "@timeStamps true", 3, r"time stamps .* export them as CSV"),
    ("@data\n1,2,3:4,5,6:up\n-1,-2,-3:0.5,0.25,0:down\n", "", None, r"no @data line: not a .ts file, or "
                                                                      r"truncated"),
    ("@data\n", "", 10, r"expected a '@' header line before @data, got '1,2,3:4,5,6:up'"),
])
def test_a_malformed_ts_file_is_named_by_line(old, new, line, reason):
    with pytest.raises(InputError, match=reason) as raised:
        decode_ts("m.ts", TS.replace(old, new).encode(), 10.0, {})
    assert str(raised.value).startswith(f"m.ts:{line}: " if line else "m.ts: ")


# --- Edge Impulse JSON ----------------------------------------------------------


def edge_impulse(values, sensors, interval_ms=10) -> bytes:
    return json.dumps({
        "protected": {"ver": "v1", "alg": "none", "iat": 1564128599},
        "signature": "0" * 64,
        "payload": {"device_name": "ac:87:a3:0a:2d:1b", "device_type": "DISCO-L475VG-IOT01A",
                    "interval_ms": interval_ms, "sensors": [{"name": n, "units": u} for n, u in sensors],
                    "values": values},
    }, indent=1).encode()


def test_edge_impulse_json_three_axes_and_single_axis_audio():
    rows = [[-9.81, 0.03, 1.21], [-9.83, 0.04, 1.27]]
    recording = decode_edge_impulse_json("a.json", edge_impulse(rows, [("accX", "m/s2"), ("accY", "m/s2"),
                                                                      ("accZ", "m/s2")]))
    assert recording.rate_hz == 100.0 and recording.sensors[2] == Sensor("accZ", "m/s2")
    np.testing.assert_array_equal(recording.values, rows)
    audio = decode_edge_impulse_json("b.json", edge_impulse([-32768, 0, 16384], [("audio", "wav")], 0.0625))
    assert audio.rate_hz == 16000.0 and audio.sensors == (Sensor("audio", "FS"),)
    np.testing.assert_array_equal(audio.values[:, 0], [-1.0, 0.0, 0.5])


@pytest.mark.parametrize("document, reason", [
    (b'{"payload": {"interval_ms": 10, "sensors": [{"name": "x", "units": "g"}], "values": [[1], [2, 3]]}}',
     r"payload.values\[1\] should be 1 finite numbers, got \[2, 3\]"),
    (b'{"payload": {"interval_ms": 0, "sensors": [], "values": []}}', r"interval_ms should be a positive"),
    (b'{"payload": {"interval_ms": 5, "sensors": [{"name": "x"}], "values": [1]}}', r"payload.sensors\[0\]"),
    (b'{"protected": {}}', r"no payload: not an Edge Impulse data acquisition file"),
    (b'{"payload": {\n"interval_ms": 10,\n', r"a.json:3: not valid JSON"),
])
def test_a_malformed_edge_impulse_file_says_what_is_wrong(document, reason):
    with pytest.raises(InputError, match=reason):
        decode_edge_impulse_json("a.json", document)
