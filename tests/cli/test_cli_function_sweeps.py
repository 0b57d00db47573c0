"""Function sweeps (``tune``) in a workspace are read by the command line like script sweeps."""

from __future__ import annotations

import json

from click.testing import CliRunner

from hypersweep import RandomParameterSampling, Workspace, tune, uniform
from hypersweep.cli import cli


def objective(params, run):
    return params["x"]


def test_best_and_show_of_a_function_sweep(tmp_path) -> None:
    result = tune(objective, RandomParameterSampling({"x": uniform(0, 1)}, seed=0), "score",
                  "maximize", 4, workspace=Workspace(tmp_path / "ws"))
    best = CliRunner().invoke(cli, ["best", result.id, "--workspace", str(tmp_path / "ws"),
                                    "--json"])
    assert best.exit_code == 0, best.output
    data = json.loads(best.stdout)
    assert data["run_id"] == result.best_trial_id
    assert data["command"].endswith(f'objective({{"x": {result.best_params["x"]!r}}}, run)')
    show = CliRunner().invoke(cli, ["show", result.id, "--workspace", str(tmp_path / "ws")])
    assert show.exit_code == 0 and result.best_trial_id in show.stdout
