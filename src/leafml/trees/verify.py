"""The trees' verification ladder: scikit-learn == numpy reference == host C == Cortex-M4 in QEMU.

Rungs (each compares with the numpy reference, :meth:`TreeEnsemble.scores`):

``sklearn``         the estimator's ``predict`` (on the dequantized features
                    for int8 trees): equal class labels
``host_c``          trees.c built with ``cc -std=c99 -Wall -Wextra -Werror``:
                    equal class index and equal float64 score bytes
``qemu_cortex_m4``  the same C for a Cortex-M4 in QEMU (mps2-an386): the same, plus
                    the exact instructions of every prediction

The C runs through leafml.firmware's harnesses (:mod:`leafml.train.device_shim`):
the shim writes the class index (int32) and then the scores (float64) of
each input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from leafml.train.device_shim import mismatching_rows, object_sizes, write_shim
from leafml.trees.cgen import TreeSource
from leafml.trees.ensemble import TreeEnsemble

__all__ = ["TREE_RUNGS", "TreeLadderResult", "run_tree_ladder"]

TREE_RUNGS = ("sklearn", "host_c", "qemu_cortex_m4")


@dataclass
class TreeLadderResult:
    """Verdicts by rung (mismatching samples per rung) and what the Cortex-M4 run measured.

    ``flash_bytes``/``ram_bytes``: trees.c's own object for Cortex-M4
    (text + data, data + bss; libgcc's float64 routines come on top at link);
    ``instructions``: per prediction, exact, including the shim's copy of
    the outputs; ``stack_bytes``: deepest stack use of one call.
    """

    mismatches: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    instructions: list[int] = field(default_factory=list)
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    stack_bytes: int | None = None

    @property
    def parity(self) -> dict[str, bool | None]:
        """One boolean per rung of :data:`TREE_RUNGS`; None for a rung that did not run."""
        return {name: (self.mismatches[name] == 0 if name in self.mismatches else None) for name in TREE_RUNGS}

    @property
    def all_passed(self) -> bool:
        return bool(self.mismatches) and not any(self.mismatches.values())


def _expected_bytes(ensemble: TreeEnsemble, x: np.ndarray) -> np.ndarray:
    scores = ensemble.scores(x)
    labels = ensemble.decide(scores).astype("<i4")
    return np.concatenate([labels[:, None].view(np.int8), scores.astype("<f8").view(np.int8)], axis=1)


def run_tree_ladder(
    ensemble: TreeEnsemble,
    source: TreeSource,
    x: np.ndarray,
    work_dir: str | Path,
    *,
    estimator=None,
    rungs: tuple[str, ...] = TREE_RUNGS,
) -> TreeLadderResult:
    """Run the features ``x`` [N, n_features] (float32, or int8 codes for int8 trees) down the rungs.

    ``source`` is :func:`generate_tree_c`'s output for ``ensemble``;
    ``estimator`` the scikit-learn model it came from (the ``sklearn`` rung
    is skipped without it).  Build products go under ``work_dir``.
    """
    from leafml.firmware import run_cortex_m4, run_host

    unknown = set(rungs) - set(TREE_RUNGS)
    if unknown:
        raise ValueError(f"unknown rung(s) {', '.join(sorted(unknown))}; the tree ladder has {', '.join(TREE_RUNGS)}")
    x = ensemble.check_features(x)
    work = Path(work_dir)
    expected = _expected_bytes(ensemble, x)
    packed = x.astype("<f4").view(np.int8) if not ensemble.is_int8 else x
    # Output bytes: the class index (int32), then the scores (float64).
    shim = write_shim(work, source.input_bytes, expected.shape[1], source.header.name, f"""
double scores[{source.prefix.upper()}_N_SCORES];
int32_t label = {source.prefix}_predict(({source.input_ctype} const *)input, scores);
memcpy(output, &label, sizeof label);
memcpy((char *)output + sizeof label, scores, sizeof scores);
return 0;""")
    # The shim's model.h first: the library's folder may hold a model's own model.h.
    include = [shim.include_dir, source.source.parent]
    c_sources = [source.source, shim.source]
    result = TreeLadderResult(samples=len(x))
    if "sklearn" in rungs and estimator is not None:
        features = ensemble.dequantize_features(x) if ensemble.is_int8 else x
        labels = _class_indices(ensemble, estimator.predict(features))
        result.mismatches["sklearn"] = int(np.count_nonzero(labels != ensemble.predict(x)))
    if "host_c" in rungs:
        got = run_host(c_sources, include, packed, expected.shape[1], work / "host")
        result.mismatches["host_c"] = mismatching_rows(got, expected)
    if "qemu_cortex_m4" in rungs:
        firmware = run_cortex_m4(c_sources, include, packed, expected.shape[1], work / "cortex_m4")
        result.mismatches["qemu_cortex_m4"] = mismatching_rows(firmware.outputs, expected)
        result.instructions = firmware.instructions
        result.stack_bytes = firmware.stack_bytes
        sizes = object_sizes(source.source, source.source.parent, work / "size")
        result.flash_bytes, result.ram_bytes = sizes.flash, sizes.ram
    return result


def _class_indices(ensemble: TreeEnsemble, labels: np.ndarray) -> np.ndarray:
    index = {name: i for i, name in enumerate(ensemble.classes)}
    return np.array([index[str(label)] for label in labels], dtype=np.int64)
