"""The hypervolume of a set of points above a reference point, and a default reference.

Values are oriented, LARGER IS BETTER. The hypervolume is the volume of the region that the
points dominate and that dominates the reference: the union of the boxes from the reference
to each point. It grows whenever a point joins the front, which makes it the usual single
number for the progress of a multi-objective sweep. It is exact in any dimension (see
``hypersweep.pareto._exact`` for the algorithms).

Examples
--------
>>> from hypersweep.pareto import hypervolume, reference_point
>>> points = [[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]
>>> hypervolume(points, reference=[0.0, 0.0])
6.0
>>> reference_point(points).tolist()
[0.8, 0.8]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hypersweep.pareto._arrays import FloatArray, as_points, as_reference
from hypersweep.pareto._exact import offsets_above, positive_volume

__all__ = ["hypervolume", "reference_point"]


def hypervolume(points: Any, reference: Any) -> float:
    """Exact volume of the region dominated by ``points`` and dominating ``reference``.

    ``points`` has shape (n, m), ``reference`` shape (m,), finite. A point that is not
    strictly above the reference in every objective adds nothing, nor does a row holding a
    NaN; a counted point with a ``+inf`` value makes the volume ``inf``. Point order,
    duplicates and dominated points do not change the result.

    Examples
    --------
    >>> hypervolume([[2.0, 3.0]], reference=[0.0, 1.0])
    4.0
    >>> hypervolume([[1, 1, 1], [2, 0.5, 0.5], [0.5, 0.5, 2]], reference=[0, 0, 0])
    1.5
    >>> hypervolume([[1.0, -1.0]], reference=[0.0, 0.0])
    0.0
    """
    array, anchor = _points_and_reference(points, reference)
    offsets = offsets_above(array, anchor)
    if np.isinf(offsets).any():
        return math.inf
    return positive_volume(offsets)


def reference_point(points: Any, margin: float = 0.1) -> FloatArray:
    """A reference point just below all ``points``: ``min - margin * (max - min)`` per objective.

    For a dashboard or a sampler that was given no reference. Only rows whose values are all
    finite count. An objective on which every point agrees (range 0) uses
    ``margin * max(|min|, 1)`` instead of the range, so that every point still lies strictly
    above the reference and adds volume (with ``margin == 0`` the reference is the minimum and
    the points on it add none). Note that the hypervolume depends on the reference: compare
    hypervolumes only at one fixed reference, not at one re-derived as the points change.

    Examples
    --------
    >>> reference_point([[1.0, 10.0], [3.0, 20.0]]).tolist()
    [0.8, 9.0]
    >>> reference_point([[5.0, -2.0]], margin=0.5).tolist()
    [2.5, -3.0]
    """
    array = as_points(points, "points")
    try:
        spread = float(margin)
    except (TypeError, ValueError):
        raise ValueError(f"margin must be a number >= 0 (got {margin!r})") from None
    if not (math.isfinite(spread) and spread >= 0):
        raise ValueError(f"margin must be a finite number >= 0 (got {margin!r})")
    finite = array[np.all(np.isfinite(array), axis=1)]
    if len(finite) == 0:
        raise ValueError("points must hold at least one row of finite values")
    low = finite.min(axis=0)
    span = finite.max(axis=0) - low
    span = np.where(span > 0, span, np.maximum(np.abs(low), 1.0))
    reference = low - spread * span
    if spread > 0:
        # A margin tiny next to the values would round back onto the minimum.
        reference = np.minimum(reference, np.nextafter(low, -np.inf))
    return reference


def _points_and_reference(points: Any, reference: Any) -> tuple[FloatArray, FloatArray]:
    array = as_points(points, "points")
    anchor = as_reference(reference, array.shape[1] or None)
    return array.reshape(len(array), len(anchor)), anchor
