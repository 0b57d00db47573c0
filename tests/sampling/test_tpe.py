"""TPEParameterSampling: determinism, valid proposals, failures, pending, warm start, quality."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from _model_based_helpers import EVERY, check_valid, every_objective, run

from hypersweep.errors import ConfigError
from hypersweep.sampling import (
    FinishedTrial,
    RandomParameterSampling,
    TPEParameterSampling,
    sampler_from_dict,
)
from hypersweep.sampling._layout import Layout
from hypersweep.sampling._parzen import ParzenEstimator
from hypersweep.sampling._tpe_split import multi_objective_gamma
from hypersweep.sampling.tpe import default_gamma, good_clip_count, recency_weights
from hypersweep.space import SearchSpace, choice, config_key, quniform, randint, uniform


def test_every_expression_and_nested_space_gives_valid_proposals() -> None:
    space = SearchSpace(EVERY)
    sampler = TPEParameterSampling(space, seed=1, n_initial=5)
    finished = run(sampler, every_objective, 40)
    for trial in finished:
        check_valid(space, trial.params)
    for config in sampler.propose(4, finished, [finished[-1].params]):
        check_valid(space, config)
    # the nested model learns the better branch
    late = [t.params.get("model.kind") for t in finished[20:]]
    assert late.count("tree") > len(late) / 2


def test_same_history_same_proposal_and_seed_matters() -> None:
    space = {"x": uniform(0.0, 1.0), "c": choice("p", "q", "r")}
    history = run(TPEParameterSampling(space, seed=0), lambda p: -p["x"], 15)
    a = TPEParameterSampling(space, seed=5).propose(3, history, [])
    assert a == TPEParameterSampling(space, seed=5).propose(3, history, [])
    assert a != TPEParameterSampling(space, seed=6).propose(3, history, [])


def test_all_failed_or_constant_scores_and_pending() -> None:
    space = {"x": uniform(0.0, 1.0), "k": randint(50)}
    for score in (None, 1.0):
        sampler = TPEParameterSampling(space, seed=2)
        finished = run(sampler, lambda p, s=score: s, 20)
        assert len({config_key(t.params) for t in finished}) == 20
        batch = sampler.propose(4, finished, [finished[0].params])
        assert len({config_key(c) for c in batch}) == 4


def test_discrete_space_is_not_repeated_until_exhausted() -> None:
    space = {"a": choice("x", "y", "z"), "b": randint(4)}
    sampler = TPEParameterSampling(space, seed=0, n_initial=3)
    finished = run(sampler, lambda p: float(p["b"]) + (p["a"] == "y"), 12)
    assert len({config_key(t.params) for t in finished}) == 12
    assert len(sampler.propose(2, finished, [])) == 2


def test_warm_start_with_foreign_parameters_never_crashes() -> None:
    space = {"x": uniform(0.0, 1.0), "c": choice("a", "b")}
    foreign = [FinishedTrial({"x": 5.0, "c": "a"}, 1.0), FinishedTrial({"x": 0.2, "c": "no"}, 2.0),
               FinishedTrial({"x": 0.3}, 0.5), FinishedTrial({"x": "?", "c": "a"}, 0.1)]
    ok = [FinishedTrial({"x": i / 20, "c": "ab"[i % 2]}, -abs(i / 20 - 0.25)) for i in range(15)]
    for config in TPEParameterSampling(space, seed=0).propose(3, foreign + ok, [{"y": 1}]):
        assert 0.0 <= config["x"] <= 1.0 and config["c"] in ("a", "b")


def test_beats_random_search_on_a_smooth_function() -> None:
    space = {f"x{i}": uniform(-2.0, 2.0) for i in range(3)}
    centre = np.array([0.7, -1.1, 0.3])

    def sphere(p: Mapping[str, Any]) -> float:
        return -float(np.sum((np.array([p[f"x{i}"] for i in range(3)]) - centre) ** 2))

    def regret(sampler: Any) -> float:
        return -max(t.score or -1e9 for t in run(sampler, sphere, 80))

    ours = [regret(TPEParameterSampling(space, seed=s)) for s in range(3)]
    random = [regret(RandomParameterSampling(space, seed=s)) for s in range(3)]
    assert np.median(ours) < 0.5 * np.median(random)


def test_parzen_estimator_density_and_nested_kernels() -> None:
    space = SearchSpace({"m": choice({"kind": "a", "v": uniform(0, 1)}, "b")})
    layout = Layout(space)
    x = layout.snap(np.array([[0.1, 0.3], [0.2, 0.35], [0.9, 0.5]]))[0]
    pe = ParzenEstimator(x, np.ones(3), layout)
    near, far = layout.snap(np.array([[0.1, 0.32], [0.1, 0.95]]))[0]
    assert pe.log_pdf(near[None])[0] > pe.log_pdf(far[None])[0]
    draws = pe.sample(np.random.default_rng(0), 200)
    assert ((draws >= 0) & (draws <= 1)).all()
    # inactive dims sit at 0.5 in every draw that picked the option without them
    assert (draws[draws[:, 0] > 0.5, 1] == 0.5).all()


def test_gamma_weights_and_config_forms() -> None:
    assert [default_gamma(n) for n in (1, 10, 11, 1000)] == [1, 1, 2, 25]
    weights = recency_weights(40)
    assert len(weights) == 40 and weights[0] < weights[-16] == weights[-1] == 1.0
    space = SearchSpace({"x": uniform(0.0, 1.0)})
    sampler = sampler_from_dict({"type": "tpe", "seed": 3}, space)
    assert isinstance(sampler, TPEParameterSampling)
    assert sampler.to_dict() == {"type": "tpe", "seed": 3}
    assert sampler_from_dict(sampler.to_dict(), space).preview(4) == sampler.preview(4)
    with pytest.raises(ConfigError, match="unknown key 'gamma' for tpe"):
        sampler_from_dict({"type": "tpe", "gamma": 0.2}, space)
    with pytest.raises(ConfigError, match="n_candidates expects"):
        TPEParameterSampling(space, n_candidates=0)


def test_parzen_marginals_are_the_one_dimensional_estimators() -> None:
    space = SearchSpace({"x": uniform(0, 1), "y": uniform(0, 1), "c": choice("a", "b", "c")})
    layout = Layout(space)
    rng = np.random.default_rng(0)
    x = layout.snap(rng.random((9, 3)))[0]
    weights = np.linspace(0.2, 1.0, 9)
    pe = ParzenEstimator(x, weights, layout)
    draws = pe.sample(rng, 50, independent=True)
    assert draws.shape == (50, 3) and ((draws >= 0) & (draws <= 1)).all()
    marginals = pe.log_pdf_dims(draws)
    for j, name in enumerate(("x", "y", "c")):
        one = Layout(SearchSpace({name: space[name]}))
        alone = ParzenEstimator(x[:, [j]], weights, one).log_pdf(draws[:, [j]])
        np.testing.assert_allclose(marginals[:, j], alone, rtol=1e-10, atol=1e-12)


def test_a_reused_sampler_proposes_what_a_fresh_one_does() -> None:
    space = {"x": uniform(0.0, 1.0), "k": randint(9), "c": choice("p", "q")}
    history = run(TPEParameterSampling(space, seed=1), lambda p: -p["x"] - p["k"], 30)
    reused = TPEParameterSampling(space, seed=4)
    # growing, shrinking, reordered and rebuilt histories: the rows kept from the previous
    # call are reused only while they belong to the very same trials
    for finished in (history[:20], history[:25], history[:15], history[::-1],
                     [FinishedTrial(t.params, t.score) for t in history], history):
        want = TPEParameterSampling(space, seed=4).propose(2, finished, [history[0].params])
        assert reused.propose(2, finished, [history[0].params]) == want


def test_parzen_density_without_nesting_is_the_sum_of_its_kernels() -> None:
    space = SearchSpace({"x": uniform(0, 1), "k": randint(5), "c": choice("a", "b", "c")})
    layout = Layout(space)
    rng = np.random.default_rng(1)
    pe = ParzenEstimator(layout.snap(rng.random((12, 3)))[0], np.linspace(0.2, 1.0, 12), layout)
    xc = layout.snap(rng.random((30, 3)))[0]
    total = pe.log_w + sum(pe._log_kernels(xc))
    top = total.max(axis=1)
    want = np.log(np.exp(total - top[:, None]).sum(axis=1)) + top
    np.testing.assert_allclose(pe.log_pdf(xc), want, rtol=1e-10, atol=1e-10)


def test_discrete_dimensions_score_the_mass_of_each_value_cell() -> None:
    # quniform(-5, 5, 1) puts 11 values 0.1 apart on the cube (the end ones own half cells),
    # randint(11) and an ordinal choice own equal cells; a fine lattice stays continuous
    space = SearchSpace({"q": quniform(-5, 5, 1), "k": randint(11), "o": choice(1, 2, 4, 8),
                         "f": quniform(0, 2000, 1), "u": uniform(0, 1)})
    layout = Layout(space)
    rng = np.random.default_rng(3)
    pe = ParzenEstimator(layout.snap(rng.random((40, 5)))[0], np.ones(40), layout)
    assert pe.cells == [0, 1, 2]
    for j, n_values in ((0, 11), (1, 11), (2, 4)):
        every = np.tile(layout.snap(rng.random((1, 5)))[0], (n_values, 1))
        every[:, j] = np.unique(layout.snap(np.tile(np.linspace(0, 1, 4097)[:, None],
                                                    (1, 5)))[0][:, j])
        # each kernel's masses over the values of the dimension sum to one
        mass = np.exp(pe._log_kernels(every)[j])
        np.testing.assert_allclose(mass.sum(axis=0), 1.0, rtol=1e-9)
    # repeated values keep the magic clip (1/42 here): their own cell takes most of the
    # kernel's mass, the neighbouring value (0.1 away) next to none
    x = layout.snap(np.tile([[0.3, 0.3, 0.3, 0.3, 0.3]], (40, 1)))[0]
    near = layout.snap(np.array([[0.3] * 5, [0.4] * 5]))[0]
    log_k = ParzenEstimator(x, np.ones(40), layout)._log_kernels(near)[0][:, 0]
    assert np.exp(log_k[0]) > 0.95 and np.exp(log_k[1]) < 0.02




def test_discrete_dimensions_take_a_narrower_share_of_the_neighbour_gap() -> None:
    # the same observations on the cube: a continuous dimension's bandwidth is the larger
    # neighbour gap, a discrete one's 0.7 of it; the magic clip (1/6 with 4 observations)
    # still bounds both below
    space = SearchSpace({"u": uniform(0, 10), "k": randint(11), "q": quniform(0, 10, 1)})
    layout = Layout(space)
    x = layout.snap(np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.8, 0.8, 0.8],
                              [1.0, 1.0, 1.0]]))[0]
    np.testing.assert_allclose(x[:, 0], x[:, 2])  # q's values sit where u's do
    pe = ParzenEstimator(x, np.ones(4), layout)
    gaps = np.array([0.5, 0.5, 0.3, 0.2])  # the outermost take their inner gap
    np.testing.assert_allclose(pe.sigma[:4, 0], gaps)
    np.testing.assert_allclose(pe.sigma[:4, 2], np.maximum(0.7 * gaps, 1 / 6))
    assert (pe.sigma[:4, 1] < pe.sigma[:4, 0]).any() and (pe.sigma[:4, 1] >= 1 / 6).all()


def test_clip_count_lowers_the_floor_of_continuous_bandwidths_only() -> None:
    # four observations packed 0.01 apart: their gaps fall under any floor, so the floor is
    # the bandwidth; clip_count=48 sets it to 1/50 in the continuous dimension and leaves
    # the discrete ones at the four observations' 1/6
    space = SearchSpace({"u": uniform(0, 1), "k": randint(11), "q": quniform(0, 10, 1)})
    layout = Layout(space)
    x = layout.snap(np.array([[0.50, 0.5, 0.5], [0.51, 0.5, 0.5], [0.52, 0.5, 0.5],
                              [0.53, 0.5, 0.5]]))[0]
    default = ParzenEstimator(x, np.ones(4), layout)
    counted = ParzenEstimator(x, np.ones(4), layout, clip_count=48)
    np.testing.assert_allclose(default.sigma[:4, 0], 1 / 6)
    np.testing.assert_allclose(counted.sigma[:4, 0], 1 / 50)
    np.testing.assert_allclose(counted.sigma[:4, 1:], default.sigma[:4, 1:])
    # capped at 100 as the magic clip is
    capped = ParzenEstimator(x, np.ones(4), layout, clip_count=10_000)
    np.testing.assert_allclose(capped.sigma[:4, 0], 1 / 100)


def test_good_density_clip_counts_finished_and_good_trials(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert [good_clip_count(n, default_gamma(n)) for n in (10, 50, 100, 400)] == \
        [3, 15, 31, 100]
    # a proposal builds its good density with that count, with one objective or several;
    # a bad density counts its own observations
    built: list[float | None] = []

    class Recording(ParzenEstimator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(kwargs.get("clip_count"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr("hypersweep.sampling.tpe.ParzenEstimator", Recording)
    sampler = TPEParameterSampling({"x": uniform(0.0, 1.0), "y": uniform(0.0, 1.0)}, seed=0)
    history = [FinishedTrial(p, -p["x"]) for p in sampler.preview(40)]
    sampler.propose(1, history, [])
    several = [FinishedTrial(t.params, None, values=(-t.params["x"], -t.params["y"]))
               for t in history]
    sampler.propose(1, several, [])
    assert built == [good_clip_count(40, default_gamma(40)), None,
                     good_clip_count(40, multi_objective_gamma(40)), None]
