"""Classical models from scikit-learn (decision tree, random forest, gradient boosting) as C, verified.

    ensemble = from_sklearn(fitted_classifier)            # flat arrays + numpy reference
    source = generate_tree_c(ensemble, "out/c")            # trees.h, trees.c: leafml_trees_predict
    ladder = run_tree_ladder(ensemble, source, x_test, "out/ladder", estimator=fitted_classifier)

``ensemble.with_int8_features(x_train)`` gives the same trees on int8
feature codes, with integer thresholds.
"""

from leafml.trees.cgen import TreeSource, generate_tree_c
from leafml.trees.ensemble import KINDS, TreeEnsemble, TreeModelError, from_sklearn
from leafml.trees.verify import TREE_RUNGS, TreeLadderResult, run_tree_ladder

__all__ = [
    "KINDS", "TREE_RUNGS", "TreeEnsemble", "TreeLadderResult", "TreeModelError", "TreeSource", "from_sklearn",
    "generate_tree_c", "run_tree_ladder",
]
