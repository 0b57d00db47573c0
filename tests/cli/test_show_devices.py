"""``show`` and ``best`` say which devices and cores each trial held, and only when some
trial held any: a sweep without ``resources_per_trial`` reads as it always did."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tests.dashboard.handmade_sweeps import make_sweep

from hypersweep import Workspace
from hypersweep.cli import cli

PLACED = [{"gpus": [2], "cores": [4, 5]}, {"gpus": [0, 1, 3], "cores": [0]},
          {"gpus": [], "cores": [6, 7, 8]}, None]


def _invoke(workspace: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--workspace", str(workspace)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _row(output: str, trial: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(trial + " "))


def test_show_has_a_devices_column_when_trials_held_devices(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [0.4, 0.3, 0.2, 0.1], placements=PLACED)
    shown = _invoke(workspace.path, "show", sweep_id)
    header = next(line for line in shown.splitlines() if line.startswith("trial "))
    assert header.split()[-2:] == ["devices", "reason"]
    assert "gpu 2 · cores 4-5" in _row(shown, f"{sweep_id}_0")
    assert "gpus 0-1,3 · core 0" in _row(shown, f"{sweep_id}_1")
    assert "cores 6-8" in _row(shown, f"{sweep_id}_2") and "gpu" not in _row(shown, f"{sweep_id}_2")
    assert "gpu" not in _row(shown, f"{sweep_id}_3") and "core" not in _row(shown, f"{sweep_id}_3")

    data = json.loads(_invoke(workspace.path, "show", sweep_id, "--json"))
    by_id = {t["run_id"]: t["placement"] for t in data["trials"]}
    assert [by_id[f"{sweep_id}_{i}"] for i in range(4)] == PLACED  # as stored

    best = _invoke(workspace.path, "best", sweep_id)
    assert "  devices:   gpu 2 · cores 4-5" in best.splitlines()
    assert json.loads(_invoke(workspace.path, "best", sweep_id, "--json"))["placement"] == \
        PLACED[0]


def test_show_without_placements_has_no_devices_column(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [0.4, 0.3])
    shown = _invoke(workspace.path, "show", sweep_id)
    header = next(line for line in shown.splitlines() if line.startswith("trial "))
    assert header.split() == ["trial", "status", "score", "lr", "momentum", "ratio", "depth",
                              "reason"]
    assert "devices" not in _invoke(workspace.path, "best", sweep_id)
    trials = json.loads(_invoke(workspace.path, "show", sweep_id, "--json"))["trials"]
    assert [t["placement"] for t in trials] == [None, None]
