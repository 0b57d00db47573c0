"""Ranking trials by several objectives and constraints: who is ahead of whom at an ASHA rung.

One total preorder of the trials that reached a rung, best first (NSGA-II's, Deb et al. 2002,
with its constrained-domination rule):

1. feasible trials (every violation <= 0) before infeasible ones;
2. feasible trials by Pareto rank (non-dominated sorting: 0 is the front, see
   :func:`hypersweep.pareto.nondominated_ranks`), and within a rank by crowding distance,
   larger first: where a cut must split a front, the isolated trials keep the front spread;
3. infeasible trials by total violation (the sum of the positive violations), smaller first.

Values are oriented, LARGER IS BETTER. An objective not logged yet (NaN) counts as the worst
value (``-inf``) and a constraint not logged yet as violated by ``+inf``: the policy may not
wait for evidence that never comes.

What a policy reads is :attr:`RungRanking.ahead`, the number of trials *strictly* ahead of
each one: like one-objective ASHA, a trial is stopped only when enough trials did strictly
better, so ties (equal points share their rank and their crowding distance) go its way. The
ranking is a pure function of the points: no trial ids, no order of arrival.

Examples
--------
>>> r = rank_points([[3, 1], [2, 2], [1, 1], [0, 3]], [[0], [0], [0], [5]])
>>> r.ranks.tolist(), r.ahead.tolist()
([0, 0, 1, -1], [0, 0, 2, 3])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hypersweep.pareto import nondominated_ranks

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class RungRanking:
    """The order of ``n`` trials at a rung (arrays of length ``n``, in the input's order).

    Attributes
    ----------
    feasible : bool array
        Every violation <= 0.
    ranks : int array
        Pareto rank among the feasible trials (0: non-dominated); -1 for infeasible ones.
    crowding : float array
        Crowding distance within the trial's rank (``inf`` at a front's ends); 0 if infeasible.
    total_violation : float array
        Sum of the positive violations (0 when feasible; ``inf`` when one was not logged).
    ahead : int array
        How many trials are strictly ahead of each one in the order of this module.
    """

    feasible: BoolArray
    ranks: IntArray
    crowding: FloatArray
    total_violation: FloatArray
    ahead: IntArray


def crowding_distance(points: Any) -> FloatArray:
    """NSGA-II's crowding distance of each point among ``points`` (one front, shape (n, m)).

    Per objective, the points are sorted and each interior one adds the gap between its two
    neighbours divided by the objective's range; the two ends get ``inf``. Computed on the
    distinct points, so equal points get equal distances (no tie is broken by input order);
    a gap next to an infinite value is ``inf``.

    >>> crowding_distance([[0, 4], [1, 3], [3, 1], [4, 0]]).tolist()
    [inf, 1.5, 1.5, inf]
    >>> crowding_distance([[1, 1], [1, 1]]).tolist()
    [inf, inf]
    """
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"points: expected shape (n, m) (got {array.shape})")
    if len(array) == 0:
        return np.zeros(0)
    distinct, inverse = np.unique(array, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    count = len(distinct)
    distance = np.zeros(count)
    if count <= 2:
        return np.full(len(array), math.inf)
    for column in distinct.T:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        distance[order[0]] = distance[order[-1]] = math.inf
        span = ordered[-1] - ordered[0]
        if span == 0:
            continue  # every point agrees on this objective: it separates none of them
        gaps = ordered[2:] - ordered[:-2]
        with np.errstate(invalid="ignore"):
            share = np.where(np.isfinite(gaps), gaps / span if math.isfinite(span) else 0.0,
                             math.inf)
        distance[order[1:-1]] += share
    return distance[inverse]


def rank_points(points: Any, violations: Any = None) -> RungRanking:
    """Rank trials by their oriented objective vectors and constraint violations.

    Parameters
    ----------
    points : array-like, shape (n, m)
        Objective values, larger is better; NaN (not logged) counts as ``-inf``.
    violations : array-like, shape (n, c), optional
        Constraint violations (> 0 violated); NaN counts as ``+inf``. None: all feasible.

    Returns
    -------
    RungRanking

    Examples
    --------
    >>> r = rank_points([[0, 4], [1, 3], [3, 1], [4, 0], [1, 1]])
    >>> r.ranks.tolist(), r.ahead.tolist()    # the front's middle two tie: both behind the ends
    ([0, 0, 0, 0, 1], [0, 2, 2, 0, 4])
    """
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"points: expected shape (n, m) (got {array.shape})")
    n = len(array)
    array = np.where(np.isnan(array), -math.inf, array)
    if violations is None:
        broken = np.zeros((n, 0))
    else:
        broken = np.asarray(violations, dtype=np.float64).reshape(n, -1)
        broken = np.where(np.isnan(broken), math.inf, broken)
    feasible = np.all(broken <= 0, axis=1)
    total = np.where(feasible, 0.0, np.sum(np.clip(broken, 0.0, None), axis=1))
    ranks = np.full(n, -1, dtype=np.int64)
    crowding = np.zeros(n)
    if feasible.any():
        ranks[feasible] = nondominated_ranks(array[feasible])
        for rank in np.unique(ranks[feasible]):
            members = np.flatnonzero(feasible & (ranks == rank))
            crowding[members] = crowding_distance(array[members])
    ahead = _strictly_ahead(feasible, ranks, crowding, total)
    return RungRanking(feasible=feasible, ranks=ranks, crowding=crowding,
                       total_violation=total, ahead=ahead)


def _strictly_ahead(feasible: BoolArray, ranks: IntArray, crowding: FloatArray,
                    total: FloatArray) -> IntArray:
    """For each trial, the number of trials whose key is strictly smaller (better).

    The key is (infeasible, rank, -crowding) for feasible trials and (infeasible, total
    violation) for infeasible ones; sorting once and counting each run of equal keys from
    its first position makes it O(n log n).
    """
    group = (~feasible).astype(np.float64)
    second = np.where(feasible, ranks.astype(np.float64), total)
    third = np.where(feasible, -crowding, 0.0)
    order = np.lexsort((third, second, group))
    keys = np.stack([group, second, third], axis=1)[order]
    starts = np.ones(len(order), dtype=np.bool_)
    starts[1:] = np.any(keys[1:] != keys[:-1], axis=1)
    # each sorted position counts the trials before the first one equal to it
    ahead = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    out = np.empty_like(ahead)
    out[order] = ahead
    return out
