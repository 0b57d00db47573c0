"""ranking: feasible trials by Pareto rank and crowding distance, then infeasible ones by total
violation; ``ahead`` counts only trials strictly ahead (ties go the trial's way)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep.policies import crowding_distance, rank_points

INF = math.inf


def test_front_kept_ahead_of_dominated_ones() -> None:
    r = rank_points([[3, 1], [2, 2], [1, 3], [1, 1], [0, 0], [2, 2]])
    assert r.ranks.tolist() == [0, 0, 0, 1, 2, 0]
    assert r.feasible.all() and r.total_violation.tolist() == [0] * 6
    # the duplicate (2, 2)s share their crowding distance: the front has 3 distinct points
    assert r.crowding.tolist() == [INF, 2.0, INF, INF, INF, 2.0]
    assert r.ahead.tolist() == [0, 2, 0, 4, 5, 2]


def test_infeasible_after_every_feasible_one_by_total_violation() -> None:
    points = [[9, 9], [1, 1], [0, 0], [8, 8], [7, 7]]
    violations = [[0.5, 2.0], [0, 0], [-1, -3], [0, INF], [3, -5]]
    r = rank_points(points, violations)
    assert r.feasible.tolist() == [False, True, True, False, False]
    assert r.ranks.tolist() == [-1, 0, 1, -1, -1]
    assert r.total_violation.tolist() == [2.5, 0, 0, INF, 3]
    assert r.ahead.tolist() == [2, 0, 1, 4, 3]


def test_not_logged_objectives_and_constraints_count_against_the_trial() -> None:
    r = rank_points([[1.0, math.nan], [0.5, 0.0]], [[math.nan], [0.0]])
    assert r.feasible.tolist() == [False, True] and r.ahead.tolist() == [1, 0]
    r = rank_points([[1.0, math.nan], [0.5, 0.0], [0.4, -1.0]])
    assert r.ranks.tolist() == [0, 0, 1]  # NaN is -inf: still the best on the first


def test_crowding_breaks_ties_in_a_split_front() -> None:
    front = [[0, 10], [1, 9], [2, 5], [8, 2], [10, 0]]
    assert crowding_distance(front).tolist() == [INF, 0.7, 1.4, 1.3, INF]
    assert rank_points(front).ahead.tolist() == [0, 4, 2, 3, 0]


def test_crowding_edge_cases() -> None:
    assert crowding_distance(np.zeros((0, 2))).tolist() == []
    assert crowding_distance([[1, 2], [2, 1]]).tolist() == [INF, INF]
    # one objective on which all agree separates nobody; an infinite one makes a gap infinite
    assert crowding_distance([[1, 5], [2, 5], [3, 5]]).tolist() == [INF, 1.0, INF]
    assert crowding_distance([[-INF, 3], [1, 2], [2, 1], [3, 0]]).tolist()[1] == INF


def test_one_objective_is_the_one_objective_rule() -> None:
    values = [0.9, 0.5, 0.5, 0.7, 0.1]
    r = rank_points([[v] for v in values])
    assert r.ahead.tolist() == [sum(w > v for w in values) for v in values]


vectors = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(-1, 1)),
                   min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@given(vectors, st.randoms(use_true_random=False))
def test_ranking_is_a_pure_function_of_the_points(rows: list[tuple[int, int, int]],
                                                   rng: object) -> None:
    points = np.array([[a, b] for a, b, _ in rows], dtype=float)
    broken = np.array([[c] for _, _, c in rows], dtype=float)
    r = rank_points(points, broken)
    order = list(range(len(rows)))
    rng.shuffle(order)  # type: ignore[attr-defined]
    shuffled = rank_points(points[order], broken[order])
    assert shuffled.ahead.tolist() == r.ahead[order].tolist()
    feasible = r.feasible
    for i in range(len(rows)):
        for j in range(len(rows)):
            if feasible[i] and not feasible[j]:
                assert r.ahead[i] < r.ahead[j]
            dominates = np.all(points[i] >= points[j]) and np.any(points[i] > points[j])
            if feasible[i] and feasible[j] and dominates:
                assert r.ahead[i] < r.ahead[j]
            if (points[i] == points[j]).all() and (broken[i] == broken[j]).all():
                assert r.ahead[i] == r.ahead[j]
