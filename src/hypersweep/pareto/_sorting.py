"""The sorting behind dominance: distinct points best first, their front and their ranks.

Working on distinct points sorted in descending lexicographic order: if ``a`` dominates ``b``
then ``a`` comes first, so each point is only compared with points before it.
"""

from __future__ import annotations

import bisect

import numpy as np
from numpy.typing import NDArray

from hypersweep.pareto._arrays import BoolArray, FloatArray

IntArray = NDArray[np.int64]


def distinct_best_first(points: FloatArray) -> tuple[FloatArray, IntArray]:
    """The distinct rows of ``points`` in descending lexicographic order, and where each row went.

    If ``a`` dominates ``b`` then ``a`` is lexicographically larger, so in this order a point
    is only ever dominated by points before it.
    """
    distinct, inverse = np.unique(points, axis=0, return_inverse=True)
    # The shape of `inverse` differs between NumPy 2.0.0 and other versions: flatten it.
    return distinct[::-1], (len(distinct) - 1 - inverse.reshape(-1)).astype(np.int64)


def front_of_distinct(points: FloatArray) -> BoolArray:
    """Non-dominated mask of distinct points sorted best first (``distinct_best_first``)."""
    count, objectives = points.shape
    mask = np.zeros(count, dtype=np.bool_)
    if count == 0:
        return mask
    if objectives == 1:
        mask[0] = True
        return mask
    if objectives == 2:
        # Every earlier point has x >= this x and differs, so it dominates iff its y >= this y.
        best_y_before = np.maximum.accumulate(points[:, 1])
        mask[0] = True
        mask[1:] = points[1:, 1] > best_y_before[:-1]
        return mask
    front = np.empty_like(points)
    size = 0
    for index in range(count):
        point = points[index]
        # An earlier distinct point that is >= everywhere dominates; checking the front
        # suffices, since whatever dominates an earlier point dominates this one too.
        if size == 0 or not np.any(np.all(front[:size] >= point, axis=1)):
            front[size] = point
            size += 1
            mask[index] = True
    return mask


def ranks_of_distinct(points: FloatArray) -> IntArray:
    """Front index of each distinct point sorted best first (``distinct_best_first``)."""
    count, objectives = points.shape
    if objectives == 1:
        return np.arange(count, dtype=np.int64)
    if objectives == 2:
        return _ranks_2d(points)
    return _ranks_by_front_search(points)


def _ranks_2d(points: FloatArray) -> IntArray:
    # Fronts in this order gain points of increasing y, so a front's last point has its
    # largest y; that point dominates the new one iff its y >= the new y (its x is >= and
    # they differ). Those last y values fall from front to front, so the first front that
    # does not dominate is found by bisection: O(n log n).
    ranks = np.empty(len(points), dtype=np.int64)
    negated_last_y: list[float] = []  # non-decreasing, for bisect
    for index, y in enumerate(points[:, 1].tolist()):
        rank = bisect.bisect_right(negated_last_y, -y)
        if rank == len(negated_last_y):
            negated_last_y.append(-y)
        else:
            negated_last_y[rank] = -y
        ranks[index] = rank
    return ranks


def _ranks_by_front_search(points: FloatArray) -> IntArray:
    # Efficient non-dominated sort with binary search (Zhang et al., 2015): if front k holds a
    # point dominating p, so does every front before k (what dominates that point came
    # earlier, sits on an earlier front, and dominates p too), so p's front is found by
    # bisection, one vectorised comparison against a whole front per step.
    count, objectives = points.shape
    ranks = np.empty(count, dtype=np.int64)
    fronts: list[FloatArray] = []
    sizes: list[int] = []
    for index in range(count):
        point = points[index]
        low, high = 0, len(fronts)
        while low < high:
            middle = (low + high) // 2
            if np.any(np.all(fronts[middle][: sizes[middle]] >= point, axis=1)):
                low = middle + 1
            else:
                high = middle
        if low == len(fronts):
            fronts.append(np.empty((8, objectives), dtype=np.float64))
            sizes.append(0)
        if sizes[low] == len(fronts[low]):
            fronts[low] = np.concatenate([fronts[low], np.empty_like(fronts[low])])
        fronts[low][sizes[low]] = point
        sizes[low] += 1
        ranks[index] = low
    return ranks
