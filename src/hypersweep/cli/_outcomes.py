"""What the read commands add for a sweep with several objectives or with constraints: each
objective's value, feasibility and Pareto-front membership (`hypersweep.spec.outcomes`).

A sweep with one objective and no constraint gets none of this: its ``show``, ``best`` and
``export`` read as they always did.

Examples
--------
>>> from hypersweep.spec import Objective
>>> objective_header(Objective("latency_ms", "minimize")), FRONT_MARK
('latency_ms ↓', '★')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from hypersweep.api.run import placement_text
from hypersweep.cli._format import best_summary, console, fmt_value, table_of
from hypersweep.spec import Objective, SweepSpec, TrialOutcome

__all__ = [
    "FRONT_MARK", "echo_front", "echo_front_result", "feasibility_note", "front_result",
    "front_rows", "objective_header", "outcome_fields", "spec_summary",
]

#: The marker of a trial on the Pareto front in ``show``'s table.
FRONT_MARK = "★"


def objective_header(objective: Objective) -> str:
    """A column title: the metric and an arrow pointing the better way."""
    return f"{objective.metric} {'↑' if objective.maximize else '↓'}"


def spec_summary(spec: SweepSpec) -> dict[str, Any]:
    """The objectives and constraints as JSON-ready data."""
    return {"objectives": [o.to_dict() for o in spec.objectives],
            "constraints": [{**c.to_dict(), "label": c.label} for c in spec.constraints]}


def outcome_fields(outcome: TrialOutcome | None) -> dict[str, Any]:
    """A trial's ``values``, ``feasible`` and ``on_front`` (for ``show --json``)."""
    if outcome is None:
        return {"values": {}, "feasible": False, "on_front": False}
    return {"values": dict(outcome.values), "feasible": outcome.feasible,
            "on_front": outcome.on_front}


def front_rows(spec: SweepSpec, outcomes: Sequence[TrialOutcome],
               params: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The front's trials, best on the first objective first (as `get_pareto_front`):
    ``{"run_id", "values", "params"}`` each."""
    first = spec.objective
    front = sorted((o for o in outcomes if o.on_front),
                   key=lambda o: first.oriented(o.values[first.metric] or 0.0), reverse=True)
    return [{"run_id": o.trial_id, "values": dict(o.values),
             "params": dict(params.get(o.trial_id, {}))} for o in front]


def feasibility_note(spec: SweepSpec, outcomes: Sequence[TrialOutcome]) -> str | None:
    """One line on the constraints: the bounds and how many finished trials met them."""
    if not spec.constraints:
        return None
    finished = [o for o in outcomes if o.status in ("Completed", "Failed", "Canceled")]
    met = sum(o.feasible for o in finished)
    bounds = ", ".join(c.label for c in spec.constraints)
    return (f"feasible: {bounds} — {met} of {len(finished)} finished trials meet "
            f"{'it' if len(spec.constraints) == 1 else 'them'}; the front holds only those")


def echo_front(spec: SweepSpec, rows: list[dict[str, Any]],
               outcomes: Sequence[TrialOutcome]) -> None:
    """Print the front as a table (trial, each objective with its arrow, parameters), then
    the feasibility note."""
    if not rows:
        click.echo("no trial is on the Pareto front yet (none completed"
                   + (", met the constraints" if spec.constraints else "")
                   + " and logged every objective)")
    else:
        click.echo(f"Pareto front: {len(rows)} trial{'s' if len(rows) != 1 else ''}")
        names = list(dict.fromkeys(k for r in rows for k in r["params"]))
        table = table_of("trial", *[objective_header(o) for o in spec.objectives], *names)
        for row in rows:
            table.add_row(row["run_id"],
                          *[fmt_value(row["values"].get(o.metric)) for o in spec.objectives],
                          *[fmt_value(row["params"].get(n)) for n in names])
        console().print(table)
    note = feasibility_note(spec, outcomes)
    if note:
        click.echo(note)


def front_result(run: Any) -> tuple[dict[str, Any], list[TrialOutcome]]:
    """What ``best`` and the end of ``run`` say of a sweep with several objectives or
    constraints (as JSON): the front (best on the first objective first), the objectives and
    constraints, and the usual summary of the front's first trial (the best feasible one on
    the first objective), whose command line reproduces a trial of the front; and the
    outcomes it was read from."""
    spec: SweepSpec = run.spec
    outcomes = run.outcomes()
    front = front_rows(spec, outcomes, run.get_hyperparameters())
    summary = best_summary(run, front[0]["run_id"]) if front else None
    return {"pareto_front": front, **spec_summary(spec), **(summary or {})}, outcomes


def echo_front_result(spec: SweepSpec, result: dict[str, Any],
                      outcomes: Sequence[TrialOutcome]) -> None:
    """Print `front_result`: the front's table, the feasibility note, the first trial's
    command line."""
    echo_front(spec, result["pareto_front"], outcomes)
    if "run_id" in result:
        click.echo(f"first: {result['run_id']} ({result['status']})")
        if placement_text(result.get("placement")):
            click.echo(f"  devices:   {placement_text(result.get('placement'))}")
        click.echo(f"  reproduce: {result['command']}")
