"""Hyperparameter importance: fANOVA main effects over a random forest.

A random forest (scikit-learn, part of the ``dashboard`` extra) is fitted to the scored
trials; for each tree the variance of its prediction is split into the part each parameter
explains alone — the variance of the tree's marginal prediction along that parameter
(Hutter, Hoos and Leyton-Brown, *An Efficient Approach for Assessing Hyperparameter
Importance*, ICML 2014). Per-tree fractions are averaged over the forest and normalised to
sum to 1, as Optuna's ``FanovaImportanceEvaluator`` reports them.

The shares always sum to 1, even when the parameters explain little of the score (noisy
metrics, trials stopped early for reasons the parameters do not predict); the forest's
out-of-bag R² (`Importance.explained`) says how much, and `Importance.caveat` warns below
`WEAK_FIT`.

Why this and not a binned variance ratio: with 20 trials a binned η² has one or two trials a
bin, so a small-sample correction wipes out every parameter but the strongest (100/0/0); the
forest pools neighbouring trials and gives the weak parameters the small, non-zero shares
they have (≈0.93/0.05/0.02 on ``10a + 2b + c``).

The measure over which the variance is taken is the trials' own distribution, parameter by
parameter: numeric values enter as their ranks (so a log-uniform learning rate weighs its
decades the way it was sampled, not its last decade only), categories as equally likely
codes. Trees are blind to monotone transforms, so only this measure changes with the
encoding.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> xs = [{"a": a, "b": b, "c": c} for a, b, c in rng.random((40, 3)).tolist()]
>>> ys = [10 * p["a"] + 2 * p["b"] + p["c"] for p in xs]
>>> result = param_importance(xs, ys)
>>> next(iter(result.shares)), result.shares["a"] > 0.8, result.note
('a', True, None)
>>> param_importance(xs[:5], ys[:5]).note
'not enough trials: 5 scored, importance needs at least 10'
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hypersweep.viz.analysis import column_kinds, evenly_spaced

__all__ = ["MIN_TRIALS", "WEAK_FIT", "Importance", "importing", "param_importance"]

#: Fewest scored trials importance is computed for. On ``10a + 2b + c`` (truth
#: 0.95/0.04/0.01), eight samples of 8 trials give the dominant share anywhere in 0.56-0.98
#: (standard deviation 0.11), of 10 trials 0.80-0.96 (0.05), of 20 trials 0.96-0.99 (0.01):
#: from 10 on, the ranking and the rough shares are stable enough to act on.
MIN_TRIALS = 10
#: Most trials the forest is fitted on (evenly spread over the sweep): shares settle long
#: before, and the fit stays well under a second for a 100,000-trial sweep.
MAX_TRIALS = 2000
_TREES, _MAX_LEAVES, _SEED = 32, 64, 0
#: Out-of-bag R² below which `Importance.caveat` warns that the shares are uncertain.
WEAK_FIT = 0.1


@dataclass(frozen=True)
class Importance:
    """Shares of explained variance (largest first), or a note saying why there are none."""

    shares: dict[str, float] = field(default_factory=dict)
    note: str | None = None
    trials: int = 0
    #: The forest's out-of-bag R²: how much of the score's variation the parameters predict
    #: at all (noise, or what a policy stopped, is the rest). Below ~0.1 the shares mostly
    #: describe fitted noise and say little.
    explained: float | None = None

    @property
    def caveat(self) -> str | None:
        """A warning to show beside the shares when the parameters predict little."""
        if self.explained is None or self.explained >= WEAK_FIT:
            return None
        return (f"the parameters predict only {max(0.0, self.explained):.0%} of the score's "
                "variation: the shares are uncertain")


def _matrix(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], np.ndarray]:
    """Each parameter as a column on [0, 1]: numeric values by rank, categories by code."""
    from scipy.stats import rankdata

    names, columns = [], []
    for name, kind in column_kinds(rows).items():
        values = [row.get(name) for row in rows]
        if kind == "numeric":
            x = np.array([math.nan if v is None else float(v) for v in values])
            ranks = np.where(np.isnan(x), -1.0, rankdata(np.nan_to_num(x, nan=np.inf)))
        else:
            labels = sorted({repr(v) for v in values})
            ranks = np.array([labels.index(repr(v)) for v in values], dtype=float) + 1.0
        # missing values (a conditional parameter) form their own lowest group
        top = ranks.max()
        columns.append(np.where(ranks < 0, 0.0, ranks / top if top > 0 else 0.0))
        names.append(name)
    return names, np.column_stack(columns) if columns else np.empty((len(rows), 0))


def _leaves(tree: Any, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every leaf of a fitted sklearn tree as a box on [0, 1]^dims and its value."""
    t = tree.tree_
    lows, highs, values = [], [], []
    stack = [(0, np.zeros(dims), np.ones(dims))]
    while stack:
        node, low, high = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left == -1:
            lows.append(low)
            highs.append(high)
            values.append(float(t.value[node].ravel()[0]))
            continue
        feature, threshold = t.feature[node], t.threshold[node]
        left_high, right_low = high.copy(), low.copy()
        left_high[feature] = min(high[feature], max(low[feature], threshold))
        right_low[feature] = max(low[feature], min(high[feature], threshold))
        stack.append((left, low, left_high))
        stack.append((right, right_low, high))
    return np.array(lows), np.array(highs), np.array(values)


def _tree_fractions(tree: Any, dims: int) -> np.ndarray | None:
    """Fraction of one tree's prediction variance each dimension explains alone."""
    low, high, value = _leaves(tree, dims)
    width = high - low
    volume = width.prod(axis=1)
    mean = float((volume * value).sum())
    total = float((volume * (value - mean) ** 2).sum())
    if total <= 1e-300:
        return None
    out = np.zeros(dims)
    for d in range(dims):
        cuts = np.unique(np.concatenate([[0.0, 1.0], low[:, d], high[:, d]]))
        mids, seg = (cuts[:-1] + cuts[1:]) / 2, np.diff(cuts)
        # volume of each leaf outside dimension d (0/0 cannot happen: widths are > 0)
        others = volume / np.where(width[:, d] > 0, width[:, d], 1.0)
        inside = (low[:, d][None, :] <= mids[:, None]) & (mids[:, None] < high[:, d][None, :])
        marginal = inside.astype(float) @ (others * value)
        out[d] = float((seg * (marginal - mean) ** 2).sum()) / total
    return out


def importing() -> bool:
    """Whether `param_importance` would first import scikit-learn's forests: a second of CPU,
    which a server's first answers do not wait for (its fits then take 0.1 s at most).

    >>> isinstance(importing(), bool)
    True
    """
    return "sklearn.ensemble" not in sys.modules


def param_importance(
    params: Sequence[Mapping[str, Any]], scores: Sequence[float | None]
) -> Importance:
    """How much of the score's variance each parameter explains alone (fANOVA main effects).

    Parameters
    ----------
    params : sequence of mapping
        Each trial's flat configuration.
    scores : sequence of float or None
        Each trial's score, same order; trials without a finite score are left out.

    Returns
    -------
    Importance
        ``shares``: parameter name → share in [0, 1] summing to 1, largest first; or, with
        fewer than `MIN_TRIALS` scored trials or scores that do not vary, no shares and a
        ``note`` saying so.
    """
    keep = [i for i, s in enumerate(scores)
            if s is not None and isinstance(s, (int, float)) and math.isfinite(s)]
    n = len(keep)
    if n < MIN_TRIALS:
        return Importance(note=f"not enough trials: {n} scored, importance needs at least "
                               f"{MIN_TRIALS}", trials=n)
    keep = [keep[i] for i in evenly_spaced(n, MAX_TRIALS)]
    y = np.array([scores[i] for i in keep], dtype=float)
    names, x = _matrix([params[i] for i in keep])
    if not names:
        return Importance(note="no parameters to rank", trials=n)
    if float(np.ptp(y)) <= 1e-12 * max(1.0, float(np.abs(y).max())):
        return Importance(note="not enough variation: every trial has the same score",
                          trials=n)
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        return Importance(note="importance needs scikit-learn: "
                               "pip install scikit-learn", trials=n)
    with warnings.catch_warnings():  # (a trial in every bootstrap sample: no OOB for it)
        warnings.simplefilter("ignore", UserWarning)
        forest = RandomForestRegressor(n_estimators=_TREES, max_leaf_nodes=_MAX_LEAVES,
                                       random_state=_SEED, n_jobs=1, oob_score=True).fit(x, y)
    explained = float(forest.oob_score_) if math.isfinite(forest.oob_score_) else None
    fractions = [f for f in (_tree_fractions(t, len(names)) for t in forest.estimators_)
                 if f is not None]
    mean = np.mean(fractions, axis=0) if fractions else np.zeros(len(names))
    if float(mean.sum()) <= 0:
        return Importance(note="not enough variation: no parameter changes the score",
                          trials=n, explained=explained)
    shares = mean / mean.sum()
    ranked = sorted(zip(names, shares.tolist(), strict=True), key=lambda kv: -kv[1])
    return Importance(shares=dict(ranked), trials=n, explained=explained)
