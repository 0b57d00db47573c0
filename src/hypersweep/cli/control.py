"""Commands that drive sweeps: ``run``, ``resume`` and ``cancel``.

A foreground ``run``/``resume`` drives the sweep in this process with the live view. Ctrl-C
cancels the sweep cleanly (running trials are stopped and recorded ``Canceled``) and exits
with status 130. ``--detach`` hands the sweep to a background process
(``python -m hypersweep.cli._drive``) in its own session, logging to
``<workspace>/drivers/<sweep-id>.log``, and prints the sweep id at once.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["run", "--help"]).exit_code
0
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from typing import Any

import click

from hypersweep.cli._format import best_summary, echo_best, echo_json
from hypersweep.cli._outcomes import echo_front_result, front_result
from hypersweep.cli.main import CliError, WorkspaceRef, cli, open_sweep, workspace_options
from hypersweep.store.records import Status

_GPUS_OPTION = click.option(
    "--gpus", metavar="0,1", default=None,
    help="The GPUs trials may use (with resources_per_trial), instead of all that nvidia-smi "
         "lists and CUDA_VISIBLE_DEVICES leaves visible; the same as HYPERSWEEP_GPUS.")


def _use_gpus(gpus: str | None) -> None:
    """Make ``--gpus`` what this process, its controller and a detached driver discover."""
    if gpus is None:
        return
    from hypersweep.errors import ConfigError
    from hypersweep.execution.gpus import discover_gpus

    try:
        discover_gpus({"HYPERSWEEP_GPUS": gpus})
    except ConfigError as err:
        raise CliError(str(err).replace("HYPERSWEEP_GPUS", "--gpus", 1)) from None
    os.environ["HYPERSWEEP_GPUS"] = gpus


@cli.command()
@click.argument("sweep_file", metavar="SWEEP.yml")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a YAML key by dotted path, e.g. limits.max_total_trials=4 "
                   "(the value is read as YAML). Repeatable.")
@click.option("--detach", is_flag=True, help="Run in a background process; print the id.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON (no live view).")
@click.option("--executor", metavar="URI", default=None,
              help="Where trials run: 'local' (default) or 'dask://HOST:8786'.")
@_GPUS_OPTION
@workspace_options
def run(sweep_file: str, overrides: tuple[str, ...], detach: bool, as_json: bool,
        executor: str | None, gpus: str | None, workspace: WorkspaceRef) -> None:
    """Run the sweep described by SWEEP.yml (Azure ML v2 `type: sweep`).

    Shows the live progress view, then the best trial and the command line that
    reproduces it. Ctrl-C cancels the sweep (trials stopped and recorded) and exits 130.
    """
    from hypersweep.api.workspace import Experiment
    from hypersweep.config import load_sweep

    _use_gpus(gpus)

    if executor is not None:  # the same as the file's `executor:` key
        overrides = (*overrides, f"executor={executor}")
    loaded = load_sweep(sweep_file, overrides)
    for message in loaded.warnings:
        click.echo(f"warning: {message}", err=True)
    ws = workspace.open(create=True)
    experiment = Experiment(ws, loaded.experiment_name)
    if detach:
        sweep = experiment.submit(loaded.spec, start=False)
        _detach(ws, sweep.id, as_json)
        return
    sweep = experiment.submit(loaded.spec)
    if not as_json:
        click.echo(f"sweep {sweep.id} (experiment {experiment.name})")
    _follow(sweep, as_json)


@cli.command()
@click.argument("sweep_id")
@click.option("--detach", is_flag=True, help="Continue in a background process.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON (no live view).")
@_GPUS_OPTION
@workspace_options
def resume(sweep_id: str, detach: bool, as_json: bool, gpus: str | None,
           workspace: WorkspaceRef) -> None:
    """Continue a sweep whose controller stopped (killed, crashed, or detached and ended).

    Running trials are adopted, ended ones recorded; no trial runs twice. A sweep driven by
    a live controller is refused (exit status 1), naming its host and pid.
    """
    from hypersweep.api.sweep_run import check_resumable

    _use_gpus(gpus)

    ws = workspace.open()
    sweep = open_sweep(ws, sweep_id)
    try:
        if detach:  # the background process claims it; say now what it would say there
            check_resumable(ws.store.get_sweep(sweep.id))
        else:
            sweep.resume()
    except RuntimeError as err:  # ended, busy, or a function sweep: one line
        raise CliError(str(err)) from None
    if detach:
        _detach(ws, sweep.id, as_json)
        return
    _follow(sweep, as_json)


@cli.command()
@click.argument("sweep_id")
@click.option("--wait", is_flag=True, help="Wait until the sweep has ended.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@workspace_options
def cancel(sweep_id: str, wait: bool, as_json: bool, workspace: WorkspaceRef) -> None:
    """Cancel a sweep: its controller stops the running trials and records them Canceled."""
    from hypersweep.engine.lease import controller_alive

    ws = workspace.open()
    sweep = open_sweep(ws, sweep_id)
    sweep_id = sweep.id  # the whole id, if a prefix named it
    before = sweep.get_status()
    sweep.cancel()
    driven = controller_alive(ws.store.get_sweep(sweep_id))
    if wait and not Status(before).is_terminal:
        if not driven:
            raise CliError(f"no controller is driving sweep {sweep_id}; "
                           f"`hypersweep resume {sweep_id}` will stop its trials and end it")
        sweep.wait_for_completion(show_output=False, raise_on_error=False)
    status = sweep.get_status()
    if as_json:
        echo_json({"sweep_id": sweep_id, "status": status, "driven": driven})
    elif Status(before).is_terminal:
        click.echo(f"sweep {sweep_id} had already ended ({before})")
    else:
        click.echo(f"sweep {sweep_id}: {status}")


def _detach(ws: Any, sweep_id: str, as_json: bool) -> None:
    """Start ``python -m hypersweep.cli._drive`` in its own session; print the sweep id."""
    folder = ws.path / "drivers"
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"{sweep_id}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "hypersweep.cli._drive", str(ws.path), ws.store_url,
             sweep_id],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=os.getcwd(),
        )
    (folder / f"{sweep_id}.pid").write_text(f"{process.pid}\n")
    if as_json:
        echo_json({"sweep_id": sweep_id, "pid": process.pid, "log": str(log_path)})
    else:
        click.echo(sweep_id)


def _follow(sweep: Any, as_json: bool) -> None:
    """Wait for the sweep with the live view; Ctrl-C cancels it; print the outcome."""
    ctx = click.get_current_context()
    try:
        sweep.wait_for_completion(show_output=not as_json, raise_on_error=False)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: canceling sweep {sweep.id} ...", err=True)
        sweep.cancel()
        # A second Ctrl-C leaves at once; `hypersweep resume` then finishes the cancel.
        with contextlib.suppress(KeyboardInterrupt):
            sweep.wait_for_completion(show_output=False, raise_on_error=False)
        click.echo(f"sweep {sweep.id}: {sweep.get_status()}", err=True)
        ctx.exit(130)
    except RuntimeError as err:  # the controller stopped (see its warnings)
        raise CliError(_controller_failure(sweep.id, err)) from None
    details = sweep.get_details()
    status = details["status"]
    best: dict[str, Any] | None
    outcomes: list[Any] = []
    if sweep.spec.pareto:  # the result is the front (and the best feasible trial first)
        best, outcomes = front_result(sweep)
    else:
        best = best_summary(sweep)
    if as_json:
        echo_json({"sweep_id": sweep.id, "experiment": sweep.experiment.name,
                   "status": status, "error": details.get("error"),
                   "warnings": details["warnings"], "best": best})
    else:
        counts = _counts(sweep)
        click.echo(f"sweep {sweep.id} {status}: {counts}")
        if sweep.spec.pareto:
            assert best is not None
            echo_front_result(sweep.spec, best, outcomes)
        else:
            echo_best(best)
    if status != "Completed":
        raise CliError(f"sweep {sweep.id} {status.lower()}"
                       + (f": {details['error']}" if details.get("error") else ""))


def _controller_failure(sweep_id: str, err: RuntimeError) -> str:
    """Why the controller of this command stopped, in one line: what its thread died of
    (a full disk says so) rather than only that it stopped."""
    from hypersweep.cli._errors import captured, disk_full_message, failure_line

    causes = captured()
    for cause in causes:
        full = disk_full_message(cause)
        if full is not None:
            return full
    if not causes:
        return str(err)
    return (f"the controller of sweep {sweep_id} stopped: {failure_line(causes[0])}; "
            f"`hypersweep resume {sweep_id}` continues it")


def _counts(sweep: Any) -> str:
    from collections import Counter

    counts = Counter(child.get_status() for child in sweep.get_children())
    total = sum(counts.values())
    return f"{total} trials (" + ", ".join(
        f"{n} {s.lower()}" for s, n in sorted(counts.items())) + ")"
