"""Pareto dominance: which points are on the front, and non-dominated sorting into fronts.

Values are oriented, LARGER IS BETTER. ``a`` dominates ``b`` when ``a >= b`` in every
objective and ``a > b`` in at least one; equal points do not dominate each other, so
duplicates share their front. Infinities are ordinary values (``-inf`` is worse than
anything); a row holding a NaN cannot be compared, so it is on no front (``False``, rank -1).

All three functions first sort the distinct points lexicographically, best first: a point can
then only be dominated by a point before it, which makes the 2-objective case one sweep
(O(n log n)) and the general case a scan against the fronts built so far.

Examples
--------
>>> from hypersweep.pareto import nondominated, nondominated_ranks
>>> points = [[1.0, 3.0], [2.0, 2.0], [1.0, 1.0], [3.0, 0.0]]
>>> nondominated(points).tolist()
[True, True, False, True]
>>> nondominated_ranks(points).tolist()
[0, 0, 1, 0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hypersweep.pareto._arrays import BoolArray, as_mask, as_points, rankable
from hypersweep.pareto._sorting import (
    IntArray,
    distinct_best_first,
    front_of_distinct,
    ranks_of_distinct,
)

__all__ = ["nondominated", "nondominated_ranks", "pareto_front"]


def nondominated(points: Any) -> BoolArray:
    """True for each point no other point dominates (values oriented: larger is better).

    ``points`` has shape (n, m). Duplicates do not dominate each other, so equal points are
    all non-dominated; a row holding a NaN is never non-dominated (it cannot be ranked).

    Examples
    --------
    >>> nondominated([[1, 2], [2, 1], [1, 1], [2, 1]]).tolist()
    [True, True, False, True]
    >>> nondominated([[0.5, float("nan")], [0.0, 0.0]]).tolist()
    [False, True]
    """
    array = as_points(points, "points")
    mask = np.zeros(len(array), dtype=np.bool_)
    usable = rankable(array)
    if usable.any():
        distinct, inverse = distinct_best_first(array[usable])
        mask[usable] = front_of_distinct(distinct)[inverse]
    return mask


def nondominated_ranks(points: Any) -> IntArray:
    """Non-dominated sorting: 0 for the front, 1 for the front once those are removed, ...

    ``points`` has shape (n, m), larger is better. Equal points share a rank. A row holding
    a NaN cannot be ranked and gets -1 (so ``ranks == 0`` is exactly ``nondominated``); filter
    those rows out before ordering by rank. Two objectives take O(n log n); more take at most
    O(n^2 m), with one comparison against a whole front at a time.

    Examples
    --------
    >>> nondominated_ranks([[3, 1], [2, 2], [1, 1], [0, 0], [1, 1]]).tolist()
    [0, 0, 1, 2, 1]
    >>> nondominated_ranks([[1.0, float("nan")], [0.0, 0.0]]).tolist()
    [-1, 0]
    """
    array = as_points(points, "points")
    ranks = np.full(len(array), -1, dtype=np.int64)
    usable = rankable(array)
    if usable.any():
        distinct, inverse = distinct_best_first(array[usable])
        ranks[usable] = ranks_of_distinct(distinct)[inverse]
    return ranks


def pareto_front(points: Any, feasible: Any = None) -> BoolArray:
    """The feasible points that no other feasible point dominates (larger is better).

    ``feasible`` is a boolean mask of shape (n,) (None: every point is feasible). An
    infeasible point is never on the front, and it does not push a feasible point off it
    either: the front is that of the feasible points alone, since a trial that breaks a
    constraint is not an outcome one can choose. With no feasible point the front is empty.

    Examples
    --------
    >>> points = [[3, 3], [2, 1], [1, 2], [0, 0]]
    >>> pareto_front(points).tolist()
    [True, False, False, False]
    >>> pareto_front(points, feasible=[False, True, True, True]).tolist()
    [False, True, True, False]
    """
    array = as_points(points, "points")
    if feasible is None:
        return nondominated(array)
    allowed = as_mask(feasible, len(array), "feasible")
    mask = np.zeros(len(array), dtype=np.bool_)
    if allowed.any():
        mask[allowed] = nondominated(array[allowed])
    return mask
