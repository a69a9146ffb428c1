"""Decision trees, random forests and gradient-boosted trees as flat arrays, with a numpy reference.

:func:`from_sklearn` copies a fitted scikit-learn classifier into a
:class:`TreeEnsemble`: every tree's nodes in one set of flat arrays, the
leaves as rows of a table of float64 values.  Prediction is the same for
every kind of model::

    scores = init
    for each tree t:      walk from root[t]: x[feature] <= threshold ? left : right, until a leaf
                          scores[output[t] : output[t] + width] += leaf_values[leaf row]
    scores /= divisor     (a forest: the mean of its trees' class probabilities)
    class = scores[0] >= 0 if decision == "sign" else first argmax(scores)

which is exactly what scikit-learn computes, in the same order and in the
same float64 arithmetic, so the predictions are equal sample for sample:

* a decision tree predicts the first largest class fraction of its leaf; a
  leaf's row here is that class one-hot, so the tree costs one row per class;
* a forest sums its trees' class fractions from zero in tree order, then
  divides by the number of trees (``predict_proba``), then takes the argmax;
* gradient boosting starts from the init estimator's raw score and adds
  ``learning_rate * value`` of one tree per class and stage
  (``predict_stages``); the product is formed here, once, as scikit-learn
  forms it.  Two classes: class 1 when the raw score is >= 0.

Thresholds: scikit-learn compares float32 features with float64
thresholds; the largest float32 not above each threshold splits every
float32 input the same way, so the arrays hold float32.  With int8
features (:meth:`TreeEnsemble.with_int8_features`) each threshold becomes
the largest int8 code whose dequantized value is not above it, so the
integer tree on codes predicts what scikit-learn predicts on the dequantized
features.  NaN features are outside the contract (scikit-learn routes them
by its own missing-value rules); the reference refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from leafml.errors import LeafmlError

__all__ = ["KINDS", "TreeEnsemble", "TreeModelError", "from_sklearn"]

# What each supported scikit-learn class becomes.
KINDS = {
    "DecisionTreeClassifier": "decision_tree",
    "ExtraTreeClassifier": "decision_tree",
    "RandomForestClassifier": "random_forest",
    "ExtraTreesClassifier": "random_forest",
    "GradientBoostingClassifier": "gradient_boosting",
}
LEAF = -1  # feature index of a leaf


class TreeModelError(LeafmlError, ValueError):
    """A model or input the tree code generator cannot take."""


@dataclass(frozen=True)
class TreeEnsemble:
    """Trees as flat arrays (see the module docstring for how they predict).

    ``feature[n]`` is the feature a node tests (``-1`` at a leaf);
    ``threshold[n]`` the bound (float32, or int16 on int8 codes when
    ``input_scale`` is set); ``left[n]``/``right[n]`` the next node; at a
    leaf ``left[n]`` is its row of ``leaf_values`` [rows, width].
    ``root[t]`` and ``output[t]`` are tree t's first node and first score.
    ``input_scale``/``input_zero_point`` (per feature) quantize features to
    int8 codes: ``q = clip(round(x / scale) + zero_point, -128, 127)``.
    """

    kind: str
    classes: tuple[str, ...]
    n_features: int
    root: np.ndarray
    output: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf_values: np.ndarray
    init: np.ndarray
    divisor: float | None
    decision: str  # "argmax" or "sign"
    input_scale: np.ndarray | None = None
    input_zero_point: np.ndarray | None = None

    # -- shape ----------------------------------------------------------------
    @property
    def n_trees(self) -> int:
        return len(self.root)

    @property
    def n_nodes(self) -> int:
        return len(self.feature)

    @property
    def n_scores(self) -> int:
        return len(self.init)

    @property
    def width(self) -> int:
        """Scores each leaf adds to."""
        return self.leaf_values.shape[1]

    @property
    def is_int8(self) -> bool:
        return self.input_scale is not None

    def depth(self) -> int:
        """The deepest path, in tests from root to leaf."""
        deepest = 0
        for root in self.root:
            stack = [(int(root), 0)]
            while stack:
                node, d = stack.pop()
                if self.feature[node] == LEAF:
                    deepest = max(deepest, d)
                else:
                    stack += [(int(self.left[node]), d + 1), (int(self.right[node]), d + 1)]
        return deepest

    # -- prediction -----------------------------------------------------------
    def check_features(self, x: np.ndarray) -> np.ndarray:
        """``x`` as a C-contiguous [N, n_features] array of the type the trees compare (float32 or int8)."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.n_features or x.shape[0] == 0:
            raise TreeModelError(f"features should be [N, {self.n_features}], not {list(x.shape)}")
        if self.is_int8:
            if x.dtype != np.int8:
                raise TreeModelError(f"these trees compare int8 feature codes, not {x.dtype}; quantize the features "
                                     "with quantize_features first")
            return np.ascontiguousarray(x)
        if not np.issubdtype(x.dtype, np.floating) and not np.issubdtype(x.dtype, np.integer):
            raise TreeModelError(f"features should be numbers, not {x.dtype}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if not np.all(np.isfinite(x)):
            raise TreeModelError("features contain NaN or infinity (or values beyond float32); clean or clip them first")
        return x

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """int64 [N, n_trees]: the leaf node each sample reaches in each tree."""
        x = self.check_features(x)
        rows = np.arange(len(x))
        reached = np.empty((len(x), self.n_trees), dtype=np.int64)
        for t, root in enumerate(self.root):
            node = np.full(len(x), root, dtype=np.int64)
            inner = self.feature[node] != LEAF
            while inner.any():
                n = node[inner]
                goes_left = x[rows[inner], self.feature[n]] <= self.threshold[n]
                node[inner] = np.where(goes_left, self.left[n], self.right[n])
                inner = self.feature[node] != LEAF
            reached[:, t] = node
        return reached

    def scores(self, x: np.ndarray) -> np.ndarray:
        """float64 [N, n_scores]: class probabilities (forest), one-hot (tree) or raw margins (boosting)."""
        reached = self.leaves(x)
        scores = np.tile(self.init, (len(reached), 1))
        for t in range(self.n_trees):
            first = int(self.output[t])
            scores[:, first : first + self.width] += self.leaf_values[self.left[reached[:, t]]]
        if self.divisor is not None:
            scores /= self.divisor
        return scores

    def decide(self, scores: np.ndarray) -> np.ndarray:
        """int64 class indices from :meth:`scores`."""
        if self.decision == "sign":
            return (scores[:, 0] >= 0).astype(np.int64)
        return np.argmax(scores, axis=1).astype(np.int64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """int64 [N] class indices into ``classes``."""
        return self.decide(self.scores(x))

    # -- int8 features ----------------------------------------------------------
    def with_int8_features(self, x_train: np.ndarray) -> TreeEnsemble:
        """The same trees on int8 feature codes, each feature's range taken from ``x_train`` [N, n_features].

        Per feature, the asymmetric int8 parameters of leafml's activation
        quantization (range widened to contain 0); each float threshold ``t``
        becomes the largest code ``q`` with ``dequantize(q) <= t`` (-129 when
        none: that test always goes right).
        """
        from leafml.quant.ptq import activation_quant

        if self.is_int8:
            raise TreeModelError("these trees already take int8 features")
        x = self.check_features(x_train)
        params = [activation_quant(lo, hi) for lo, hi in zip(x.min(axis=0), x.max(axis=0))]
        scale = np.array([p.scalar_scale for p in params], dtype=np.float32)
        zero_point = np.array([p.scalar_zero_point for p in params], dtype=np.int64)
        codes = np.arange(-128, 128, dtype=np.int64)
        threshold = np.zeros(self.n_nodes, dtype=np.int16)
        for n in np.flatnonzero(self.feature != LEAF):
            f = self.feature[n]
            real = _dequantize(codes, scale[f], zero_point[f])
            below = np.flatnonzero(real <= self.threshold[n])
            threshold[n] = codes[below[-1]] if below.size else -129
        return replace(self, threshold=threshold, input_scale=scale, input_zero_point=zero_point)

    def quantize_features(self, x: np.ndarray) -> np.ndarray:
        """Real features [N, n_features] to the int8 codes the int8 trees take (round half to even, saturate)."""
        if not self.is_int8:
            raise TreeModelError("these trees take float features; call with_int8_features first")
        x = np.asarray(x, dtype=np.float64)
        q = np.round(x / self.input_scale.astype(np.float64)) + self.input_zero_point
        return np.clip(q, -128, 127).astype(np.int8)

    def dequantize_features(self, q: np.ndarray) -> np.ndarray:
        """int8 codes back to float32 features: what the int8 trees' decisions equal scikit-learn's on."""
        if not self.is_int8:
            raise TreeModelError("these trees take float features; they have no int8 codes")
        return _dequantize(np.asarray(q, dtype=np.int64), self.input_scale, self.input_zero_point)

    # -- storage ----------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready; :meth:`from_dict` restores it exactly (floats as their hex form)."""
        def floats(a):
            return [float(v).hex() for v in np.asarray(a, dtype=np.float64).ravel()]

        data = {
            "kind": self.kind, "classes": list(self.classes), "n_features": self.n_features,
            "root": self.root.tolist(), "output": self.output.tolist(), "feature": self.feature.tolist(),
            "threshold": floats(self.threshold) if not self.is_int8 else self.threshold.tolist(),
            "left": self.left.tolist(), "right": self.right.tolist(),
            "leaf_values": floats(self.leaf_values), "width": self.width, "init": floats(self.init),
            "divisor": self.divisor, "decision": self.decision,
        }
        if self.is_int8:
            data["input_scale"] = floats(self.input_scale)
            data["input_zero_point"] = self.input_zero_point.tolist()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TreeEnsemble:
        def floats(key, dtype=np.float64):
            return np.array([float.fromhex(v) for v in data[key]], dtype=dtype)

        int8 = "input_scale" in data
        try:
            return cls(
                kind=data["kind"], classes=tuple(data["classes"]), n_features=int(data["n_features"]),
                root=np.array(data["root"], np.int64), output=np.array(data["output"], np.int64),
                feature=np.array(data["feature"], np.int64),
                threshold=np.array(data["threshold"], np.int16) if int8 else floats("threshold", np.float32),
                left=np.array(data["left"], np.int64), right=np.array(data["right"], np.int64),
                leaf_values=floats("leaf_values").reshape(-1, int(data["width"])), init=floats("init"),
                divisor=data["divisor"], decision=data["decision"],
                input_scale=floats("input_scale", np.float32) if int8 else None,
                input_zero_point=np.array(data["input_zero_point"], np.int64) if int8 else None,
            )
        except (KeyError, TypeError, ValueError) as e:
            raise TreeModelError(f"the saved trees are damaged ({e}); train the model again") from None


def _dequantize(q: np.ndarray, scale, zero_point) -> np.ndarray:
    # leafml.quant.ptq.dequantize_array's arithmetic, with per-feature parameters.
    return ((q.astype(np.float64) - zero_point) * np.asarray(scale, dtype=np.float64)).astype(np.float32)


def _float32_at_most(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 <= each float64 threshold: it splits float32 inputs exactly as the threshold does."""
    t32 = threshold.astype(np.float32)
    above = t32.astype(np.float64) > threshold
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


class _Builder:
    """Concatenates trees into flat arrays, sharing identical leaf rows."""

    def __init__(self) -> None:
        self.feature: list[np.ndarray] = []
        self.threshold: list[np.ndarray] = []
        self.left: list[np.ndarray] = []
        self.right: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.root: list[int] = []
        self.output: list[int] = []
        self.nodes = 0

    def add(self, tree, leaf_rows: np.ndarray, output: int) -> None:
        """``tree`` is a fitted sklearn ``Tree``; ``leaf_rows[n]`` the values node n adds when it is a leaf."""
        leaf = tree.children_left == -1
        self.root.append(self.nodes)
        self.output.append(output)
        feature = np.where(leaf, LEAF, tree.feature).astype(np.int64)
        left = np.where(leaf, 0, tree.children_left + self.nodes).astype(np.int64)
        left[leaf] = len(self.rows) + np.arange(int(leaf.sum()))  # rows numbered before sharing
        self.rows += list(leaf_rows[leaf])
        self.feature.append(feature)
        self.threshold.append(np.where(leaf, 0.0, _float32_at_most(tree.threshold)).astype(np.float32))
        self.left.append(left)
        self.right.append(np.where(leaf, 0, tree.children_right + self.nodes).astype(np.int64))
        self.nodes += tree.node_count

    def build(self, **fields) -> TreeEnsemble:
        feature = np.concatenate(self.feature)
        left = np.concatenate(self.left)
        unique, row_of = np.unique(np.array(self.rows), axis=0, return_inverse=True)
        leaves = feature == LEAF
        left[leaves] = row_of.ravel()[left[leaves]]
        return TreeEnsemble(root=np.array(self.root, np.int64), output=np.array(self.output, np.int64),
                            feature=feature, threshold=np.concatenate(self.threshold), left=left,
                            right=np.concatenate(self.right), leaf_values=unique, **fields)


def from_sklearn(estimator) -> TreeEnsemble:
    """A fitted scikit-learn tree classifier as a :class:`TreeEnsemble` that predicts exactly as it does.

    Takes DecisionTreeClassifier, ExtraTreeClassifier, RandomForestClassifier,
    ExtraTreesClassifier and GradientBoostingClassifier (single output; the
    boosting's init estimator the default prior or ``"zero"``).
    """
    name = type(estimator).__name__
    kind = KINDS.get(name)
    if kind is None:
        raise TreeModelError(f"{name} is not supported; leafml generates C for {', '.join(KINDS)}")
    if not hasattr(estimator, "classes_"):
        raise TreeModelError(f"the {name} is not fitted; call fit first")
    if getattr(estimator, "n_outputs_", 1) != 1:
        raise TreeModelError(f"the {name} predicts {estimator.n_outputs_} outputs; leafml supports one")
    classes = tuple(str(c) for c in estimator.classes_)
    n_classes = len(classes)
    fields = dict(kind=kind, classes=classes, n_features=int(estimator.n_features_in_))
    builder = _Builder()
    if kind == "decision_tree":
        values = estimator.tree_.value[:, 0, :n_classes]
        builder.add(estimator.tree_, np.eye(n_classes)[np.argmax(values, axis=1)], 0)
        return builder.build(init=np.zeros(n_classes), divisor=None, decision="argmax", **fields)
    if kind == "random_forest":
        for tree in estimator.estimators_:
            builder.add(tree.tree_, tree.tree_.value[:, 0, :n_classes], 0)
        return builder.build(init=np.zeros(n_classes), divisor=float(len(estimator.estimators_)),
                             decision="argmax", **fields)
    return _gradient_boosting(estimator, builder, fields)


def _gradient_boosting(estimator, builder: _Builder, fields: dict) -> TreeEnsemble:
    from sklearn.dummy import DummyClassifier

    if not (estimator.init_ == "zero" or isinstance(estimator.init_, DummyClassifier)):
        raise TreeModelError("gradient boosting with a custom init estimator is not supported; use init=None or 'zero'")
    # The init estimator's raw score does not depend on the features: evaluate it once.
    init = estimator._raw_predict_init(np.zeros((1, fields["n_features"]), np.float32))[0].astype(np.float64)
    scale = np.float64(estimator.learning_rate)
    for stage in estimator.estimators_:
        for k, tree in enumerate(stage):
            builder.add(tree.tree_, scale * tree.tree_.value[:, 0, :1], k)
    return builder.build(init=init, divisor=None, decision="sign" if len(init) == 1 else "argmax", **fields)
