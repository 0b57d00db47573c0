"""What the commands print: summaries of sweeps and trials, as text or JSON-ready dicts.

Examples
--------
>>> fmt_value(0.123456789), fmt_value(3)
('0.123457', '3')
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from hypersweep.api.progress import last_line
from hypersweep.api.reproduce import reproduce_command
from hypersweep.api.run import placement_text
from hypersweep.spec import SweepSpec


def fmt_value(value: Any) -> str:
    """A compact text form of a parameter or metric value."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def table_of(*columns: str) -> Table:
    """A borderless table with these column titles."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def console() -> Console:
    """Where tables print: 200 columns when the output is not a terminal (one row a line)."""
    return Console(soft_wrap=False, width=200 if not sys.stdout.isatty() else None)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def objective_summary(spec: SweepSpec) -> dict[str, str]:
    """The primary objective as the CLI's JSON has always shown it."""
    return {"primary_metric": spec.objective.metric, "goal": spec.objective.goal}


def limits_summary(spec: SweepSpec) -> dict[str, Any]:
    """The limits (seconds for durations); the failure cap only when one was set."""
    limits = spec.limits.to_dict()
    if limits["max_failed_trials"] is None:  # None means the fail-fast rule, not a cap
        del limits["max_failed_trials"]
    return limits


def trial_summary(run: Any, record: Any, best: float | None) -> dict[str, Any]:
    """One trial as JSON-ready data (``run`` is its `HyperDriveRun`)."""
    return {
        "run_id": record.id,
        "index": record.index,
        "status": record.status.value,
        "best_primary_metric": best,
        "hyperparameters": dict(record.params),
        "exit_code": record.exit_code,
        "termination_reason": record.termination_reason,
        "termination_detail": record.termination_detail,
        "error": record.error,
        "start_time": iso(record.start_time),
        "end_time": iso(record.end_time),
        "placement": record.placement,  # as stored: {"gpus": [2], "cores": [4, 5]} or None
    }


def best_summary(run: Any, trial: str | None = None) -> dict[str, Any] | None:
    """The best trial of a sweep (or the trial ``trial``) with its command line, or None when
    none logged the metric."""
    if trial is None and not run.spec.constraints:  # the store ranks them: one row read
        rows = run.get_children_sorted_by_primary_metric(top=1, discard_no_metric=True)
    else:
        rows = run.get_children_sorted_by_primary_metric(discard_no_metric=True)
    if trial is not None:
        rows = [r for r in rows if r["run_id"] == trial]
    elif run.spec.constraints:  # the best is a feasible trial (get_best_run_by_primary_metric)
        feasible = {o.trial_id for o in run.outcomes() if o.feasible}
        rows = [r for r in rows if r["run_id"] in feasible]
    if not rows:
        return None
    row = rows[0]
    store = run.experiment.workspace.store
    record = store.get_trial(row["run_id"])
    spec: SweepSpec = run.spec
    return {
        "sweep_id": run.id,
        "run_id": row["run_id"],
        "status": row["status"],
        **objective_summary(spec),
        "best_primary_metric": row["best_primary_metric"],
        "hyperparameters": row["hyperparameters"],
        "command": reproduce_command(spec.trial, record.arguments, record.params),
        # a Failed trial can be the best (it logged before it failed): say why it failed
        "error": last_line(record.error) or None,
        "placement": record.placement,
    }


def echo_best(best: dict[str, Any] | None) -> None:
    if best is None:
        click.echo("no trial logged the primary metric yet")
        return
    click.echo(f"best trial {best['run_id']} ({best['status']}): "
               f"{best['primary_metric']} = {fmt_value(best['best_primary_metric'])} "
               f"({best['goal']})")
    if best["status"] == "Failed":
        click.echo("  note: this trial Failed"
                   + (f" ({best['error']})" if best.get("error") else ""))
    params = ", ".join(f"{k}={fmt_value(v)}" for k, v in best["hyperparameters"].items())
    click.echo(f"  params:    {params}")
    if placement_text(best.get("placement")):
        click.echo(f"  devices:   {placement_text(best.get('placement'))}")
    click.echo(f"  reproduce: {best['command']}")
