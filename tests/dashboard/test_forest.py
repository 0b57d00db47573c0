"""The numpy forest behind importance: trees that fit what they can, out-of-bag scores that
tell signal from noise, ranks as scipy's, and no scikit-learn, scipy.stats or pandas import
(the first charts of a big sweep waited a second for them)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import rankdata

from hypersweep.viz import importance
from hypersweep.viz.forest import fit_forest


def test_a_tree_fits_a_step_and_splits_halfway() -> None:
    x = np.array([[0.0], [0.1], [0.2], [0.8], [0.9], [1.0]])
    y = np.array([1.0, 1.0, 1.0, 5.0, 5.0, 5.0])
    tree = fit_forest(x, y, trees=1, max_leaves=2, seed=0).trees[0]
    assert tree.feature[0] == 0 and tree.threshold[0] in (0.5, 0.45, 0.55, 0.15, 0.85)
    assert tree.predict(np.array([[0.05], [0.95]])).tolist() == [1.0, 5.0]


def test_leaves_are_bounded_and_values_are_means() -> None:
    rng = np.random.default_rng(4)
    x = rng.random((300, 3))
    y = np.sin(6 * x[:, 0]) + x[:, 1]
    for tree in fit_forest(x, y, trees=4, max_leaves=16, seed=1).trees:
        leaves = tree.feature < 0
        assert leaves.sum() <= 16 and (tree.left[leaves] == -1).all()
        assert tree.predict(x).min() >= y.min() and tree.predict(x).max() <= y.max()


def test_out_of_bag_r2_tells_signal_from_noise() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((400, 2))
    signal = fit_forest(x, 3 * x[:, 0] + x[:, 1], seed=0).oob_r2
    noise = fit_forest(x, rng.normal(size=400), seed=0).oob_r2
    assert signal is not None and signal > 0.9
    assert noise is not None and noise < 0.1


@pytest.mark.parametrize("seed", range(3))
def test_ranks_are_scipys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 12, 200).astype(float)
    x[rng.random(200) < 0.1] = np.inf  # (missing values enter as +inf)
    assert np.array_equal(importance._ranks(x), rankdata(x))


def test_importance_imports_no_scikit_learn() -> None:
    code = ("import sys, numpy as np; from hypersweep.viz.importance import param_importance; "
            "rng = np.random.default_rng(0); "
            "xs = [{'a': a, 'b': b} for a, b in rng.random((50, 2)).tolist()]; "
            "assert param_importance(xs, [p['a'] for p in xs]).shares; "
            "print(sorted(m for m in ('sklearn', 'pandas', 'scipy.stats') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
