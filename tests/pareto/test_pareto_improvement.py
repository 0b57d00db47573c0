"""A candidate's hypervolume improvement is the difference of two hypervolumes."""

from __future__ import annotations

import numpy as np
import pytest
from _pareto_oracles import FLOATS, SMALL_INTEGERS, point_sets
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep.pareto import hypervolume, hypervolume_improvement


@st.composite
def problems(
    draw: st.DrawFn, objectives: tuple[int, int] = (1, 4), values: object = FLOATS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    front = draw(point_sets(objectives=objectives, size=(0, 10), values=values))
    m = front.shape[1]
    candidates = draw(point_sets(objectives=(m, m), size=(0, 8), values=values))
    # Some candidates copy or slightly shift front points: ties with the front matter most.
    if len(front) and len(candidates):
        copies = min(len(candidates) // 2, len(front))
        candidates[:copies] = front[:copies] + draw(st.sampled_from([0.0, 0.5, -0.5]))
    reference = np.array(draw(st.lists(SMALL_INTEGERS, min_size=m, max_size=m))) - 2.0
    return candidates, front, reference


def _differences(candidates: np.ndarray, front: np.ndarray, reference: np.ndarray) -> list:
    before = hypervolume(front, reference)
    return [hypervolume(np.vstack([front, c]), reference) - before for c in candidates]


@settings(max_examples=300)
@given(problems())
def test_equals_the_difference_of_two_hypervolumes(problem: tuple) -> None:
    candidates, front, reference = problem
    improvements = hypervolume_improvement(candidates, front, reference)
    assert improvements.shape == (len(candidates),)
    assert np.all(improvements >= 0)
    assert improvements.tolist() == pytest.approx(
        _differences(candidates, front, reference), rel=1e-9, abs=1e-9
    )


@settings(max_examples=200)
@given(problems(objectives=(2, 2), values=SMALL_INTEGERS))
def test_two_dimensions_with_ties(problem: tuple) -> None:
    candidates, front, reference = problem
    assert hypervolume_improvement(candidates, front, reference).tolist() == pytest.approx(
        _differences(candidates, front, reference)
    )


def test_the_vectorised_plane_agrees_with_the_general_path() -> None:
    rng = np.random.default_rng(2)
    front = rng.uniform(size=(400, 2))
    candidates = rng.uniform(size=(3000, 2)) * 1.1
    planar = hypervolume_improvement(candidates, front, [0.0, 0.0])
    # A constant third objective sends the same question through the general path.
    lift = np.full((len(candidates), 1), 2.0)
    spatial = hypervolume_improvement(
        np.hstack([candidates, lift]), np.hstack([front, lift[: len(front)]]), [0.0, 0.0, 1.0]
    )
    assert spatial.tolist() == pytest.approx(planar.tolist(), rel=1e-9, abs=1e-12)
    assert (planar > 0).any() and (planar == 0).any()


def test_an_empty_front_gives_each_candidate_its_box() -> None:
    assert hypervolume_improvement([[2.0, 3.0], [0.5, 9.0]], [], [1.0, 1.0]).tolist() == [2.0, 0.0]
    assert hypervolume_improvement([], [[1.0, 1.0]], [0.0, 0.0]).shape == (0,)


def test_nan_candidates_improve_nothing_and_infinity_follows_the_volumes() -> None:
    nan, inf = float("nan"), float("inf")
    assert hypervolume_improvement([[nan, 5.0]], [[1.0, 1.0]], [0.0, 0.0]).tolist() == [0.0]
    assert hypervolume_improvement([[inf, 5.0]], [[1.0, 1.0]], [0.0, 0.0]).tolist() == [inf]
    assert np.isnan(hypervolume_improvement([[inf, 5.0]], [[inf, 1.0]], [0.0, 0.0])).all()


@pytest.mark.parametrize(
    ("candidates", "front", "reference", "message"),
    [
        ([[1.0, 2.0]], [[1.0, 2.0, 3.0]], [0.0, 0.0], "front has 3 objectives per point"),
        ([[1.0, 2.0]], [[1.0, 2.0]], [0.0], "reference has 1 objectives, the points have 2"),
        ([1.0, 2.0], [[1.0, 2.0]], [0.0, 0.0], r"candidates must have shape \(n, m\)"),
        ([], [[1.0, 2.0]], [0.0, 0.0, 0.0], "reference has 3 objectives"),
    ],
)
def test_bad_input_is_named(
    candidates: object, front: object, reference: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        hypervolume_improvement(candidates, front, reference)
