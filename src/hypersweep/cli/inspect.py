"""Read commands: ``ls``, ``show`` and ``best`` (each with ``--json``); ``export`` is
`hypersweep.cli.export`.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["ls", "--help"]).exit_code
0
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from hypersweep.api.progress import last_line
from hypersweep.api.run import placement_text
from hypersweep.cli._format import (
    best_summary,
    console,
    echo_best,
    echo_json,
    fmt_value,
    iso,
    limits_summary,
    objective_summary,
    table_of,
    trial_summary,
)
from hypersweep.cli._outcomes import (
    FRONT_MARK,
    echo_front_result,
    feasibility_note,
    front_result,
    objective_header,
    outcome_fields,
    spec_summary,
)
from hypersweep.cli.main import CliError, WorkspaceRef, cli, open_sweep, workspace_options
from hypersweep.spec import Objective, SweepSpec
from hypersweep.spec.sweep_spec import stored_metadata, stored_objectives
from hypersweep.store.records import Status

_table, _console = table_of, console


def _print(table: Table) -> None:
    _console().print(table)


def _cut_last_column(table: Table, rows: list[list[str]], width: int) -> None:
    """Let the last column (a long reason) have what the others leave of ``width``, cut with
    an ellipsis, so each row stays one line."""
    *others, last = table.columns
    used = sum(max(len(str(c.header)), *(len(r[i]) for r in rows), 0) + 2
               for i, c in enumerate(others)) if rows else 0
    last.no_wrap = True
    last.overflow = "ellipsis"
    last.max_width = max(width - used, 20)


@cli.command("ls")
@click.option("--experiment", "-e", help="Only this experiment's sweeps.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@workspace_options
def ls(experiment: str | None, as_json: bool, workspace: WorkspaceRef) -> None:
    """List sweeps, newest first: id, experiment, status, trials, best, created.

    A sweep recorded Running whose controller is gone (killed, crashed) is marked so, with
    the `hypersweep resume` line that continues it.
    """
    rows: list[dict[str, Any]] = []
    if workspace.exists():
        store = workspace.open(read_only=True).store
        sweeps = store.list_sweeps(experiment)
        counts = store.count_trials([s.id for s in sweeps])
        for sweep in sweeps:
            # the stored config's metadata and objectives only: building the whole spec
            # (space, sampler, policy) would import numpy for a list of names
            objective = stored_objectives(sweep.config)[0][0]
            rows.append({
                "sweep_id": sweep.id, "experiment": sweep.experiment,
                "status": sweep.status.value,
                "controller_alive": _controller_state(sweep),
                "display_name": stored_metadata(sweep.config).display_name,
                "trials": counts[sweep.id],
                "primary_metric": objective.metric,
                "best": _best_value(store, sweep, objective),
                "created": iso(sweep.created_time),
            })
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no sweeps")
        return
    table = _table("id", "experiment", "status", "trials", "best", "created")
    orphans = []
    for r in rows:
        best = "" if r["best"] is None else f"{r['primary_metric']}={fmt_value(r['best'])}"
        status = r["status"]
        if r["controller_alive"] is False:
            status += " (controller gone)"
            orphans.append(r["sweep_id"])
        table.add_row(r["sweep_id"], r["experiment"], status, str(r["trials"]), best,
                      r["created"][:19].replace("T", " "))
    _print(table)
    for sweep_id in orphans:
        click.echo(f"{sweep_id}: its controller is gone (killed or crashed); "
                   f"hypersweep resume {sweep_id} continues it")


def _controller_state(sweep: Any) -> bool | None:
    """Whether the controller of a Running sweep lives; None when nothing should drive the
    sweep (it ended, or waits Queued for one)."""
    from hypersweep.engine.lease import controller_alive

    if sweep.status not in (Status.RUNNING, Status.CANCEL_REQUESTED):
        return None
    return controller_alive(sweep)


def _best_value(store: Any, sweep: Any, objective: Objective) -> float | None:
    best = sweep.properties.get("best_primary_metric")
    if best is not None:
        return float(best)
    top = store.trial_page(sweep.id, objective.metric, objective.maximize, limit=1)
    return top[0].best if top else None


#: Trials `hypersweep show` lists unless told otherwise.
SHOW_LIMIT = 20


@cli.command()
@click.argument("sweep_id")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=SHOW_LIMIT,
              show_default=True, help="Trials to list (a page).")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True,
              help="Which page of --limit trials.")
@click.option("--all", "show_all", is_flag=True, help="List every trial.")
@click.option("--order", type=click.Choice(["metric", "index"]), default="metric",
              show_default=True, help="Best first, or by trial number.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the same page of trials).")
@workspace_options
def show(sweep_id: str, limit: int, page: int, show_all: bool, order: str, as_json: bool,
         workspace: WorkspaceRef) -> None:
    """Show a sweep, a summary of its trials, and a page of them, best first, with each
    trial's termination reason.

    The summary counts the trials by status; the list holds the best --limit (20) trials
    (--page 2 the next ones, --order index by number, --all every one), with the same page
    under --json, whose "trial_count" and "page" say what was left out. When trials were given
    devices or cores (``resources_per_trial``), a devices column says which
    (``gpu 2 · cores 4-5``); ``--json`` carries each trial's ``placement``.
    """
    ws = workspace.open(read_only=True)
    run = open_sweep(ws, sweep_id)
    sweep_id = run.id  # the whole id, if a prefix named it
    store = ws.store
    sweep = store.get_sweep(sweep_id)
    spec: SweepSpec = run.spec
    several = spec.pareto
    objective = spec.objective
    counts = store.trial_counts(sweep_id, objective.metric, objective.maximize)
    offset, size = (0, None) if show_all else ((page - 1) * limit, limit)
    outcomes: dict[str, Any] = {}
    if several:
        # a front is judged on every trial at once: read them all, then cut the page
        outcomes = {o.trial_id: o for o in run.outcomes()}
        ranked = _ranked_by_front(run, store, spec, outcomes)
        front = [t["run_id"] for t in ranked if t["on_front"]]
        if order == "index":
            ranked.sort(key=lambda t: t["index"])
        trials = ranked[offset:None if size is None else offset + size]
    else:
        trials = [trial_summary(run, scored.trial, scored.best)
                  for scored in store.trial_page(sweep_id, objective.metric,
                                                 objective.maximize, order=order,
                                                 limit=size, offset=offset)]
    data = {
        "sweep_id": sweep.id, "experiment": sweep.experiment, "status": sweep.status.value,
        **spec.metadata.to_dict(),
        "created": iso(sweep.created_time), "start_time": iso(sweep.start_time),
        "end_time": iso(sweep.end_time),
        "objective": objective_summary(spec), "limits": limits_summary(spec),
        **(spec_summary(spec) if several else {}),
        "best_child_run_id": sweep.properties.get("best_child_run_id"),
        "error": sweep.error, "warnings": list(sweep.warnings),
        "controller_alive": _controller_state(sweep),
        "trial_count": counts.total, "status_counts": counts.statuses,
        "page": {"order": order, "offset": offset, "limit": size, "shown": len(trials)},
        "trials": trials,
    }
    if several:
        data["pareto_front"] = front
    if as_json:
        echo_json(data)
        return
    click.echo(f"sweep {sweep.id}  {sweep.status.value}  experiment {sweep.experiment}")
    for key in ("display_name", "description"):
        if key in data:
            click.echo(f"  {key}: {data[key]}")
    if "tags" in data:
        click.echo("  tags: " + ", ".join(f"{k}={v}" for k, v in data["tags"].items()))
    objective = spec.objective
    if len(spec.objectives) > 1:
        click.echo("  objectives: " + ", ".join(f"{o.goal} {o.metric}"
                                                for o in spec.objectives))
    else:
        click.echo(f"  objective: {objective.goal} {objective.metric}")
    if spec.constraints:
        click.echo("  constraints: " + ", ".join(c.label for c in spec.constraints))
    click.echo(f"  created {data['created']}  started {data['start_time']}  "
               f"ended {data['end_time']}")
    click.echo(f"  trials: {_counts_text(counts.total, counts.statuses)}")
    if several:
        front = data["pareto_front"]
        click.echo(f"  Pareto front: {len(front)} trial{'s' if len(front) != 1 else ''} "
                   f"(marked {FRONT_MARK}; `hypersweep best {sweep.id}` lists them)")
    elif counts.best is not None:
        top = counts.best
        click.echo(f"  best: {top.trial.id}  {objective.metric} = {fmt_value(top.best)}"
                   + ("  (this trial Failed)" if top.trial.status == Status.FAILED else ""))
    if data["controller_alive"] is False:
        click.echo(f"  controller gone (killed or crashed): hypersweep resume {sweep.id} "
                   "continues it")
    if sweep.error:
        click.echo(f"  error: {sweep.error}")
    for warning in sweep.warnings:
        click.echo(f"  warning: {warning}")
    names = list(dict.fromkeys(k for t in trials for k in t["hyperparameters"]))
    # the devices column only when some trial held devices or cores (resources_per_trial)
    devices = [placement_text(t["placement"]) for t in trials]
    placed = any(devices)
    # several objectives or constraints: each objective's value (the outcome the front is
    # judged on) in place of the best primary value, feasibility and the front marker
    value_columns = [objective_header(o) for o in spec.objectives] if several \
        else [objective.metric]
    status_columns = (["feasible"] if spec.constraints else []) + (["front"] if several else [])
    table = _table("trial", "status", *value_columns, *status_columns, *names,
                   *(["devices"] if placed else []), "reason")
    rows = []
    for t, held in zip(trials, devices, strict=True):
        reason = t["termination_reason"] or ""
        evidence = (t["termination_detail"] or {}).get("explanation")
        if evidence:  # e.g. "accuracy 0.61 < best 0.8 / (1 + 0.2) = 0.667 at interval 5 ..."
            reason = f"{reason}: {evidence}"
        if t["error"]:  # the last line of a failed trial's stderr says why
            error = last_line(t["error"])
            reason = f"{reason}: {error}" if reason else error
        if several:
            values = [fmt_value(t["values"].get(o.metric)) for o in spec.objectives]
            marks = (["yes" if t["feasible"] else "no"] if spec.constraints else []) \
                + [FRONT_MARK if t["on_front"] else ""]
        else:
            values, marks = [fmt_value(t["best_primary_metric"])], []
        rows.append([t["run_id"], t["status"], *values, *marks,
                     *[fmt_value(t["hyperparameters"].get(n)) for n in names],
                     *([held] if placed else []),
                     reason.splitlines()[0] if reason else ""])
    out = _console()
    _cut_last_column(table, rows, out.width)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    if not trials and counts.total:
        pages = -(-counts.total // limit)
        click.echo(f"no trials on page {page}: {counts.total} trials make {pages} pages "
                   f"of {limit}")
    elif len(trials) < counts.total:
        how = "best first" if order == "metric" else "by number"
        more = f"--page {page + 1} for the next {limit}, " \
            if offset + len(trials) < counts.total else ""
        click.echo(f"trials {offset + 1}-{offset + len(trials)} of {counts.total} ({how}); "
                   f"{more}--all for every one")
    if several:
        note = feasibility_note(spec, list(outcomes.values()))
        if note:
            click.echo(note)


def _counts_text(total: int, statuses: dict[str, int]) -> str:
    """``12 (Completed 10, Failed 2)``."""
    parts = ", ".join(f"{status} {n}" for status, n in statuses.items())
    return f"{total} ({parts})" if parts else str(total)


def _ranked_by_front(run: Any, store: Any, spec: SweepSpec,
                     outcomes: dict[str, Any]) -> list[dict[str, Any]]:
    """Every trial of a sweep with several objectives or constraints, the front first (best
    on the first objective first), then best on the primary metric first."""
    first = spec.objective
    trials = [trial_summary(run, scored.trial, scored.best)
              for scored in store.trial_page(run.id, first.metric, first.maximize)]
    for t in trials:
        t.update(outcome_fields(outcomes.get(t["run_id"])))
    trials.sort(key=lambda t: (not t["on_front"], -first.oriented(
        t["values"].get(first.metric) or 0.0) if t["on_front"] else 0.0))
    return trials


@cli.command()
@click.argument("sweep_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@workspace_options
def best(sweep_id: str, as_json: bool, workspace: WorkspaceRef) -> None:
    """Print the best trial of a sweep and the command line that reproduces it.

    With several objectives (or constraints), the Pareto front: the completed, feasible
    trials no other beats on every objective, best on the first objective first, and the
    command line of the first.
    """
    run = open_sweep(workspace.open(read_only=True), sweep_id)
    spec: SweepSpec = run.spec
    if not spec.pareto:
        summary = best_summary(run)
        if as_json:
            echo_json(summary)
        else:
            echo_best(summary)
        if summary is None:
            raise CliError(f"no trial of sweep {run.id} logged the primary metric")
        return
    result, outcomes = front_result(run)
    if as_json:
        echo_json(result)
    else:
        echo_front_result(spec, result, outcomes)
    if not result["pareto_front"]:
        raise CliError(f"no trial of sweep {run.id} is on the Pareto front yet")
