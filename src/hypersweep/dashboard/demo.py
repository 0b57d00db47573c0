"""Synthetic sweeps written straight into a store: for tests, the bench, and trying the UI.

A synthetic sweep looks like a real finished one — a config, trials with parameters, learning
curves, early-terminated trials with the policy's evidence — without running any process,
so a 10,000-trial sweep with 500,000 metric points takes seconds to make.

Examples
--------
>>> from hypersweep.store import Store
>>> store = Store("sqlite://")
>>> sweep_id = synthesize_sweep(store, "demo", n_trials=5, points_per_trial=3, seed=0)
>>> len(store.list_trials(sweep_id)), len(store.metric_series(sweep_id, "accuracy"))
(5, 5)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from hypersweep.policies import BanditPolicy
from hypersweep.sampling import RandomParameterSampling
from hypersweep.space import choice, loguniform, uniform
from hypersweep.spec import Limits, Objective, ScriptTrial, SweepSpec
from hypersweep.store import MetricPoint, Status, Store, SweepRecord, TrialRecord, trial_id

__all__ = ["synthesize_sweep"]


def _spec(total: int, extra_params: Mapping[str, Any]) -> SweepSpec:
    """The sweep a synthetic one pretends to have run (a Bandit-stopped random search)."""
    space: dict[str, Any] = {
        "learning_rate": loguniform(-9, -1),
        "dropout": uniform(0.0, 0.6),
        "batch_size": choice(16, 32, 64, 128),
        "optimizer": choice("sgd", "adam", "rmsprop"),
    }
    for name, value in extra_params.items():
        space[name] = choice(value)
    return SweepSpec(
        sampling=RandomParameterSampling(space, seed=0),
        objectives=(Objective("accuracy", "maximize"),),
        trial=ScriptTrial("/src", "train.py", ("--epochs", "50")),
        policy=BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5),
        limits=Limits(max_total_trials=total, max_concurrent_trials=8),
    )


def synthesize_sweep(
    store: Store, experiment: str, n_trials: int = 100, points_per_trial: int = 50,
    seed: int = 0, extra_params: Mapping[str, Any] | None = None,
    status: Status = Status.COMPLETED,
) -> str:
    """Write a finished sweep with ``n_trials`` trials into ``store``; return its id.

    Each trial logs ``accuracy`` (the primary metric, maximised) and ``loss`` once per
    interval; points alternate between the two, so ``points_per_trial`` counts both. About a
    third of the trials are early-terminated (``Canceled`` with Bandit evidence), a few fail.

    Parameters
    ----------
    store : Store
        Where to write.
    experiment : str
        Experiment name (any text: tests use markup here).
    n_trials, points_per_trial : int
        Size of the sweep.
    seed : int
        Random seed.
    extra_params : mapping, optional
        Extra constant hyperparameters given to every trial (e.g. a hostile string).
    status : Status
        The sweep's status.
    """
    rng = np.random.default_rng(seed)
    extra = dict(extra_params or {})
    sweep_id = f"HD_synthetic-{seed}-{rng.integers(1 << 40):x}"
    t0 = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    store.create_sweep(SweepRecord(
        id=sweep_id, experiment=experiment, status=status,
        config=_spec(n_trials, extra).to_dict(),
        created_time=t0, start_time=t0,
        end_time=None if not status.is_terminal else t0 + timedelta(seconds=30 * n_trials / 8),
    ))
    intervals = max(1, points_per_trial // 2)
    for index in range(n_trials):
        lr = float(math.exp(rng.uniform(-9, -1)))
        params: dict[str, Any] = {
            "learning_rate": lr, "dropout": float(rng.uniform(0, 0.6)),
            "batch_size": int(rng.choice([16, 32, 64, 128])),
            "optimizer": str(rng.choice(["sgd", "adam", "rmsprop"])), **extra,
        }
        # accuracy peaks near lr = e^-5, adam helps a little, dropout barely matters
        ceiling = 0.97 - 0.035 * (math.log(lr) + 5) ** 2 / 4 + (
            0.02 if params["optimizer"] == "adam" else 0.0)
        ceiling = float(np.clip(ceiling + rng.normal(0, 0.01), 0.3, 0.995))
        stopped = rng.random() < 0.33 and index > 5
        failed = not stopped and rng.random() < 0.03
        n = intervals if not (stopped or failed) else max(2, intervals // 5)
        start = t0 + timedelta(seconds=30 * (index // 8) + rng.uniform(0, 3))
        points, seq = [], 0
        for step in range(n):
            acc = ceiling * (1 - math.exp(-(step + 1) / 6)) + rng.normal(0, 0.004)
            when = start + timedelta(seconds=step * 25 / intervals)
            points.append(MetricPoint(seq, 0, "accuracy", step, acc, None, "scalar", when))
            points.append(MetricPoint(seq + 1, 0, "loss", step, 1 - acc, None, "scalar", when))
            seq += 2
        end = start + timedelta(seconds=n * 25 / intervals + 0.5)
        detail = None
        if stopped:
            value = points[-2].value or 0.0
            detail = {"trial_id": trial_id(sweep_id, index), "policy": "bandit",
                      "interval": n, "value": value, "threshold": value + 0.01,
                      "explanation": f"accuracy {value:.6f} < best / (1 + 0.1) at interval {n}"}
        trial_status = (Status.CANCELED if stopped else Status.FAILED if failed
                        else Status.COMPLETED)
        store.create_trial(TrialRecord(
            id=trial_id(sweep_id, index), sweep_id=sweep_id, index=index, params=params,
            status=trial_status, created_time=start, start_time=start, end_time=end,
            exit_code=1 if failed else (0 if not stopped else None),
            error="Traceback: ValueError: diverged" if failed else None,
            termination_reason="early_termination" if stopped else None,
            termination_detail=detail,
            arguments=["--epochs", "50",
                       *[x for k, v in params.items() for x in (f"--{k}", str(v))]],
        ))
        store.add_metrics(trial_id(sweep_id, index), points)
    return sweep_id
