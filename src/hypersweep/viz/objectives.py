"""The numbers behind the Pareto-front and hypervolume charts of a sweep with several
objectives, shared by the notebook figures and the dashboard (numpy only).

A chart of the front draws every trial that logged each objective: the front's trials
(completed, feasible, non-dominated), the other feasible ones, and the infeasible ones apart.
The hypervolume after each trial is `hypersweep.api.outcomes.hypervolume_by_trial`'s, computed
from the front alone as it grows (a trial the front dominates leaves it unchanged), so a
10,000-trial sweep takes milliseconds instead of a minute.

Examples
--------
>>> from hypersweep.api.outcomes import outcomes_of
>>> from hypersweep.spec import Objective
>>> objectives = (Objective("acc", "maximize"), Objective("ms", "minimize"))
>>> rows = outcomes_of([("a", 0, "Completed"), ("b", 1, "Completed"), ("c", 2, "Completed")],
...                    objectives, (), {"acc": {"a": [0.5], "b": [0.9], "c": [0.4]},
...                                     "ms": {"a": [10.0], "b": [20.0], "c": [30.0]}})
>>> hypervolume_steps(rows, objectives, reference=(0.0, 40.0))
[15.0, 23.0, 23.0]
>>> data = pareto_chart(rows, objectives, (), {})
>>> data["points"]["on_front"], data["front"]
([True, True, False], [0, 1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hypersweep.pareto import hypervolume, reference_point
from hypersweep.spec import Constraint, Objective, SweepSpec
from hypersweep.store import Status
from hypersweep.viz.analysis import evenly_spaced

if TYPE_CHECKING:  # (viz reads records without the api: outcomes are handed in)
    from hypersweep.api.outcomes import TrialOutcome

__all__ = ["hypervolume_steps", "pareto_chart", "reports_outcomes"]


def reports_outcomes(spec: SweepSpec) -> bool:
    """Whether a face shows each objective, feasibility and the front: the sweep has several
    objectives or a constraint (one objective and none: it reads as it always did)."""
    return len(spec.objectives) > 1 or bool(spec.constraints)


def _counted(outcomes: Sequence[TrialOutcome]) -> list[TrialOutcome]:
    """The trials the hypervolume counts (as `hypervolume_by_trial`), in index order."""
    return [o for o in sorted(outcomes, key=lambda o: o.index)
            if o.status == Status.COMPLETED.value and o.feasible
            and all(v is not None for v in o.values.values())]


def hypervolume_steps(outcomes: Sequence[TrialOutcome], objectives: Sequence[Objective],
                      reference: Sequence[float] | None = None) -> list[float]:
    """The front's hypervolume after each trial, in index order: the numbers of
    `hypersweep.api.outcomes.hypervolume_by_trial` (same trials, same default reference),
    recomputed only when a trial joins the front."""
    ordered = sorted(outcomes, key=lambda o: o.index)
    counted = _counted(ordered)
    if not counted:
        return [0.0 for _ in ordered]
    points = np.array([[obj.oriented(o.values[obj.metric] or 0.0) for obj in objectives]
                       for o in counted])
    ref = reference_point(points) if reference is None else np.array(
        [obj.oriented(float(r)) for obj, r in zip(objectives, reference, strict=True)])
    position = {o.index: k for k, o in enumerate(counted)}
    front = np.empty((0, len(objectives)))
    volume, out = 0.0, []
    for outcome in ordered:
        k = position.get(outcome.index)
        if k is not None:
            point = points[k]
            # a point some front point weakly dominates adds no volume
            if not bool(np.any(np.all(front >= point, axis=1))):
                keep = ~np.all(point >= front, axis=1)
                front = np.vstack([front[keep], point])
                volume = float(hypervolume(front, ref))
        out.append(volume)
    return out


def pareto_chart(outcomes: Sequence[TrialOutcome], objectives: Sequence[Objective],
                 constraints: Sequence[Constraint], params: Mapping[str, Mapping[str, Any]],
                 limit: int = 2000) -> dict[str, Any]:
    """JSON-ready data of the front chart and the hypervolume line.

    ``points`` holds the trials that logged every objective (at most ``limit``, the front's
    always among them): ``index``, ``id``, ``values`` (one list per objective, in its own
    units), ``feasible``, ``on_front`` and ``params``. ``front`` lists the positions in
    ``points`` of the front's trials along the first objective (the line joining them).
    ``hypervolume`` has the trial indices where the front's hypervolume changed and its
    value from there (drawn as steps), and ``reference`` the point it is measured from.
    """
    ordered = sorted(outcomes, key=lambda o: o.index)
    drawable = [o for o in ordered if all(v is not None for v in o.values.values())]
    keep = [i for i, o in enumerate(drawable) if o.on_front]
    picked = [drawable[i] for i in evenly_spaced(len(drawable), limit, keep)]
    first = objectives[0]
    front = sorted((k for k, o in enumerate(picked) if o.on_front),
                   key=lambda k: picked[k].values[first.metric] or 0.0)
    volumes = hypervolume_steps(ordered, objectives)
    steps_i: list[int] = []
    steps_v: list[float] = []
    for outcome, volume in zip(ordered, volumes, strict=True):
        if not steps_v or volume != steps_v[-1]:
            steps_i.append(outcome.index)
            steps_v.append(volume)
    if ordered and steps_i[-1] != ordered[-1].index:
        steps_i.append(ordered[-1].index)
        steps_v.append(steps_v[-1])
    counted = _counted(ordered)
    reference = None
    if counted:
        anchor = reference_point(np.array([[o.oriented(c.values[o.metric] or 0.0)
                                            for o in objectives] for c in counted]))
        reference = [float(o.oriented(float(r))) for o, r in zip(objectives, anchor,
                                                                   strict=True)]
    return {
        "objectives": [o.to_dict() for o in objectives],
        "constraints": [c.label for c in constraints],
        "points": {
            "index": [o.index for o in picked], "id": [o.trial_id for o in picked],
            "values": [[o.values[obj.metric] for o in picked] for obj in objectives],
            "feasible": [o.feasible for o in picked], "on_front": [o.on_front for o in picked],
            "params": [dict(params.get(o.trial_id, {})) for o in picked],
        },
        "front": front,
        "hypervolume": {"index": steps_i, "value": steps_v, "reference": reference},
        "shown": len(picked), "drawable": len(drawable), "trials": len(ordered),
        "front_size": sum(o.on_front for o in ordered),
        "infeasible": sum(not o.feasible for o in drawable),
    }
