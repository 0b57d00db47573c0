"""Warm start: the trials of earlier sweeps as evidence for a new one (``resume_from``).

A new sweep's sampler sees each earlier trial as a finished one (its parameters and its best
primary value), and its early-termination policy sees each earlier trial's primary-metric
series, so "best so far" and medians start from what was already learned. Script sweeps (the
controller) and function sweeps (`hypersweep.Sweep`) read it the same way, through here.

Earlier trials may lie outside the new search space (a widened or changed space): samplers
take such points as they are; nothing here filters them.

Examples
--------
>>> from hypersweep.store import Store
>>> warm_start(Store("sqlite://"), "HD_none", "accuracy", maximize=True)
[]
"""

from __future__ import annotations

from dataclasses import dataclass

from hypersweep.sampling import FinishedTrial
from hypersweep.store import Store

__all__ = ["EarlierTrial", "warm_start"]


@dataclass(frozen=True)
class EarlierTrial:
    """One trial of an earlier sweep: for the sampler (``finished``) and for the policy
    (``series``: its primary-metric values in logging order, oriented so larger is better)."""

    trial_id: str
    finished: FinishedTrial
    series: list[float] | None


def warm_start(store: Store, sweep_id: str, metric: str, maximize: bool) -> list[EarlierTrial]:
    """The trials of ``sweep_id`` in ``store`` by index, scored on ``metric`` (empty when the
    sweep is unknown)."""
    sign = 1.0 if maximize else -1.0
    best = store.best_values([sweep_id], metric, maximize)
    series = store.metric_series(sweep_id, metric)
    out = []
    for record in store.list_trials(sweep_id):
        score = best.get(record.id)
        values = series.get(record.id)
        out.append(EarlierTrial(
            trial_id=record.id,
            finished=FinishedTrial(params=record.params,
                                   score=None if score is None else sign * score),
            series=None if values is None else [sign * v for v in values],
        ))
    return out
