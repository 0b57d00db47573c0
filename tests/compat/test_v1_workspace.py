"""Today's code reads a workspace the first release wrote (tests/fixtures/workspace_v1).

Every face reads the same records: `SweepSpec.from_dict`, `HyperDriveRun`, the CLI and the
dashboard's API. A copy is read, so the fixture stays as the first release left it.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from hypersweep import Experiment, HyperDriveRun, Workspace
from hypersweep.cli.main import cli
from hypersweep.policies import BanditPolicy, NoTerminationPolicy
from hypersweep.spec import CommandTrial, FunctionTrial, ScriptTrial, SweepSpec

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workspace_v1"

#: experiment -> (status, trial kind, policy kind, primary metric, best value, best params)
EXPECTED = {
    "script": ("Completed", ScriptTrial, BanditPolicy, "accuracy", 1.0,
               {"lr": 0.05, "layers": 2}),
    "yaml": ("Completed", CommandTrial, NoTerminationPolicy, "loss", 0.04, {"lr": 0.01}),
    "function": ("Completed", FunctionTrial, NoTerminationPolicy, "loss",
                 pytest.approx(0.000614683, rel=1e-5), {"x": pytest.approx(0.2252072)}),
    "canceled": ("Canceled", ScriptTrial, BanditPolicy, "accuracy", None, None),
}


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    shutil.copytree(FIXTURE, tmp_path / "ws")
    return Workspace(str(tmp_path / "ws"))


def _sweeps(workspace: Workspace) -> dict[str, str]:
    """Experiment name -> sweep id (one sweep each)."""
    return {s.experiment: s.id for s in workspace.store.list_sweeps()}


def _invoke(workspace: Workspace, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, "--workspace", str(workspace.path)])
    return result.exit_code, result.output


def test_every_stored_config_reads_as_a_spec(workspace: Workspace) -> None:
    sweeps = {s.experiment: s for s in workspace.store.list_sweeps()}
    assert sorted(sweeps) == sorted(EXPECTED)
    for name, (_, trial_kind, policy_kind, metric, _, _) in EXPECTED.items():
        assert sweeps[name].config.get("version", 1) == 1  # written by the first release
        spec = SweepSpec.from_dict(sweeps[name].config)
        assert isinstance(spec.trial, trial_kind) and isinstance(spec.policy, policy_kind)
        assert spec.objective.metric == metric
        again = SweepSpec.from_dict(spec.to_dict())  # and writes back as this release's form
        assert again.to_dict() == spec.to_dict()
    script = SweepSpec.from_dict(sweeps["script"].config)
    assert script.limits.timeout == 1800.0  # max_duration_minutes=30, stored in seconds
    assert (script.limits.max_total_trials, script.limits.max_concurrent_trials) == (3, 1)
    yaml = SweepSpec.from_dict(sweeps["yaml"].config)
    assert (yaml.limits.timeout, yaml.limits.trial_timeout) == (600.0, 60.0)
    assert (yaml.metadata.name, yaml.metadata.display_name) == ("yaml-command",
                                                                "YAML command sweep")
    assert dict(yaml.metadata.tags) == {"made_by": "make_workspace_v1"}
    function = SweepSpec.from_dict(sweeps["function"].config)
    assert function.limits.max_total_trials == 4 and function.limits.timeout is None


def test_runs_report_status_and_best(workspace: Workspace) -> None:
    for name, sweep_id in _sweeps(workspace).items():
        status, _, _, metric, best_value, best_params = EXPECTED[name]
        run = HyperDriveRun(Experiment(workspace, name), sweep_id)
        assert run.get_status() == status and run.primary_metric_name == metric
        rows = run.get_children_sorted_by_primary_metric()
        best = run.get_best_run_by_primary_metric()
        if best_value is None:
            assert best is None and rows == []
            continue
        assert rows[0]["best_primary_metric"] == best_value
        assert best is not None and best.get_hyperparameters() == best_params
        scores = [r["best_primary_metric"] for r in rows]
        assert scores == sorted(scores, reverse=run.spec.objective.maximize)


def test_cli_lists_shows_and_names_the_best(workspace: Workspace) -> None:
    sweeps = _sweeps(workspace)
    code, out = _invoke(workspace, "ls", "--json")
    assert code == 0, out
    listed = {row["experiment"]: row for row in json.loads(out)}
    assert listed["script"]["best"] == 1.0 and listed["yaml"]["primary_metric"] == "loss"
    assert listed["yaml"]["display_name"] == "YAML command sweep"
    assert listed["canceled"]["status"] == "Canceled"

    code, out = _invoke(workspace, "show", sweeps["yaml"], "--json")
    shown = json.loads(out)
    assert code == 0 and shown["objective"] == {"primary_metric": "loss", "goal": "minimize"}
    assert shown["limits"] == {"max_total_trials": 2, "max_concurrent_trials": 1,
                               "timeout": 600.0, "trial_timeout": 60.0}
    assert [t["status"] for t in shown["trials"]] == ["Completed", "Completed"]

    code, out = _invoke(workspace, "best", sweeps["script"])
    assert code == 0 and "accuracy = 1" in out
    assert "reproduce: cd " in out and "python train.py --lr 0.05 --layers 2" in out
    code, out = _invoke(workspace, "best", sweeps["function"], "--json")
    command = json.loads(out)["command"]  # the function as tune recorded it
    assert code == 0 and command.startswith('__main__:objective({"x": 0.225')
    code, out = _invoke(workspace, "best", sweeps["canceled"])
    assert code == 1 and "logged the primary metric" in out


def test_the_dashboard_lists_every_sweep(workspace: Workspace) -> None:
    from hypersweep.dashboard import ServerThread, create_app

    with ServerThread(create_app(workspace=workspace.path)) as server:
        listing = json.load(urllib.request.urlopen(f"{server.url}/api/sweeps"))
        yaml_id = _sweeps(workspace)["yaml"]
        detail = json.load(urllib.request.urlopen(f"{server.url}/api/sweeps/{yaml_id}"))
    rows = {s["experiment"]: s for s in listing["sweeps"]}
    assert sorted(rows) == sorted(EXPECTED)
    assert rows["script"]["best"]["value"] == 1.0 and rows["script"]["metric"] == "accuracy"
    assert rows["function"]["maximize"] is False and rows["canceled"]["best"] is None
    assert detail["config"]["trial"]["kind"] == "command"
    assert detail["config"]["limits"]["trial_timeout"] == 60.0


def test_resume_refuses_ended_sweeps_naming_the_way_on(workspace: Workspace) -> None:
    sweeps = _sweeps(workspace)
    for name in ("script", "yaml", "canceled"):
        code, out = _invoke(workspace, "resume", sweeps[name])
        assert code == 1 and "has already ended" in out and "resume_from" in out, out
    code, out = _invoke(workspace, "resume", sweeps["function"])
    assert code == 1 and "runs a Python function" in out and "tune(" in out
