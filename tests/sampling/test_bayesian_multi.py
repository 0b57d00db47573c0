"""BayesianParameterSampling with several objectives and constraints: the one-objective
sampler unchanged, determinism, feasibility, failures, pending trials, and hypervolume
against random search on ZDT1, DTLZ2 and a constrained BNH.

Run as a script for the numbers: ``python tests/sampling/test_bayesian_multi.py``.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from hypersweep.pareto import hypervolume
from hypersweep.sampling import BayesianParameterSampling, FinishedTrial, RandomParameterSampling
from hypersweep.sampling._acquisition import LogEI
from hypersweep.sampling._gp import GaussianProcess
from hypersweep.sampling._multi import LogEIFeasible
from hypersweep.sampling._warp import warp_violations
from hypersweep.space import choice, loguniform, randint, uniform

Problem = Callable[[Mapping[str, Any]], tuple[tuple[float, ...], tuple[float, ...] | None]]


def _x(p: Mapping[str, Any], d: int) -> np.ndarray:
    return np.array([p[f"x{i}"] for i in range(d)])


def zdt1(p: Mapping[str, Any]) -> tuple[tuple[float, ...], None]:
    x = _x(p, 6)
    g = 1.0 + 9.0 * x[1:].mean()
    f2 = g * (1.0 - math.sqrt(x[0] / g))
    return (-x[0], -f2), None  # both minimised: negated


def dtlz2(p: Mapping[str, Any]) -> tuple[tuple[float, ...], None]:
    x = _x(p, 6)
    g = float(np.sum((x[2:] - 0.5) ** 2))
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    f = (1 + g) * np.array([math.cos(a) * math.cos(b), math.cos(a) * math.sin(b), math.sin(a)])
    return tuple(-f), None


def bnh(p: Mapping[str, Any]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    x1, x2 = 5.0 * p["x0"], 3.0 * p["x1"]
    f1, f2 = 4 * x1**2 + 4 * x2**2, (x1 - 5) ** 2 + (x2 - 5) ** 2
    # BNH's constraints, made harder (the first circle is shrunk) so that feasibility matters
    c1 = (x1 - 5) ** 2 + x2**2 - 9.0
    c2 = 7.7 - (x1 - 8) ** 2 - (x2 + 3) ** 2
    return (-f1, -f2), (c1, c2)


PROBLEMS: dict[str, tuple[Problem, int, tuple[float, ...]]] = {
    # name: (function, input dimensions, reference point in oriented values)
    "zdt1": (zdt1, 6, (-11.0, -11.0)),
    "dtlz2": (dtlz2, 6, (-1.1, -1.1, -1.1)),
    "bnh": (bnh, 2, (-140.0, -50.0)),
}


def run(sampler: Any, problem: Problem, budget: int) -> list[FinishedTrial]:
    finished: list[FinishedTrial] = []
    while len(finished) < budget:
        [config] = sampler.propose(1, finished, [])
        values, violations = problem(config)
        finished.append(FinishedTrial(config, values[0], values, violations))
    return finished


def final_hypervolume(finished: list[FinishedTrial], reference: tuple[float, ...]) -> float:
    points = [t.values for t in finished if t.values is not None and t.feasible]
    return hypervolume(np.array(points), np.array(reference)) if points else 0.0


def compare(name: str, seeds: range, budget: int = 50) -> tuple[list[float], list[float]]:
    problem, d, reference = PROBLEMS[name]
    space = {f"x{i}": uniform(0.0, 1.0) for i in range(d)}
    ours, random = [], []
    for seed in seeds:
        ours.append(final_hypervolume(
            run(BayesianParameterSampling(space, seed=seed), problem, budget), reference))
        random.append(final_hypervolume(
            run(RandomParameterSampling(space, seed=seed), problem, budget), reference))
    return ours, random


def _one_objective_history(as_values: bool) -> tuple[dict[str, Any], list[FinishedTrial]]:
    space = {"x": uniform(-2.0, 2.0), "y": loguniform(-3, 0), "c": choice("a", "b", "c"),
             "k": randint(5)}

    def f(p: Mapping[str, Any]) -> float:
        return -(p["x"] - 0.4) ** 2 - (math.log(p["y"]) + 1) ** 2 + (p["c"] == "b") - 0.1 * p["k"]

    sampler = BayesianParameterSampling(space, seed=11)
    finished: list[FinishedTrial] = []
    for i in range(16):
        [config] = sampler.propose(1, finished, [])
        score = None if i == 7 else f(config)
        values = None if score is None or not as_values else (score,)
        finished.append(FinishedTrial(config, score, values))
    return space, finished


def test_one_objective_without_constraints_proposes_as_before() -> None:
    # Recorded with the one-objective sampler alone (re-recorded when its local moves took
    # the shape of the lengthscales, and when they were reflected at the faces and flat
    # dimensions held in the polish, and when the GP's prior mean became a low quantile of the
    # scores, which moved these from the faces to the optimum x=0.4, y=e^-1, c="b"): the
    # several-objective path must not change it.
    space, finished = _one_objective_history(as_values=False)
    proposals = BayesianParameterSampling(space, seed=11).propose(3, finished,
                                                                  [finished[-1].params])
    before = [{"x": 0.421014438701921, "y": 0.3682336773098925, "c": "b", "k": 3},
              {"x": 0.3978175346272135, "y": 0.36561030874324896, "c": "b", "k": 3},
              {"x": 0.4206341394189774, "y": 0.3621055984786574, "c": "b", "k": 3}]
    assert [(p["c"], p["k"]) for p in proposals] == [(p["c"], p["k"]) for p in before]
    for got, want in zip(proposals, before, strict=True):
        assert got["x"] == pytest.approx(want["x"], rel=1e-6)
        assert got["y"] == pytest.approx(want["y"], rel=1e-6)
    # ... and a history that also carries values=(score,) is the same history
    space, with_values = _one_objective_history(as_values=True)
    assert [t.params for t in with_values] == [t.params for t in finished]
    again = BayesianParameterSampling(space, seed=11).propose(3, with_values,
                                                              [finished[-1].params])
    assert again == proposals


def _space(d: int) -> dict[str, Any]:
    return {f"x{i}": uniform(0.0, 1.0) for i in range(d)}


def test_same_history_same_proposals_and_a_rebuilt_sampler_continues() -> None:
    for name in ("zdt1", "bnh"):
        problem, d, _ = PROBLEMS[name]
        finished = run(BayesianParameterSampling(_space(d), seed=3), problem, 14)
        pending = [finished[-1].params]
        a = BayesianParameterSampling(_space(d), seed=5).propose(3, finished[:-1], pending)
        # a new sampler (a resumed sweep) with the same seed and history: the same answer
        assert a == BayesianParameterSampling(_space(d), seed=5).propose(3, finished[:-1],
                                                                         pending)
        assert a != BayesianParameterSampling(_space(d), seed=6).propose(3, finished[:-1],
                                                                         pending)
        assert len({tuple(p.values()) for p in a}) == 3  # a batch spreads


def test_constraints_are_learned_and_feasibility_is_sought_first() -> None:
    space = _space(2)

    def problem(p: Mapping[str, Any]) -> tuple[tuple[float, ...], tuple[float, ...]]:
        # maximise x0 + x1 subject to x0 <= 0.3 (a corner most points violate)
        return (p["x0"] + p["x1"],), (p["x0"] - 0.3,)

    infeasible = [FinishedTrial({"x0": 0.4 + 0.06 * i, "x1": (0.37 * i) % 1.0}, 1.0,
                                (1.0,), (0.1 + 0.06 * i,)) for i in range(8)]
    # no feasible trial yet: the proposals go towards feasibility
    proposals = BayesianParameterSampling(space, seed=0).propose(3, infeasible, [])
    assert sum(p["x0"] < 0.4 for p in proposals) >= 2
    # The optimum, 1.3 at (0.3, 1), is on the constraint's boundary: once found, the later
    # trials gather there and land on either side of it by a hair (which side moved with the
    # machine's floating point: 4 to 11 of 13 strictly feasible over seeds 0-5), so what is
    # counted is being at the boundary or inside, over three seeds.
    near, late_trials = 0, 0
    for seed in range(3):
        finished = run(BayesianParameterSampling(space, seed=seed), problem, 25)
        late = finished[12:]
        near += sum((t.violations or (1.0,))[0] <= 0.01 for t in late)
        late_trials += len(late)
        best = max((t.values or (0.0,))[0] for t in finished if t.feasible)
        assert best > 1.15, (seed, best)
    assert near >= 0.7 * late_trials  # 33 of 39 on the machine this was written on


def test_failed_trials_and_inconsistent_lengths_do_not_break_it() -> None:
    space = _space(3)
    rows = RandomParameterSampling(space, seed=0).propose(12)
    finished = [FinishedTrial(p, p["x0"], (p["x0"], -p["x1"]), (p["x2"] - 0.5,)) for p in rows]
    finished[2] = FinishedTrial(rows[2], None, None, (math.inf,))      # crashed
    finished[3] = FinishedTrial(rows[3], 0.5, (0.5,), (0.1, 0.2))       # other lengths
    finished[4] = FinishedTrial(rows[4], 0.5, (0.5, math.nan), None)    # a NaN, no violations
    configs = BayesianParameterSampling(space, seed=0).propose(3, finished, [rows[5]])
    assert len(configs) == 3 and all(0.0 <= c["x0"] <= 1.0 for c in configs)
    # every trial failed or violating: the sampler still answers
    failed = [FinishedTrial(p, None, None, (math.inf,)) for p in rows]
    assert len(BayesianParameterSampling(space, seed=0).propose(2, failed, [])) == 2


def test_warped_violations_keep_the_threshold_between_met_and_violated() -> None:
    v = np.array([-5.0, -0.1, 0.0, 0.2, 3.0, 1e6, math.inf])
    warped = warp_violations(v)
    assert warped is not None
    z, at = warped
    assert ((z >= at) == (v <= 0)).all()
    assert (np.diff(z[:6]) < 0).all()  # the order is kept
    assert warp_violations(np.array([-1.0, -2.0])) is None  # all met: nothing to learn
    assert warp_violations(np.array([math.inf, math.inf])) is None
    z, at = warp_violations(np.array([1.0, 1.0, -1.0])) or (np.empty(0), 0.0)
    assert ((z >= at) == np.array([False, False, True])).all()


def test_feasibility_weighted_ei_has_exact_gradients() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((20, 2))
    # noisy data: the posterior variance stays away from 0, so log PoF stays moderate
    y = np.sin(4 * x[:, 0]) - x[:, 1] + rng.normal(0.0, 0.2, 20)
    v = np.cos(3 * x[:, 1]) + rng.normal(0.0, 0.2, 20)
    gp = GaussianProcess(np.zeros(2, dtype=bool)).fit(x, (y - y.mean()) / y.std(), rng)
    c = GaussianProcess(np.zeros(2, dtype=bool)).fit(x, (v - v.mean()) / v.std(), rng)
    for acq in (LogEIFeasible(LogEI(gp, 0.5), [(c, 0.2)]), LogEIFeasible(None, [(c, 0.2)])):
        xc = rng.random((5, 2))
        value, grad = acq.value_and_grad(xc)
        np.testing.assert_allclose(value, acq(xc))
        for i in range(2):
            step = np.zeros(2)
            step[i] = 1e-6
            numeric = (acq(xc + step) - acq(xc - step)) / 2e-6
            np.testing.assert_allclose(numeric, grad[:, i], rtol=1e-3, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_beats_random_search_in_hypervolume(name: str) -> None:
    ours, random = compare(name, range(3))
    assert np.mean(ours) > np.mean(random)


if __name__ == "__main__":
    names = sys.argv[1:] or list(PROBLEMS)
    for name in names:
        t0 = time.perf_counter()
        ours, random = compare(name, range(5))
        print(f"{name:6s} bayesian {np.mean(ours):9.4f} ± {np.std(ours):.4f}  "
              f"random {np.mean(random):9.4f} ± {np.std(random):.4f}  "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)


def test_a_constrained_quantized_objective_is_modelled_unwarped_as_without_constraints() -> None:
    from hypersweep.sampling._layout import Layout
    from hypersweep.sampling._multi_model import MultiModel

    sampling = BayesianParameterSampling({"x": uniform(0.0, 1.0), "y": uniform(0.0, 1.0)},
                                         seed=0)
    layout: Layout = sampling._layout
    rng = np.random.default_rng(0)
    x = rng.random((20, 2))
    # Skewed scores on a few levels, the best one reached at three different points.
    scores = np.array([40.0, 40.0, 40.0, 9.0, 9.0, 3.0, 3.0, 3.0, 2.0, 2.0,
                       1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0])
    violations = np.where(np.arange(20) % 4 == 3, 1.0, -1.0)[:, None]
    model = MultiModel(layout, x, scores[:, None], violations, 200, np.random.default_rng(1))
    model.suggest(np.empty((0, 2)), x, np.random.default_rng(2))
    assert model._template is not None
    fitted = model._template.y
    standardised = (scores - scores.mean()) / scores.std()
    np.testing.assert_allclose(fitted, standardised)  # affine in the scores: no power bend
