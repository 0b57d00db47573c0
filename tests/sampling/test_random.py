"""RandomParameterSampling: determinism, resumability, no repeats, Sobol balance, config form."""

from __future__ import annotations

import numpy as np
import pytest

from hypersweep.errors import ConfigError
from hypersweep.sampling import FinishedTrial, RandomParameterSampling, sampler_from_dict
from hypersweep.space import SearchSpace, choice, config_key, normal, quniform, randint, uniform

MIXED = {"lr": uniform(0.0, 1.0), "bs": choice(16, 32, 64), "depth": randint(10),
         "m": normal(0, 1)}


@pytest.mark.parametrize("rule", ["random", "sobol"])
def test_same_seed_same_configs_different_seed_different(rule: str) -> None:
    a = RandomParameterSampling(MIXED, seed=3, rule=rule).preview(20)
    assert a == RandomParameterSampling(MIXED, seed=3, rule=rule).preview(20)
    assert a != RandomParameterSampling(MIXED, seed=4, rule=rule).preview(20)
    assert len({config_key(c) for c in a}) == 20


@pytest.mark.parametrize("rule", ["random", "sobol"])
def test_batches_equal_one_call_and_resume_continues(rule: str) -> None:
    sampler = RandomParameterSampling(MIXED, seed=11, rule=rule)
    ten = sampler.propose(10, [], [])
    first = sampler.propose(5, [], [])
    second = sampler.propose(5, [], first)
    assert first + second == ten
    # a resumed sweep: 3 finished, 2 pending -> configurations 5.. of the same stream
    finished = [FinishedTrial(c, 0.5) for c in ten[:3]]
    assert sampler.propose(5, finished, ten[3:5]) == ten[5:]
    one_by_one = []
    for _ in range(10):
        one_by_one += sampler.propose(1, [], one_by_one)
    assert one_by_one == ten


def test_no_seed_draws_and_keeps_one() -> None:
    sampler = RandomParameterSampling(MIXED)
    assert isinstance(sampler.seed, int)
    assert sampler.to_dict() == {"type": "random", "seed": sampler.seed, "rule": "random",
                                 "logbase": "e"}
    again = sampler_from_dict(sampler.to_dict(), sampler.space)
    assert again.preview(5) == sampler.preview(5)


def test_no_repeats_until_exhausted() -> None:
    space = {"a": choice(1, 2, 3), "b": randint(2)}
    for seed in range(20):
        sampler = RandomParameterSampling(space, seed=seed)
        six = sampler.preview(6)
        assert len({config_key(c) for c in six}) == 6
        more = sampler.preview(9)  # the space is exhausted: repeats allowed, no hang
        assert more[:6] == six and len(more) == 9


def test_no_repeats_across_calls_and_with_history() -> None:
    space = SearchSpace({"a": choice(1, 1.0, True, "1"), "b": quniform(0, 1, 0.5)})
    sampler = RandomParameterSampling(space, seed=5, rule="sobol")
    seen: list[dict[str, object]] = []
    for _ in range(12):
        seen += sampler.propose(1, [FinishedTrial(c, None) for c in seen[:2]], seen[2:])
    assert len({config_key(c) for c in seen}) == 12 == space.cardinality


def test_large_finite_space_no_repeats() -> None:
    sampler = RandomParameterSampling({"a": randint(20), "b": randint(20)}, seed=1)
    configs = sampler.preview(400)
    assert len({config_key(c) for c in configs}) == 400


def test_logbase() -> None:
    from hypersweep.space import loguniform

    sampler = RandomParameterSampling({"x": loguniform(-3, -1)}, seed=0, logbase=10)
    assert all(1e-3 <= c["x"] <= 1e-1 for c in sampler.preview(200))
    assert sampler.to_dict()["logbase"] == 10


@pytest.mark.parametrize("m", [4, 7, 10])
@pytest.mark.parametrize("start", [0, 1024])
def test_sobol_marginals_balanced(m: int, start: int) -> None:
    space = {f"x{i}": uniform(0.0, 1.0) for i in range(5)}
    sampler = RandomParameterSampling(space, seed=m, rule="sobol")
    pending = [{}] * start  # configuration numbers start .. start + 2**m - 1
    configs = sampler.propose(2**m, [], pending)
    for name in space:
        values = np.array([c[name] for c in configs])
        for k in range(1, m + 1):
            counts = np.bincount((values * 2**k).astype(int), minlength=2**k)
            assert (counts == 2**m // 2**k).all(), (name, k)


def test_sobol_differs_from_random() -> None:
    a = RandomParameterSampling(MIXED, seed=1, rule="sobol").preview(8)
    b = RandomParameterSampling(MIXED, seed=1, rule="random").preview(8)
    assert a != b


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rule": "halton"}, "rule expects 'random' or 'sobol' (got 'halton')"),
    ({"seed": -1}, "seed expects None or an int >= 0 (got -1)"),
    ({"seed": 1.5}, "seed expects None or an int >= 0 (got 1.5)"),
    ({"logbase": 1}, "logbase expects 'e' or a number > 0 and != 1 (got 1)"),
    ({"logbase": "ten"}, "logbase expects 'e' or a number > 0 and != 1 (got 'ten')"),
])
def test_constructor_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        RandomParameterSampling(MIXED, **kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_parameter_space_forms() -> None:
    yaml_form = {"lr": {"type": "uniform", "min_value": 0, "max_value": 1}}
    assert RandomParameterSampling(yaml_form, seed=1).preview(2) == \
        RandomParameterSampling({"lr": uniform(0, 1)}, seed=1).preview(2)
    with pytest.raises(ConfigError, match="parameter_space expects a mapping"):
        RandomParameterSampling([uniform(0, 1)], seed=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n expects an int >= 0"):
        RandomParameterSampling(MIXED, seed=1).preview(-1)
