"""Non-dominated filtering and sorting agree with brute force, ties, duplicates and NaN included."""

from __future__ import annotations

import numpy as np
import pytest
from _pareto_oracles import (
    FLOATS,
    ODD_VALUES,
    SMALL_INTEGERS,
    brute_nondominated,
    brute_ranks,
    matrix_ranks,
    point_sets,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep.pareto import nondominated, nondominated_ranks, pareto_front

MIXED = SMALL_INTEGERS | ODD_VALUES


@settings(max_examples=200)
@given(point_sets(values=MIXED))
def test_nondominated_is_the_brute_force_filter(points: np.ndarray) -> None:
    assert nondominated(points).tolist() == brute_nondominated(points).tolist()


@settings(max_examples=200)
@given(point_sets(values=MIXED))
def test_ranks_are_brute_force_peeling(points: np.ndarray) -> None:
    ranks = nondominated_ranks(points)
    assert ranks.dtype == np.int64
    assert ranks.tolist() == brute_ranks(points).tolist()
    assert (ranks == 0).tolist() == nondominated(points).tolist()


@settings(max_examples=100)
@given(point_sets(objectives=(2, 4), size=(0, 40), values=FLOATS))
def test_ranks_of_distinct_floats(points: np.ndarray) -> None:
    assert nondominated_ranks(points).tolist() == brute_ranks(points).tolist()


@settings(max_examples=200)
@given(st.data())
def test_pareto_front_is_the_front_of_the_feasible_points(data: st.DataObject) -> None:
    points = data.draw(point_sets(values=MIXED))
    feasible = np.array(
        data.draw(st.lists(st.booleans(), min_size=len(points), max_size=len(points))), dtype=bool
    )
    front = pareto_front(points, feasible)
    expected = np.zeros(len(points), dtype=bool)
    expected[feasible] = brute_nondominated(points[feasible])
    assert front.tolist() == expected.tolist()
    assert not front[~feasible].any()  # an infeasible point is never on the front
    assert pareto_front(points).tolist() == nondominated(points).tolist()
    assert pareto_front(points, [True] * len(points)).tolist() == nondominated(points).tolist()


def test_an_infeasible_point_neither_joins_nor_hides_the_front() -> None:
    points = [[5.0, 5.0], [1.0, 2.0], [2.0, 1.0], [0.0, 0.0]]
    assert pareto_front(points, [False, True, True, True]).tolist() == [False, True, True, False]
    assert not pareto_front(points, [False] * 4).any()


def test_equal_points_share_the_front_and_their_rank() -> None:
    points = [[1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0], [0, 1, 0]]
    assert nondominated(points).tolist() == [True, True, False, False, False]
    assert nondominated_ranks(points).tolist() == [0, 0, 2, 2, 1]


def test_minus_zero_is_zero() -> None:
    assert nondominated([[0.0, 1.0], [-0.0, 1.0]]).tolist() == [True, True]


def test_rows_with_nan_are_unranked_and_infinities_are_values() -> None:
    nan, inf = float("nan"), float("inf")
    points = [[nan, 5.0], [inf, 0.0], [1.0, 1.0], [-inf, 2.0], [0.0, -inf]]
    assert nondominated(points).tolist() == [False, True, True, True, False]
    assert nondominated_ranks(points).tolist() == [-1, 0, 0, 0, 1]
    assert nondominated_ranks([[nan], [nan]]).tolist() == [-1, -1]


def test_one_objective_ranks_distinct_values() -> None:
    assert nondominated_ranks([[2.0], [5.0], [2.0], [-1.0]]).tolist() == [1, 0, 1, 2]
    assert nondominated([[2.0], [5.0], [5.0]]).tolist() == [False, True, True]


@pytest.mark.parametrize("empty", [[], np.empty((0, 3))])
def test_no_points(empty: object) -> None:
    assert nondominated(empty).shape == (0,)
    assert nondominated_ranks(empty).shape == (0,)
    assert pareto_front(empty, []).shape == (0,)


def test_many_points_in_two_and_three_dimensions_match_the_dominance_matrix() -> None:
    rng = np.random.default_rng(7)
    # Rounded, so that many points tie in a coordinate or coincide.
    planar = np.round(rng.normal(size=(3000, 2)), 1)
    ranks = nondominated_ranks(planar)
    assert ranks.tolist() == matrix_ranks(planar).tolist()
    # The same points with a constant third objective take the general path: same fronts.
    lifted = np.column_stack([planar, np.ones(len(planar))])
    assert nondominated_ranks(lifted).tolist() == ranks.tolist()
    spatial = np.round(rng.normal(size=(1500, 3)), 1)
    assert nondominated_ranks(spatial).tolist() == matrix_ranks(spatial).tolist()
    assert nondominated(spatial).tolist() == (matrix_ranks(spatial) == 0).tolist()


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([1.0, 2.0], r"points must have shape \(n, m\)"),
        ([[[1.0]]], r"points must have shape \(n, m\)"),
        (np.empty((3, 0)), "points must have at least one objective"),
        ([["a", "b"]], "points must be numbers"),
        ([[1.0, 2.0], [3.0]], "points must be numbers"),
    ],
)
def test_bad_points_are_named(points: object, message: str) -> None:
    for function in (nondominated, nondominated_ranks, pareto_front):
        with pytest.raises(ValueError, match=message):
            function(points)


@pytest.mark.parametrize(
    ("feasible", "message"),
    [
        ([True], r"feasible must have shape \(2,\)"),
        ([[True, False]], r"feasible must have shape \(2,\)"),
        ([0.5, -1.0], "feasible must be booleans"),
    ],
)
def test_bad_feasible_is_named(feasible: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pareto_front([[1.0, 2.0], [2.0, 1.0]], feasible)
