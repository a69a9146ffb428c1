"""Board catalog, per-core cost model, fit check and ``leafml boards`` / ``leafml profile``.

The physics is pinned with numbers worked out by hand in the comments, on a
board file written here (so the test does not move when the shipped data is
refined) and once on the shipped Nano 33 BLE Sense. The toy board names the
Cortex-M4 core, whose CPI range is 1.2 / 1.45 / 2.0 (cores.toml).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from int8_graphs import GraphBuilder, quantize

from leafml.cli import main
from leafml.codegen import generate_c
from leafml.firmware import CORES as QEMU_CORES
from leafml.ir import Activation
from leafml.targets import (
    BoardFileError,
    BoardNotFound,
    Fit,
    estimate,
    fit_options,
    fits,
    get_core,
    list_boards,
    list_cores,
    load_board,
)
from leafml.targets.mlperf import published_results
from leafml.targets.profile import ProfileError, profile_model, read_c_model
from leafml.targets.profile_report import ReportExists, board_rows, write_profile_report
from leafml.targets.schema import field_line

QEMU_TOOLS = ("cc", "arm-none-eabi-gcc", "arm-none-eabi-size", "arm-none-eabi-nm", "qemu-system-arm")

# A well-formed board with round numbers. Tests that need a malformed file
# take this text and break exactly one thing in it.
VALID = """\
schema = 2
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
low = 4.0e-3
high = 8.0e-3
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
"""

REQUIRED_BOARDS = {
    "nano33_ble_sense": ("nRF52840", "cortex-m4"),
    "nucleo_l4r5zi": ("STM32L4R5ZI", "cortex-m4"),
    "stm32h747i_disco": ("STM32H747XI", "cortex-m7"),
    "nucleo_u575zi_q": ("STM32U575ZI", "cortex-m33"),
    "esp32_devkitc": ("ESP32-D0WD", "xtensa-lx6"),
    "esp32_s3_eye": ("ESP32-S3", "xtensa-lx7"),
    "rpi_pico": ("RP2040", "cortex-m0plus"),
    "nrf5340_dk": ("nRF5340", "cortex-m33"),
    "efr32xg24_dk": ("EFR32MG24B310F1536IM48", "cortex-m33"),
    "alif_ensemble_e7_hp": ("Alif Ensemble E7", "cortex-m55"),
}


@pytest.fixture(autouse=True)
def no_user_boards(tmp_path, monkeypatch):
    """Keep the developer's own board folder out of every test."""
    monkeypatch.setenv("LEAFML_BOARDS", str(tmp_path / "no-user-boards"))


def write_board(folder: Path, text: str = VALID, name: str = "toy") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def broken(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


# --- the shipped catalog ------------------------------------------------------


def test_catalog_has_the_boards_the_issue_asks_for():
    boards = {board.id: board for board in list_boards()}
    for board_id, (mcu, core) in REQUIRED_BOARDS.items():
        assert (boards[board_id].mcu, boards[board_id].core) == (mcu, core)
    assert boards["alif_ensemble_e7_hp"].accelerator is not None
    assert "Ethos-U55" in boards["alif_ensemble_e7_hp"].accelerator.value


def test_shipped_nano33_ble_sense_loads_with_its_figures():
    board = load_board("nano33_ble_sense")
    assert board.clock_hz.value == 64_000_000
    assert board.sram_bytes.value == 256 * 1024
    assert board.flash_bytes.value == 1024 * 1024
    assert board.supply_v.value == pytest.approx(3.3)
    assert board.active_current_a["dcdc"].value == pytest.approx(3.3e-3)
    assert board.active_current_a["ldo"].value == pytest.approx(6.3e-3)
    assert board.sleep_current_a["idle"].value == pytest.approx(3.16e-6)
    assert board.sleep_current_a["off"].value == pytest.approx(0.40e-6)
    assert board.cpi is get_core("cortex-m4").cpi


def test_every_shipped_figure_names_its_source():
    for board in list_boards():
        figures = [board.clock_hz, board.sram_bytes, board.flash_bytes, board.supply_v,
                   board.datasheet_supply_v, board.regulator, *board.active_current_a.values(),
                   *board.sleep_current_a.values()]
        for figure in figures:
            assert figure.kind in ("datasheet", "measured", "assumption")
            assert len(figure.source) > 20, (board.id, figure)
            low, high = figure.bounds
            assert low <= figure.value <= high
        assert {"idle", "off"} <= set(board.sleep_current_a)


def test_every_core_is_counted_on_a_qemu_core_with_an_ordered_sourced_cpi():
    cores = {core.id: core for core in list_cores()}
    for core in cores.values():
        assert core.measured_on in QEMU_CORES
        assert 0 < core.cpi.low <= core.cpi.typical <= core.cpi.high
        assert core.cpi.kind == "assumption"
        assert "CoreMark" in core.cpi.source or "Technical Reference Manual" in core.cpi.source
    # Only the cores QEMU lacks borrow another instruction set's count.
    assert {c.id for c in cores.values() if c.proxy} == {"xtensa-lx6", "xtensa-lx7"}
    assert cores["cortex-m0plus"].measured_on == "cortex-m0"
    assert all(c.measured_on == "cortex-m4" for c in cores.values() if c.proxy)


def test_catalog_lists_the_shipped_board_and_loads_by_path_alike():
    boards = {board.id: board for board in list_boards()}
    by_path = load_board(boards["nano33_ble_sense"].path)
    assert by_path == load_board("nano33_ble_sense")


def test_unknown_board_name_lists_the_known_ones_and_the_user_folder(tmp_path):
    with pytest.raises(BoardNotFound, match="nano33_ble_sense") as caught:
        load_board("no_such_board")
    assert str(tmp_path / "no-user-boards") in str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)


# --- the user's own boards ------------------------------------------------------


def test_a_user_board_in_the_configured_folder_is_listed_and_loadable(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    write_board(folder)
    monkeypatch.setenv("LEAFML_BOARDS", str(folder))
    assert "toy" in {board.id for board in list_boards()}
    assert load_board("toy").path == folder / "toy.toml"


def test_the_default_user_folder_is_under_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.delenv("LEAFML_BOARDS")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    write_board(tmp_path / "config" / "leafml" / "boards")
    assert load_board("toy").name == "Toy board"


def test_a_user_board_reusing_a_shipped_id_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    write_board(folder, VALID.replace('id = "toy"', 'id = "nano33_ble_sense"'), name="nano33_ble_sense")
    monkeypatch.setenv("LEAFML_BOARDS", str(folder))
    with pytest.raises(BoardFileError, match="board id 'nano33_ble_sense' is already defined by .*rename one"):
        list_boards()


# --- physics, by hand -------------------------------------------------------


def test_latency_and_energy_match_a_hand_computation(tmp_path):
    board = load_board(write_board(tmp_path))
    est = estimate(board, 1_000_000)
    # 1e6 instructions x CPI 1.2 = 1.2e6 cycles; / 64e6 Hz = 18.75 ms.
    assert est.cycles.low == pytest.approx(1_200_000)
    assert est.latency_s.low == pytest.approx(18.75e-3)
    # CPI 1.45 and 2.0: 22.65625 ms and 31.25 ms.
    assert est.latency_s.typical == pytest.approx(22.65625e-3)
    assert est.latency_s.high == pytest.approx(31.25e-3)
    # P = V x I = 3.0 V x 5 mA = 15 mW typical; 12 and 24 mW at 4 and 8 mA.
    assert est.active_power_w == pytest.approx(15e-3)
    assert (est.active_power_range_w.low, est.active_power_range_w.high) == pytest.approx((12e-3, 24e-3))
    # E = P x t, bound by bound: 12 mW x 18.75 ms = 225 uJ; 15 mW x 22.65625 ms
    # = 339.84375 uJ; 24 mW x 31.25 ms = 750 uJ.
    assert est.energy_j.low == pytest.approx(2.25e-4)
    assert est.energy_j.typical == pytest.approx(3.3984375e-4)
    assert est.energy_j.high == pytest.approx(7.5e-4)


def test_shipped_board_energy_by_hand_for_both_regulators():
    board = load_board("nano33_ble_sense")
    # CPI low is 1.2, so the low latency is 1.2e6 / 64 MHz = 18.75 ms.
    ldo = estimate(board, 1_000_000)
    assert ldo.regulator == "ldo"
    assert ldo.latency_s.low == pytest.approx(18.75e-3)
    # 3.3 V x 6.3 mA x 18.75 ms = 3.898125e-4 J.
    assert ldo.energy_j.low == pytest.approx(3.898125e-4)
    dcdc = estimate(board, 1_000_000, regulator="dcdc")
    # 3.3 V x 3.3 mA x 18.75 ms = 2.041875e-4 J.
    assert dcdc.energy_j.low == pytest.approx(2.041875e-4)
    assert dcdc.active_power_w == pytest.approx(3.3 * 3.3e-3)


def test_a_proxy_core_is_estimated_from_the_cortex_m4_count():
    esp32 = load_board("esp32_devkitc")
    est = estimate(esp32, 1_000_000)
    assert (est.measured_on, est.proxy) == ("cortex-m4", True)
    # typical: 1e6 M4 instructions x 2.4 cycles each / 240 MHz = 10 ms.
    assert est.latency_s.typical == pytest.approx(10e-3)
    assert "cycles per *Cortex-M4* instruction" in est.sources["cpi"]


def test_estimate_says_what_is_measured_and_what_is_modelled():
    est = estimate(load_board("nano33_ble_sense"), 12_345)
    assert est.measured == ("instructions",)
    assert {"cpi", "active_current_a", "clock_hz"} <= set(est.modelled)
    for name in est.modelled:
        assert est.sources[name]
    assert "Modelling assumption" in est.sources["cpi"]
    assert (est.measured_on, est.proxy) == ("cortex-m4", False)


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
    assert fit.ok and fit.overflows == []
    assert fit_options(fit, 80_000, list_boards()) == []


def test_fit_flags_an_overflow_with_negative_headroom(tmp_path):
    board = load_board(write_board(tmp_path))
    fit = fits(board, flash_bytes=1_000, ram_bytes=262_145)
    assert fit.flash_ok and not fit.ram_ok and not fit.ok
    assert fit.ram_headroom_bytes == -1
    [overflow] = fit.overflows
    assert (overflow.memory, overflow.excess_bytes) == ("RAM", 1)


def test_an_overflow_comes_with_concrete_options(tmp_path):
    board = load_board(write_board(tmp_path))
    # 1,100,000 B of flash on a 1 MiB board: 51,424 B too many.
    fit = fits(board, flash_bytes=1_100_000, ram_bytes=300_000)
    assert [(o.memory, o.excess_bytes) for o in fit.overflows] == [("flash", 51_424), ("RAM", 37_856)]
    options = fit_options(fit, 1_000_000, list_boards())
    text = "\n".join(options)
    # int4 halves 1,000,000 B of int8 weights: 500,000 B saved, enough.
    assert "int4 weights: save about 500,000 B of the 1,000,000 B of weights (enough on its own)" in text
    assert "prune at least 5% of the weights" in text  # 51,424 / 1,000,000
    assert "smaller model" in text and "int4 weights do not help here" in text
    # The boards with more than 1.1 MB flash and 300 kB SRAM.
    assert "a board that fits as it is: " in options[-1]
    named = options[-1].split(": ")[1].split(", ")
    assert "nucleo_l4r5zi" in named and "nano33_ble_sense" not in named and "rpi_pico" not in named


def test_no_board_fits_an_enormous_model(tmp_path):
    fit = fits(load_board(write_board(tmp_path)), flash_bytes=10**9, ram_bytes=10)
    assert fit_options(fit, 10**9, list_boards())[-1] == "no board in the catalog fits it as it is"


def test_fit_refuses_negative_sizes(tmp_path):
    with pytest.raises(ValueError, match="ram_bytes"):
        fits(load_board(write_board(tmp_path)), flash_bytes=1, ram_bytes=-1)


# --- malformed files ----------------------------------------------------------

MALFORMED = [
    # (what is broken, replaced text, new text, the line it is reported at, words the message must hold)
    ("missing figure", "[clock_hz]\nvalue = 64_000_000\nkind = \"datasheet\"\nsource = \"toy datasheet, table 1\"\n", "",
     None, ["'clock_hz'", "is missing", "table"]),
    ("missing source", "value = 3.0\nkind = \"datasheet\"\nsource = \"toy datasheet, table 2\"\n\n[datasheet",
     "value = 3.0\nkind = \"datasheet\"\n\n[datasheet", "[supply_v]", ["'supply_v.source'", "is missing", "string"]),
    ("wrong type", "value = 64_000_000", "value = \"64 MHz\"", "64 MHz",
     ["'clock_hz.value'", "positive integer", "'64 MHz'"]),
    ("bool for a count", "value = 262_144", "value = true", "value = true", ["'sram_bytes.value'", "positive integer"]),
    ("negative current", "value = 5.0e-3", "value = -5.0e-3", "-5.0e-3",
     ["'active_current_a.ldo.value'", "positive finite number"]),
    ("current outside its range", "high = 8.0e-3", "high = 4.5e-3", "[active_current_a.ldo]",
     ["'active_current_a.ldo'", "low <= value <= high"]),
    ("infinite voltage", "value = 3.0\nkind = \"datasheet\"\nsource = \"toy datasheet, table 2\"\n\n[datasheet",
     "value = inf\nkind = \"datasheet\"\nsource = \"toy datasheet, table 2\"\n\n[datasheet", "value = inf",
     ["'supply_v.value'", "positive finite number", "inf"]),
    ("unknown top-level key", "core = \"cortex-m4\"\n", "core = \"cortex-m4\"\ncolour = \"green\"\n", "colour",
     ["'colour'", "not a known field"]),
    ("unknown key in a figure", "value = 1_048_576\n", "value = 1_048_576\nunit = \"bytes\"\n", "unit =",
     ["'flash_bytes.unit'", "not a known field", "value, kind, source"]),
    ("unknown sleep state", "[sleep_current_a.off]", "[sleep_current_a.deep]", "[sleep_current_a.deep]",
     ["'sleep_current_a.deep'", "sleep, idle, off"]),
    ("bad kind", "kind = \"assumption\"\nsource = \"the toy", "kind = \"guess\"\nsource = \"the toy", "guess",
     ["'regulator.kind'", "'datasheet' or 'measured' or 'assumption'"]),
    ("a board CPI (now the core's)", "core = \"cortex-m4\"\n",
     "core = \"cortex-m4\"\ncpi = { low = 1.0, typical = 1.5, high = 2.0 }\n", "cpi =", ["'cpi'", "not a known field"]),
    ("unknown core", "core = \"cortex-m4\"", "core = \"cortex-m4f\"", "core =",
     ["'core'", "no core 'cortex-m4f'", "cortex-m4,"]),
    ("regulator without a current", "value = \"ldo\"", "value = \"dcdc\"", "value = \"dcdc\"",
     ["'regulator.value'", "active_current_a"]),
    ("id not the file name", "id = \"toy\"", "id = \"other\"", "id =", ["'id'", "file name"]),
    ("schema version", "schema = 2", "schema = 1", "schema =", ["'schema'", "should be 2"]),
]


@pytest.mark.parametrize("what, old, new, at, words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_board_is_refused_naming_file_line_and_field(tmp_path, what, old, new, at, words):
    text = broken(old, new)
    path = write_board(tmp_path, text)
    with pytest.raises(BoardFileError) as caught:
        load_board(path)
    message = str(caught.value)
    assert "\n" not in message
    where = f"{path}:{line_of(text, at)}" if at is not None else f"{path}"
    assert message.startswith(f"{where}: field "), message
    for word in words:
        assert word in message, (what, message)


def test_invalid_toml_is_refused_naming_the_file_and_line(tmp_path):
    path = write_board(tmp_path, VALID + "\n[clock_hz\n")
    with pytest.raises(BoardFileError, match="not valid TOML.*line") as caught:
        load_board(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_field_line_finds_headers_keys_and_dotted_keys():
    text = 'a = 1\n[b]\nc = 2\n[b.d]\ne.f = 3\n'
    assert field_line(text, "a") == 1
    assert field_line(text, "b.c") == 3
    assert field_line(text, "b.d.e.f") == 5
    assert field_line(text, "b.missing") == 2  # reported at its table
    assert field_line(text, "zzz") is None


# --- published measurements --------------------------------------------------------


def test_published_results_are_found_by_content_only():
    assert published_results(b"not a model") == []


def test_mlperf_reference_models_have_their_published_results(shared_data):
    folder = shared_data / "models" / "mlperf_tiny"
    kws = published_results((folder / "kws_ref_model.tflite").read_bytes())
    assert {r.board_id for r in kws} == {"nucleo_l4r5zi"}
    by_stack = {r.stack.split()[0]: r for r in kws}
    assert by_stack["TFLM"].latency_s.value == pytest.approx(0.1819)
    assert by_stack["TFLM"].energy_j.value == pytest.approx(7.374e-3)
    assert by_stack["STM32Cube.AI"].latency_s.value == pytest.approx(0.0432)
    assert all(r.latency_s.kind == "measured" for r in kws)
    assert len(published_results((folder / "pretrainedResnet_quant.tflite").read_bytes())) == 2
    assert len(published_results((folder / "ad01_int8.tflite").read_bytes())) == 2
    assert published_results((folder / "kws_ref_model_float32.tflite").read_bytes()) == []


# --- profile -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_c_model(tmp_path_factory):
    graph = (GraphBuilder((1, 6, 6, 1), seed=2).conv(4, 3, activation=Activation.RELU).max_pool(2, 2)
             .reshape((1, -1)).fully_connected(3).softmax().build())
    calibration = np.random.default_rng(0).uniform(-1.0, 1.0, (32, 6, 6, 1)).astype(np.float32)
    folder = tmp_path_factory.mktemp("build")
    cmodel = generate_c(quantize(graph, calibration), folder / "c")
    return folder, cmodel


def test_read_c_model_finds_sizes_and_int8_weights(small_c_model):
    folder, cmodel = small_c_model
    model = read_c_model(folder / "c")
    assert (model.input_size, model.output_size) == (cmodel.input_size, cmodel.output_size)
    # 4x3x3x1 conv weights + 3x16 FC weights, int8.
    assert model.int8_weight_bytes == 4 * 9 + 3 * 16


def test_read_c_model_names_a_missing_file(tmp_path):
    with pytest.raises(ProfileError, match="no model.h; give a folder written by leafml's C generator"):
        read_c_model(tmp_path)


@pytest.mark.requires_tools(*QEMU_TOOLS)
def test_profile_measures_once_per_core_and_estimates_every_board(tmp_path, small_c_model):
    folder, _ = small_c_model
    boards = [load_board(name) for name in ("nano33_ble_sense", "nucleo_l4r5zi", "esp32_devkitc", "rpi_pico")]
    result = profile_model(read_c_model(folder / "c"), boards, tmp_path, label="small",
                           flash_reserve_bytes=0, ram_reserve_bytes=0, catalog=list_boards())
    # M4 boards and the ESP32 share the Cortex-M4 count; the Pico uses the M0 build.
    assert set(result.measurements) == {"cortex-m4", "cortex-m0"}
    rows = {row.board.id: row for row in result.boards}
    m4 = result.measurements["cortex-m4"]
    assert rows["esp32_devkitc"].measurement is m4 and rows["esp32_devkitc"].estimate.proxy
    assert rows["rpi_pico"].measurement.machine == "microbit"
    for row in rows.values():
        assert row.fit.ok and row.options == ()
        assert row.estimate.instructions == row.measurement.mean_instructions
        assert row.fit.ram_used_bytes == row.measurement.ram_bytes > row.measurement.stack_bytes > 0
    assert len(board_rows(result)) == 4


def _profile_json(tmp_path, monkeypatch, *args):
    monkeypatch.chdir(tmp_path)
    assert main(["profile", *args]) == 0
    return json.loads((tmp_path / "out" / "profile.json").read_text())


@pytest.mark.requires_tools(*QEMU_TOOLS)
def test_cli_profile_of_a_build_folder_writes_the_report(tmp_path, monkeypatch, capsys, small_c_model):
    folder, _ = small_c_model
    data = _profile_json(tmp_path, monkeypatch, str(folder), "--board", "nrf5340_dk", "--board", "stm32h747i_disco",
                         "--out", "out", "--ram-reserve", "1000")
    assert [b["board"] for b in data["boards"]] == ["nrf5340_dk", "stm32h747i_disco"]
    assert set(data["measured"]) == {"cortex-m33", "cortex-m7"}
    assert data["ram_reserve_bytes"] == 1000 and data["flash_reserve_bytes"] == 64 * 1024
    printed = capsys.readouterr().out
    assert "nrf5340_dk" in printed and "report:" in printed
    html = (tmp_path / "out" / "profile.html").read_text()
    assert "measured" in html and "estimated" in html and "Details and sources" in html
    # A second run replaces leafml's own report.
    assert main(["profile", str(folder), "--board", "nrf5340_dk", "--out", "out"]) == 0


@pytest.mark.requires_tools(*QEMU_TOOLS)
def test_cli_profile_reports_a_board_that_does_not_fit(tmp_path, monkeypatch, capsys, small_c_model):
    folder, _ = small_c_model
    # Reserve all but 100 bytes of the Pico's RAM: the model's arena no longer fits.
    data = _profile_json(tmp_path, monkeypatch, str(folder), "--board", "rpi_pico", "--out", "out",
                         "--ram-reserve", str(264 * 1024 - 100))
    [pico] = data["boards"]
    assert pico["fits"] is False and pico["ram_available_bytes"] == 100
    assert any("smaller activations" in option for option in pico["options"])
    assert "rpi_pico[/]" not in capsys.readouterr().out  # rich markup is rendered, not printed


def test_report_never_overwrites_a_users_file(tmp_path, small_c_model):
    (tmp_path / "profile.html").write_text("<html>my notes</html>")
    with pytest.raises(ReportExists, match="was not written by leafml profile; choose another folder with --out"):
        write_profile_report(None, tmp_path)
    assert (tmp_path / "profile.html").read_text() == "<html>my notes</html>"


def test_cli_profile_refuses_a_path_that_is_no_model(tmp_path, capsys):
    assert main(["profile", str(tmp_path), "--board", "nano33_ble_sense"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("leafml: error: ") and "neither a .tflite file nor a leafml build folder" in error
    assert error.count("\n") == 1


def test_cli_profile_refuses_an_unknown_board(tmp_path, capsys):
    assert main(["profile", str(tmp_path), "--board", "nonesuch"]) == 2
    assert "no board named 'nonesuch'" in capsys.readouterr().err


def test_cli_boards_lists_every_board(capsys):
    assert main(["boards"]) == 0
    printed = capsys.readouterr().out
    for board_id in REQUIRED_BOARDS:
        assert board_id[:7] in printed
    assert "no-user-boards" in printed


@pytest.mark.requires_tools(*QEMU_TOOLS)
def test_profile_of_the_mlperf_anomaly_detector_shows_published_results_beside_ours(
        tmp_path, monkeypatch, shared_data):
    # Real-model test: MLPerf Tiny AD (FC autoencoder, 264k MACs), a few seconds.
    model = shared_data / "models" / "mlperf_tiny" / "ad01_int8.tflite"
    data = _profile_json(tmp_path, monkeypatch, str(model), "--board", "nucleo_l4r5zi", "--board", "rpi_pico",
                         "--out", "out")
    l4, pico = data["boards"]
    assert {p["stack"].split()[0] for p in l4["published"]} == {"TFLM", "STM32Cube.AI"}
    assert pico["published"] == []
    # 272 kB of weights do not fit the micro:bit: the M0 count comes from mps2-an385.
    assert data["measured"]["cortex-m0"]["machine"] == "mps2-an385"
    # Published: 10.05 ms (TFLM + CMSIS-NN); leafml's plain C is slower but the same order.
    assert 0.005 < l4["latency_s"]["typical"] < 0.1
    assert "other software stacks' measurements" in (tmp_path / "out" / "profile.html").read_text()


@pytest.mark.requires_tools(*QEMU_TOOLS)
def test_profile_of_the_mlperf_keyword_spotter_on_the_l4r5_beside_the_published_figures(
        tmp_path, monkeypatch, shared_data):
    # Real-model test, about 5 s: MLPerf Tiny KWS (DS-CNN, 2.66 M MACs) on the
    # board of the MLPerf submissions, the comparison issue 5 asks for.
    model = shared_data / "models" / "mlperf_tiny" / "kws_ref_model.tflite"
    data = _profile_json(tmp_path, monkeypatch, str(model), "--board", "nucleo_l4r5zi", "--out", "out")
    [l4] = data["boards"]
    published = {p["stack"].split()[0]: p for p in l4["published"]}
    assert published["TFLM"]["latency_s"] == pytest.approx(0.1819)
    assert published["STM32Cube.AI"]["energy_j"] == pytest.approx(1.820e-3)
    # Between the physical limit (2 MACs per SMLAD) and TFLM's reference
    # kernels (43.0 M instructions in QEMU, shared/data/README.md).
    assert 2.657e6 / 2 < l4["instructions"] < 43.0e6
    low, high = l4["latency_s"]["low"], l4["latency_s"]["high"]
    assert low == pytest.approx(l4["instructions"] * 1.2 / 120e6)
    assert high == pytest.approx(l4["instructions"] * 2.0 / 120e6)
