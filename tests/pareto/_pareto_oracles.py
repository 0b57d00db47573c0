"""Slow, obviously right versions of the Pareto functions, and point sets to test them with."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from hypothesis import strategies as st

# Few distinct values: ties and duplicates are the cases that matter.
SMALL_INTEGERS = st.integers(-3, 3).map(float)
ODD_VALUES = st.sampled_from([float("nan"), float("inf"), -float("inf"), -0.0])
FLOATS = st.floats(-10, 10, allow_nan=False, allow_subnormal=False)


@st.composite
def point_sets(
    draw: Any,
    objectives: tuple[int, int] = (1, 4),
    size: tuple[int, int] = (0, 25),
    values: Any = SMALL_INTEGERS,
) -> np.ndarray:
    """An (n, m) float array, n and m in the given inclusive ranges."""
    m = draw(st.integers(*objectives))
    n = draw(st.integers(*size))
    rows = draw(st.lists(st.lists(values, min_size=m, max_size=m), min_size=n, max_size=n))
    return np.array(rows, dtype=float).reshape(n, m)


def brute_nondominated(points: np.ndarray) -> np.ndarray:
    """Compare every pair: a point is on the front if no usable point dominates it."""
    usable = ~np.isnan(points).any(axis=1)
    at_least = (points[:, None, :] >= points[None, :, :]).all(axis=2)
    better = (points[:, None, :] > points[None, :, :]).any(axis=2)
    dominates = at_least & better & usable[:, None]  # [i, j]: i dominates j
    return np.asarray(usable & ~dominates.any(axis=0))


def brute_ranks(points: np.ndarray) -> np.ndarray:
    """Peel fronts off one by one; rows holding a NaN get -1."""
    ranks = np.full(len(points), -1)
    left = [i for i in range(len(points)) if not np.isnan(points[i]).any()]
    rank = 0
    while left:
        front = brute_nondominated(points[left])
        for i, on_front in zip(left, front, strict=True):
            if on_front:
                ranks[i] = rank
        left = [i for i, on_front in zip(left, front, strict=True) if not on_front]
        rank += 1
    return ranks


def matrix_ranks(points: np.ndarray) -> np.ndarray:
    """Non-dominated sorting from the full dominance matrix (finite points, vectorised)."""
    above = points[:, None, :] >= points[None, :, :]
    strictly = points[:, None, :] > points[None, :, :]
    dominance = np.asarray(above.all(axis=2) & strictly.any(axis=2))  # [i, j]: i dominates j
    counts = np.asarray(dominance.sum(axis=0))
    ranks = np.full(len(points), -1)
    rank = 0
    current = np.flatnonzero(counts == 0)
    while current.size:
        ranks[current] = rank
        counts = np.asarray(counts - dominance[current].sum(axis=0))
        counts[ranks >= 0] = -1
        current = np.flatnonzero(counts == 0)
        rank += 1
    return ranks


def grid_volume(points: np.ndarray, reference: np.ndarray) -> float:
    """Sum the cells of the grid of all coordinates that some counted point dominates."""
    counted = points[np.all(points > reference, axis=1)]
    if len(counted) == 0:
        return 0.0
    axes = [np.unique(np.append(counted[:, k], reference[k])) for k in range(len(reference))]
    uppers = np.stack(np.meshgrid(*[axis[1:] for axis in axes], indexing="ij"), axis=-1)
    widths = np.meshgrid(*[np.diff(axis) for axis in axes], indexing="ij")
    cells = uppers.reshape(-1, len(reference))
    covered = np.any(np.all(counted[None, :, :] >= cells[:, None, :], axis=2), axis=1)
    volumes = np.prod(np.stack([w.reshape(-1) for w in widths]), axis=0)
    return float(volumes[covered].sum())


def inclusion_exclusion_volume(points: np.ndarray, reference: np.ndarray) -> float:
    """The union of boxes by inclusion–exclusion over every subset (tiny sets only)."""
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in itertools.combinations(range(len(points)), size):
            corner = points[list(subset)].min(axis=0)
            total += (-1) ** (size + 1) * float(np.prod(np.clip(corner - reference, 0, None)))
    return total
