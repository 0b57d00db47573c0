"""Warm start: the trials of earlier sweeps as evidence for a new one (``resume_from``).

A new sweep's sampler sees each earlier trial as a finished one (its parameters, its best
primary value and, for a sweep with several objectives or constraints, the last value it logged
of each objective and constrained metric), and its early-termination policy sees each earlier
trial's primary-metric series, so "best so far" and medians start from what was already
learned. Script sweeps (the
controller) and function sweeps (`hypersweep.Sweep`) read it the same way, through here.

Earlier trials may lie outside the new search space (a widened or changed space): samplers
take such points as they are; nothing here filters them.

Examples
--------
>>> from hypersweep.policies import NoTerminationPolicy, PolicyRunner
>>> from hypersweep.store import Store
>>> runner = PolicyRunner(NoTerminationPolicy(), maximize=True, metric="accuracy")
>>> warm_start([(Store("sqlite://"), "HD_none")], "accuracy", True, runner)
[]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hypersweep.policies import PolicyRunner
from hypersweep.sampling import FinishedTrial
from hypersweep.spec import Constraint, Objective, last_logged
from hypersweep.store import Store

__all__ = ["warm_start"]


def warm_start(sweeps: Iterable[tuple[Store, str]], metric: str, maximize: bool,
               runner: PolicyRunner, objectives: Sequence[Objective] = (),
               constraints: Sequence[Constraint] = ()) -> list[FinishedTrial]:
    """The trials of each ``(store, sweep id)`` by index, as finished trials for the sampler
    (scored on ``metric``, oriented so larger is better; with several ``objectives`` their last
    values, and the violations of ``constraints``); each one's ``metric`` series goes to
    ``runner`` as a finished trial's. An unknown sweep adds nothing."""
    sign = 1.0 if maximize else -1.0
    several = len(objectives) > 1
    finished: list[FinishedTrial] = []
    for store, sweep_id in sweeps:
        best = store.best_values([sweep_id], metric, maximize)
        series = store.metric_series(sweep_id, metric)
        names = ({o.metric for o in objectives} if several else set()) | {
            c.metric for c in constraints}
        others = {name: store.metric_series(sweep_id, name) for name in sorted(names)}
        for record in store.list_trials(sweep_id):
            score = best.get(record.id)
            oriented = None if score is None else sign * score
            last = {name: last_logged(by_trial.get(record.id, []))
                    for name, by_trial in others.items()}
            values: tuple[float, ...] | None = None if oriented is None else (oriented,)
            if several:
                found = [last.get(o.metric) for o in objectives]
                values = None if any(v is None for v in found) else tuple(
                    o.oriented(v) for o, v in zip(objectives, found, strict=True)
                    if v is not None)
            violations = tuple(c.violation(last.get(c.metric)) for c in constraints) \
                if constraints else None
            finished.append(FinishedTrial(params=record.params, score=oriented, values=values,
                                          violations=violations))
            if record.id in series:
                runner.add_finished(record.id, [sign * v for v in series[record.id]])
    return finished

