"""Anomaly scorers in numpy, each with a C twin that computes the same float32 bits.

* :class:`GaussianScorer` — a diagonal Gaussian of normal features: the
  score is the mean squared z-score ``mean(((x - mean) / std) ** 2)``.
* :class:`KMeansScorer` — k-means centroids of normal features: the score
  is the mean squared distance to the nearest centroid.
* :class:`ReconstructionScorer` — an int8 autoencoder's input and output
  codes: the score is the mean squared reconstruction error in real units,
  ``mean((dequantize(output) - dequantize(input)) ** 2)``.

Higher is more anomalous.  Every score is float32 arithmetic done in one
order, one operation at a time: the numpy reference here loops over
features as the C does, and C99 (``-std=c99`` keeps GCC from fusing a
multiply and an add) rounds each operation the same way on the host and on
a Cortex-M4F, so the scores are equal bit for bit.

    scorer = GaussianScorer().fit(normal_features)
    source = generate_scorer_c(scorer, "out/c")        # anomaly.h / anomaly.c: leafml_anomaly_score
    result = run_scorer_ladder(scorer, source, features, "out/verify")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from leafml.codegen.cformat import c_float, is_identifier
from leafml.errors import LeafmlError
from leafml.ir.graph import QuantParams
from leafml.train.device_shim import BANNER, mismatching_rows, object_sizes, write_shim

__all__ = [
    "AnomalyScorerError", "GaussianScorer", "KMeansScorer", "ReconstructionScorer", "ScorerLadderResult",
    "ScorerSource", "generate_scorer_c", "run_scorer_ladder", "threshold_for",
]

F32 = np.float32


class AnomalyScorerError(LeafmlError, ValueError):
    """Data or settings an anomaly scorer cannot use."""


def _features(x: np.ndarray, n_features: int | None = None) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] == 0 or (n_features is not None and x.shape[1] != n_features):
        want = f"[N, {n_features}]" if n_features is not None else "[N, features]"
        raise AnomalyScorerError(f"features should be {want}, not {list(x.shape)}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise AnomalyScorerError("features contain NaN or infinity; clean the data first")
    return x


def _sum_of_squares(d: np.ndarray) -> np.ndarray:
    """float32 sum over the last axis, feature by feature in order (the C loop's rounding)."""
    total = np.zeros(d.shape[:-1], dtype=F32)
    for f in range(d.shape[-1]):
        total = total + d[..., f] * d[..., f]
    return total


def threshold_for(normal_scores: np.ndarray, false_alarm_rate: float = 0.01) -> float:
    """The float32 score above which only ``false_alarm_rate`` (0..1) of ``normal_scores`` lie."""
    if not 0 <= false_alarm_rate < 1:
        raise AnomalyScorerError(f"false_alarm_rate must be in [0, 1), got {false_alarm_rate}")
    return float(F32(np.quantile(np.asarray(normal_scores, dtype=np.float64), 1 - false_alarm_rate)))


@dataclass
class GaussianScorer:
    """Diagonal Gaussian; learned: ``mean_`` and ``inv_std_`` (float32 [features])."""

    min_std: float = 1e-6  # floor of a feature's spread, in its own units, so a constant feature cannot divide by 0

    def fit(self, x_normal: np.ndarray) -> GaussianScorer:
        x = _features(x_normal).astype(np.float64)
        self.mean_ = x.mean(axis=0).astype(F32)
        self.inv_std_ = (1.0 / np.maximum(x.std(axis=0), self.min_std)).astype(F32)
        return self

    @property
    def n_features(self) -> int:
        return len(self.mean_)

    def score(self, x: np.ndarray) -> np.ndarray:
        """float32 [N]: mean squared z-score of each row."""
        d = (_features(x, self.n_features) - self.mean_) * self.inv_std_
        return _sum_of_squares(d) / F32(self.n_features)


@dataclass
class KMeansScorer:
    """k-means of normal data (scikit-learn, seeded); learned: ``centroids_`` (float32 [clusters, features])."""

    clusters: int = 8
    seed: int = 0

    def fit(self, x_normal: np.ndarray) -> KMeansScorer:
        from sklearn.cluster import KMeans

        x = _features(x_normal)
        if not 1 <= self.clusters <= len(x):
            raise AnomalyScorerError(f"clusters must be between 1 and the {len(x)} training samples, got {self.clusters}")
        kmeans = KMeans(n_clusters=self.clusters, n_init=4, random_state=self.seed).fit(x.astype(np.float64))
        self.centroids_ = kmeans.cluster_centers_.astype(F32)
        return self

    @property
    def n_features(self) -> int:
        return self.centroids_.shape[1]

    def score(self, x: np.ndarray) -> np.ndarray:
        """float32 [N]: mean squared distance of each row to its nearest centroid."""
        x = _features(x, self.n_features)
        nearest = np.full(len(x), np.inf, dtype=F32)
        for centroid in self.centroids_:
            # Strictly smaller replaces: the C keeps the first of equal distances, and so does minimum here.
            nearest = np.minimum(nearest, _sum_of_squares(x - centroid))
        return nearest / F32(self.n_features)


@dataclass
class ReconstructionScorer:
    """Mean squared reconstruction error of an int8 autoencoder, from its input and output codes."""

    input_quant: QuantParams
    output_quant: QuantParams
    n_features: int

    @classmethod
    def for_graph(cls, graph) -> ReconstructionScorer:
        """The scorer of an int8 autoencoder graph (input and output of the same size)."""
        x, y = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
        if x.quant is None or y.quant is None or x.size != y.size:
            raise AnomalyScorerError("a reconstruction scorer needs an int8 autoencoder whose output has its input's size")
        return cls(x.quant, y.quant, x.size)

    def score(self, codes: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
        """float32 [N] from int8 input codes and int8 reconstructions, each [N, n_features]."""
        codes = np.asarray(codes).reshape(len(codes), -1)
        reconstruction = np.asarray(reconstruction).reshape(len(reconstruction), -1)
        if codes.dtype != np.int8 or reconstruction.dtype != np.int8 or codes.shape != reconstruction.shape \
                or codes.shape[1] != self.n_features:
            raise AnomalyScorerError(f"input codes and reconstructions should both be int8 [N, {self.n_features}]")
        real_x = (codes.astype(np.int32) - self.input_quant.scalar_zero_point).astype(F32) * self.input_quant.scale[0]
        real_y = (reconstruction.astype(np.int32) - self.output_quant.scalar_zero_point).astype(F32) * self.output_quant.scale[0]
        return _sum_of_squares(real_y - real_x) / F32(self.n_features)


# -- C twin ---------------------------------------------------------------------
@dataclass(frozen=True)
class ScorerSource:
    """What :func:`generate_scorer_c` wrote."""

    header: Path  # anomaly.h
    source: Path  # anomaly.c
    prefix: str
    const_bytes: int  # bytes of its constant tables (flash)


def _table(name: str, values: np.ndarray) -> str:
    literals = [c_float(v) for v in np.asarray(values).ravel()]
    rows = "".join("    " + ", ".join(literals[i : i + 6]) + ",\n" for i in range(0, len(literals), 6))
    return f"static const float {name}[{len(literals)}] = {{\n{rows}}};\n"


def generate_scorer_c(scorer, out_dir: str | Path, prefix: str = "leafml_anomaly", threshold: float | None = None) -> ScorerSource:
    """Write ``anomaly.h`` and ``anomaly.c``: ``float <prefix>_score(...)`` and, with a ``threshold``,
    ``int <prefix>_is_anomaly(float score)``.

    Feature scorers take ``const float *features`` (read with memcpy: any
    alignment); the reconstruction scorer takes ``const int8_t *input,
    const int8_t *reconstruction``.
    """
    if not is_identifier(prefix):
        raise AnomalyScorerError(f"prefix {prefix!r} is not a C identifier")
    P, n = prefix.upper(), scorer.n_features
    loop = f"for (f = 0; f < {P}_N_FEATURES; ++f)"
    if isinstance(scorer, GaussianScorer):
        what, signature = "mean squared z-score (diagonal Gaussian)", f"float {prefix}_score(const float *features)"
        tables = _table("mean", scorer.mean_) + _table("inv_std", scorer.inv_std_)
        body = (f"    float total = 0.0f;\n    uint32_t f;\n    {loop} {{\n        float x;\n"
                "        float d;\n        memcpy(&x, (const unsigned char *)features + f * sizeof x, sizeof x);\n"
                "        d = (x - mean[f]) * inv_std[f];\n        total += d * d;\n    }\n")
        const_bytes = 8 * n
    elif isinstance(scorer, KMeansScorer):
        what, signature = "mean squared distance to the nearest k-means centroid", f"float {prefix}_score(const float *features)"
        tables = f"#define CLUSTERS {len(scorer.centroids_)}u\n\n" + _table("centroid", scorer.centroids_)
        body = (f"    float x[{P}_N_FEATURES];\n    float total = 0.0f;\n    uint32_t c;\n    uint32_t f;\n"
                "    memcpy(x, features, sizeof x);\n    for (c = 0; c < CLUSTERS; ++c) {\n        float distance = 0.0f;\n"
                f"        {loop} {{\n            float d = x[f] - centroid[c * {P}_N_FEATURES + f];\n"
                "            distance += d * d;\n        }\n"
                "        if (c == 0 || distance < total) {\n            total = distance;\n        }\n    }\n")
        const_bytes = 4 * scorer.centroids_.size
    elif isinstance(scorer, ReconstructionScorer):
        what = "mean squared reconstruction error of the int8 autoencoder, in real units"
        signature = f"float {prefix}_score(const int8_t *input, const int8_t *reconstruction)"
        iq, oq = scorer.input_quant, scorer.output_quant
        tables = ""
        body = (f"    float total = 0.0f;\n    uint32_t f;\n    {loop} {{\n"
                f"        float x = (float)((int32_t)input[f] - ({iq.scalar_zero_point})) * {c_float(iq.scale[0])};\n"
                f"        float y = (float)((int32_t)reconstruction[f] - ({oq.scalar_zero_point})) * {c_float(oq.scale[0])};\n"
                "        float d = y - x;\n        total += d * d;\n    }\n")
        const_bytes = 0
    else:
        raise AnomalyScorerError(f"{type(scorer).__name__} has no C twin; use GaussianScorer, KMeansScorer or ReconstructionScorer")
    alert = ""
    if threshold is not None:
        alert = (f"#define {P}_THRESHOLD {c_float(threshold)} /* scores above it are anomalies */\n\n"
                 f"/* 1 when `score` is above {P}_THRESHOLD, else 0. */\n"
                 f"static inline int {prefix}_is_anomaly(float score)\n{{\n    return score > {P}_THRESHOLD;\n}}\n\n")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    header, source = out / "anomaly.h", out / "anomaly.c"
    header.write_text(
        f"/* {BANNER}\n *\n * Anomaly score: {what}; higher is more anomalous. */\n"
        f"#ifndef {P}_H\n#define {P}_H\n\n#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n"
        f"#define {P}_N_FEATURES {n}\n\n{alert}/* The anomaly score of one sample (float32, one operation at a time). */\n"
        f"{signature};\n\n#ifdef __cplusplus\n}}\n#endif\n\n#endif /* {P}_H */\n"
    )
    source.write_text(
        f"/* {BANNER} */\n#include <string.h>\n\n#include \"anomaly.h\"\n\n{tables}\n{signature}\n{{\n"
        f"{body}    return total / {c_float(n)};\n}}\n"
    )
    return ScorerSource(header, source, prefix, const_bytes)


@dataclass
class ScorerLadderResult:
    """Mismatching samples per rung ("host_c", "qemu_cortex_m4") and the Cortex-M4 measurements."""

    mismatches: dict[str, int] = field(default_factory=dict)
    instructions: list[int] = field(default_factory=list)
    flash_bytes: int | None = None
    stack_bytes: int | None = None

    @property
    def all_passed(self) -> bool:
        return bool(self.mismatches) and not any(self.mismatches.values())


def run_scorer_ladder(scorer, source: ScorerSource, inputs, work_dir: str | Path,
                      rungs: tuple[str, ...] = ("host_c", "qemu_cortex_m4")) -> ScorerLadderResult:
    """Compare the C scores with the numpy reference on the host and on a Cortex-M4 in QEMU.

    ``inputs``: features [N, n_features] for a feature scorer; the pair
    (input codes, reconstructions) for a :class:`ReconstructionScorer`.
    """
    from leafml.firmware import run_cortex_m4, run_host

    if isinstance(scorer, ReconstructionScorer):
        codes, reconstruction = inputs
        expected = scorer.score(codes, reconstruction)
        packed = np.concatenate([np.asarray(codes).reshape(len(codes), -1), np.asarray(reconstruction).reshape(len(codes), -1)], axis=1)
        call = f"float score = {source.prefix}_score((const int8_t *)input, (const int8_t *)input + {source.prefix.upper()}_N_FEATURES);"
    else:
        features = _features(inputs, scorer.n_features)
        expected = scorer.score(features)
        packed = features.astype("<f4").view(np.int8)
        call = f"float score = {source.prefix}_score((const float *)input);"
    expected_bytes = expected.astype("<f4")[:, None].view(np.int8)
    work = Path(work_dir)
    shim = write_shim(work, packed.shape[1], 4, source.header.name, f"{call}\nmemcpy(output, &score, sizeof score);\nreturn 0;")
    # The shim's model.h first: the library's folder may hold a model's own model.h.
    sources, includes = [source.source, shim.source], [shim.include_dir, source.source.parent]
    result = ScorerLadderResult()
    if "host_c" in rungs:
        got = run_host(sources, includes, np.ascontiguousarray(packed), 4, work / "host")
        result.mismatches["host_c"] = mismatching_rows(got, expected_bytes)
    if "qemu_cortex_m4" in rungs:
        firmware = run_cortex_m4(sources, includes, np.ascontiguousarray(packed), 4, work / "cortex_m4")
        result.mismatches["qemu_cortex_m4"] = mismatching_rows(firmware.outputs, expected_bytes)
        result.instructions, result.stack_bytes = firmware.instructions, firmware.stack_bytes
        result.flash_bytes = object_sizes(source.source, source.source.parent, work / "size").flash
    return result
