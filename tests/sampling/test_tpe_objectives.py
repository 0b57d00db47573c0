"""TPE with several objectives (MOTPE) and constraints: the good/bad split, the greedy
hypervolume tie-break, recorded one-objective proposals, determinism, and a small
benchmark against random search on ZDT1, DTLZ2 and BNH."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from _model_based_helpers import EVERY, every_objective
from hypothesis import given, settings
from hypothesis import strategies as st

from hypersweep.pareto import hypervolume, reference_point
from hypersweep.sampling import (
    FinishedTrial,
    RandomParameterSampling,
    TPEParameterSampling,
    _tpe_split,
)
from hypersweep.sampling._tpe_split import greedy_hypervolume_subset, split_trials
from hypersweep.space import choice, config_key, loguniform, randint, uniform

Outcome = tuple[tuple[float, ...] | None, tuple[float, ...] | None]


def trial(*values: float, violations: tuple[float, ...] | None = None,
          params: Mapping[str, Any] | None = None) -> FinishedTrial:
    return FinishedTrial(dict(params or {}), values[0] if values else None,
                         values=values or None, violations=violations)


def fixed(size: int) -> Callable[[int], int]:
    """A gamma giving ``size`` whatever the number of trials."""
    return lambda n: size


# --- one objective: proposals recorded from the sampler; giving values=(score,) changes nothing

SPACE = {"x": uniform(-2.0, 2.0), "k": randint(20), "c": choice("a", "b", "c"),
         "lr": loguniform(-5, 0)}


def _plain(p: Mapping[str, Any]) -> float | None:
    if p["k"] == 7:
        return None
    return -(p["x"] - 0.3) ** 2 - 0.05 * abs(p["k"] - 11) - (p["c"] != "b") + 0.1 * p["lr"]


RECORDED = {  # re-recorded when the good density's clip counted finished and good trials
    0: [{"x": 0.3866664724889821, "k": 5, "c": "b", "lr": 0.5903861237729685},
        {"x": 0.10412387329830253, "k": 11, "c": "b", "lr": 0.9736176422709449},
        {"x": -0.0008434161549504271, "k": 12, "c": "b", "lr": 0.05059955989609819}],
    1: [{"x": 0.3096919124872648, "k": 12, "c": "c", "lr": 0.013175487816583788},
        {"x": 0.621629941733933, "k": 14, "c": "a", "lr": 0.009660312125063566},
        {"x": 0.2796001144520761, "k": 14, "c": "b", "lr": 0.009331441602408896}],
    2: [{"x": 0.48940833073401846, "k": 12, "c": "b", "lr": 0.05091096122754434},
        {"x": 0.7567747913875205, "k": 7, "c": "b", "lr": 0.054065862863009226},
        {"x": 0.3979379469641273, "k": 11, "c": "a", "lr": 0.07154257875419855}],
}
RECORDED_EVERY = [  # re-recorded when the good density's clip counted finished and good trials
    {"u": 0.43628433629654717, "qu": 4, "lu": 0.08222338862022086, "qlu": 2,
     "n": 0.6245378400549569, "qn": 7.0, "ln": 0.6855018352651214, "qln": 6, "ri": 3, "c": "b",
     "model.kind": "svm", "model.C": 0.08010148669283694, "model.k": "rbf"},
    {"u": 0.4412939494572492, "qu": 4, "lu": 0.07971149662989035, "qlu": 2,
     "n": 0.823852732451074, "qn": 3.5, "ln": 0.6274585161479033, "qln": 7, "ri": 2, "c": "b",
     "model.kind": "svm", "model.C": 0.052247899009263875, "model.k": "rbf"},
]


def _same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert [sorted(g) for g in got] == [sorted(w) for w in want]
    for g, w in zip(got, want, strict=True):
        for key, value in w.items():
            if isinstance(value, float):
                assert math.isclose(g[key], value, rel_tol=1e-9, abs_tol=1e-12), key
            else:
                assert g[key] == value, key


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_values", [False, True])
def test_one_objective_proposals_are_unchanged(seed: int, with_values: bool) -> None:
    sampler = TPEParameterSampling(SPACE, seed=seed, n_initial=6)
    finished: list[FinishedTrial] = []
    while len(finished) < 45:  # two at a time, with failures (k == 7)
        for config in sampler.propose(2, finished, []):
            score = _plain(config)
            values = (score,) if with_values and score is not None else None
            finished.append(FinishedTrial(config, score, values=values))
    pending = [finished[-1].params, finished[-2].params]
    _same(sampler.propose(3, finished, pending), RECORDED[seed])


def test_one_objective_nested_space_proposals_are_unchanged() -> None:
    sampler = TPEParameterSampling(EVERY, seed=4, n_initial=5)
    finished: list[FinishedTrial] = []
    while len(finished) < 40:
        [config] = sampler.propose(1, finished, [])
        finished.append(FinishedTrial(config, every_objective(config)))
    _same(sampler.propose(2, finished, []), RECORDED_EVERY)


# --- the split


def test_one_objective_split_is_the_best_scores_ties_to_the_earlier() -> None:
    trials = [trial(1.0), trial(3.0), FinishedTrial({}, None), trial(3.0), trial(2.0)]
    split = split_trials(trials, gamma=lambda n: 2)
    assert split is not None
    assert split.good.tolist() == [1, 3] and split.bad.tolist() == [0, 2, 4]
    assert split_trials([FinishedTrial({}, None)] * 3) is None


def test_several_objectives_split_by_rank_then_hypervolume() -> None:
    trials = [trial(9.0, 9.0, 9.0),  # a warm start with other objectives: as failed
              trial(0.0, 3.0), trial(1.0, 2.9), trial(2.0, 2.0), trial(3.0, 0.0),  # front
              trial(5.0, 5.0),  # dominates them all: rank 0 alone
              trial(0.5, 0.5),  # rank 2
              FinishedTrial({}, 9.0),  # failed: an objective is missing
              trial(9.0, float("nan"))]  # as failed
    split = split_trials(trials, gamma=lambda n: 3)
    assert split is not None
    # rank 0 is trial 5; of rank 1, the greedy hypervolume pick keeps 3 then 2
    assert split.good.tolist() == [2, 3, 5]
    assert split.bad.tolist() == [0, 1, 4, 6, 7, 8]
    assert split.weights.tolist() == [1.0, 1.0, 1.0]
    # default gamma with several objectives: ceil(n / 10), no cap at 25
    many = [trial(float(i), float(-i)) for i in range(400)]
    split = split_trials(many)
    assert split is not None and len(split.good) == 40


def test_constraints_rank_feasible_first_then_least_violating() -> None:
    trials = [trial(9.0, violations=(0.5, -1.0)),  # best score but infeasible
              trial(1.0, violations=(0.0, -2.0)),  # feasible (0 is met)
              trial(2.0, violations=(-1.0, -1.0)),  # feasible
              trial(8.0, violations=(0.1, 0.1)),  # infeasible, total 0.2
              trial(7.0, violations=(float("nan"), -1.0)),  # NaN counts as inf
              trial(6.0, violations=(float("inf"), -1.0))]
    for gamma, good in ((1, [2]), (2, [1, 2]), (3, [1, 2, 3]), (4, [0, 1, 2, 3]),
                        (5, [0, 1, 2, 3, 4])):
        split = split_trials(trials, gamma=fixed(gamma))
        assert split is not None and split.good.tolist() == good, gamma
    # nothing feasible yet: the least violating trials are the good ones
    infeasible = [trial(1.0, 1.0, violations=(v,)) for v in (3.0, 0.5, 2.0, 0.1)]
    split = split_trials(infeasible, gamma=lambda n: 2)
    assert split is not None and split.good.tolist() == [1, 3]
    # several objectives: the front of the feasible trials, not of all
    mixed = [trial(5.0, 5.0, violations=(1.0,)), trial(1.0, 2.0, violations=(-1.0,)),
             trial(2.0, 1.0, violations=(-1.0,)), trial(0.0, 0.0, violations=(-1.0,))]
    split = split_trials(mixed, gamma=lambda n: 2)
    assert split is not None and split.good.tolist() == [1, 2]


def _greedy_by_definition(points: np.ndarray, k: int) -> list[int]:
    reference = reference_point(points)
    chosen: list[int] = []
    for _ in range(k):
        base = hypervolume(points[chosen], reference) if chosen else 0.0
        gains = [-math.inf if i in chosen else
                 hypervolume(points[[*chosen, i]], reference) - base
                 for i in range(len(points))]
        chosen.append(int(np.argmax(gains)))
    return chosen


def _a_front(seed: int, n: int, m: int) -> np.ndarray:
    """``n`` mutually non-dominated points: on the unit sphere, in ``m`` objectives."""
    rng = np.random.default_rng(seed)
    direction = np.abs(rng.normal(size=(n, m))) + 1e-3
    return direction / np.linalg.norm(direction, axis=1, keepdims=True)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 14), m=st.integers(2, 4),
       data=st.data())
def test_greedy_subset_is_greedy_hypervolume_selection(seed: int, n: int, m: int,
                                                       data: st.DataObject) -> None:
    points = _a_front(seed, n, m)
    k = data.draw(st.integers(1, n))
    assert greedy_hypervolume_subset(points, k).tolist() == _greedy_by_definition(points, k)


def test_greedy_subset_without_the_grid_picks_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    points = _a_front(3, 30, 3)
    on_grid = greedy_hypervolume_subset(points, 12).tolist()
    monkeypatch.setattr(_tpe_split._Uncovered, "_MAX_CELLS", 0)
    assert greedy_hypervolume_subset(points, 12).tolist() == on_grid


# --- the sampler with several objectives and constraints


def zdt1(p: Mapping[str, Any]) -> Outcome:
    x = np.array([p[f"x{i}"] for i in range(6)])
    g = 1.0 + 9.0 * float(x[1:].sum()) / 5.0
    return (-float(x[0]), -g * (1.0 - math.sqrt(float(x[0]) / g))), None


def dtlz2(p: Mapping[str, Any]) -> Outcome:
    x = np.array([p[f"x{i}"] for i in range(6)])
    radius = 1.0 + float(((x[2:] - 0.5) ** 2).sum())
    a, b = float(x[0]) * math.pi / 2, float(x[1]) * math.pi / 2
    f = radius * np.array([math.cos(a) * math.cos(b), math.cos(a) * math.sin(b), math.sin(a)])
    return tuple(float(v) for v in -f), None


def bnh(p: Mapping[str, Any]) -> Outcome:
    x1, x2 = p["x0"], p["x1"]
    objectives = (-(4 * x1**2 + 4 * x2**2), -((x1 - 5) ** 2 + (x2 - 5) ** 2))
    violations = ((x1 - 5) ** 2 + x2**2 - 25, 7.7 - ((x1 - 8) ** 2 + (x2 + 3) ** 2))
    return objectives, violations


UNIT6 = {f"x{i}": uniform(0.0, 1.0) for i in range(6)}
PROBLEMS: dict[str, tuple[dict[str, Any], Callable[[Mapping[str, Any]], Outcome],
                          list[float]]] = {
    "zdt1": (UNIT6, zdt1, [-1.1, -11.0]),
    "dtlz2": (UNIT6, dtlz2, [-2.1, -2.1, -2.1]),
    "bnh": ({"x0": uniform(0.0, 5.0), "x1": uniform(0.0, 3.0)}, bnh, [-140.0, -50.0]),
}


def loop(sampler: Any, problem: Callable[[Mapping[str, Any]], Outcome], budget: int,
         batch: int = 1) -> list[FinishedTrial]:
    finished: list[FinishedTrial] = []
    while len(finished) < budget:
        for config in sampler.propose(batch, finished, []):
            values, violations = problem(config)
            score = values[0] if values else None
            finished.append(FinishedTrial(config, score, values=values, violations=violations))
    return finished


def front_volume(finished: list[FinishedTrial], reference: list[float]) -> float:
    points = [t.values for t in finished if t.values is not None and t.feasible]
    return hypervolume(points, reference) if points else 0.0


def test_several_objectives_deterministic_and_resumable() -> None:
    space, problem, _ = PROBLEMS["bnh"]
    history = loop(TPEParameterSampling(space, seed=3, n_initial=5), problem, 20)
    # a fresh sampler with the same seed given the first 15 trials proposes the 16th again
    again = TPEParameterSampling(space, seed=3, n_initial=5).propose(1, history[:15], [])
    assert again == [history[15].params]
    a = TPEParameterSampling(space, seed=5).propose(3, history, [history[0].params])
    assert a == TPEParameterSampling(space, seed=5).propose(3, history, [history[0].params])
    assert len({config_key(c) for c in a}) == 3
    assert a != TPEParameterSampling(space, seed=6).propose(3, history, [history[0].params])


def test_failures_pending_and_all_infeasible_never_crash() -> None:
    space = {"x": uniform(0.0, 1.0), "c": choice("a", "b")}

    def half_failing(p: Mapping[str, Any]) -> Outcome:
        if p["x"] > 0.8:
            return None, (math.inf,)
        return (p["x"], 1.0 - p["x"] ** 2), (0.5 - p["x"] * (p["c"] == "a"),)

    sampler = TPEParameterSampling(space, seed=1, n_initial=4)
    finished = loop(sampler, half_failing, 24, batch=3)
    assert len({config_key(t.params) for t in finished}) == 24
    late = finished[12:]
    assert sum(t.feasible for t in late) > len(late) / 2  # it learns where constraints hold
    for config in sampler.propose(4, finished, [finished[0].params]):
        assert 0.0 <= config["x"] <= 1.0


@pytest.mark.slow
def test_motpe_beats_random_search() -> None:
    """50 trials, 3 seeds each; the hypervolume at a fixed reference point."""
    means = {}
    for name, (space, problem, reference) in PROBLEMS.items():
        ours = [front_volume(loop(TPEParameterSampling(space, seed=s), problem, 50), reference)
                for s in range(3)]
        random = [front_volume(loop(RandomParameterSampling(space, seed=s), problem, 50),
                               reference) for s in range(3)]
        means[name] = (float(np.mean(ours)), float(np.mean(random)))
    # DTLZ2 is hard at 50 trials (Optuna's TPE does no better than random there either):
    # only the average over the three problems, and ZDT1 alone, must beat random.
    assert np.mean([o / r for o, r in means.values()]) > 1.02, means
    assert means["zdt1"][0] > means["zdt1"][1], means


def test_several_objectives_use_per_dimension_estimators() -> None:
    """With several objectives (per-dimension estimators) proposals are valid and the same
    from a fresh sampler as from one that saw the history grow."""
    space, problem, _ = PROBLEMS["zdt1"]
    history = loop(TPEParameterSampling(space, seed=0, n_initial=8), problem, 30)
    [config] = TPEParameterSampling(space, seed=1).propose(1, history, [])
    assert all(0.0 <= config[f"x{i}"] <= 1.0 for i in range(6))
    # the same proposal again from a sampler that saw the history grow
    grown = TPEParameterSampling(space, seed=1)
    grown.propose(1, history[:20], [])
    assert grown.propose(1, history, []) == [config]
