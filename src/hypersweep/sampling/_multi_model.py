"""The Bayesian sampler's models for several objectives or constraints.

The machinery of the one-objective case (:mod:`._warp`, :mod:`._gp`, :mod:`._acquisition`)
with the acquisition of :mod:`._multi`:

- objectives: each has its bad tail clipped (a diverged run) and is scaled to [0, 1]; each
  proposal scalarises them with random weights (ParEGO) and one GP of the warped
  scalarised values gives log EI over the best *feasible* trial. The GP's hyperparameters
  are fitted once per ``propose`` call; later members of a batch only recondition it;
- a failed trial (``values`` None) is kept out of the objective model — how good a run
  that crashed would have been is unknown — and, when the sweep has constraints, its
  missing metrics count as violated (``inf``), so the constraint models learn to avoid it;
- one GP per constraint, on every trial, of warped negated violations with the threshold
  carried through the warp (:func:`._warp.warp_violations`), fitted once per call;
- pending trials join every model at its predicted mean (kriging believer, as with one
  objective); one believed feasible may become the incumbent;
- with no feasible trial yet only the probability of feasibility is maximised.

Beyond ``max_train`` trials the models train on the best half of that many (by
non-dominated rank among the feasible, then by violation) plus a seeded random rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hypersweep.pareto import nondominated_ranks
from hypersweep.sampling._acquisition import N_INCUMBENTS, LogEI, maximize_log_ei
from hypersweep.sampling._gp import GaussianProcess, training_subset
from hypersweep.sampling._layout import Layout
from hypersweep.sampling._multi import LogEIFeasible, chebyshev, normalised
from hypersweep.sampling._warp import clip_bad_tail, warp_scores, warp_violations
from hypersweep.sampling.base import FinishedTrial


def needs_multi(trials: Sequence[FinishedTrial]) -> bool:
    """Whether the history has several objectives or constraints (else: the score model).

    Examples
    --------
    >>> needs_multi([FinishedTrial({}, 1.0, values=(1.0,))])
    False
    >>> needs_multi([FinishedTrial({}, 1.0, values=(1.0,), violations=(0.0,))])
    True
    """
    return any(t.violations is not None or (t.values is not None and len(t.values) > 1)
               for t in trials)


def history_arrays(trials: Sequence[FinishedTrial]) -> tuple[np.ndarray, np.ndarray]:
    """Objective values (NaN rows: failed) and violations (``inf``: unknown) as arrays.

    The number of objectives and constraints is the most common among the trials; a trial
    giving another number counts as failed, or as violating every constraint.

    Examples
    --------
    >>> y, v = history_arrays([FinishedTrial({}, 1.0, (1.0, 2.0), (0.5,)),
    ...                        FinishedTrial({}, None, None, (float("nan"),))])
    >>> y.tolist(), v.tolist()
    ([[1.0, 2.0], [nan, nan]], [[0.5], [inf]])
    """
    m = _most_common([len(t.values) for t in trials if t.values is not None])
    c = _most_common([len(t.violations) for t in trials if t.violations is not None])
    y = np.full((len(trials), m), np.nan)
    v = np.full((len(trials), c), np.inf)
    for i, t in enumerate(trials):
        if t.values is not None and len(t.values) == m:
            row = np.array(t.values, dtype=float)
            if np.isfinite(row).all():
                y[i] = row
        if t.violations is not None and len(t.violations) == c:
            v[i] = np.array(t.violations, dtype=float)
    v[np.isnan(v)] = np.inf
    return y, v


def _most_common(counts: list[int]) -> int:
    if not counts:
        return 0
    values, freq = np.unique(counts, return_counts=True)
    return int(values[np.argmax(freq)])


class MultiModel:
    """The constraint GPs, fitted once per call, and the scalarised objective's GP.

    ``ready`` is False when the history says nothing usable yet (then the caller proposes
    a design point).
    """

    def __init__(self, layout: Layout, x: np.ndarray, y: np.ndarray, v: np.ndarray,
                 max_train: int, rng: np.random.Generator) -> None:
        self.layout = layout
        self.rng = rng
        has_y: np.ndarray = (np.isfinite(y).all(axis=1) if y.shape[1]
                             else np.zeros(len(y), dtype=bool))
        feasible: np.ndarray = np.asarray((v <= 0.0).all(axis=1))
        keep = training_subset(_order_score(y, v, has_y, feasible), max_train, rng)
        x, y, v, has_y, feasible = x[keep], y[keep], v[keep], has_y[keep], feasible[keep]
        self.n_train = len(x)
        self.n_starts = 3 if len(x) <= 40 else 2 if len(x) <= 100 else 1
        self.constraints: list[tuple[GaussianProcess, float]] = []
        for j in range(v.shape[1]):
            warped = warp_violations(v[:, j])
            if warped is not None:
                # A smaller fitting subset than the objective's: whether a region is
                # feasible needs less detail, and each constraint adds a fit to the call.
                self.constraints.append((self._fit(x, warped[0], 60), warped[1]))
        good = has_y & feasible
        self.objective = bool(good.any() and has_y.sum() >= 2)
        if self.objective:
            # Raw values keep the front's shape (warping each objective bent it: DTLZ2's
            # hypervolume fell from 0.36 to 0.20); only a diverged run's outlier is clipped,
            # so that it does not squash the others into a corner of [0, 1].
            self.x_obj = x[has_y]
            self.u = normalised(np.column_stack([clip_bad_tail(y[has_y, k])
                                                 for k in range(y.shape[1])]))
            self.good = good[has_y]
            self.centres = np.empty((0, x.shape[1]))  # per proposal: the best for its weights
        else:
            # Feasibility alone: the least violated trials are the local search's centres.
            total = np.where(np.isfinite(v), np.maximum(v, 0.0), 1e300).sum(axis=1)
            self.centres = x[np.argsort(total, kind="stable")[:N_INCUMBENTS]]
        self.ready = bool(self.objective or self.constraints)
        self._template: GaussianProcess | None = None

    def _fit(self, x: np.ndarray, z: np.ndarray, fit_size: int = 100) -> GaussianProcess:
        return GaussianProcess(self.layout.categorical).fit(
            x, z, self.rng, n_starts=self.n_starts, fit_size=fit_size)

    def suggest(self, pending: np.ndarray, seen: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
        constraints = self.constraints
        if len(pending):
            # Kriging believer, as for one objective: pending points join every model at its
            # predicted mean.
            constraints = [(_believe(gp, pending), t) for gp, t in constraints]
        ei = None
        incumbents = self.centres
        if self.objective:
            m = self.u.shape[1]
            s = self.u[:, 0] if m == 1 else chebyshev(self.u, rng.dirichlet(np.ones(m)))
            # One objective (with constraints): a quantized metric is left unwarped as without
            # them. Several: clipped objectives can tie whole rows, so no such test.
            z = _warped(s, self.x_obj if m == 1 else None)
            if self._template is None:
                # Hyperparameters once per call; later batch members (other weights) reuse
                # them, conditioned on their own scalarisation.
                self._template = self._fit(self.x_obj, z)
                gp = self._template
            else:
                gp = self._template.conditioned(self.x_obj, z)
            best = float(z[self.good].max())
            order = np.flatnonzero(self.good)[np.argsort(-z[self.good], kind="stable")]
            incumbents = self.x_obj[order[:N_INCUMBENTS]]
            if len(pending):
                beliefs = gp.predict(pending)[0]
                gp = _believe(gp, pending)
                ok = np.ones(len(pending), dtype=bool)
                for c, threshold in constraints:
                    ok &= c.predict(pending)[0] >= threshold
                if ok.any():  # a pending point believed feasible counts as an incumbent
                    best = max(best, float(beliefs[ok].max()))
            ei = LogEI(gp, best)
        n_candidates = 1024 if self.n_train <= 100 else 512
        return maximize_log_ei(LogEIFeasible(ei, constraints), self.layout, incumbents, seen,
                               rng, n_candidates=n_candidates)


def _believe(gp: GaussianProcess, pending: np.ndarray) -> GaussianProcess:
    return gp.conditioned(np.vstack([gp.x, pending]),
                          np.concatenate([gp.y, gp.predict(pending)[0]]))


def _warped(y: np.ndarray, x: np.ndarray | None) -> np.ndarray:
    z = warp_scores(y, x)
    return np.zeros(len(y)) if z is None else z  # a constant objective: nothing to learn


def _order_score(y: np.ndarray, v: np.ndarray, has_y: np.ndarray,
                 feasible: np.ndarray) -> np.ndarray:
    """Larger is better: feasible trials by non-dominated rank, then the infeasible by
    total violation, then failed ones."""
    score = np.full(len(y), -1e18)
    good = has_y & feasible
    if good.any():
        score[good] = -nondominated_ranks(y[good]).astype(float)
    bad = ~good
    total = np.where(np.isfinite(v), np.maximum(v, 0.0), 1e15).sum(axis=1)
    score[bad] = -1e6 - np.minimum(total[bad], 1e16) - np.where(has_y[bad], 0.0, 1e16)
    return score
