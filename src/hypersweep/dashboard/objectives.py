"""What the sweep page shows of a sweep with several objectives or constraints: each trial's
outcome (objective values, feasibility, front membership), the Pareto-front chart and the
hypervolume line.

Outcomes are computed from the cached snapshot's rows (each trial's best primary value and
last value of every watched metric, see `hypersweep.dashboard.cache`) by the engine's own rules
(`hypersweep.spec.outcomes.outcomes_of`), once per snapshot. A one-objective sweep without
constraints has none of this: `outcomes` is empty and the page shows what it always did.

Examples
--------
>>> from hypersweep.store import MemoryStore
>>> from hypersweep.dashboard.cache import SweepCache
>>> from hypersweep.viz.example import example_sweep
>>> store = MemoryStore()
>>> outcomes(SweepCache(store, example_sweep(store)).snapshot())
{}
"""

from __future__ import annotations

from typing import Any

from hypersweep.dashboard.cache import Snapshot
from hypersweep.spec import TrialOutcome, outcomes_of
from hypersweep.viz.objectives import pareto_chart

__all__ = ["CHART_POINTS", "outcome_json", "outcomes", "pareto", "summary"]

#: Most trials the front chart draws (the front's are always among them).
CHART_POINTS = 2000


def outcomes(snap: Snapshot) -> dict[str, TrialOutcome]:
    """Each trial's outcome by id (empty for one objective and no constraint)."""
    return snap.derive("outcomes", lambda: _outcomes(snap))


def _outcomes(snap: Snapshot) -> dict[str, TrialOutcome]:
    spec = snap.spec
    if not spec.pareto:
        return {}
    series: dict[str, dict[str, list[float]]] = {name: {} for name in spec.tracked_metrics}
    for row in snap.rows:
        for name, value in (row.last or {}).items():
            series[name][row.id] = [value]
    if len(spec.objectives) == 1:
        # one objective: its value is the trial's best; a constraint on the same metric
        # still reads the last value (outcomes_of takes the best of a list, and its last)
        metric = spec.objective.metric
        own = series.setdefault(metric, {})
        for row in snap.rows:
            if row.best is not None:
                own[row.id] = [row.best, *own.get(row.id, [])]
    rows = outcomes_of([(r.id, r.index, r.status) for r in snap.rows], spec.objectives,
                       spec.constraints, series)
    return {o.trial_id: o for o in rows}


def outcome_json(outcome: TrialOutcome | None) -> dict[str, Any]:
    """A trial's ``values``, ``feasible`` and ``on_front`` for the trials table."""
    if outcome is None:
        return {"values": {}, "feasible": False, "on_front": False}
    return {"values": dict(outcome.values), "feasible": outcome.feasible,
            "on_front": outcome.on_front}


def summary(snap: Snapshot) -> dict[str, Any]:
    """What the sweep summary adds: the objectives, the constraints and the front's size
    (empty for one objective and no constraint)."""
    spec = snap.spec
    if not spec.pareto:
        return {}
    found = outcomes(snap)
    return {"objectives": [o.to_dict() for o in spec.objectives],
            "constraints": [{**c.to_dict(), "label": c.label} for c in spec.constraints],
            "front_size": sum(o.on_front for o in found.values()),
            "feasible": sum(o.feasible for o in found.values())}


def pareto(snap: Snapshot) -> dict[str, Any]:
    """The front chart's and the hypervolume line's data (`pareto_chart`); for a sweep with
    one objective, ``{"objectives": [...], "points": None}``: nothing to draw."""
    return snap.derive("pareto", lambda: _pareto(snap))


def _pareto(snap: Snapshot) -> dict[str, Any]:
    spec = snap.spec
    if len(spec.objectives) < 2:
        return {"objectives": [o.to_dict() for o in spec.objectives], "points": None}
    found = outcomes(snap)
    ordered = [found[r.id] for r in snap.rows if r.id in found]
    return pareto_chart(ordered, spec.objectives, spec.constraints,
                        {r.id: r.params for r in snap.rows}, limit=CHART_POINTS)
