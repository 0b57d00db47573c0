"""Property-based: exact YAML/JSON round trips, and only ConfigError for any bad input."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypersweep.errors import ConfigError
from hypersweep.space import (
    Expression,
    SearchSpace,
    choice,
    expression_from_dict,
    expression_to_dict,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from hypersweep.space.values import canon

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
numbers = st.one_of(st.integers(-1000, 1000), floats)
exponents = st.one_of(st.integers(-20, 20), st.floats(-20, 20))
steps = st.one_of(st.integers(1, 50), st.floats(1e-4, 50))
sigmas = st.one_of(st.integers(1, 100), st.floats(1e-3, 100))
log_sigmas = st.one_of(st.integers(1, 20), st.floats(1e-3, 20))  # e**(20 + 8.21 * 20) fits
# Text a process can take: no NUL, no lone surrogates (names: no '.' or '=' either).
texts = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
literals = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), floats,
                     st.text(alphabet=texts, max_size=6))
keys = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters=".=\x00"),
               min_size=1, max_size=5)


@st.composite
def bounded(draw: st.DrawFn, kind: Any, values: Any, quantized: bool) -> Expression:
    a, b = draw(values), draw(values)
    if a == b:
        b = a + 1
    a, b = min(a, b), max(a, b)
    return kind(a, b, draw(steps)) if quantized else kind(a, b)  # type: ignore[no-any-return]


leaves = st.one_of(
    bounded(uniform, numbers, False), bounded(quniform, numbers, True),
    bounded(loguniform, exponents, False), bounded(qloguniform, exponents, True),
    st.builds(normal, numbers, sigmas), st.builds(qnormal, numbers, sigmas, steps),
    st.builds(lognormal, exponents, log_sigmas),
    st.builds(qlognormal, exponents, log_sigmas, steps),
    st.builds(randint, st.integers(1, 10**6)),
)


def choices(inner: st.SearchStrategy[Expression]) -> st.SearchStrategy[Expression]:
    option_maps = st.dictionaries(keys, st.one_of(literals, inner), min_size=1, max_size=3)
    options = st.lists(st.one_of(literals, option_maps), min_size=1, max_size=5,
                       unique_by=canon)
    return options.map(lambda opts: choice(*opts))


expressions = st.recursive(leaves, choices, max_leaves=8)
spaces = st.dictionaries(keys, expressions, min_size=1, max_size=4).map(SearchSpace)


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@SETTINGS
@given(expressions)
def test_expression_round_trips(expr: Expression) -> None:
    data = expression_to_dict(expr)
    assert expression_from_dict(data, "x") == expr
    via_json = json.loads(json.dumps(data))
    via_yaml = yaml.safe_load(yaml.safe_dump(data, sort_keys=False))
    assert same(via_json, data) and same(via_yaml, data)
    assert expression_from_dict(via_yaml, "x") == expr


@SETTINGS
@given(spaces)
def test_space_round_trips(space: SearchSpace) -> None:
    again = SearchSpace.from_json(space.to_json())
    assert again == space and same(again.to_dict(), space.to_dict())
    text = yaml.safe_dump(space.to_dict(), sort_keys=False)
    from_yaml = SearchSpace.from_dict(yaml.safe_load(text))
    assert from_yaml == space and same(from_yaml.to_dict(), space.to_dict())
    configs = space.decode(np.random.default_rng(0).random((5, space.n_dims)))
    assert all(set(c) <= set(space.names) for c in configs)


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
                    st.sampled_from([10**400, -(2**1024), 2**53 + 1]))
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.text(max_size=4), st.integers()),
                                            inner, max_size=4)),
    max_leaves=10)
kinds = st.sampled_from(["choice", "randint", "uniform", "quniform", "loguniform",
                         "qloguniform", "normal", "qnormal", "lognormal", "qlognormal",
                         "bogus", "Uniform", ""])
shaped = st.fixed_dictionaries(
    {"type": st.one_of(kinds, anything)},
    optional={k: st.one_of(anything, numbers) for k in
              ("min_value", "max_value", "q", "mu", "sigma", "upper", "values", "extra")})
entries = st.one_of(anything, shaped,
                    st.fixed_dictionaries({"type": st.just("choice"),
                                           "values": st.lists(st.one_of(anything, shaped))}))


def exercise(space: SearchSpace) -> None:
    """A space that parsed must also sample, enumerate and serialize without surprises."""
    space.decode(np.random.default_rng(0).random((3, space.n_dims)))
    _ = space.cardinality, space.names, space.to_json()
    with contextlib.suppress(ConfigError):
        next(space.grid())


@SETTINGS
@given(st.one_of(anything, st.dictionaries(st.one_of(keys, scalars), entries, max_size=3)))
def test_from_dict_raises_only_config_error(data: Any) -> None:
    try:
        space = SearchSpace.from_dict(data)
    except ConfigError:
        return
    exercise(space)


factories = [(choice, 1), (choice, 3), (randint, 1), (uniform, 2), (quniform, 3),
             (loguniform, 2), (qloguniform, 3), (normal, 2), (qnormal, 3), (lognormal, 2),
             (qlognormal, 3)]


@SETTINGS
@given(st.sampled_from(factories).flatmap(
    lambda fa: st.tuples(st.just(fa[0]), st.lists(st.one_of(anything, numbers),
                                                  min_size=fa[1], max_size=fa[1]))))
def test_factories_raise_only_config_error(call: tuple[Any, list[Any]]) -> None:
    factory, args = call
    try:
        expr = factory(*args)
    except ConfigError:
        return
    exercise(SearchSpace({"p": expr}))
