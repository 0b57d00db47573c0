"""Checks that turn user input into the float arrays the Pareto functions compute on.

Each check names the argument it rejects, so ``hypervolume(points, reference=[1, 2, 3])``
with two-objective points says ``reference`` is the problem, not some array deep inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def as_points(values: Any, name: str, objectives: int | None = None) -> FloatArray:
    """``values`` as a float array of shape (n, m), m >= 1 (m == ``objectives`` if given).

    An empty sequence (``[]``) is zero points of whatever dimension is wanted: a sweep with no
    finished trial yet has an empty front, and its caller should not have to shape it.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numbers of shape (n, m): {err}") from None
    if array.ndim == 1 and array.size == 0:
        return np.empty((0, objectives or 0), dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n, m), one row a point and one column an objective"
            f" (got shape {array.shape})"
        )
    if array.shape[1] == 0:
        raise ValueError(f"{name} must have at least one objective (got shape {array.shape})")
    if objectives is not None and array.shape[1] != objectives:
        raise ValueError(f"{name} has {array.shape[1]} objectives per point, expected {objectives}")
    # Adding 0.0 turns -0.0 into 0.0, so sorting and deduplicating see one zero.
    return array + 0.0


def as_reference(values: Any, objectives: int | None, name: str = "reference") -> FloatArray:
    """``values`` as a finite float array of shape (m,), m == ``objectives`` if given (> 0)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numbers of shape (m,): {err}") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must have shape (m,), one value an objective (got {array.shape})")
    if array.shape[0] == 0:
        raise ValueError(f"{name} must have at least one objective (got shape {array.shape})")
    if objectives and array.shape[0] != objectives:
        raise ValueError(f"{name} has {array.shape[0]} objectives, the points have {objectives}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (got {array.tolist()})")
    return array + 0.0


def as_mask(values: Any, length: int, name: str) -> BoolArray:
    """``values`` as a boolean array of shape (``length``,).

    Numbers are refused rather than read as truthy: a constraint's violations passed where
    the feasibility mask belongs would otherwise pass silently (0.5 is violated, yet truthy).
    """
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != length:
        raise ValueError(
            f"{name} must have shape ({length},), one flag a point (got {array.shape})"
        )
    if array.size and array.dtype != np.bool_:
        raise ValueError(f"{name} must be booleans (got dtype {array.dtype})")
    return array.astype(np.bool_)


def rankable(points: FloatArray) -> BoolArray:
    """Rows without NaN: a NaN compares false with everything, so such a row cannot be ranked."""
    return np.asarray(~np.isnan(points).any(axis=1), dtype=np.bool_)
