"""GridParameterSampling and sampler_from_dict."""

from __future__ import annotations

import pytest

from hypersweep.errors import ConfigError
from hypersweep.sampling import (
    FinishedTrial,
    GridParameterSampling,
    RandomParameterSampling,
    Sampler,
    sampler_from_dict,
)
from hypersweep.space import choice, uniform

SPACE = {"a": choice(1, 2), "b": choice("x", "y", "z")}
ORDER = [{"a": a, "b": b} for a in (1, 2) for b in ("x", "y", "z")]


def test_grid_order_and_size() -> None:
    sampler = GridParameterSampling(SPACE)
    assert sampler.preview() == ORDER
    assert sampler.preview(2) == ORDER[:2]
    assert len(sampler) == sampler.size == 6
    assert isinstance(sampler, Sampler) and sampler.to_dict() == {"type": "grid"}


def test_grid_skips_seen_and_exhausts() -> None:
    sampler = GridParameterSampling(SPACE)
    first = sampler.propose(4, [], [])
    assert first == ORDER[:4]
    rest = sampler.propose(10, [FinishedTrial(c, 1.0) for c in first[:2]], first[2:])
    assert rest == ORDER[4:]
    assert sampler.propose(3, [FinishedTrial(c, None) for c in ORDER], []) == []
    # out-of-order history: the earliest unseen points come first
    assert sampler.propose(2, [], [ORDER[0], ORDER[2]]) == [ORDER[1], ORDER[3]]


def test_grid_keeps_types_apart() -> None:
    sampler = GridParameterSampling({"v": choice(1, 1.0, True, "1")})
    assert sampler.propose(4, [], [{"v": 1}]) == [{"v": 1.0}, {"v": True}, {"v": "1"}]


def test_grid_rejects_non_choice() -> None:
    with pytest.raises(ConfigError) as info:
        GridParameterSampling({"a": choice(1), "lr": uniform(0.1, 1.0)})
    assert str(info.value) == "lr: grid sampling supports only choice (got uniform(0.1, 1.0))"


def test_sampler_from_dict_forms() -> None:
    assert isinstance(sampler_from_dict("grid", SPACE), GridParameterSampling)
    random = sampler_from_dict({"type": "random", "seed": 1, "rule": "sobol", "logbase": "e"},
                               SPACE)
    assert isinstance(random, RandomParameterSampling)
    assert (random.seed, random.rule) == (1, "sobol")
    assert isinstance(sampler_from_dict("Random", SPACE), RandomParameterSampling)


@pytest.mark.parametrize(("data", "message"), [
    ({"type": "bayesian", "rule": "sobol"}, "sampling_algorithm: unknown key 'rule' for bayesian"),
    ("halton", "sampling_algorithm: unknown type 'halton'"),
    ({"seed": 1}, "sampling_algorithm: missing key 'type'"),
    ({"type": "grid", "seed": 1}, "sampling_algorithm: unknown key 'seed' for grid"),
    ({"type": "random", "sed": 1}, "sampling_algorithm: unknown key 'sed' for random"),
    ({"type": "random", "rule": "lhs"}, "sampling_algorithm.rule expects 'random' or 'sobol'"),
    ({"type": "random", "logbase": 0}, "sampling_algorithm.logbase expects"),
    (3, "sampling_algorithm: expected 'random', 'grid', 'bayesian', 'tpe' or a mapping"),
])
def test_sampler_from_dict_errors(data: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        sampler_from_dict(data, SPACE)
    assert message in str(info.value)
