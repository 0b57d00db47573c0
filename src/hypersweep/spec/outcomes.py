"""What each trial of a sweep achieved: its objective values, feasibility and front membership.

Computed from the metrics trials logged, the same way for a running sweep and an ended one,
for every face that shows results (``HyperDriveRun.get_pareto_front``, ``hypersweep
best/show/export``, the dashboard). The rules are the engine's (`hypersweep.spec.objectives`):

- with one objective a trial's value is the best it logged (Azure's rule); with several, the
  last value it logged of each;
- a trial is feasible when the last value it logged of every constrained metric meets the
  bound (one never logged: infeasible);
- the Pareto front is the completed, feasible trials with every objective logged that no other
  such trial dominates.

Examples
--------
>>> from hypersweep.spec import Constraint, Objective
>>> objectives = (Objective("acc", "maximize"), Objective("ms", "minimize"))
>>> series = {"acc": {"t0": [0.8, 0.9], "t1": [0.7], "t2": [0.95]},
...           "ms": {"t0": [10.0], "t1": [5.0], "t2": [30.0]}}
>>> rows = outcomes_of([("t0", 0, "Completed"), ("t1", 1, "Completed"),
...                     ("t2", 2, "Completed")], objectives,
...                    (Constraint("ms", max=20),), series)
>>> [(o.trial_id, o.values["acc"], o.feasible, o.on_front) for o in rows]
[('t0', 0.9, True, True), ('t1', 0.7, True, True), ('t2', 0.95, False, False)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypersweep.spec.objectives import Constraint, Objective, last_logged
from hypersweep.spec.sweep_spec import SweepSpec
from hypersweep.store import Status, Store

if TYPE_CHECKING:
    import numpy as np

# numpy and the Pareto package are imported where a front or a volume is computed, not with
# this module: `hypersweep ls`, `best` and `show` import it and most never compute one.

__all__ = ["TrialOutcome", "default_reference", "hypervolume_by_trial", "outcomes_of",
           "sweep_outcomes"]


@dataclass(frozen=True)
class TrialOutcome:
    """One trial's result.

    ``values`` maps each objective's metric to the trial's value (None: never logged);
    ``violations`` has one number per constraint (<= 0: met; inf: never logged).
    """

    trial_id: str
    index: int
    status: str
    values: dict[str, float | None]
    violations: tuple[float, ...]
    feasible: bool
    on_front: bool


def outcomes_of(trials: Sequence[tuple[str, int, str]], objectives: Sequence[Objective],
                constraints: Sequence[Constraint],
                series: Mapping[str, Mapping[str, Sequence[float]]]) -> list[TrialOutcome]:
    """The outcomes of ``trials`` (id, index, status) from each metric's ``series`` (metric ->
    trial -> values in logging order)."""
    several = len(objectives) > 1
    rows: list[tuple[str, int, str, dict[str, float | None], tuple[float, ...]]] = []
    for trial_id, index, status in trials:
        values: dict[str, float | None] = {}
        for objective in objectives:
            logged = series.get(objective.metric, {}).get(trial_id, [])
            if several:
                values[objective.metric] = last_logged(logged)
            else:
                finite = [v for v in logged if not math.isnan(v)]
                values[objective.metric] = (max if objective.maximize else min)(finite) \
                    if finite else None
        violations = tuple(c.violation(last_logged(series.get(c.metric, {}).get(trial_id, [])))
                           for c in constraints)
        rows.append((trial_id, index, status, values, violations))
    candidates = [i for i, row in enumerate(rows) if row[2] == Status.COMPLETED.value
                  and all(v is not None for v in row[3].values())]
    front: set[int] = set()
    if candidates:
        import numpy as np

        from hypersweep.pareto import pareto_front

        points = np.array([[o.oriented(rows[i][3][o.metric] or 0.0) for o in objectives]
                           for i in candidates])
        feasible = np.array([all(v <= 0 for v in rows[i][4]) for i in candidates])
        front = {candidates[k] for k in np.flatnonzero(pareto_front(points, feasible))}
    return [TrialOutcome(trial_id, index, status, values, violations,
                         all(v <= 0 for v in violations), i in front)
            for i, (trial_id, index, status, values, violations) in enumerate(rows)]


def sweep_outcomes(store: Store, sweep_id: str, spec: SweepSpec) -> list[TrialOutcome]:
    """Every trial's outcome, in index order (one query per objective and constrained
    metric)."""
    names = {o.metric for o in spec.objectives} | {c.metric for c in spec.constraints}
    series = {name: store.metric_series(sweep_id, name) for name in sorted(names)}
    trials = [(t.id, t.index, t.status.value) for t in store.list_trials(sweep_id)]
    return outcomes_of(trials, spec.objectives, spec.constraints, series)


def _counted(outcomes: Sequence[TrialOutcome]) -> list[TrialOutcome]:
    """The trials a hypervolume counts: completed, feasible, every objective logged."""
    return [o for o in outcomes if o.status == Status.COMPLETED.value and o.feasible
            and all(v is not None for v in o.values.values())]


def _oriented(outcomes: Sequence[TrialOutcome], objectives: Sequence[Objective]) -> np.ndarray:
    import numpy as np

    return np.array([[obj.oriented(o.values[obj.metric] or 0.0) for obj in objectives]
                     for o in outcomes])


def default_reference(outcomes: Sequence[TrialOutcome],
                      objectives: Sequence[Objective]) -> list[float] | None:
    """The point a sweep's hypervolume is measured from when none is given, in the
    objectives' own units: just beyond the worst value counted of each (None: no trial
    counts yet)."""
    from hypersweep.pareto import reference_point

    counted = _counted(outcomes)
    if not counted:
        return None
    anchor = reference_point(_oriented(counted, objectives))
    return [float(obj.oriented(float(r))) for obj, r in zip(objectives, anchor, strict=True)]


def hypervolume_by_trial(outcomes: Sequence[TrialOutcome], objectives: Sequence[Objective],
                         reference: Sequence[float] | None = None) -> list[float]:
    """The hypervolume of the front after each trial (in index order), oriented so that
    larger is better; ``reference`` (in the objectives' own units) defaults to one just
    beyond the worst value counted of each objective. Recomputed only when a trial joins the
    front (one the front dominates leaves it unchanged): 10,000 trials take milliseconds.

    >>> from hypersweep.spec import Objective
    >>> rows = outcomes_of([("a", 0, "Completed"), ("b", 1, "Completed")],
    ...                    (Objective("x", "maximize"), Objective("y", "maximize")), (),
    ...                    {"x": {"a": [1.0], "b": [2.0]}, "y": {"a": [2.0], "b": [1.0]}})
    >>> hypervolume_by_trial(rows, (Objective("x"), Objective("y")), reference=(0, 0))
    [2.0, 3.0]
    """
    import numpy as np

    from hypersweep.pareto import hypervolume

    ordered = sorted(outcomes, key=lambda o: o.index)
    counted = _counted(ordered)
    if not counted:
        return [0.0 for _ in ordered]
    points = _oriented(counted, objectives)
    reference = reference if reference is not None else default_reference(counted, objectives)
    assert reference is not None
    ref = np.array([obj.oriented(float(r)) for obj, r in zip(objectives, reference,
                                                              strict=True)])
    position = {o.index: k for k, o in enumerate(counted)}
    front = np.empty((0, len(objectives)))
    volume, out = 0.0, []
    for outcome in ordered:
        k = position.get(outcome.index)
        if k is not None:
            point = points[k]
            if not bool(np.any(np.all(front >= point, axis=1))):  # else it adds nothing
                front = np.vstack([front[~np.all(point >= front, axis=1)], point])
                volume = float(hypervolume(front, ref))
        out.append(volume)
    return out
