"""A small finished sweep written straight into a store: what the examples draw.

Examples
--------
>>> from hypersweep.store import MemoryStore
>>> store = MemoryStore()
>>> sweep_id = example_sweep(store)
>>> len(store.list_trials(sweep_id))
6
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypersweep.sampling import RandomParameterSampling
from hypersweep.space import uniform
from hypersweep.spec import FunctionTrial, Limits, Objective, SweepSpec
from hypersweep.store import MetricPoint, Status, Store, SweepRecord, TrialRecord, trial_id

__all__ = ["example_sweep"]


def example_sweep(store: Store, trials: int = 6) -> str:
    """Write a small finished sweep into ``store`` (for examples); return its id.

    Trial ``i`` logs ``loss`` falling over three steps towards ``(x - 0.3) ** 2``.
    """
    spec = SweepSpec(sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=0),
                     objectives=(Objective("loss", "minimize"),), trial=FunctionTrial("f"),
                     limits=Limits(max_total_trials=trials))
    sweep_id, start = "HD_example", datetime(2025, 1, 1, tzinfo=timezone.utc)
    store.create_sweep(SweepRecord(id=sweep_id, experiment="example", status=Status.COMPLETED,
                                   config=spec.to_dict(), created_time=start,
                                   start_time=start, end_time=start + timedelta(minutes=1)))
    for index in range(trials):
        x = index / trials
        tid = trial_id(sweep_id, index)
        store.create_trial(TrialRecord(id=tid, sweep_id=sweep_id, index=index,
                                       params={"x": x}, status=Status.COMPLETED,
                                       created_time=start, start_time=start, end_time=start))
        store.add_metrics(tid, [MetricPoint(step, 0, "loss", step,
                                            (x - 0.3) ** 2 + 1 / (step + 1), None, "scalar",
                                            start) for step in range(3)])
    return sweep_id
