"""The script controller lets ended trials go (its memory does not grow with the sweep) and
decides as before: a resumed sweep's stored trials still rank, count toward the budget and
feed the policy; a trial whose launch raised after its process started still has its journal
and exit taken."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from hypersweep import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
    uniform,
)
from hypersweep.controller import SweepController
from hypersweep.execution import LocalProcessExecutor, TrialSpec
from hypersweep.store import MetricPoint, Status, TrialRecord

pytestmark = pytest.mark.slow

LOGS_X = """
import argparse
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
Run.get_context().log("score", a.x)
"""

# Trial 1 ends half a second after trial 0's supervisor recorded its exit: by then the
# controller has taken trial 0's exit (and its journal with it) before the sweep can end.
WAITS_FOR_TRIAL_0 = """
import argparse, os, time
from pathlib import Path
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
if a.x == 1:
    first = Path(os.environ["HYPERSWEEP_JOURNAL"]).parent.parent / (
        os.environ["HYPERSWEEP_SWEEP_ID"] + "_0") / "exit_status"
    while not first.exists():
        time.sleep(0.02)
    time.sleep(0.5)
Run.get_context().log("score", a.x + 10)
"""


def _config(source: Path, sampling: Any, total: int, **kwargs: Any) -> HyperDriveConfig:
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=sampling, primary_metric_name="score",
        primary_metric_goal="maximize", max_total_runs=total, max_concurrent_runs=2,
        **kwargs)


def _drive(controller: SweepController) -> None:
    try:
        controller.run()
    finally:
        controller.executor.shutdown()


def test_a_resumed_sweep_ranks_and_counts_the_trials_it_read_back_and_lets_them_go(
        sqlite_workspace: Workspace, make_source) -> None:
    store = sqlite_workspace.store
    # A policy that never fires: the runner keeps every trial's series all the same.
    run = Experiment(sqlite_workspace, "resumed").submit(_config(
        make_source(LOGS_X), RandomParameterSampling({"x": uniform(0, 1)}, seed=4), 5,
        policy=BanditPolicy(slack_amount=100.0, evaluation_interval=1)), start=False)
    store.update_sweep(run.id, status=Status.RUNNING)
    now = datetime.now(timezone.utc)
    ids = [f"{run.id}_{i}" for i in range(5)]
    store.create_trial(TrialRecord(id=ids[0], sweep_id=run.id, index=0, params={"x": 0.5},
                                   status=Status.COMPLETED, created_time=now, start_time=now,
                                   end_time=now, exit_code=0))
    store.add_metrics(ids[0], [MetricPoint(seq, 0, "score", seq, value, None, "scalar", now)
                               for seq, value in enumerate([0.5, 3.0])])
    store.create_trial(TrialRecord(id=ids[1], sweep_id=run.id, index=1, params={"x": 0.25},
                                   status=Status.FAILED, created_time=now, start_time=now,
                                   end_time=now, exit_code=1, error="exit code 1: boom"))
    controller = SweepController(store, LocalProcessExecutor(), run.id, sqlite_workspace.path)
    _drive(controller)

    sweep = store.get_sweep(run.id)
    trials = store.list_trials(run.id)
    assert sweep.status == Status.COMPLETED, sweep.error
    assert [t.id for t in trials] == ids  # the budget counted the two read back
    assert [t.status for t in trials[2:]] == [Status.COMPLETED] * 3
    # The best is a trial read back and let go at once: still the sweep's best.
    assert sweep.properties["best_child_run_id"] == ids[0]
    assert sweep.properties["best_primary_metric"] == 3.0
    engine = controller.engine
    assert engine.trials == {} and engine.count == 5
    assert controller.executor.running() == set()
    # What the policy and the sampler know of every trial, those let go included.
    series = engine.runner.series
    assert sorted(series) == ids and list(series[ids[0]]) == [0.5, 3.0]
    assert all(list(series[t.id]) == [pytest.approx(t.params["x"])] for t in trials[2:])
    finished, pending = engine.history()
    assert [f.params for f in finished] == [t.params for t in trials] and pending == []
    assert [f.score for f in finished[:2]] == [3.0, None]


class RaisesAfterStarting(LocalProcessExecutor):
    """A real executor whose launch of trial 0 raises after its process started (a handle
    that could not be recorded, a disk full at the last step)."""

    def launch(self, spec: TrialSpec) -> dict[str, Any]:
        handle = super().launch(spec)
        if spec.trial_id.endswith("_0"):
            raise OSError("no space left on device")
        return handle


def test_a_trial_ended_while_its_process_runs_still_has_its_journal_taken(
        sqlite_workspace: Workspace, make_source) -> None:
    store = sqlite_workspace.store
    run = Experiment(sqlite_workspace, "draining").submit(_config(
        make_source(WAITS_FOR_TRIAL_0), GridParameterSampling({"x": choice(0, 1)}), 2),
        start=False)
    controller = SweepController(store, RaisesAfterStarting(), run.id, sqlite_workspace.path)
    _drive(controller)

    first, second = store.list_trials(run.id)
    assert first.status == Status.FAILED
    assert first.error is not None and "no space left on device" in first.error
    assert [p.value for p in store.get_metrics(first.id, "score")] == [10.0]
    assert second.status == Status.COMPLETED
    assert controller.engine.trials == {} and controller.executor.running() == set()
    assert os.path.exists(Path(sqlite_workspace.path) / "runs" / first.id / "exit_status")
