"""Each expression draws from the right distribution, with the right types and validation."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from scipy import stats

from hypersweep.errors import ConfigError
from hypersweep.space import (
    ExponentWarning,
    choice,
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

N = 4000
ALPHA = 1e-3  # seeded draws: a fixed seed either passes or fails, every time


def ks(values: list[float], cdf: object) -> float:
    return float(stats.kstest(values, cdf).pvalue)


def test_uniform_distribution_and_range() -> None:
    values = uniform(-2.0, 3.0).sample(N, seed=1)
    assert all(type(v) is float and -2.0 <= v <= 3.0 for v in values)
    assert ks(values, stats.uniform(-2.0, 5.0).cdf) > ALPHA


def test_loguniform_bounds_are_exponents() -> None:
    values = loguniform(-6, -1).sample(N, seed=2)
    assert all(math.exp(-6) <= v <= math.exp(-1) for v in values)
    assert ks(np.log(values), stats.uniform(-6, 5).cdf) > ALPHA


def test_loguniform_logbase_10() -> None:
    values = loguniform(-4, -1).sample(N, seed=3, logbase=10)
    assert all(1e-4 <= v <= 1e-1 for v in values)
    assert ks(np.log10(values), stats.uniform(-4, 3).cdf) > ALPHA


def test_normal_distribution() -> None:
    values = normal(10, 3).sample(N, seed=4)
    assert all(type(v) is float for v in values)
    assert ks(values, stats.norm(10, 3).cdf) > ALPHA


def test_lognormal_distribution() -> None:
    values = lognormal(0.5, 0.7).sample(N, seed=5)
    assert all(v > 0 for v in values)
    assert ks(np.log(values), stats.norm(0.5, 0.7).cdf) > ALPHA
    base10 = lognormal(1, 0.5).sample(N, seed=6, logbase=10)
    assert ks(np.log10(base10), stats.norm(1, 0.5).cdf) > ALPHA


@pytest.mark.parametrize("make", [normal, lognormal, lambda m, s: qnormal(m, s, 1),
                                  lambda m, s: qlognormal(m, s, 1)])
def test_sigma_zero_is_refused(make: Any) -> None:
    # A zero-width normal is a constant: choice(mu) says so, and nothing divides by sigma.
    with pytest.raises(ConfigError, match=r"expects sigma > 0 \(got 0\)$"):
        make(2.5, 0)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: loguniform(0, 1000),
     "loguniform expects max_value <= 709.78 so that e**max_value fits a float (got 1000)"),
    (lambda: qloguniform(-5, 709.8, 0.5),
     "qloguniform expects max_value <= 709.78 so that e**max_value fits a float (got 709.8)"),
    (lambda: lognormal(700, 2),
     "lognormal expects mu + 8.21 * sigma <= 709.78 so that its largest draw fits a float "
     "(got mu=700, sigma=2)"),
    (lambda: qlognormal(0, 87, 1),
     "qlognormal expects mu + 8.21 * sigma <= 709.78 so that its largest draw fits a float "
     "(got mu=0, sigma=87)"),
    (lambda: normal(-1e308, 1e307),
     "normal expects |mu| + 8.21 * sigma to fit a float (got mu=-1e+308, sigma=1e+307)"),
    (lambda: qnormal(0, 1e300, 1e-300),
     "qnormal expects value / q to fit a float for every value (got mu=0, sigma=1e+300, "
     "q=1e-300)"),
    (lambda: quniform(-1e300, 0, 1e-300),
     "quniform expects value / q to fit a float for every value (got min_value=-1e+300, "
     "max_value=0, q=1e-300)"),
    (lambda: qloguniform(0, 700, 1e-10),
     "qloguniform expects value / q to fit a float for every value (got min_value=0, "
     "max_value=700, q=1e-10)"),
])
def test_values_beyond_the_float_range_are_refused(make: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()
    assert str(info.value) == message


def test_bounds_at_the_edge_of_the_float_range_sample_finite_values() -> None:
    for expr in (loguniform(700, 709.78), lognormal(0, 85), normal(0, 1e307),
                 qloguniform(0, 709, 1), quniform(0, 1e300, 1e-7), uniform(-1e307, 1e307)):
        values = expr.decode(np.array([0.0, 0.5, 1.0 - 2.0**-53]))
        assert all(math.isfinite(v) for v in values), expr


def test_a_logbase_that_overflows_is_refused_with_the_parameter() -> None:
    from hypersweep.sampling import RandomParameterSampling

    space = {"lr": loguniform(-3, 400), "m": choice({"c": loguniform(0, 300)}, "none")}
    RandomParameterSampling(space, seed=0)  # e**400 fits a float
    with pytest.raises(ConfigError) as info:
        RandomParameterSampling(space, seed=0, logbase=10)
    assert str(info.value) == ("lr: loguniform expects max_value <= 308.25 so that "
                               "10**max_value fits a float (got 400)")
    with pytest.raises(ConfigError) as info:
        RandomParameterSampling({"m": choice({"c": loguniform(0, 300)}, "x")}, logbase=20)
    assert str(info.value).startswith("m.c: loguniform expects max_value <= 236.9")
    with pytest.raises(ConfigError, match="so that 10\\*\\*max_value fits"):
        loguniform(0, 400).sample(1, logbase=10)


@pytest.mark.parametrize("expr", [quniform(-3, 7, 2), qnormal(0, 20, 5), qloguniform(0, 5, 3),
                                  qlognormal(2, 1, 4)])
def test_integer_q_gives_ints_on_the_lattice(expr: object) -> None:
    values = expr.sample(500, seed=7)  # type: ignore[attr-defined]
    assert all(type(v) is int for v in values)
    q = expr.q  # type: ignore[attr-defined]
    assert all(v % q == 0 for v in values)


@pytest.mark.parametrize("expr", [quniform(0, 1, 0.1), qnormal(0, 1, 0.25),
                                  qloguniform(-2, 1, 0.05), qlognormal(0, 0.5, 0.01),
                                  quniform(-1, 1, 0.3)])
def test_float_q_gives_floats_rounded_to_q_precision(expr: object) -> None:
    values = expr.sample(500, seed=8)  # type: ignore[attr-defined]
    q = expr.q  # type: ignore[attr-defined]
    places = len(repr(q).split(".")[1])
    assert all(type(v) is float for v in values)
    assert all(v == round(v, places) for v in values)  # no 0.30000000000000004
    assert all(abs(v / q - round(v / q)) < 1e-9 for v in values)


def test_quniform_tenths_exact() -> None:
    values = quniform(0, 1, 0.1).sample(1000, seed=9)
    assert set(values) <= {round(k / 10, 1) for k in range(11)}
    assert 0.3 in values and 0.30000000000000004 not in values


def test_randint_excludes_upper_and_covers_range() -> None:
    values = randint(5).sample(2000, seed=10)
    assert set(values) == {0, 1, 2, 3, 4}
    assert all(type(v) is int for v in values)
    assert randint(1).sample(3) == [0, 0, 0]


def test_randint_u_near_one_stays_below_upper() -> None:
    assert randint(3).decode([1 - 1e-17, 0.9999999999999999]) == [2, 2]


def test_choice_keeps_option_types() -> None:
    options = (1, "1", True, 1.5, None, {"a": 1})
    values = choice(*options).sample(600, seed=11)
    kinds = {(type(v).__name__, repr(v)) for v in values}
    assert kinds == {("int", "1"), ("str", "'1'"), ("bool", "True"), ("float", "1.5"),
                     ("NoneType", "None"), ("dict", "{'a': 1}")}
    # uniform over options
    counts = [sum(1 for v in values if type(v) is type(o) and v == o) for o in options]
    assert stats.chisquare(counts).pvalue > ALPHA


def test_choice_forms() -> None:
    assert choice([1, 2, 3]) == choice(1, 2, 3) == choice(range(1, 4)) == choice((1, 2, 3))
    assert choice(1, 2) != choice(1.0, 2)
    assert repr(choice(16, "a", None)) == "choice(16, 'a', None)"


def test_nested_choice_samples_dicts() -> None:
    expr = choice({"kernel": "rbf", "C": uniform(0.1, 10)}, {"kernel": "linear"}, "none")
    values = expr.sample(300, seed=12)
    dicts = [v for v in values if isinstance(v, dict)]
    assert {v["kernel"] for v in dicts} == {"rbf", "linear"}
    assert all(0.1 <= v["C"] <= 10 for v in dicts if v["kernel"] == "rbf")
    assert all("C" not in v for v in dicts if v["kernel"] == "linear")
    assert "none" in values


def test_repr_eq_hash_immutable() -> None:
    assert repr(uniform(0.05, 0.1)) == "uniform(0.05, 0.1)"
    assert repr(qloguniform(-3, 2, 1)) == "qloguniform(-3, 2, 1)"
    assert uniform(0, 1) == uniform(0, 1) and hash(uniform(0, 1)) == hash(uniform(0, 1))
    assert quniform(0, 10, 1) != quniform(0, 10, 1.0)
    assert len({normal(0, 1), normal(0, 1), lognormal(0, 1)}) == 2
    with pytest.raises(AttributeError):
        uniform(0, 1)._a = 3  # type: ignore[attr-defined]


def test_samples_are_plain_python() -> None:
    for expr in (uniform(0, 1), randint(3), choice(1, 2), quniform(0, 9, 3), normal(0, 1)):
        assert all(type(v) in (int, float) for v in expr.sample(5, seed=0))
    assert uniform(0, 1).sample(3, seed=5) == uniform(0, 1).sample(3, seed=5)
    assert uniform(0, 1).sample(0) == []


@pytest.mark.parametrize("expr", [uniform(-1, 2), loguniform(-3, 1), normal(1, 2),
                                  lognormal(0, 1), randint(7), choice("a", "b", "c")])
def test_encode_inverts_decode(expr: object) -> None:
    u = np.random.default_rng(0).random(50)
    values = expr.decode(u)  # type: ignore[attr-defined]
    again = expr.decode(expr.encode(values))  # type: ignore[attr-defined]
    assert again == values or np.allclose(again, values)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: uniform(1.0, 0.5), "uniform expects min_value < max_value (got 1.0, 0.5)"),
    (lambda: quniform(0, 1, 0), "quniform expects q > 0 (got 0)"),
    (lambda: qnormal(0, 1, -0.5), "qnormal expects q > 0 (got -0.5)"),
    (lambda: normal(0, -1), "normal expects sigma > 0 (got -1)"),
    (lambda: randint(0), "randint expects upper to be a positive int (got 0)"),
    (lambda: randint(2.0), "randint expects upper to be a positive int (got 2.0)"),
    (lambda: randint(True), "randint expects upper to be a positive int (got True)"),
    (lambda: choice(), "choice expects at least one option (got none)"),
    (lambda: choice([]), "choice expects at least one option (got none)"),
    (lambda: choice(1, 1), "choice expects distinct options (got 1 twice)"),
    (lambda: choice([1, 2], [3]), "choice expects options that are str, int, float, bool"),
    (lambda: choice(float("nan")), "choice expects finite numbers (got nan)"),
    (lambda: uniform("0", 1), "uniform expects min_value to be a number (got '0')"),
    (lambda: uniform(0, float("inf")), "uniform expects max_value to be finite (got inf)"),
    (lambda: normal(None, 1), "normal expects mu to be a number (got None)"),
    (lambda: loguniform(-1, -2), "loguniform expects min_value < max_value (got -1, -2)"),
    (lambda: choice({"a.b": 1}), "choice expects parameter names without '.'"),
    (lambda: choice({}), "choice expects option mappings to be non-empty"),
    (lambda: choice({"a": {"b": 1}}), "nest mappings with choice()"),
])
def test_validation_messages(make: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()  # type: ignore[operator]
    assert message in str(info.value)


def test_yaml_exponent_hint() -> None:
    with pytest.raises(ConfigError, match=r"1\.0e-5"):
        uniform("1e-5", 1)


@pytest.mark.parametrize("make", [lambda: loguniform(1e-5, 1e-1), lambda: loguniform(0.001, 5),
                                  lambda: qloguniform(1, 100, 1), lambda: lognormal(0.001, 1),
                                  lambda: loguniform(0.1, 1)])
def test_exponent_warning(make: object) -> None:
    with pytest.warns(ExponentWarning, match="exponent"):
        make()  # type: ignore[operator]


def test_no_exponent_warning_for_exponents() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loguniform(-6, -1)
        loguniform(0, 3)
        loguniform(1, 5)
        qloguniform(0, 4, 1)
        lognormal(0, 1)
        lognormal(-3, 0.5)


def test_an_integer_q_too_large_for_int64_is_refused() -> None:
    # found by hypothesis: quniform(0, 1, 2**63) overflowed while sampling
    with pytest.raises(ConfigError, match=r"quniform expects an integer q <= 2\*\*62"):
        quniform(0, 1, 2**63)
    assert quniform(0, 1, 2**62).sample(3, seed=0) == [0, 0, 0]


def test_exponent_warning_suggests_math_log_only_for_positive_bounds() -> None:
    with pytest.warns(ExponentWarning) as caught:
        loguniform(-3, 400)
    assert "math.log" not in str(caught[0].message)  # math.log(-3) would be no advice
    with pytest.warns(ExponentWarning, match=r"math\.log\(0\.001\), math\.log\(0\.1\)"):
        loguniform(0.001, 0.1)
