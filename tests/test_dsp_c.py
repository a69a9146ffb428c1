"""The DSP blocks' C twins: the host build against numpy within the
tolerances stated in leafml.dsp.cgen (each case's atol, rtol below), and the
Cortex-M4 build in QEMU bit-exact with the host build, measured."""

from __future__ import annotations

import subprocess
from importlib import resources

import numpy as np
import pytest

from leafml.dsp import DspPipeline, generate_dsp_c, run_dsp_cortex_m, run_dsp_host
from leafml.firmware import find_tool

pytestmark = pytest.mark.requires_tools("cc")

RNG_SEED = 20240611


def speech_like(rng: np.random.Generator, n: int, samples: int) -> np.ndarray:
    """int16 windows with a loud middle, quiet ends and a few harmonics, at varied levels."""
    t = np.arange(samples) / 16000.0
    envelope = np.exp(-(((t - 0.5) / 0.15) ** 2))
    out = []
    for level in np.geomspace(30000, 30, n):
        pitch = rng.uniform(90, 250)
        voiced = sum(np.sin(2 * np.pi * pitch * h * t) / h for h in range(1, 8))
        out.append(level * (0.7 * envelope * voiced / 2.6 + 0.05 * rng.normal(size=samples)))
    return np.clip(np.round(np.array(out)), -32768, 32767)


def motion(rng: np.random.Generator, n: int, samples: int, axes: int) -> np.ndarray:
    """Accelerometer-like windows at 100 Hz: a few tones per axis, noise, gravity."""
    t = np.arange(samples) / 100.0
    windows = []
    for _ in range(n):
        axis_signals = [np.sin(2 * np.pi * rng.uniform(0.8, 2.5) * (a + 1) * t + rng.uniform(0, 6))
                        + 0.4 * np.sin(2 * np.pi * 7.1 * t) + 0.1 * rng.normal(size=samples) for a in range(axes)]
        windows.append(np.stack(axis_signals, axis=-1) + [0.0, 0.0, 9.81][:axes])
    return np.array(windows)


# name: (table, windows(rng), atol, rtol)
CASES = {
    "mfcc_kws_int16": (
        {"sample_rate_hz": 16000, "window_ms": 1000, "input": "int16", "blocks": ["raw", "mfcc"],
         "raw": {"peak_normalize": True}},
        lambda rng: speech_like(rng, 4, 16000), 1e-4, 0.0),
    "mfe_64_bands": (
        {"sample_rate_hz": 16000, "window_ms": 500, "blocks": ["mfe"],
         "mfe": {"mel_bins": 64, "low_hz": 0, "high_hz": 8000, "frame_length_ms": 25, "frame_stride_ms": 10}},
        lambda rng: rng.normal(size=(4, 8000)) * np.geomspace(1, 1e-4, 4)[:, None], 2e-4, 0.0),
    "spectral_imu_filtered": (
        {"sample_rate_hz": 100, "window_ms": 4000, "axes": 3, "blocks": ["highpass", "spectral"],
         "highpass": {"cutoff_hz": 0.5, "order": 2},
         "spectral": {"features": ["rms", "band_powers", "magnitudes"], "frame_length_ms": 1280,
                      "frame_stride_ms": 640, "band_edges_hz": [0, 1, 2, 5, 10, 25, 50]}},
        lambda rng: motion(rng, 4, 400, 3), 0.0, 1e-3),
    "spectral_peaks": (
        {"sample_rate_hz": 100, "window_ms": 2560, "axes": 2, "blocks": ["spectral"],
         "spectral": {"features": ["rms", "peaks"], "peak_count": 2}},
        lambda rng: motion(rng, 4, 256, 2), 0.0, 1e-5),
    "lowpass_order_8_steep": (
        {"sample_rate_hz": 16000, "window_ms": 250, "blocks": ["lowpass"], "lowpass": {"cutoff_hz": 20, "order": 8}},
        lambda rng: rng.normal(size=(3, 4000)), 0.0, 1e-3),
    "raw_scaled_two_axes": (
        {"sample_rate_hz": 50, "window_ms": 2000, "axes": 2, "blocks": ["raw"], "raw": {"scale": [0.1, 3.0]}},
        lambda rng: rng.normal(size=(3, 100, 2)) * 100, 0.0, 2.4e-7),
}


def assert_within(c: np.ndarray, expected: np.ndarray, atol: float, rtol: float) -> None:
    for c_window, window in zip(c.astype(np.float64), expected.astype(np.float64)):
        bound = atol + rtol * np.abs(window).max()
        assert np.abs(c_window - window).max() <= bound


@pytest.mark.parametrize("name", CASES)
def test_host_c_is_within_the_stated_tolerance_of_numpy(name, tmp_path):
    table, make, atol, rtol = CASES[name]
    windows = make(np.random.default_rng(RNG_SEED))
    pipeline = DspPipeline.from_config(table)
    source = generate_dsp_c(pipeline, tmp_path / "c")
    assert_within(run_dsp_host(source, windows, tmp_path / "host"), pipeline.run(windows), atol, rtol)


def test_normalize_is_fused_into_the_stores(tmp_path):
    table = {"sample_rate_hz": 16000, "window_ms": 1000, "input": "int16", "blocks": ["raw", "mfcc", "normalize"],
             "raw": {"scale": 1 / 32768}}
    rng = np.random.default_rng(RNG_SEED)
    pipeline = DspPipeline.from_config(table).fit(speech_like(rng, 12, 16000))
    windows = speech_like(rng, 3, 16000)
    c = run_dsp_host(generate_dsp_c(pipeline, tmp_path / "c"), windows, tmp_path / "host")
    mean, std = pipeline.normalize.statistics()
    # Compared before normalisation, where the MFCC tolerance is stated.
    assert_within(c * std + mean, pipeline.run(windows) * std + mean, 1e-4, 0.0)


@pytest.mark.parametrize("name", CASES)
def test_generated_c_is_pedantic_c99(name, tmp_path):
    table = CASES[name][0]
    pipeline = DspPipeline.from_config({**table, "blocks": [*table["blocks"], "normalize"]})
    pipeline.fit(CASES[name][1](np.random.default_rng(RNG_SEED)))
    source = generate_dsp_c(pipeline, tmp_path)
    subprocess.run([find_tool("cc"), "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-c",
                    str(source.source), "-o", str(tmp_path / "dsp.o")], check=True)


def test_generated_files_name_their_sizes_and_use_the_prefix(tmp_path):
    table, _, _, _ = CASES["mfcc_kws_int16"]
    source = generate_dsp_c(DspPipeline.from_config(table), tmp_path, prefix="kws_front")
    header = source.header.read_text()
    assert "int kws_front_run(const int16_t *raw, float *features);" in header
    assert "#define KWS_FRONT_INPUT_SIZE 32000" in header and "#define KWS_FRONT_OUTPUT_ELEMENTS 490" in header
    c = source.source.read_text()
    # Magnitudes feed 40 bands over 127 bins: the mel weights are stored sparse.
    assert "leafml_dsp_mfcc_weights[247]" in c
    assert "malloc(" not in c and "#include <math.h>" not in c
    # FFT, spectrum and log-mel buffers, and the peak gain.
    assert source.buffer_bytes == 4 * (512 + 257 + 40 + 1)


def test_float_math_without_libm(tmp_path):
    """ln within 2 ulp and sqrt correctly rounded (SSE, FSQRT) on positive normal floats."""
    program = tmp_path / "float_math.c"
    header = resources.files("leafml.dsp").joinpath("c", "float_math.h").read_text()
    program.write_text("#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n" + header + """
int main(void)
{
    float x;
    while (fread(&x, sizeof x, 1, stdin) == 1) {
        const float results[2] = {leafml_dsp_logf(x), leafml_dsp_sqrtf(x)};
        fwrite(results, sizeof x, 2, stdout);
    }
    return 0;
}
""")
    exe = tmp_path / "float_math"
    subprocess.run([find_tool("cc"), "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", str(program),
                    "-o", str(exe)], check=True)
    rng = np.random.default_rng(RNG_SEED)
    x = np.concatenate([np.exp(rng.uniform(np.log(1e-37), np.log(1e37), 100_000)),
                        1 + np.arange(-2000, 2000) * 1e-7, [1.0, 2.0, 0.5, 1e-6]]).astype(np.float32)
    out = np.frombuffer(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout,
                        dtype=np.float32).reshape(-1, 2).astype(np.float64)
    exact_log = np.log(x.astype(np.float64))
    ulp_log = np.spacing(np.abs(exact_log).astype(np.float32)).astype(np.float64)
    assert np.all(np.abs(out[:, 0] - exact_log) <= 2 * ulp_log)
    assert np.array_equal(out[:, 1], np.sqrt(x).astype(np.float64))


@pytest.mark.requires_tools("arm-none-eabi-gcc", "qemu-system-arm")
@pytest.mark.parametrize("name", ["mfcc_kws_int16", "spectral_imu_filtered"])
def test_cortex_m4_gives_the_host_bits_and_is_measured(name, tmp_path):
    table, make, _, _ = CASES[name]
    windows = make(np.random.default_rng(RNG_SEED))[:2]
    pipeline = DspPipeline.from_config(table)
    source = generate_dsp_c(pipeline, tmp_path / "c")
    host = run_dsp_host(source, windows, tmp_path / "host")
    device = run_dsp_cortex_m(source, windows, tmp_path / "m4")
    # No libm, no FMA contraction under -std=c99: IEEE float32 on both.
    assert np.array_equal(device.features, host)
    # The work does not depend on the data: every window costs the same.
    assert len(set(device.instructions)) == 1 and device.instructions[0] > 10_000
    assert device.sizes.bss >= source.buffer_bytes and device.sizes.text >= source.constant_bytes
    assert 0 < device.stack_bytes < 512


@pytest.mark.requires_tools("arm-none-eabi-gcc", "qemu-system-arm")
def test_cortex_m3_without_fpu_stays_within_tolerance(tmp_path):
    """Soft float and the portable square root (no VSQRT) on a Cortex-M3."""
    table = {"sample_rate_hz": 8000, "window_ms": 250, "blocks": ["mfcc"],
             "mfcc": {"frame_length_ms": 32, "frame_stride_ms": 16, "mel_bins": 20}}
    pipeline = DspPipeline.from_config(table)
    windows = np.random.default_rng(RNG_SEED).normal(size=(2, 2000))
    device = run_dsp_cortex_m(generate_dsp_c(pipeline, tmp_path / "c"), windows, tmp_path / "m3", core="cortex-m3")
    assert_within(device.features, pipeline.run(windows), 1e-4, 0.0)
