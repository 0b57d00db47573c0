"""The hypervolume is exact: it equals brute force, known values, and ignores what it should."""

from __future__ import annotations

import math
from random import Random

import numpy as np
import pytest
from _pareto_oracles import (
    FLOATS,
    SMALL_INTEGERS,
    grid_volume,
    inclusion_exclusion_volume,
    point_sets,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep.pareto import hypervolume, reference_point


@st.composite
def sets_and_references(
    draw: st.DrawFn,
    objectives: tuple[int, int] = (1, 3),
    size: tuple[int, int] = (0, 12),
    values: object = SMALL_INTEGERS,
) -> tuple[np.ndarray, np.ndarray]:
    points = draw(point_sets(objectives=objectives, size=size, values=values))
    reference = (
        np.array(draw(st.lists(SMALL_INTEGERS, min_size=points.shape[1], max_size=points.shape[1])))
        - 1.0
    )
    return points, reference


@settings(max_examples=300)
@given(sets_and_references())
def test_equals_the_grid_of_cells_in_one_to_three_dimensions(case: tuple) -> None:
    points, reference = case
    assert hypervolume(points, reference) == pytest.approx(grid_volume(points, reference))


@settings(max_examples=150)
@given(sets_and_references(objectives=(2, 3), size=(0, 15), values=FLOATS))
def test_equals_the_grid_of_cells_for_floats(case: tuple) -> None:
    points, reference = case
    expected = grid_volume(points, reference)
    assert hypervolume(points, reference) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=150)
@given(sets_and_references(objectives=(4, 5), size=(0, 7)))
def test_equals_the_grid_of_cells_in_four_and_five_dimensions(case: tuple) -> None:
    points, reference = case
    assert hypervolume(points, reference) == pytest.approx(grid_volume(points, reference))


@settings(max_examples=100)
@given(sets_and_references(objectives=(1, 4), size=(0, 6), values=FLOATS))
def test_the_grid_oracle_agrees_with_inclusion_exclusion(case: tuple) -> None:
    points, reference = case
    assert grid_volume(points, reference) == pytest.approx(
        inclusion_exclusion_volume(points, reference), rel=1e-9, abs=1e-9
    )


@settings(max_examples=150)
@given(sets_and_references(objectives=(2, 4), size=(1, 12), values=FLOATS), st.randoms())
def test_invariant_to_order_duplicates_and_dominated_points(case: tuple, random: Random) -> None:
    points, reference = case
    volume = hypervolume(points, reference)
    shuffled = points[np.random.default_rng(random.randrange(2**32)).permutation(len(points))]
    assert hypervolume(shuffled, reference) == pytest.approx(volume, rel=1e-12, abs=1e-12)
    dominated = np.vstack([points, points[:3], points - 0.5, np.minimum(points, reference)])
    assert hypervolume(dominated, reference) == pytest.approx(volume, rel=1e-12, abs=1e-12)


def test_a_single_point_is_its_box() -> None:
    assert hypervolume([[3.0]], [1.0]) == 2.0
    assert hypervolume([[2.0, 3.0]], [0.5, 1.0]) == 3.0
    assert hypervolume([[2.0, 3.0, 4.0]], [0.0, 1.0, 3.5]) == 2.0
    assert hypervolume([[2.0, 3.0, 4.0, 5.0, 6.0]], [1.0] * 5) == 1 * 2 * 3 * 4 * 5


def test_points_on_or_below_the_reference_add_nothing() -> None:
    assert hypervolume([[1.0, 5.0], [0.0, 9.0]], [0.0, 0.0]) == 5.0
    assert hypervolume([[0.0, 9.0]], [0.0, 0.0]) == 0.0
    assert hypervolume([], [0.0, 0.0]) == 0.0
    assert hypervolume(np.empty((0, 3)), [0.0, 0.0, 0.0]) == 0.0


def test_zdt1_true_front() -> None:
    # ZDT1 minimises (f1, 1 - sqrt(f1)); oriented, both are negated, and so is the usual
    # reference (1, 1). The continuous front dominates the area 2/3 there; n evenly spaced
    # points on it dominate the left Riemann sum of sqrt over [0, 1].
    f1 = np.linspace(0.0, 1.0, 10_001)
    points = -np.column_stack([f1, 1.0 - np.sqrt(f1)])
    volume = hypervolume(points, [-1.0, -1.0])
    riemann = float(np.sum(np.diff(f1) * np.sqrt(f1[:-1])))
    assert volume == pytest.approx(riemann, rel=1e-12)
    assert 2 / 3 - 1e-4 < volume < 2 / 3
    # Far reference, as often reported: 120 + 2/3 at (11, 11).
    assert hypervolume(points, [-11.0, -11.0]) == pytest.approx(120 + riemann, rel=1e-12)


def test_a_constant_objective_multiplies_the_volume() -> None:
    # Each dimension's algorithm against the one below it, on sets too big for the grid.
    rng = np.random.default_rng(3)
    planar = rng.uniform(size=(2000, 2))
    spatial = rng.uniform(size=(300, 3))
    lifted_planar = np.column_stack([planar, np.full(len(planar), 3.0)])
    lifted_spatial = np.column_stack([spatial, np.full(len(spatial), 3.0)])
    assert hypervolume(lifted_planar, [0.0, 0.0, 1.0]) == pytest.approx(
        2 * hypervolume(planar, [0.0, 0.0]), rel=1e-12
    )
    assert hypervolume(lifted_spatial, [0.0, 0.0, 0.0, 1.0]) == pytest.approx(
        2 * hypervolume(spatial, [0.0, 0.0, 0.0]), rel=1e-12
    )


def test_swapping_objectives_changes_nothing() -> None:
    rng = np.random.default_rng(5)
    # Points near a sphere: most of them are on the front.
    for objectives, count in [(3, 500), (4, 60)]:
        points = np.abs(rng.normal(size=(count, objectives)))
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        volume = hypervolume(points, np.zeros(objectives))
        for order in [np.roll(np.arange(objectives), 1), np.arange(objectives)[::-1]]:
            assert hypervolume(points[:, order], np.zeros(objectives)) == pytest.approx(
                volume, rel=1e-12
            )


def test_the_unit_sphere_front_approaches_its_known_volume() -> None:
    # The positive octant of the unit ball has volume pi/6; points on its surface dominate
    # a little less, more as they get denser.
    rng = np.random.default_rng(11)
    points = np.abs(rng.normal(size=(2000, 3)))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    volume = hypervolume(points, [0.0, 0.0, 0.0])
    assert math.pi / 6 * 0.9 < volume < math.pi / 6


def test_nan_rows_add_nothing_and_infinity_is_infinite() -> None:
    nan, inf = float("nan"), float("inf")
    assert hypervolume([[nan, 5.0], [1.0, 1.0]], [0.0, 0.0]) == 1.0
    assert hypervolume([[inf, 1.0], [1.0, 1.0]], [0.0, 0.0]) == inf
    assert hypervolume([[inf, -inf], [1.0, 1.0]], [0.0, 0.0]) == 1.0


@pytest.mark.parametrize(
    ("points", "reference", "message"),
    [
        ([[1.0, 2.0]], [0.0, 0.0, 0.0], "reference has 3 objectives, the points have 2"),
        ([[1.0, 2.0]], [[0.0, 0.0]], r"reference must have shape \(m,\)"),
        ([[1.0, 2.0]], [0.0, float("nan")], "reference must be finite"),
        ([[1.0, 2.0]], [], "reference must have at least one objective"),
        ([[1.0, 2.0]], ["a", "b"], "reference must be numbers"),
        ([1.0, 2.0], [0.0, 0.0], r"points must have shape \(n, m\)"),
    ],
)
def test_bad_input_is_named(points: object, reference: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hypervolume(points, reference)


def test_reference_point_is_below_every_point_by_a_margin_of_the_range() -> None:
    points = np.array([[1.0, 10.0, 7.0], [3.0, 20.0, 7.0], [2.0, 15.0, 7.0]])
    reference = reference_point(points)
    assert reference.tolist() == pytest.approx([0.8, 9.0, 7.0 - 0.7])
    assert np.all(points > reference)
    assert reference_point(points, margin=0.0).tolist() == [1.0, 10.0, 7.0]
    # Rows with a non-finite value do not stretch the range.
    widened = np.vstack([points, [float("inf"), -float("inf"), float("nan")]])
    assert reference_point(widened).tolist() == reference.tolist()
    # A margin that rounds away still leaves the reference strictly below.
    assert np.all(np.array([[1e20, 1e20]]) > reference_point([[1e20, 1e20]], margin=1e-30))


@pytest.mark.parametrize(
    ("points", "margin", "message"),
    [
        ([[1.0]], -0.1, "margin must be a finite number >= 0"),
        ([[1.0]], float("inf"), "margin must be a finite number >= 0"),
        ([[1.0]], "wide", "margin must be a number"),
        ([[float("nan")]], 0.1, "points must hold at least one row of finite values"),
        ([], 0.1, "points must hold at least one row of finite values"),
    ],
)
def test_reference_point_rejects_bad_input(points: object, margin: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        reference_point(points, margin)  # type: ignore[arg-type]
