"""Board catalog and the first-order cost model.

The physics is pinned with numbers worked out by hand in the comments, on a
board file written here (so the test does not move when the shipped data is
refined) and once on the shipped Nano 33 BLE Sense.
"""

from pathlib import Path

import pytest

from leafml.targets import (
    BoardFileError,
    Fit,
    estimate,
    fits,
    list_boards,
    load_board,
)

# A well-formed board with round numbers. Tests that need a malformed file
# take this text and break exactly one thing in it.
VALID = """\
schema = 1
id = "toy"
name = "Toy board"
mcu = "toy-mcu"
core = "cortex-m4"

[clock_hz]
value = 64_000_000
kind = "datasheet"
source = "toy datasheet, table 1"

[sram_bytes]
value = 262_144
kind = "datasheet"
source = "toy datasheet, table 1"

[flash_bytes]
value = 1_048_576
kind = "datasheet"
source = "toy datasheet, table 1"

[supply_v]
value = 3.0
kind = "datasheet"
source = "toy datasheet, table 2"

[datasheet_supply_v]
value = 3.0
kind = "datasheet"
source = "toy datasheet, table 2"

[regulator]
value = "ldo"
kind = "assumption"
source = "the toy has no DC/DC"

[active_current_a.ldo]
value = 5.0e-3
kind = "datasheet"
source = "toy datasheet, table 3"

[sleep_current_a.idle]
value = 2.0e-6
kind = "datasheet"
source = "toy datasheet, table 4"

[sleep_current_a.off]
value = 0.5e-6
kind = "datasheet"
source = "toy datasheet, table 4"

[cpi]
low = 1.0
typical = 1.5
high = 2.0
kind = "assumption"
source = "round numbers for a hand check"
"""


def write_board(tmp_path: Path, text: str = VALID, name: str = "toy") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def broken(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


# --- the shipped board ------------------------------------------------------


def test_shipped_nano33_ble_sense_loads_with_its_figures():
    board = load_board("nano33_ble_sense")
    assert board.mcu == "nRF52840"
    assert board.core == "cortex-m4f"
    assert board.clock_hz.value == 64_000_000
    assert board.sram_bytes.value == 256 * 1024
    assert board.flash_bytes.value == 1024 * 1024
    assert board.supply_v.value == pytest.approx(3.3)
    assert board.active_current_a["dcdc"].value == pytest.approx(3.3e-3)
    assert board.active_current_a["ldo"].value == pytest.approx(6.3e-3)
    assert board.sleep_current_a["idle"].value == pytest.approx(3.16e-6)
    assert board.sleep_current_a["off"].value == pytest.approx(0.40e-6)
    assert board.cpi.low <= board.cpi.typical <= board.cpi.high
    assert board.cpi.kind == "assumption"


def test_every_shipped_figure_names_its_source():
    for board in list_boards():
        figures = [board.clock_hz, board.sram_bytes, board.flash_bytes, board.supply_v,
                   board.datasheet_supply_v, board.regulator, *board.active_current_a.values(),
                   *board.sleep_current_a.values(), board.cpi]
        for figure in figures:
            assert figure.kind in ("datasheet", "assumption")
            assert len(figure.source) > 20, figure


def test_catalog_lists_the_shipped_board_and_loads_by_path_alike():
    boards = {board.id: board for board in list_boards()}
    assert "nano33_ble_sense" in boards
    by_path = load_board(boards["nano33_ble_sense"].path)
    assert by_path == load_board("nano33_ble_sense")


def test_unknown_board_name_lists_the_known_ones():
    with pytest.raises(FileNotFoundError, match="nano33_ble_sense"):
        load_board("no_such_board")


# --- physics, by hand -------------------------------------------------------


def test_latency_and_energy_match_a_hand_computation(tmp_path):
    board = load_board(write_board(tmp_path))
    est = estimate(board, 1_000_000)
    # 1e6 instructions x CPI 1 = 1e6 cycles; / 64e6 Hz = 15.625 ms.
    assert est.cycles.low == pytest.approx(1_000_000)
    assert est.latency_s.low == pytest.approx(15.625e-3)
    # CPI 1.5 and 2.0: 23.4375 ms and 31.25 ms.
    assert est.latency_s.typical == pytest.approx(23.4375e-3)
    assert est.latency_s.high == pytest.approx(31.25e-3)
    # P = V x I = 3.0 V x 5 mA = 15 mW.
    assert est.active_power_w == pytest.approx(15e-3)
    # E = V x I x t = 3.0 x 5e-3 x 15.625e-3 = 2.34375e-4 J (234.375 uJ).
    assert est.energy_j.low == pytest.approx(2.34375e-4)
    assert est.energy_j.typical == pytest.approx(3.515625e-4)
    assert est.energy_j.high == pytest.approx(4.6875e-4)


def test_shipped_board_energy_by_hand_for_both_regulators():
    board = load_board("nano33_ble_sense")
    # CPI low is 1.0, so the low latency is 1e6 / 64 MHz = 15.625 ms.
    ldo = estimate(board, 1_000_000)
    assert ldo.regulator == "ldo"
    assert ldo.latency_s.low == pytest.approx(15.625e-3)
    # 3.3 V x 6.3 mA x 15.625 ms = 3.2484375e-4 J.
    assert ldo.energy_j.low == pytest.approx(3.2484375e-4)
    dcdc = estimate(board, 1_000_000, regulator="dcdc")
    # 3.3 V x 3.3 mA x 15.625 ms = 1.7015625e-4 J.
    assert dcdc.energy_j.low == pytest.approx(1.7015625e-4)
    assert dcdc.active_power_w == pytest.approx(3.3 * 3.3e-3)


def test_estimate_says_what_is_measured_and_what_is_modelled():
    est = estimate(load_board("nano33_ble_sense"), 12_345)
    assert est.measured == ("instructions",)
    assert {"cpi", "active_current_a"} <= set(est.modelled)
    for name in est.modelled:
        assert est.sources[name]
    assert "Modelling assumption" in est.sources["cpi"]


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "100"])
def test_estimate_refuses_a_non_count(bad):
    with pytest.raises(ValueError, match="instructions"):
        estimate(load_board("nano33_ble_sense"), bad)


def test_estimate_refuses_an_unknown_regulator():
    with pytest.raises(ValueError, match="no active current for regulator 'smps'"):
        estimate(load_board("nano33_ble_sense"), 1000, regulator="smps")


# --- fit --------------------------------------------------------------------


def test_fit_reports_headroom_after_reserves(tmp_path):
    board = load_board(write_board(tmp_path))
    fit = fits(board, flash_bytes=100_000, ram_bytes=50_000, flash_reserve_bytes=65_536, ram_reserve_bytes=32_768)
    assert fit == Fit(100_000, 1_048_576 - 65_536, 50_000, 262_144 - 32_768)
    assert fit.flash_headroom_bytes == 1_048_576 - 65_536 - 100_000
    assert fit.ram_headroom_bytes == 262_144 - 32_768 - 50_000
    assert fit.ok


def test_fit_flags_an_overflow_with_negative_headroom(tmp_path):
    board = load_board(write_board(tmp_path))
    fit = fits(board, flash_bytes=1_000, ram_bytes=262_145)
    assert fit.flash_ok
    assert not fit.ram_ok
    assert not fit.ok
    assert fit.ram_headroom_bytes == -1


def test_fit_refuses_negative_sizes(tmp_path):
    with pytest.raises(ValueError, match="ram_bytes"):
        fits(load_board(write_board(tmp_path)), flash_bytes=1, ram_bytes=-1)


# --- malformed files ----------------------------------------------------------

MALFORMED = [
    # (what is broken, replaced text, new text, words the message must hold)
    ("missing figure", "[clock_hz]\nvalue = 64_000_000\nkind = \"datasheet\"\nsource = \"toy datasheet, table 1\"\n", "",
     ["'clock_hz'", "is missing", "table"]),
    ("missing source", "value = 3.0\nkind = \"datasheet\"\nsource = \"toy datasheet, table 2\"\n\n[datasheet",
     "value = 3.0\nkind = \"datasheet\"\n\n[datasheet", ["'supply_v.source'", "is missing", "string"]),
    ("wrong type", "value = 64_000_000", "value = \"64 MHz\"", ["'clock_hz.value'", "positive integer", "'64 MHz'"]),
    ("bool for a count", "value = 262_144", "value = true", ["'sram_bytes.value'", "positive integer"]),
    ("negative current", "value = 5.0e-3", "value = -5.0e-3", ["'active_current_a.ldo.value'", "positive finite number"]),
    ("infinite voltage", "value = 3.0\nkind = \"datasheet\"\nsource = \"toy datasheet, table 2\"\n\n[datasheet",
     "value = inf\nkind = \"datasheet\"\nsource = \"toy datasheet, table 2\"\n\n[datasheet",
     ["'supply_v.value'", "positive finite number", "inf"]),
    ("unknown top-level key", "core = \"cortex-m4\"\n", "core = \"cortex-m4\"\ncolour = \"green\"\n",
     ["'colour'", "not a known field"]),
    ("unknown key in a figure", "value = 1_048_576\n", "value = 1_048_576\nunit = \"bytes\"\n",
     ["'flash_bytes.unit'", "not a known field", "value, kind, source"]),
    ("unknown sleep state", "[sleep_current_a.off]", "[sleep_current_a.deep]", ["'sleep_current_a.deep'", "idle, off"]),
    ("bad kind", "kind = \"assumption\"\nsource = \"the toy", "kind = \"guess\"\nsource = \"the toy",
     ["'regulator.kind'", "'datasheet' or 'assumption'"]),
    ("cpi out of order", "typical = 1.5", "typical = 2.5", ["'cpi'", "low <= typical <= high"]),
    ("regulator without a current", "value = \"ldo\"", "value = \"dcdc\"", ["'regulator.value'", "active_current_a"]),
    ("id not the file name", "id = \"toy\"", "id = \"other\"", ["'id'", "file name"]),
    ("schema version", "schema = 1", "schema = 2", ["'schema'", "should be 1"]),
]


@pytest.mark.parametrize("what, old, new, words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_board_is_refused_naming_file_and_field(tmp_path, what, old, new, words):
    path = write_board(tmp_path, broken(old, new))
    with pytest.raises(BoardFileError) as caught:
        load_board(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: field ")
    for word in words:
        assert word in message, (what, message)


def test_invalid_toml_is_refused_naming_the_file(tmp_path):
    path = write_board(tmp_path, VALID + "\n[clock_hz\n")
    with pytest.raises(BoardFileError, match="not valid TOML") as caught:
        load_board(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)
