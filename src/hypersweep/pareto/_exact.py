"""Exact hypervolume of points measured from the origin (each coordinate > 0, all finite).

The public functions shift the points by the reference first, so the region a point
dominates is the box from the origin to it, and the hypervolume is the volume of the union
of those boxes. One algorithm a dimension:

- 1 objective: the largest value;
- 2: a sort and one sweep (O(n log n), vectorised);
- 3: a sweep down the third coordinate that keeps the 2-D staircase of the points above
  the current level, each insertion adding the area only it covers (O(n log n) lookups,
  O(n^2) list moves at worst, which are memmoves);
- 4 or more: Hypervolume by Slicing Objectives (HSO): slices along the last coordinate,
  each the (m-1)-D volume of the points above it, down to the 3-D sweep. Exact; its cost
  grows like n^(m-2), fine for the fronts of a sweep.
"""

from __future__ import annotations

import bisect

import numpy as np

from hypersweep.pareto._arrays import FloatArray
from hypersweep.pareto._sorting import distinct_best_first, front_of_distinct


def offsets_above(points: FloatArray, reference: FloatArray) -> FloatArray:
    """``points - reference`` of the rows strictly above ``reference`` everywhere.

    The other rows (those holding a NaN too, which compares false) add nothing to the volume.
    For floats, ``p > r`` implies ``p - r > 0``, so every kept offset is positive.
    """
    above = np.all(points > reference, axis=1)
    return points[above] - reference


def positive_volume(points: FloatArray) -> float:
    """Volume of the union of the boxes [0, p] of ``points`` (shape (n, m), all > 0, finite)."""
    count, objectives = points.shape
    if count == 0:
        return 0.0
    if objectives == 1:
        return float(points.max())
    if objectives == 2:
        return volume_2d(points)
    if objectives == 3:
        return volume_3d(points)
    # Dominated points only cost time here: drop them once.
    distinct, _ = distinct_best_first(points)
    return _volume_sliced(distinct[front_of_distinct(distinct)])


def staircase_2d(points: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The non-dominated points of a 2-D set: x ascending and y strictly descending."""
    # x descending, ties broken by y descending: a point is on the staircase iff its y beats
    # the y of every point before it.
    order = np.lexsort((-points[:, 1], -points[:, 0]))
    xs, ys = points[order, 0], points[order, 1]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(ys)[:-1]])
    keep = ys > best_before
    return xs[keep][::-1].copy(), ys[keep][::-1].copy()


def volume_2d(points: FloatArray) -> float:
    """Area of the union of the rectangles [0, p] (all coordinates > 0)."""
    xs, ys = staircase_2d(points)
    # Over x in (x[i-1], x[i]] the height is y[i], the largest y of the points reaching x.
    widths = np.diff(xs, prepend=0.0)
    return float(np.dot(widths, ys))


def volume_3d(points: FloatArray) -> float:
    """Volume of the union of the boxes [0, p] in 3-D (all coordinates > 0)."""
    order = np.argsort(-points[:, 2], kind="stable")
    ordered = points[order]
    levels = [*ordered[:, 2].tolist(), 0.0]
    xs: list[float] = []  # staircase of the points above the level: x ascending ...
    negated_ys: list[float] = []  # ... and y descending, stored negated for bisect
    area = 0.0
    volume = 0.0
    for index, (x, y) in enumerate(ordered[:, :2].tolist()):
        area += _insert(xs, negated_ys, x, y)
        volume += area * (levels[index] - levels[index + 1])
    return volume


def _insert(xs: list[float], negated_ys: list[float], x: float, y: float) -> float:
    """Add (x, y) to the staircase and return the area it adds (0 if it is dominated)."""
    first_not_left = bisect.bisect_left(xs, x)  # xs[i:] >= x; xs[i] has their largest y
    if first_not_left < len(xs) and -negated_ys[first_not_left] >= y:
        return 0.0
    end = bisect.bisect_right(xs, x)  # xs[:end] <= x
    start = bisect.bisect_left(negated_ys, -y, 0, end)  # [start, end): x <= x, y <= y
    # The part of the new box already covered: the neighbours on each side, clipped to the
    # box, and the points it swallows, as one staircase (x ascending, y descending).
    corners_x: list[float] = []
    corners_y: list[float] = []
    if start > 0:
        corners_x.append(xs[start - 1])
        corners_y.append(y)
    corners_x.extend(xs[start:end])
    corners_y.extend(-value for value in negated_ys[start:end])
    if end < len(xs):
        corners_x.append(x)
        corners_y.append(-negated_ys[end])
    covered = 0.0
    previous_x = 0.0
    for corner_x, corner_y in zip(corners_x, corners_y, strict=True):
        covered += (corner_x - previous_x) * corner_y
        previous_x = corner_x
    del xs[start:end], negated_ys[start:end]
    xs.insert(start, x)
    negated_ys.insert(start, -y)
    return x * y - covered


def _volume_sliced(points: FloatArray) -> float:
    # The slab between two consecutive last coordinates is the (m-1)-D volume of the points
    # at or above it times its thickness. Only the non-dominated heads are kept, and the
    # (m-1)-D volume is recomputed only when the heads changed and the slab is not empty.
    order = np.argsort(-points[:, -1], kind="stable")
    heads = points[order, :-1]
    levels = [*points[order, -1].tolist(), 0.0]
    kept = np.empty((0, heads.shape[1]), dtype=np.float64)
    area = 0.0
    stale = False
    volume = 0.0
    for index, head in enumerate(heads):
        if not np.any(np.all(kept >= head, axis=1)):
            kept = np.vstack([kept[~np.all(head >= kept, axis=1)], head])
            stale = True
        thickness = levels[index] - levels[index + 1]
        if thickness > 0:
            if stale:
                area = positive_volume(kept)
                stale = False
            volume += area * thickness
    return volume
