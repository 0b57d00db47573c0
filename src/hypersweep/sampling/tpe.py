"""TPE sampling: a Tree-structured Parzen Estimator (Bergstra et al. 2011).

Finished trials are split into a *good* group (``gamma(n)`` of them) and a *bad* one; a
Parzen estimator (:mod:`._parzen`) models each, ``l(x)`` and ``g(x)``, and the proposal is
the candidate drawn from ``l`` with the largest ``l(x) / g(x)`` — which maximises expected
improvement under TPE's model. As in Optuna 5's ``TPESampler``: ``gamma(n) = min(ceil(0.1 n),
25)``, a prior kernel of weight 1, older trials weighted down once there are more than 25,
neighbour-gap bandwidths with the "magic clip"; the estimators are joint (multivariate) with
one objective and per dimension (independent) with several.

Where we differ from Optuna, because it measured better against Optuna's own TPE in the same
runs (numbers in the constants' comments): with one objective, up to 100 candidates a
proposal rather than 24 (12 a dimension) unless a fifth or more of the dimensions are
categorical, and the good trials' weights falling with their rank
(:func:`._tpe_split.rank_weights`); with any number of objectives, the good density's
continuous bandwidths clipped below by the geometric mean of the finished and the good
trials' counts rather than by the good ones' alone (`good_clip_count`). A discrete numeric
dimension scores its values by cell mass, as Optuna's stepped distributions do
(:mod:`._parzen`).

Which trials are good (:mod:`._tpe_split`): with one objective the best scored; with
several (MOTPE; the number is ``len(values)`` of the finished trials) the first
non-dominated ranks, the last one cut by greedy hypervolume selection, and ``gamma(n) =
ceil(0.1 n)``; with constraints feasible trials come first, then the least violating.

Failed trials (score None, or an objective missing) and pending trials (running, or
proposed earlier in the same batch) join the bad group — a "constant liar" that keeps
concurrent proposals apart and keeps the sweep away from failures. Cost is
O(candidates × trials × dims), so thousands of trials stay fast.

Every random choice is seeded by ``(seed, number of trials so far)``: the same history gives
the same proposal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hypersweep.errors import ConfigError
from hypersweep.sampling._design import initial_point, rng_for
from hypersweep.sampling._layout import Layout, point_keys
from hypersweep.sampling._model_based import ModelBasedSampler
from hypersweep.sampling._parzen import ParzenEstimator
from hypersweep.sampling._tpe_split import default_gamma, recency_weights, split_trials
from hypersweep.sampling.base import FinishedTrial
from hypersweep.space import SearchSpace
from hypersweep.space.values import describe

__all__ = ["TPEParameterSampling", "default_gamma", "good_clip_count", "recency_weights"]


# With one objective, 12 candidates a dimension, at least Optuna's 24 and at most 100: more
# candidates find points of higher l/g, which pays as the dimension grows. On a BBOB subset
# (10 functions of every group, 5 seeds) the geometric mean of median regrets against Optuna's
# TPE at 50 / 100 trials was 1.10 / 0.75 with 24 candidates, 0.84 / 0.65 with 60 and
# 0.98 / 0.66 with 100 in 5-D, 0.87 / 0.85 (100) against 0.96 / 1.04 (24) over 5-D and 10-D
# before rank weights; on 2-D Branin (30 seeds) 24 did better than 100 at 60 trials.
_CANDIDATES_PER_DIM = 12
_CANDIDATES_JOINT = (24, 100)
# ... but where a fifth or more of the dimensions are categorical, Optuna's 24: more
# candidates there chase categorical combinations the bad trials happen to lack. On
# bench_mixed.py (f8, f15, f21; 18 seeds, paired, geometric mean of regret ratios at 50 / 100
# trials) 24 against 12 a dimension gave, half categorical ("cat"), 1.08 / 0.77 in 5-D and
# 0.78 / 0.58 in 10-D; three in ten ("mixed") 0.83 / 0.97 and 0.90 / 0.77; one in five
# 0.93 / 0.90 and 0.91 / 0.77. Counting only the numeric dimensions (12 each) did worse on
# "mixed" (1.13 / 1.31, 1.05 / 1.14). Without categorical dimensions 24 stays worse: BBOB
# (24 functions, 6 seeds) 1.19 / 1.10 in 5-D, 1.27 / 1.19 in 10-D; integer spaces 2.3 / 4.9
# in 5-D (fewer runs reach the optimum), 1.05 / 1.01 in 10-D.
_CATEGORICAL_SHARE = 0.2
# With several objectives the estimators are per dimension, as Optuna's defaults: on
# bench_multiobjective (5 seeds) the joint ones reached 0.43 (DTLZ2) and 0.30 (C2-DTLZ2) of
# Optuna's hypervolume at 100 trials, the per-dimension ones 0.68 and 1.02. Per dimension,
# scoring costs d times more, and Optuna's 24 candidates keep it fast.
_CANDIDATES_PER_DIMENSION = 24
_REDRAWS = 64


def good_clip_count(n_finished: int, n_good: int) -> int:
    """The count that sets the good density's magic clip: ``isqrt(n_finished * n_good)``,
    so with one objective its continuous bandwidths may fall to ``1 / 33`` at 100 trials
    (``1 / 12`` by the good trials alone) and to ``1 / 100`` by 400 (the good group stops at
    25, which held them at ``1 / 27`` or more for ever).

    Measured against counting the good trials alone, paired on the same seeds, geometric
    mean of the ratios of median regrets at 50 / 100 trials (dims 5 and 10): bench_bbob's
    multimodal functions (f7, f15-f24) 0.95 / 0.91 over 24 seeds (1.05 / 0.93 on seeds
    12-23, which played no part in the choice; f23 in 5-D at 50 trials fell behind random),
    its 13 other functions (6 seeds) 0.79 / 0.75; bench_mixed (12 seeds) 0.88 / 0.79
    (0.87 / 0.78 on seeds 6-11), ``fewcat`` 0.82 / 0.59 (5-D) and 0.74 / 0.65 (10-D),
    integer spaces unchanged. Chosen on seeds 0-11 (multimodal) and 0-5 (bench_mixed), where
    it gave 0.83 / 0.89 and 0.80 / 0.75: counting every finished trial did worse (multimodal
    1.03 / 1.11; bench_mixed integers in 10-D 2.1 / 2.7), as did
    ``n^0.75 m^0.25`` (0.91 / 0.95, 0.86 / 0.86) and ``n^0.25 m^0.75`` (0.98 / 0.96,
    0.90 / 0.88). Discrete dimensions keep the good trials' count: with this one, integer
    spaces gained in 5-D (0.84 / 0.20) but lost in 10-D (1.58 / 1.52).

    With several objectives (good group ``ceil(0.1 n)``, ``1 / 12`` at 100 trials by its
    count) the same rule raised every median hypervolume of bench_multiobjective's TPE
    (30 seeds, 50 / 100 trials): ZDT1 93.0 / 97.4 -> 94.1 / 99.3, ZDT2 75.8 / 79.1 ->
    77.5 / 81.0, DTLZ2 0.036 / 0.122 -> 0.058 / 0.154, C2-DTLZ2 0 / 0.070 -> 0 / 0.079.

    Examples
    --------
    >>> good_clip_count(100, 10), good_clip_count(1000, 25)
    (31, 158)
    """
    return math.isqrt(n_finished * n_good)


class TPEParameterSampling(ModelBasedSampler):
    """Multivariate TPE over any expressions and nested spaces.

    Parameters
    ----------
    parameter_space : dict or SearchSpace
        Parameter name to expression.
    seed : int, optional
        When None, a seed is drawn now and kept (:attr:`seed`, :meth:`to_dict`).
    n_initial : int, optional
        Finished trials needed before the model is used (until then: Sobol points);
        default 10.
    n_candidates : int, optional
        Candidates drawn from the good density per proposal; default with one objective
        12 a dimension (at least 24, at most 100) or 24 where a fifth or more of the
        dimensions are categorical, with several 24.

    Examples
    --------
    >>> from hypersweep.space import choice, uniform
    >>> from hypersweep.sampling import FinishedTrial
    >>> sampling = TPEParameterSampling({"x": uniform(-2.0, 2.0), "c": choice("a", "b")},
    ...                                 seed=0)
    >>> history = [FinishedTrial(p, -p["x"] ** 2) for p in sampling.preview(12)]
    >>> [config] = sampling.propose(1, history, [])
    >>> -2.0 <= config["x"] <= 2.0
    True

    Several objectives (oriented: larger is better) and constraints (<= 0: met):

    >>> history = [FinishedTrial(p, -p["x"], values=(-p["x"], p["x"]),
    ...                          violations=(abs(p["x"]) - 1.5,)) for p in sampling.preview(12)]
    >>> [config] = sampling.propose(1, history, [])
    >>> -2.0 <= config["x"] <= 2.0
    True
    """

    kind = "tpe"

    def __init__(self, parameter_space: Mapping[str, Any] | SearchSpace,
                 seed: int | None = None, *, n_initial: int | None = None,
                 n_candidates: int | None = None) -> None:
        super().__init__(parameter_space, seed, n_initial)
        if n_candidates is not None and (isinstance(n_candidates, bool)
                                         or not isinstance(n_candidates, int)
                                         or n_candidates < 1):
            raise ConfigError(f"n_candidates expects an int >= 1 (got {describe(n_candidates)})")
        self.n_candidates = n_candidates
        self._encoded: tuple[list[FinishedTrial], np.ndarray, np.ndarray] = (
            [], np.empty((0, self._layout.n_dims)), np.empty(0, dtype=np.int64))

    def _encode_finished(self, finished: Sequence[FinishedTrial]
                         ) -> tuple[np.ndarray, np.ndarray]:
        """`Layout.encode` of the finished trials' configurations, reusing the rows of the
        previous call's trials when ``finished`` starts with the very same trial objects
        (a sweep hands over its whole, growing history at every proposal)."""
        done, rows, index = self._encoded
        if any(a is not b for a, b in zip(done, finished[:len(done)], strict=False)):
            done, rows, index = [], rows[:0], index[:0]
        if len(finished) > len(done):
            new_rows, new_index = self._layout.encode([t.params for t in finished[len(done):]])
            rows = np.vstack([rows, new_rows])
            index = np.concatenate([index, new_index + len(done)])
            done = list(finished)
            self._encoded = (done, rows, index)
        keep = int(np.searchsorted(index, len(finished)))
        return rows[:keep], index[:keep]

    def _design_point(self, index: int, taken: set[bytes], several: bool) -> np.ndarray:
        """Point ``index`` of the initial design: Sobol, or uniformly random once the history
        shows several objectives — on bench_multiobjective (10 seeds, 100 trials) Sobol
        starts reached 0.71 (DTLZ2) and 0.987 (ZDT1) of Optuna's TPE hypervolume, random ones
        0.97 and 0.997. (With one objective random starts did worse on bench_samplers.)"""
        if several:
            rng = rng_for(self.seed, index, 5)
            for row in self._layout.snap(rng.random((_REDRAWS, self._layout.n_dims)))[0]:
                if point_keys(row[None, :])[0] not in taken:
                    return row[None, :]
        return initial_point(self._layout, self.seed, index, taken)

    def _propose(self, n: int, finished: Sequence[FinishedTrial],
                 pending: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        layout = self._layout
        x_done, index = self._encode_finished(finished)
        x_pend, _ = layout.encode(list(pending))
        n_initial = self.n_initial or 10
        start = len(finished) + len(pending)
        split = split_trials([finished[i] for i in index.tolist()])
        several = next((len(t.values) for t in reversed(finished) if t.values is not None),
                       1) > 1
        picks: list[np.ndarray] = []
        for j in range(n):
            seen = np.vstack([x_done, x_pend, *picks])
            # Unlike the GP's, TPE's design waits for n_initial trials to *finish*: it counts
            # pending trials as bad, which with few finished distorts the split (starting at
            # half, as the GP does, was no better with 4 in flight in bench_samplers).
            if split is None or len(x_done) < n_initial:
                picks.append(self._design_point(start + j, set(point_keys(seen)), several))
                continue
            rng = rng_for(self.seed, start + j, 3)
            x_bad = np.vstack([x_done[split.bad], x_pend, *picks])
            l_est = ParzenEstimator(x_done[split.good], split.weights, layout,
                                    clip_count=good_clip_count(len(x_done), len(split.good)))
            g_est = ParzenEstimator(x_bad, recency_weights(len(x_bad)), layout)
            taken = set(point_keys(seen))
            if split.n_objectives > 1:
                cand = l_est.sample(rng, self.n_candidates or _CANDIDATES_PER_DIMENSION,
                                    independent=True)
                # each dimension takes the value of its own best candidate
                score_d = l_est.log_pdf_dims(cand) - g_est.log_pdf_dims(cand)
                point = cand[np.argmax(score_d, axis=0), np.arange(layout.n_dims)]
                point = layout.snap(point[None, :])[0]
                if point_keys(point)[0] not in taken:
                    picks.append(point)
                    continue
            else:
                cand = l_est.sample(rng, self.n_candidates or _joint_candidates(layout))
            score = l_est.log_pdf(cand) - g_est.log_pdf(cand)
            score[[key in taken for key in point_keys(cand)]] = -np.inf
            best = int(np.argmax(score))
            if not np.isfinite(score[best]):  # every candidate already tried: fall back
                picks.append(initial_point(layout, self.seed, start + j, taken))
            else:
                picks.append(cand[best][None, :])
        return self.space.decode(np.vstack(picks))


def _joint_candidates(layout: Layout) -> int:
    """Candidates a proposal with one objective (see `_CANDIDATES_JOINT`)."""
    low, high = _CANDIDATES_JOINT
    if layout.categorical.mean() >= _CATEGORICAL_SHARE:
        return low
    return min(high, max(low, _CANDIDATES_PER_DIM * layout.n_dims))
