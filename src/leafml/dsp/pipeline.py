"""DspPipeline: a project's DSP chain, run in numpy on windows of samples.

    pipeline = DspPipeline.from_config(project_toml["dsp"])
    windows = pipeline.windows(recording)          # [W, samples, axes]
    pipeline.fit(training_windows)                 # learns normalize, if any
    features = pipeline.run(windows)               # float32 [W, rows, columns]
    state = pipeline.fitted_state()                # JSON-ready; load_fitted_state(state) restores it

The numpy blocks compute in float64 and the features are rounded to
float32 once, at the end: that is the definition the C twin
(leafml.dsp.cgen) is measured against.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from leafml.dsp.base import DspBlock, DspError
from leafml.dsp.config import FEATURE_STAGE, STAGES, DspSettings, parse_dsp_table
from leafml.dsp.framing import split_windows
from leafml.dsp.normalize import Normalize


class DspPipeline:
    """The blocks of a [dsp] table, in order: raw, filters, a feature block, normalize."""

    def __init__(self, settings: DspSettings, blocks: list[DspBlock]) -> None:
        self.settings = settings
        self.blocks = blocks

    @classmethod
    def from_config(cls, table: Any) -> DspPipeline:
        """The pipeline of a [dsp] table (a dict); raises `DspConfigError` naming a bad key."""
        return cls(*parse_dsp_table(table))

    @property
    def input_shape(self) -> tuple[int, int]:
        """[samples, axes] of one window."""
        return (self.settings.window_samples, self.settings.axes)

    @property
    def feature_shape(self) -> tuple[int, int]:
        """[rows, columns] of one window's features."""
        shape = self.input_shape
        for block in self.blocks:
            shape = block.output_shape(shape)
        return shape

    @property
    def has_feature_block(self) -> bool:
        """False when the features are the (scaled, filtered) samples themselves."""
        return any(STAGES[block.name] == FEATURE_STAGE for block in self.blocks)

    @property
    def normalize(self) -> Normalize | None:
        return next((block for block in self.blocks if isinstance(block, Normalize)), None)

    def windows(self, recording: np.ndarray) -> np.ndarray:
        """The windows [W, samples, axes] of ``recording`` [samples, axes] ([samples]
        for one axis), dsp.window_stride_ms apart; a tail shorter than a window is dropped."""
        recording = np.asarray(recording)
        if recording.ndim == 1 and self.settings.axes == 1:
            recording = recording[:, None]
        if recording.ndim != 2 or recording.shape[1] != self.settings.axes:
            raise DspError(f"a recording should be [samples, {self.settings.axes}] (axes from dsp.axes), "
                           f"not {list(recording.shape)}")
        return split_windows(recording, self.settings.window_samples, self.settings.window_stride_samples)

    def run(self, windows: np.ndarray) -> np.ndarray:
        """Features of ``windows`` [N, samples, axes] ([N, samples] for one axis): float32 [N, rows, columns]."""
        x = self._check_windows(windows)
        for block in self.blocks:
            x = block.run(x)
        return x.astype(np.float32)

    def fit(self, windows: np.ndarray) -> DspPipeline:
        """Learn what the blocks learn (normalize's statistics) from training ``windows``; returns self."""
        x = self._check_windows(windows)
        for block in self.blocks:
            if isinstance(block, Normalize):
                block.fit(x)  # normalize is last: nothing after it learns
                break
            x = block.run(x)
        return self

    def fitted_state(self) -> dict[str, Any]:
        """What `fit` learned, as JSON-ready lists: {"normalize": {"mean": ..., "std": ...}} or {}."""
        if self.normalize is None:
            return {}
        mean, std = self.normalize.statistics()
        return {"normalize": {"mean": mean.tolist(), "std": std.tolist()}}

    def load_fitted_state(self, state: dict[str, Any]) -> DspPipeline:
        """Restore what `fitted_state` returned (for this same [dsp] table); returns self."""
        expected = set() if self.normalize is None else {"normalize"}
        if set(state) != expected:
            raise DspError(f"the saved DSP state holds {sorted(state)}, but this pipeline learns {sorted(expected)}; "
                           "fit the pipeline again")
        if self.normalize is not None:
            shape = self._shape_before_normalize()
            try:
                mean = np.array(state["normalize"]["mean"], dtype=np.float64)
                std = np.array(state["normalize"]["std"], dtype=np.float64)
            except (KeyError, TypeError, ValueError):
                raise DspError("the saved normalize state needs numeric 'mean' and 'std'; "
                               "fit the pipeline again") from None
            if mean.shape != shape or std.shape != shape or not np.all(std > 0):
                raise DspError(f"the saved normalize state does not fit features {list(shape)} "
                               "(or has a std <= 0); fit the pipeline again")
            self.normalize.mean_, self.normalize.std_ = mean, std
        return self

    def _shape_before_normalize(self) -> tuple[int, int]:
        shape = self.input_shape
        for block in self.blocks[:-1]:
            shape = block.output_shape(shape)
        return shape

    def _check_windows(self, windows: np.ndarray) -> np.ndarray:
        x = np.asarray(windows)
        if x.ndim == 2 and self.settings.axes == 1:
            x = x[:, :, None]
        if x.ndim != 3 or x.shape[1:] != self.input_shape or x.shape[0] == 0:
            samples, axes = self.input_shape
            raise DspError(f"windows should be [N, {samples}, {axes}] (dsp.window_ms at dsp.sample_rate_hz, dsp.axes), "
                           f"not {list(np.shape(windows))}")
        if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
            raise DspError(f"windows should hold real numbers, not {x.dtype}")
        return x.astype(np.float64)
