"""BayesianParameterSampling: determinism, validity, failures, pending, warm start, quality."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from _model_based_helpers import EVERY, check_valid, every_objective, run

from hypersweep.errors import ConfigError
from hypersweep.sampling import (
    BayesianParameterSampling,
    FinishedTrial,
    RandomParameterSampling,
    sampler_from_dict,
)
from hypersweep.sampling._acquisition import LogEI, log_ei, log_h
from hypersweep.sampling._gp import GaussianProcess
from hypersweep.sampling._warp import warp_scores
from hypersweep.space import SearchSpace, choice, config_key, loguniform, randint, uniform


def test_every_expression_and_nested_space_gives_valid_proposals() -> None:
    space = SearchSpace(EVERY)
    sampler = BayesianParameterSampling(space, seed=1, n_initial=4)
    finished = run(sampler, every_objective, 14)
    for trial in finished:
        check_valid(space, trial.params)
    configs = sampler.propose(3, finished, [finished[-1].params])
    assert len(configs) == 3
    for config in configs:
        check_valid(space, config)


def test_same_history_same_proposal_and_seed_matters() -> None:
    space = {"x": uniform(0.0, 1.0), "y": loguniform(-3, 0), "c": choice(1, 2, 3)}
    history = run(BayesianParameterSampling(space, seed=0, n_initial=5),
                  lambda p: -(p["x"] - 0.3) ** 2 + p["c"], 8)
    a = BayesianParameterSampling(space, seed=5).propose(2, history, [])
    assert a == BayesianParameterSampling(space, seed=5).propose(2, history, [])
    assert a != BayesianParameterSampling(space, seed=6).propose(2, history, [])
    # the space-filling start is the Sobol stream, resumable like random sampling
    sampler = BayesianParameterSampling(space, seed=3)
    first = sampler.propose(3, [], [])
    assert sampler.propose(2, [], first[:1]) == first[1:]


def test_all_failed_or_constant_scores_still_propose_distinct_configs() -> None:
    space = {"x": uniform(0.0, 1.0), "k": randint(50)}
    for score in (None, 1.0, float("nan")):
        sampler = BayesianParameterSampling(space, seed=2)
        def constant(p: Mapping[str, Any], s: float | None = score) -> float | None:
            return s

        finished = run(sampler, constant, 15)
        keys = {config_key(t.params) for t in finished}
        assert len(keys) == 15
        assert len(sampler.propose(2, finished, [])) == 2


def test_failed_trials_push_the_search_away() -> None:
    space = {"x": uniform(0.0, 1.0)}
    sampler = BayesianParameterSampling(space, seed=0, n_initial=6)
    # the better half of the line fails: the model must not propose inside it again
    finished = run(sampler, lambda p: None if p["x"] > 0.5 else p["x"], 12)
    proposals = sampler.propose(3, finished, [])
    assert sum(p["x"] > 0.6 for p in proposals) <= 1


def test_pending_trials_spread_a_batch() -> None:
    space = {"x": uniform(0.0, 1.0), "y": uniform(0.0, 1.0)}
    sampler = BayesianParameterSampling(space, seed=4, n_initial=8)
    finished = run(sampler, lambda p: -((p["x"] - 0.7) ** 2 + (p["y"] - 0.2) ** 2), 12)
    batch = sampler.propose(4, finished, [])
    points = np.array([[c["x"], c["y"]] for c in batch])
    gaps = [np.linalg.norm(points[i] - points[j]) for i in range(4) for j in range(i)]
    # Distinct points: without the pending ones in the model all four would be the same point.
    # (How far apart they land near a found optimum depends on the seed: within 0.03 of each
    # other for most seeds on this bowl, which is fine exploitation, so no spread is asserted.)
    assert min(gaps) > 0.0
    # a pending trial counts: the next proposal is not the same point again
    [alone] = sampler.propose(1, finished, [])
    [after] = sampler.propose(1, finished, [alone])
    assert after != alone


def test_discrete_space_is_not_repeated_until_exhausted() -> None:
    space = {"a": choice("x", "y", "z"), "b": randint(3)}
    sampler = BayesianParameterSampling(space, seed=0, n_initial=3)
    finished = run(sampler, lambda p: float(p["b"]) + (p["a"] == "y"), 9)
    assert len({config_key(t.params) for t in finished}) == 9
    assert len(sampler.propose(2, finished, [])) == 2  # exhausted: repeats, no hang


def test_warm_start_with_foreign_parameters_never_crashes() -> None:
    space = {"x": uniform(0.0, 1.0), "c": choice("a", "b")}
    foreign = [
        FinishedTrial({"x": 5.0, "c": "a"}, 1.0),            # outside a narrowed range
        FinishedTrial({"x": 0.2, "c": "gone"}, 2.0),         # an option no longer there
        FinishedTrial({"x": 0.3}, 0.5),                      # a parameter missing
        FinishedTrial({"x": 0.4, "c": "b", "old": 1}, 0.7),  # an extra parameter
        FinishedTrial({"x": "text", "c": "a"}, 0.1),         # a value of the wrong type
        FinishedTrial({"x": 0.9, "c": "b"}, float("inf")),
    ]
    ok = [FinishedTrial({"x": i / 10, "c": "ab"[i % 2]}, -abs(i / 10 - 0.25)) for i in range(8)]
    sampler = BayesianParameterSampling(space, seed=0)
    for config in sampler.propose(2, foreign + ok, [{"x": 0.5, "c": "zz"}]):
        assert 0.0 <= config["x"] <= 1.0 and config["c"] in ("a", "b")


def test_beats_random_search_on_a_smooth_function() -> None:
    space = {f"x{i}": uniform(-2.0, 2.0) for i in range(4)}
    centre = np.array([0.7, -1.1, 0.3, 1.4])

    def sphere(p: Mapping[str, Any]) -> float:
        x = np.array([p[f"x{i}"] for i in range(4)])
        return -float(np.sum((x - centre) ** 2))

    ours = max(t.score or -1e9 for t in run(BayesianParameterSampling(space, seed=0), sphere, 25))
    random = max(t.score or -1e9 for t in run(RandomParameterSampling(space, seed=0), sphere, 25))
    assert -ours < 0.1 * -random  # regret at least 10x smaller
    assert -ours < 0.05


def test_to_dict_round_trips_and_yaml_forms() -> None:
    space = SearchSpace({"x": uniform(0.0, 1.0)})
    sampler = BayesianParameterSampling(space)
    assert sampler.to_dict() == {"type": "bayesian", "seed": sampler.seed}
    again = sampler_from_dict(sampler.to_dict(), space)
    assert isinstance(again, BayesianParameterSampling) and again.seed == sampler.seed
    assert again.preview(3) == sampler.preview(3)
    assert isinstance(sampler_from_dict("bayesian", space), BayesianParameterSampling)
    five = sampler_from_dict({"type": "Bayesian", "seed": 1, "n_initial": 5}, space)
    assert five.to_dict() == {"type": "bayesian", "seed": 1, "n_initial": 5}
    with pytest.raises(ConfigError, match=r"sampling_algorithm\.seed expects"):
        sampler_from_dict({"type": "bayesian", "seed": -1}, space)
    with pytest.raises(ConfigError, match="n_initial expects"):
        BayesianParameterSampling(space, n_initial=0)


def test_log_ei_is_stable_and_its_gradients_are_exact() -> None:
    z = np.array([-1e4, -200.0, -30.0, -1.0, 0.0, 5.0])
    assert np.isfinite(log_h(z)).all() and (np.diff(log_h(z)) > 0).all()
    mean, var = np.array([0.3]), np.array([0.2])
    _, d_mean, d_var = log_ei(mean, var, 1.0)
    eps = 1e-6
    assert math.isclose((log_ei(mean + eps, var, 1.0)[0] - log_ei(mean - eps, var, 1.0)[0])[0]
                        / (2 * eps), d_mean[0], rel_tol=1e-5)
    assert math.isclose((log_ei(mean, var + eps, 1.0)[0] - log_ei(mean, var - eps, 1.0)[0])[0]
                        / (2 * eps), d_var[0], rel_tol=1e-5)


def test_gp_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    categorical = np.array([False, False, True])
    x = rng.random((25, 3))
    x[:, 2] = (np.floor(x[:, 2] * 3) + 0.5) / 3
    y = np.sin(5 * x[:, 0]) + x[:, 1] + (x[:, 2] > 0.5)
    gp = GaussianProcess(categorical).fit(x, (y - y.mean()) / y.std(), rng)
    dist = gp._distances(x, x)
    theta = gp._default_theta() + 0.1  # well conditioned: no jitter needed
    _, grad = gp._neg_log_posterior(theta, dist, (y - y.mean()) / y.std())
    for i in range(len(theta)):
        step = np.zeros_like(theta)
        step[i] = 1e-6
        plus = gp._neg_log_posterior(theta + step, dist, (y - y.mean()) / y.std())[0]
        minus = gp._neg_log_posterior(theta - step, dist, (y - y.mean()) / y.std())[0]
        assert math.isclose((plus - minus) / 2e-6, grad[i], rel_tol=1e-4, abs_tol=1e-5)
    xc = x[:2] + 0.01
    _, _, dmean, dvar = gp.predict_grad(xc)
    for i in range(2):
        step = np.zeros(3)
        step[i] = 1e-6
        m_plus, v_plus = gp.predict(xc + step)
        m_minus, v_minus = gp.predict(xc - step)
        np.testing.assert_allclose((m_plus - m_minus) / 2e-6, dmean[:, i], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose((v_plus - v_minus) / 2e-6, dvar[:, i], rtol=1e-4, atol=1e-6)
    # ... and through the acquisition the optimiser climbs, conditioned on a believed point.
    believed = gp.conditioned(np.vstack([x, xc[:1]]), np.append(gp.y, gp.predict(xc[:1])[0]))
    acq = LogEI(believed, float(gp.y.max()))
    value, grad = acq.value_and_grad(xc + 0.05)
    np.testing.assert_allclose(value, acq(xc + 0.05))
    for i in range(2):
        step = np.zeros(3)
        step[i] = 1e-6
        numeric = (acq(xc + 0.05 + step) - acq(xc + 0.05 - step)) / 2e-6
        np.testing.assert_allclose(numeric, grad[:, i], rtol=1e-4, atol=1e-6)


def test_warp_keeps_order_and_makes_failures_worst() -> None:
    y = np.array([0.1, 0.2, np.nan, 1e6, -1e9, 0.15])
    z = warp_scores(y)
    assert z is not None
    ok = np.isfinite(y)
    assert (np.argsort(z[ok]) == np.argsort(y[ok])).all()
    assert z[2] == z.min()
    assert warp_scores(np.array([1.0, 1.0, np.nan])) is None


def test_a_quantized_metric_is_standardised_not_power_transformed() -> None:
    # Skewed scores: Yeo-Johnson bends them, so a linear result means the warp was skipped.
    y = np.array([0.0, 0.5, 1.0, 1.0, 2.0, 3.0, 40.0])
    steps = np.linspace(0.0, 1.0, len(y))[:, None]  # every score at its own point
    z = warp_scores(y, steps)
    assert z is not None
    clipped = np.maximum(y, np.median(y) - 5.0 * (np.percentile(y, 75) - np.percentile(y, 25)))
    np.testing.assert_allclose(z, (clipped - clipped.mean()) / clipped.std())
    # The tie comes from one point tried twice: a continuous metric, warped as usual.
    repeated = steps.copy()
    repeated[3] = repeated[2]
    bent = warp_scores(y, repeated)
    assert bent is not None and not np.allclose(bent, z)
    assert (np.argsort(bent, kind="stable") == np.argsort(y, kind="stable")).all()
