"""The numbers behind the Pareto-front and hypervolume charts of a sweep with several
objectives, shared by the notebook figures and the dashboard (numpy only).

A chart of the front draws every trial that logged each objective: the front's trials
(completed, feasible, non-dominated), the other feasible ones, and the infeasible ones apart.
The hypervolume after each trial is `hypersweep.spec.outcomes.hypervolume_by_trial`'s.

Examples
--------
>>> from hypersweep.spec import Objective, outcomes_of
>>> objectives = (Objective("acc", "maximize"), Objective("ms", "minimize"))
>>> rows = outcomes_of([("a", 0, "Completed"), ("b", 1, "Completed"), ("c", 2, "Completed")],
...                    objectives, (), {"acc": {"a": [0.5], "b": [0.9], "c": [0.4]},
...                                     "ms": {"a": [10.0], "b": [20.0], "c": [30.0]}})
>>> data = pareto_chart(rows, objectives, (), {})
>>> data["points"]["on_front"], data["front"]
([True, True, False], [0, 1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.spec import (
    Constraint,
    Objective,
    TrialOutcome,
    default_reference,
    hypervolume_by_trial,
)
from hypersweep.viz.analysis import evenly_spaced

__all__ = ["pareto_chart"]


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
    volumes = hypervolume_by_trial(ordered, objectives)
    steps_i: list[int] = []
    steps_v: list[float] = []
    for outcome, volume in zip(ordered, volumes, strict=True):
        if not steps_v or volume != steps_v[-1]:
            steps_i.append(outcome.index)
            steps_v.append(volume)
    if ordered and steps_i[-1] != ordered[-1].index:
        steps_i.append(ordered[-1].index)
        steps_v.append(steps_v[-1])
    reference = default_reference(ordered, objectives)
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
