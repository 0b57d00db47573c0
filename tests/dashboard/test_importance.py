"""Importance means something at small n: fANOVA over a random forest
gives the dominant parameter a share near the truth and the weak ones small non-zero shares;
too few trials or constant scores give a note, never a broken axis."""

from __future__ import annotations

import numpy as np
import pytest

from hypersweep.viz.importance import MIN_TRIALS, param_importance


def _sample(n: int, seed: int) -> tuple[list[dict[str, float]], list[float]]:
    rng = np.random.default_rng(seed)
    params = [{"a": a, "b": b, "c": c} for a, b, c in rng.random((n, 3)).tolist()]
    return params, [10 * p["a"] + 2 * p["b"] + p["c"] for p in params]


@pytest.mark.parametrize("seed", range(5))
def test_dominant_parameter_at_twenty_trials(seed: int) -> None:
    # variance shares of 10a + 2b + c over uniform a, b, c: 100/105, 4/105, 1/105
    params, scores = _sample(20, seed)
    result = param_importance(params, scores)
    assert result.note is None and result.trials == 20
    assert list(result.shares) == sorted(result.shares, key=lambda k: -result.shares[k])
    assert 0.85 <= result.shares["a"] <= 0.995
    assert 0 < result.shares["b"] < 0.12 and 0 < result.shares["c"] < 0.12
    assert abs(sum(result.shares.values()) - 1) < 1e-9


def test_converges_to_the_truth_with_more_trials() -> None:
    params, scores = _sample(400, 7)
    shares = param_importance(params, scores).shares
    assert abs(shares["a"] - 100 / 105) < 0.03 and shares["b"] > shares["c"] > 0


def test_categorical_and_log_scaled_parameters() -> None:
    rng = np.random.default_rng(3)
    lr = 10 ** rng.uniform(-5, -1, 200)  # log-uniform: its decades, not its top one, matter
    opt = rng.choice(["sgd", "adam", "rms"], 200)
    noise = rng.random(200)
    params = [{"lr": float(a), "opt": str(o), "noise": float(z)}
              for a, o, z in zip(lr, opt, noise, strict=True)]
    scores = [np.log10(p["lr"]) + (1.0 if p["opt"] == "adam" else 0.0) for p in params]
    shares = param_importance(params, scores).shares
    assert list(shares)[:2] == ["lr", "opt"] and shares["noise"] < 0.05


def test_too_few_trials_or_no_variation_gives_a_note() -> None:
    params, scores = _sample(MIN_TRIALS - 1, 0)
    few = param_importance(params, scores)
    assert few.shares == {} and few.note is not None and "not enough trials" in few.note
    params, _ = _sample(30, 0)
    flat = param_importance(params, [0.5] * 30)
    assert flat.shares == {} and flat.note is not None and "not enough variation" in flat.note
    unscored = param_importance(params, [None] * 30)
    assert unscored.shares == {} and "0 scored" in (unscored.note or "")


def test_a_weak_fit_carries_a_caveat() -> None:
    params, scores = _sample(40, 2)
    signal = param_importance(params, scores)
    assert signal.explained is not None and signal.explained > 0.5 and signal.caveat is None
    rng = np.random.default_rng(2)
    noise = param_importance(params, [float(v) for v in rng.normal(size=40)])
    assert noise.shares and noise.caveat is not None and "uncertain" in noise.caveat
