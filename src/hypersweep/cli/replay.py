"""``hypersweep replay SWEEP_ID --policy POLICY``: a finished sweep under another policy.

Re-simulates the recorded learning curves (in the order the trials logged them) and says which
trials the policy would have stopped, the compute it would have saved, and whether the best
trial would have survived. Nothing is run and nothing is written.

Examples
--------
>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["replay", "--help"]).exit_code
0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from hypersweep.cli._format import echo_json
from hypersweep.cli.main import CliError, WorkspaceRef, cli, open_sweep, workspace_options


def _policy_mapping(text: str) -> Any:
    """A policy from a YAML file (a policy mapping, or a sweep file's ``early_termination``)
    or from inline YAML such as ``"{type: bandit, slack_factor: 0.1}"`` or ``median_stopping``."""
    path = Path(text)
    source = path.read_text() if path.is_file() else text
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as err:
        raise CliError(f"--policy: not valid YAML ({err.__class__.__name__})") from None
    if isinstance(data, dict) and "early_termination" in data:
        data = data["early_termination"]
    if data is None:
        raise CliError(f"--policy: no policy given (got {text!r})")
    return data


@cli.command()
@click.argument("sweep_id")
@click.option("--policy", "policy_text", required=True,
              help="Policy as inline YAML ('{type: bandit, slack_factor: 0.1}') or a YAML file.")
@click.option("--workers", type=int, default=None,
              help="Replay as if this many trials ran at once (default: recorded order).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@workspace_options
def replay(sweep_id: str, policy_text: str, workers: int | None, as_json: bool,
           workspace: WorkspaceRef) -> None:
    """Replay a finished sweep's learning curves under another early-termination policy."""
    run = open_sweep(workspace.open(read_only=True), sweep_id)
    report = run.replay(_policy_mapping(policy_text), workers=workers)
    if as_json:
        echo_json({
            "sweep_id": run.id, "policy": report.policy,
            "stopped_at": report.stopped_at, "intervals_run": report.intervals_run,
            "intervals_total": report.intervals_total, "saved": report.saved,
            "best_trial": report.best_trial, "best_value": report.best_value,
            "best_survived": report.best_survived, "obtained_trial": report.obtained_trial,
            "obtained_value": report.obtained_value,
            "decisions": [d.to_dict() for d in report.decisions],
        })
        return
    click.echo(str(report))
