"""Seeded, stratified, group-aware assignment of samples to train/val/test.

The unit of assignment is a group (all samples of one speaker, subject or
session) or, for a sample without a group, the sample alone, so a group
never spans two splits. Units are visited in a seeded random order, larger
first, and each goes to the split that is furthest below its target for
the labels the unit holds; the targets are the fractions of every sample of
each label, so the splits come out stratified by label as nearly as the
group sizes allow. Samples that already have a split count towards the
targets and stay where they are; a new sample of a group that already has a
side joins that side.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Hashable

import numpy as np

__all__ = ["SplitItem", "assign_splits"]


@dataclass(frozen=True)
class SplitItem:
    """One sample as the splitter sees it; ``split`` is None when it is to be drawn."""

    id: int
    label: str
    unit: Hashable
    split: str | None


def assign_splits(items: list[SplitItem], fractions: dict[str, float], seed: int) -> dict[int, str]:
    """The split of every item whose ``split`` is None, by id.

    ``fractions`` maps each split name to its share of the samples (summing
    to 1); items that share ``unit`` always land on the same side.
    """
    names = list(fractions)
    label_totals = Counter(item.label for item in items)
    placed = {name: Counter() for name in names}
    unit_side: dict[Hashable, Counter] = defaultdict(Counter)
    members: dict[Hashable, list[SplitItem]] = defaultdict(list)
    for item in items:
        if item.split is None:
            members[item.unit].append(item)
        else:
            placed.setdefault(item.split, Counter())[item.label] += 1
            unit_side[item.unit][item.split] += 1

    # Sorted first so the seeded order depends on the data alone, not on how it was read.
    units = sorted(members, key=repr)
    order = np.random.default_rng(seed).permutation(len(units))
    units = sorted((units[i] for i in order), key=lambda unit: -len(members[unit]))

    assigned: dict[int, str] = {}
    for unit in units:
        labels = Counter(item.label for item in members[unit])
        if unit_side[unit]:
            # The group already has a side (given at import): keep it whole there.
            side = max(unit_side[unit].items(), key=lambda pair: (pair[1], -_rank(names, pair[0])))[0]
        else:
            side = max(names, key=lambda name: (_shortfall(name, labels, placed, fractions, label_totals),
                                                -names.index(name)))
        for item in members[unit]:
            assigned[item.id] = side
        placed.setdefault(side, Counter()).update(labels)
    return assigned


def _rank(names: list[str], name: str) -> int:
    return names.index(name) if name in names else len(names)


def _shortfall(name: str, labels: Counter, placed: dict[str, Counter], fractions: dict[str, float],
               label_totals: Counter) -> float:
    """How far split ``name`` is below its target for ``labels``, as fractions of each label's total
    (so a rare label weighs as much as a common one)."""
    return sum(count * (fractions[name] * label_totals[label] - placed[name][label]) / label_totals[label]
               for label, count in labels.items())
