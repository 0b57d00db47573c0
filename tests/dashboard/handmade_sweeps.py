"""Small hand-made sweeps (log and None-valued parameters, a failed best trial) for the
chart, report and page tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from hypersweep.store import MetricPoint, Status, Store, SweepRecord, TrialRecord, trial_id

SPACE: dict[str, Any] = {
    "lr": {"type": "loguniform", "min_value": -7, "max_value": -1},
    "momentum": {"type": "uniform", "min_value": 0.5, "max_value": 0.99},
    # first option a non-integer float (a RangeError in sweep.js), and None as an option
    "ratio": {"type": "choice", "values": [0.5, 0.25, 2.0]},
    "depth": {"type": "choice", "values": [None, 3, 5]},
}


def make_sweep(store: Store, scores: Sequence[float | None], *, name: str = "charts",
               statuses: Sequence[Status] | None = None, seed: int = 0,
               reasons: Sequence[str | None] | None = None, float_first: bool = True,
               placements: Sequence[dict[str, list[int]] | None] | None = None) -> str:
    """A finished sweep over `SPACE`: trial i scores ``scores[i]`` (None: never logged) and
    held the devices and cores ``placements[i]`` (default: none).

    ``float_first=False`` puts an integral float first in the ``ratio`` choice, so a test of
    something else does not depend on the RangeError fix."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sweep_id = f"HD_{name}-{seed}"
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    space = dict(SPACE)
    if not float_first:
        space["ratio"] = {"type": "choice", "values": [2.0, 0.25, 0.5]}
    config = {"search_space": space, "sampling_algorithm": {"type": "random", "seed": seed},
              "objective": {"primary_metric": "score", "goal": "maximize"},
              "limits": {"max_total_trials": len(scores), "max_concurrent_trials": 2},
              "trial": {"kind": "script", "script": "train.py", "source_directory": "/src"}}
    store.create_sweep(SweepRecord(id=sweep_id, experiment=name, status=Status.COMPLETED,
                                   config=config, created_time=t0, start_time=t0,
                                   end_time=t0 + timedelta(seconds=10 * len(scores))))
    for index, score in enumerate(scores):
        # Azure's loguniform(-7, -1) is exp(uniform(-7, -1)): 9e-4 .. 0.37, under the
        # three decades a page would guess a log axis from
        params = {"lr": float(np.exp(rng.uniform(-7, -1))),
                  "momentum": float(rng.uniform(0.5, 0.99)),
                  "ratio": space["ratio"]["values"][index % 3], "depth": [None, 3, 5][index % 3]}
        start = t0 + timedelta(seconds=5 * index)
        status = statuses[index] if statuses else Status.COMPLETED
        reason = reasons[index] if reasons else None
        store.create_trial(TrialRecord(
            id=trial_id(sweep_id, index), sweep_id=sweep_id, index=index, params=params,
            status=status, created_time=start, start_time=start,
            end_time=start + timedelta(seconds=7), exit_code=0 if status is Status.COMPLETED
            else 1, termination_reason=reason,
            arguments=[x for k, v in params.items() for x in (f"--{k}", str(v))],
            placement=placements[index] if placements else None))
        if score is not None:
            store.add_metrics(trial_id(sweep_id, index), [
                MetricPoint(0, 0, "score", 0, score, None, "scalar", start)])
    return sweep_id
