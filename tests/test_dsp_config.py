"""The [dsp] table: what it accepts, and the one-line error for what it refuses."""

from __future__ import annotations

import pytest

from leafml.dsp import BLOCKS, DspConfigError, DspPipeline
from leafml.errors import LeafmlError

BASE = {"sample_rate_hz": 16000, "window_ms": 1000}


def test_kws_defaults_give_the_mlperf_tiny_features():
    pipeline = DspPipeline.from_config({**BASE, "input": "int16", "blocks": ["mfcc"]})
    assert pipeline.input_shape == (16000, 1)
    assert pipeline.feature_shape == (49, 10)
    mfcc = pipeline.blocks[0]
    frame = mfcc.log_mel.frame
    assert (frame.length, frame.step, frame.fft_length) == (480, 320, 512)
    assert (mfcc.log_mel.mel_bins, mfcc.log_mel.low_hz, mfcc.log_mel.high_hz) == (40, 20.0, 4000.0)
    assert mfcc.log_mel.log_epsilon == 1e-6


def test_every_block_in_one_chain():
    table = {
        "sample_rate_hz": 100, "window_ms": 2000, "window_stride_ms": 500, "axes": 3,
        "blocks": ["raw", "highpass", "lowpass", "spectral", "normalize"],
        "raw": {"scale": [1.0, 2.0, 0.5]},
        "highpass": {"cutoff_hz": 0.5, "order": 1},
        "lowpass": {"cutoff_hz": 20},
        "spectral": {"features": ["magnitudes", "rms"], "frame_length_ms": 640, "frame_stride_ms": 320},
    }
    pipeline = DspPipeline.from_config(table)
    assert [block.name for block in pipeline.blocks] == table["blocks"]
    assert pipeline.settings.window_stride_samples == 50
    # rms then the 33 magnitudes of a 64-point FFT, per axis, whatever the listed order.
    assert pipeline.feature_shape == (3, 1 + 33)
    assert pipeline.blocks[2].order == 2


def test_block_names_are_the_registry():
    assert set(BLOCKS) == {"raw", "lowpass", "highpass", "spectral", "mfe", "mfcc", "normalize"}


@pytest.mark.parametrize(
    ("table", "path", "words"),
    [
        ({}, "dsp.sample_rate_hz", "is missing"),
        ("mfcc", "dsp", "should be a table"),
        ({**BASE, "colour": "red"}, "dsp.colour", "is not a known key"),
        ({**BASE, "input": "int8"}, "dsp.input", "'float32', 'int16'"),
        ({**BASE, "axes": True}, "dsp.axes", "integer from 1 to 64"),
        ({**BASE, "window_ms": 0}, "dsp.window_ms", "> 0"),
        ({**BASE, "window_ms": 1000.03}, "dsp.window_ms", "whole number of samples"),
        ({**BASE, "blocks": "mfcc"}, "dsp.blocks", "should be a list"),
        ({**BASE, "blocks": ["fft"]}, "dsp.blocks", "'fft'"),
        ({**BASE, "blocks": ["raw", "raw"]}, "dsp.blocks", "more than once"),
        ({**BASE, "blocks": ["mfcc", "raw"]}, "dsp.blocks", "puts 'raw' after 'mfcc'"),
        ({**BASE, "blocks": ["normalize", "mfcc"]}, "dsp.blocks", "puts 'mfcc' after 'normalize'"),
        ({**BASE, "blocks": ["mfcc", "mfe"]}, "dsp.blocks", "2 feature blocks"),
        ({**BASE, "mfcc": {}}, "dsp.mfcc", "does not list"),
        ({**BASE, "blocks": ["mfcc"], "mfcc": []}, "dsp.mfcc", "should be a table"),
        ({**BASE, "blocks": ["mfcc"], "mfcc": {"frame_len_ms": 25}}, "dsp.mfcc.frame_len_ms", "allowed: frame_length_ms"),
        ({**BASE, "blocks": ["mfcc"], "mfcc": {"mel_bins": 0}}, "dsp.mfcc.mel_bins", "from 1 to 256"),
        ({**BASE, "blocks": ["mfcc"], "mfcc": {"coefficients": 41}}, "dsp.mfcc.coefficients", "from 1 to 40"),
        ({**BASE, "blocks": ["mfcc"], "mfcc": {"high_hz": 9000}}, "dsp.mfcc.high_hz", "<= 8000"),
        ({**BASE, "blocks": ["mfe"], "mfe": {"low_hz": 5000}}, "dsp.mfe.low_hz", "not below high_hz"),
        ({**BASE, "blocks": ["mfe"], "mfe": {"fft_length": 500}}, "dsp.mfe.fft_length", "power of two"),
        ({**BASE, "blocks": ["mfe"], "mfe": {"fft_length": 256}}, "dsp.mfe.fft_length", ">= the frame's 480"),
        ({**BASE, "blocks": ["mfe"], "mfe": {"frame_length_ms": 2000}}, "dsp.mfe.frame_length_ms", "more than the window"),
        ({**BASE, "blocks": ["mfe"], "mfe": {"log_epsilon": 0}}, "dsp.mfe.log_epsilon", "> 0"),
        ({"sample_rate_hz": 22050, "window_ms": 1000, "blocks": ["mfcc"]}, "dsp.mfcc.frame_length_ms",
         "its default, 30 ms, is 661.5 samples"),
        ({**BASE, "axes": 3, "blocks": ["mfcc"]}, "dsp.axes", "reads one axis"),
        ({**BASE, "blocks": ["lowpass"]}, "dsp.lowpass.cutoff_hz", "is missing"),
        ({**BASE, "blocks": ["highpass"], "highpass": {"cutoff_hz": 8000}}, "dsp.highpass.cutoff_hz", "Nyquist"),
        ({**BASE, "blocks": ["lowpass"], "lowpass": {"cutoff_hz": 100, "order": 9}}, "dsp.lowpass.order", "1 to 8"),
        ({**BASE, "blocks": ["raw"], "raw": {"scale": [1, 2]}}, "dsp.raw.scale", "2 factors for 1 axes"),
        ({**BASE, "blocks": ["raw"], "raw": {"scale": -1}}, "dsp.raw.scale", "> 0"),
        ({**BASE, "blocks": ["raw"], "raw": {"peak_normalize": 1}}, "dsp.raw.peak_normalize", "true or false"),
        ({**BASE, "blocks": ["spectral"], "spectral": {"features": []}}, "dsp.spectral.features", "is empty"),
        ({**BASE, "blocks": ["spectral"], "spectral": {"features": ["rms"], "peak_count": 2}},
         "dsp.spectral.peak_count", "only when dsp.spectral.features lists 'peaks'"),
        ({**BASE, "blocks": ["spectral"], "spectral": {"peak_count": 9}}, "dsp.spectral.peak_count", "1 to 8"),
        ({**BASE, "blocks": ["spectral"], "spectral": {"band_edges_hz": [0, 100, 50]}}, "dsp.spectral.band_edges_hz",
         "rise strictly"),
        ({**BASE, "blocks": ["spectral"], "spectral": {"frame_length_ms": 8, "band_edges_hz": [0, 10, 20]}},
         "dsp.spectral.band_edges_hz", "holds no FFT bin"),
        ({**BASE, "blocks": ["spectral"], "spectral": {"frame_length_ms": 0.0625}}, "dsp.spectral.frame_length_ms",
         "a frame needs 2"),
        ({"sample_rate_hz": 16000, "window_ms": 2000, "blocks": ["spectral"]}, "dsp.spectral.frame_length_ms",
         "2 to 16384"),
    ],
)
def test_a_bad_table_is_refused_in_one_line_naming_the_key(table, path, words):
    with pytest.raises(DspConfigError) as caught:
        DspPipeline.from_config(table)
    message = str(caught.value)
    assert caught.value.path == path
    assert message.startswith(f"field '{path}' ")
    assert words in message
    assert "\n" not in message
    assert isinstance(caught.value, LeafmlError)
