"""A controller that died between launching a trial and recording its handle: the next one
adopts the trial from its folder and records the handle it found there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hypersweep import (
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    Workspace,
    choice,
)
from hypersweep.controller import SweepController
from hypersweep.execution import LocalProcessExecutor, TrialSpec
from hypersweep.store import Status

pytestmark = pytest.mark.slow

# Runs until the test says so: the first controller is gone while it runs.
WAITS_FOR_GO = """
import argparse, os, time
from pathlib import Path
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
go = Path(os.environ["GO_FILE"])
while not go.exists():
    time.sleep(0.02)
Run.get_context().log("score", a.x)
"""


class _Died(BaseException):
    """The controller's process dying, as far as its loop can tell."""


class DiesAfterLaunching(LocalProcessExecutor):
    """A real executor whose controller dies right after the launch, before the handle is
    held (let alone written)."""

    def launch(self, spec: TrialSpec) -> dict[str, Any]:
        super().launch(spec)
        raise _Died


def test_a_handle_found_in_the_trial_folder_is_recorded(
        sqlite_workspace: Workspace, make_source, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    go = tmp_path / "go"
    monkeypatch.setenv("GO_FILE", str(go))
    store = sqlite_workspace.store
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=make_source(WAITS_FOR_GO),
                                   script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"x": choice(0.5)}),
        primary_metric_name="score", primary_metric_goal="maximize", max_total_runs=1,
        max_concurrent_runs=1)
    run = Experiment(sqlite_workspace, "found").submit(config, start=False)
    first = DiesAfterLaunching()
    with pytest.raises(_Died):
        SweepController(store, first, run.id, sqlite_workspace.path).run()
    first.shutdown()  # the trial runs on, as after a kill -9 of the controller
    (trial,) = store.list_trials(run.id)
    assert trial.status == Status.RUNNING and trial.handle is None

    supervisor = json.loads((Path(sqlite_workspace.path) / "runs" / trial.id
                             / "supervisor.json").read_text())
    go.touch()
    second = LocalProcessExecutor()
    try:
        SweepController(store, second, run.id, sqlite_workspace.path).run()
    finally:
        second.shutdown()

    (trial,) = store.list_trials(run.id)
    assert trial.status == Status.COMPLETED, trial.error
    assert [p.value for p in store.get_metrics(trial.id, "score")] == [0.5]
    assert trial.handle is not None
    assert trial.handle["executor"] == "local"
    assert trial.handle["pid"] == supervisor["pid"]
    assert trial.handle["start_ticks"] == supervisor["start_ticks"]
