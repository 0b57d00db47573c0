"""A small random forest of regression trees in numpy: what parameter importance fits.

Why not scikit-learn's: importing it (with the scipy.stats and pandas it pulls in) cost a
dashboard more CPU than reading a 100,000-trial sweep, for a forest of 32 trees of at most 64
leaves over a few thousand trials, which numpy fits in about the same time. The trees are
grown as scikit-learn's ``RandomForestRegressor(max_leaf_nodes=...)`` grows them: each on a
bootstrap sample, every feature considered at each split (``max_features=1.0``), the split
the one that most reduces the squared error, thresholds halfway between neighbouring values,
best first (the leaf whose split reduces the error most is split next) until ``max_leaves``.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.random((200, 2))
>>> forest = fit_forest(x, 3 * x[:, 0] + 0.1 * x[:, 1], trees=8, max_leaves=16, seed=0)
>>> len(forest.trees), forest.oob_r2 > 0.9
(8, True)
>>> forest.trees[0].predict(np.array([[0.0, 0.5], [1.0, 0.5]])).round(1).tolist()
[0.1, 3.0]
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

__all__ = ["Forest", "Tree", "fit_forest"]


@dataclass(frozen=True)
class Tree:
    """A fitted regression tree as arrays by node (node 0 the root): ``feature`` (-1 at a
    leaf), ``threshold`` (left: value <= threshold), ``left``/``right`` (-1 at a leaf) and
    ``value`` (the mean score of the node's training samples)."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The tree's prediction for each row of ``x``."""
        node = np.zeros(len(x), dtype=int)
        while True:
            feature = self.feature[node]
            inner = np.nonzero(feature >= 0)[0]
            if not len(inner):
                return self.value[node]
            at = node[inner]
            go_left = x[inner, feature[inner]] <= self.threshold[at]
            node[inner] = np.where(go_left, self.left[at], self.right[at])


@dataclass(frozen=True)
class Forest:
    """The fitted trees and their out-of-bag R² (None: no sample was ever left out)."""

    trees: list[Tree]
    oob_r2: float | None


def _split(x: np.ndarray, y: np.ndarray, rows: np.ndarray,
           features: np.ndarray) -> tuple[float, int, float, np.ndarray, np.ndarray] | None:
    """The best split of ``rows``: (error reduction, feature, threshold, left, right rows).
    Every feature at once (one sort of the node's block); ties go to the first of
    ``features`` (a random order, as scikit-learn draws it)."""
    n = len(rows)
    if n < 2:
        return None
    values = x[rows][:, features]
    order = values.argsort(axis=0, kind="stable")
    ordered = values[order, np.arange(len(features))]
    sums = y[rows][order].cumsum(axis=0)
    counts = np.arange(1, n)[:, None]
    left = sums[:-1]
    # squared error removed by cutting each column after k rows (k = 1 .. n-1)
    gain = left ** 2 / counts + (sums[-1] - left) ** 2 / (n - counts) - sums[-1] ** 2 / n
    gain[ordered[1:] <= ordered[:-1]] = -np.inf  # only between distinct values
    k, column = np.unravel_index(int(np.argmax(gain.T.ravel())), gain.T.shape)[::-1]
    if not np.isfinite(gain[k, column]):
        return None
    below, above = ordered[k, column], ordered[k + 1, column]
    threshold = (below + above) / 2
    if threshold == above:  # neighbours one float apart
        threshold = below
    side = order[:, column]
    return (float(gain[k, column]), int(features[column]), float(threshold),
            rows[side[:k + 1]], rows[side[k + 1:]])


def _grow(x: np.ndarray, y: np.ndarray, rows: np.ndarray, max_leaves: int,
          rng: np.random.Generator) -> Tree:
    feature, threshold, left, right, value = [-1], [0.0], [-1], [-1], [float(y[rows].mean())]
    dims = x.shape[1]
    heap: list[tuple[float, int, int, tuple[float, int, float, np.ndarray, np.ndarray]]] = []
    tie = 0  # (heap order among equal gains: first come, first split)
    tiny = 1e-12 * max(1.0, float(np.abs(y).max())) ** 2  # (rounding, not a reduction)

    def consider(node: int, node_rows: np.ndarray) -> None:
        nonlocal tie
        found = _split(x, y, node_rows, rng.permutation(dims))
        if found is not None and found[0] > tiny:
            heapq.heappush(heap, (-found[0], tie, node, found))
            tie += 1

    consider(0, rows)
    leaves = 1
    while heap and leaves < max_leaves:
        _, _, node, (_, f, t, left_rows, right_rows) = heapq.heappop(heap)
        feature[node], threshold[node] = f, t
        for side, child_rows in ((left, left_rows), (right, right_rows)):
            side[node] = len(value)
            feature.append(-1)
            threshold.append(0.0)
            left.append(-1)
            right.append(-1)
            value.append(float(y[child_rows].mean()))
            consider(side[node], child_rows)
        leaves += 1
    return Tree(np.array(feature), np.array(threshold), np.array(left), np.array(right),
                np.array(value))


def fit_forest(x: np.ndarray, y: np.ndarray, trees: int = 32, max_leaves: int = 64,
               seed: int = 0) -> Forest:
    """Fit ``trees`` regression trees of at most ``max_leaves`` leaves, each on a bootstrap
    sample of the rows of ``x``, and score the forest on the rows each tree left out."""
    rng = np.random.default_rng(seed)
    n = len(y)
    fitted = []
    oob_sum, oob_count = np.zeros(n), np.zeros(n)
    for _ in range(trees):
        rows = rng.integers(0, n, n)
        tree = _grow(x, y, rows, max_leaves, rng)
        fitted.append(tree)
        out = np.ones(n, dtype=bool)
        out[rows] = False
        if out.any():
            oob_sum[out] += tree.predict(x[out])
            oob_count[out] += 1
    seen = oob_count > 0
    r2 = None
    if seen.sum() >= 2:
        truth = y[seen]
        total = float(((truth - truth.mean()) ** 2).sum())
        if total > 0:
            r2 = 1.0 - float(((truth - oob_sum[seen] / oob_count[seen]) ** 2).sum()) / total
    return Forest(fitted, r2)
