"""``hypersweep replay``: a recorded sweep re-simulated under another policy."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from hypersweep import (
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    Workspace,
    choice,
)
from hypersweep.cli import cli

SCRIPT = """
import argparse
from hypersweep import Run
CURVES = {"good": [0.5, 0.6, 0.7, 0.8], "bad": [0.1, 0.1, 0.12, 0.15]}
p = argparse.ArgumentParser(); p.add_argument("--curve"); a = p.parse_args()
for v in CURVES[a.curve]:
    Run.get_context().log("accuracy", v)
"""


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    root = tmp_path_factory.mktemp("replay")
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text(textwrap.dedent(SCRIPT))
    workspace = Workspace(root / "ws")
    run = Experiment(workspace, "replay").submit(HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=root / "src", script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"curve": choice("good", "bad")}),
        primary_metric_name="accuracy", primary_metric_goal="maximize", max_total_runs=2,
        max_concurrent_runs=1))
    run.wait_for_completion()
    ids = {c.get_hyperparameters()["curve"]: c.id for c in run.get_children()}
    return root / "ws", run.id, ids


def test_replay_inline_policy_as_json(finished_sweep) -> None:
    ws, sweep_id, ids = finished_sweep
    result = CliRunner().invoke(cli, [
        "replay", sweep_id, "--workspace", str(ws), "--json",
        "--policy", "{type: bandit, slack_amount: 0.2, delay_evaluation: 2}"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stopped_at"] == {ids["bad"]: 2}
    assert data["best_trial"] == ids["good"] and data["best_survived"] is True
    assert (data["intervals_run"], data["intervals_total"]) == (6, 8)
    assert data["decisions"][0]["policy"] == "bandit"


def test_replay_policy_from_a_sweep_file_and_bad_policy(finished_sweep, tmp_path) -> None:
    ws, sweep_id, ids = finished_sweep
    sweep_file = tmp_path / "other.yml"
    sweep_file.write_text("early_termination:\n  type: median_stopping\n  delay_evaluation: 1\n")
    result = CliRunner().invoke(cli, ["replay", sweep_id, "--workspace", str(ws),
                                      "--policy", str(sweep_file)])
    assert result.exit_code == 0, result.output
    assert ids["bad"] in result.stdout
    bad = CliRunner().invoke(cli, ["replay", sweep_id, "--workspace", str(ws),
                                   "--policy", "{type: bandit}"])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: early_termination")
