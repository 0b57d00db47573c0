"""SearchSpace: names, unit-cube layout, nested spaces, grids, the YAML form and its errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hypersweep.errors import ConfigError
from hypersweep.space import (
    SearchSpace,
    choice,
    loguniform,
    normal,
    qnormal,
    quniform,
    randint,
    uniform,
)

NESTED = SearchSpace({
    "model": choice(
        {"kind": "svm", "C": uniform(0.1, 10), "kernel": choice({"gamma": normal(0, 1)}, "lin")},
        "none",
        {"kind": "tree", "depth": randint(5)},
    ),
    "lr": loguniform(-6, -1),
})


def test_names_and_dims() -> None:
    assert NESTED.names == ("model.kind", "model.C", "model.kernel.gamma", "model.kernel",
                            "model", "model.depth", "lr")
    assert NESTED.n_dims == 1 + 1 + 2 + 1 + 1
    assert list(NESTED) == ["model", "lr"]


def test_nested_decode_absent_unchosen_and_literals() -> None:
    configs = NESTED.decode(np.random.default_rng(0).random((400, NESTED.n_dims)))
    kinds = {c.get("model.kind", c.get("model")) for c in configs}
    assert kinds == {"svm", "none", "tree"}
    for c in configs:
        assert set(c) <= set(NESTED.names) and "lr" in c
        if c.get("model.kind") == "svm":
            assert "model.depth" not in c and 0.1 <= c["model.C"] <= 10
            assert ("model.kernel" in c) != ("model.kernel.gamma" in c)
        elif c.get("model.kind") == "tree":
            assert set(c) == {"model.kind", "model.depth", "lr"}
        else:
            assert set(c) == {"model", "lr"}
    assert all(not isinstance(v, dict) for c in configs for v in c.values())


def test_encode_round_trips_nested() -> None:
    configs = NESTED.decode(np.random.default_rng(1).random((50, NESTED.n_dims)))
    for a, b in zip(NESTED.decode(NESTED.encode(configs)), configs, strict=True):
        assert a.keys() == b.keys()
        for key, value in b.items():
            assert a[key] == (pytest.approx(value) if isinstance(value, float) else value)


def test_decode_shape_checked() -> None:
    with pytest.raises(ValueError, match=r"shape \(n, 6\)"):
        NESTED.decode(np.zeros((2, 3)))


def test_grid_order_last_fastest() -> None:
    space = SearchSpace({"a": choice(1, 2), "b": choice("x", "y", "z"), "c": choice(True, None)})
    grid = list(space.grid())
    expected = [dict(zip("abc", combo, strict=True))
                for combo in itertools.product([1, 2], ["x", "y", "z"], [True, None])]
    assert grid == expected
    assert space.cardinality == 12 and space.is_finite


def test_grid_expands_nested_choices() -> None:
    space = SearchSpace({"m": choice({"k": "svm", "C": choice(1, 10)}, "none"), "b": choice(0, 1)})
    assert list(space.grid()) == [
        {"m.k": "svm", "m.C": 1, "b": 0}, {"m.k": "svm", "m.C": 1, "b": 1},
        {"m.k": "svm", "m.C": 10, "b": 0}, {"m.k": "svm", "m.C": 10, "b": 1},
        {"m": "none", "b": 0}, {"m": "none", "b": 1},
    ]
    assert space.cardinality == 6


def test_grid_error_names_parameter() -> None:
    with pytest.raises(ConfigError) as info:
        SearchSpace({"a": choice(1), "lr": uniform(0.1, 1.0)}).grid()
    assert str(info.value) == "lr: grid sampling supports only choice (got uniform(0.1, 1.0))"
    with pytest.raises(ConfigError, match=r"^m\.C: grid sampling supports only choice"):
        SearchSpace({"m": choice({"C": uniform(0, 1)})}).grid()
    with pytest.raises(ConfigError, match=r"^d: grid sampling supports only choice"):
        SearchSpace({"d": randint(3)}).grid()


def test_cardinality() -> None:
    assert SearchSpace({"a": randint(3), "b": quniform(0, 1, 0.25)}).cardinality == 15
    assert SearchSpace({"a": randint(3), "b": uniform(0, 1)}).cardinality is None
    assert SearchSpace({"a": qnormal(0, 1, 1)}).is_finite is False
    assert NESTED.cardinality is None
    assert SearchSpace({"m": choice({"x": randint(4)}, "a")}).cardinality == 5


def test_enumerate_finite_space() -> None:
    space = SearchSpace({"a": randint(2), "b": quniform(0, 1, 0.5)})
    assert list(space._enumerate(np.e)) == [
        {"a": 0, "b": 0.0}, {"a": 0, "b": 0.5}, {"a": 0, "b": 1.0},
        {"a": 1, "b": 0.0}, {"a": 1, "b": 0.5}, {"a": 1, "b": 1.0}]


def test_yaml_form() -> None:
    data = {
        "lr": {"type": "loguniform", "min_value": -6, "max_value": -1},
        "bs": {"type": "choice", "values": [16, 32, "64", True, None, 0.5]},
        "depth": {"type": "randint", "upper": 5},
        "mom": {"type": "qnormal", "mu": 0.9, "sigma": 0.1, "q": 0.05},
        "model": {"type": "choice", "values": [
            {"type": "svm", "C": {"type": "uniform", "min_value": 0.1, "max_value": 10}},
            "none"]},
    }
    space = SearchSpace.from_dict(data)
    assert space.to_dict() == data
    assert space["model"] == choice({"type": "svm", "C": uniform(0.1, 10)}, "none")
    assert SearchSpace.from_json(space.to_json()) == space
    assert SearchSpace.from_dict({"x": uniform(0, 1)}) == SearchSpace({"x": uniform(0, 1)})


@pytest.mark.parametrize(("data", "message"), [
    ({"lr": {"type": "uniform", "min_value": 1.0, "max_value": 0.5}},
     "lr: uniform expects min_value < max_value (got 1.0, 0.5)"),
    ({"lr": {"type": "gaussian", "mu": 0}}, "lr: unknown type 'gaussian'"),
    ({"lr": {"min_value": 0}}, "lr: missing key 'type'"),
    ({"lr": {"type": "uniform", "min_value": 0}}, "lr: missing key 'max_value' for uniform"),
    ({"lr": {"type": "uniform", "min_value": 0, "max_value": 1, "q": 1}},
     "lr: unknown key 'q' for uniform"),
    ({"n": {"type": "randint", "upper": -1}}, "n: randint expects upper to be a positive int"),
    ({"c": {"type": "choice", "values": "abc"}}, "c: choice expects 'values' to be a list"),
    ({"c": {"type": "choice", "values": []}}, "c: choice expects at least one option"),
    ({"m": {"type": "choice", "values": [{"C": {"type": "uniform", "min_value": 2,
                                                "max_value": 1}}]}},
     "m.C: uniform expects min_value < max_value (got 2, 1)"),
    ({"m": {"type": "choice", "values": [{"C": {"type": "normal", "mu": 0, "sigma": 1,
                                                "extra": 1}}]}},
     "m.C: unknown key 'extra' for normal"),
    ({"a.b": {"type": "randint", "upper": 2}}, "expects parameter names without '.'"),
    ({"": {"type": "randint", "upper": 2}}, "expects parameter names to be non-empty strings"),
    ({"lr": 0.1}, "lr: expected an expression mapping"),
    ({}, "search space expects at least one parameter"),
    ([1, 2], "search_space: expected a mapping"),
])
def test_from_dict_errors(data: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        SearchSpace.from_dict(data)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_constructor_errors() -> None:
    with pytest.raises(ConfigError, match=r"^lr: expected an expression such as uniform"):
        SearchSpace({"lr": 0.1})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="invalid JSON"):
        SearchSpace.from_json("{")
