"""DSP blocks in numpy, each with a C twin: raw samples, low/high-pass
filters, spectral analysis, MFE and MFCC (the tf.signal definition), and
normalisation, configured by the ``[dsp]`` table of leafml.toml.

    pipeline = DspPipeline.from_config(dsp_table).fit(training_windows)
    features = pipeline.run(windows)                      # float32 [N, rows, columns]
    source = generate_dsp_c(pipeline, "out/c")            # dsp.h, dsp.c: leafml_dsp_run
    device = run_dsp_cortex_m(source, windows, "out/dsp")  # features, instructions, sizes on a Cortex-M4
"""

from leafml.dsp.base import DspError
from leafml.dsp.cgen import DspSource, generate_dsp_c
from leafml.dsp.config import BLOCKS, DspSettings
from leafml.dsp.device import DspDeviceResult, run_dsp_cortex_m, run_dsp_host
from leafml.dsp.framing import RecordingTooShort
from leafml.dsp.pipeline import DspPipeline
from leafml.dsp.schema import DspConfigError

__all__ = [
    "BLOCKS",
    "DspConfigError",
    "DspDeviceResult",
    "DspError",
    "DspPipeline",
    "DspSettings",
    "DspSource",
    "RecordingTooShort",
    "generate_dsp_c",
    "run_dsp_cortex_m",
    "run_dsp_host",
]
