"""kill -9 of the controller at several points, then resume(): nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.sweep.conftest import wait_until

from hypersweep import Experiment, HyperDriveRun, Workspace

pytestmark = pytest.mark.slow

STEPS = 4

TRIAL = f"""
import argparse, os, time
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--pause", type=float)
a = p.parse_args()
with open(os.environ["LAUNCH_LOG"], "a") as f:
    f.write(os.environ["HYPERSWEEP_TRIAL_ID"] + "\\n")
run = Run.get_context()
for step in range({STEPS}):
    run.log("score", a.x + step)
    time.sleep(a.pause)
"""

DRIVER = """
import sys
from hypersweep import (Experiment, HyperDriveConfig, RandomParameterSampling,
                        ScriptRunConfig, Workspace, choice, uniform)
ws_path, source, total, concurrent, pause, store = sys.argv[1:7]
config = HyperDriveConfig(
    run_config=ScriptRunConfig(source_directory=source, script="train.py",
                               arguments=["--pause", pause]),
    hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=5),
    primary_metric_name="score", primary_metric_goal="maximize",
    max_total_runs=int(total), max_concurrent_runs=int(concurrent))
run = Experiment(Workspace(ws_path, store=store or None), "crash").submit(config)
print(run.id, flush=True)
run.wait_for_completion()
"""


def start_driver(tmp_path: Path, total: int, concurrent: int, pause: float, store: str = ""):
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "train.py").write_text(TRIAL)
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(DRIVER))
    env = dict(os.environ, LAUNCH_LOG=str(tmp_path / "launches.txt"))
    proc = subprocess.Popen(
        [sys.executable, str(driver), str(tmp_path / "ws"), str(source), str(total),
         str(concurrent), str(pause), store],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stdout is not None
    sweep_id = proc.stdout.readline().strip()
    assert sweep_id.startswith("HD_"), sweep_id
    return proc, sweep_id


def check_nothing_lost_or_doubled(
    tmp_path: Path, sweep_id: str, total: int, store: str | None = None
) -> HyperDriveRun:
    workspace = Workspace(tmp_path / "ws", store=store)
    run = HyperDriveRun(Experiment(workspace, "crash"), sweep_id)
    os.environ["LAUNCH_LOG"] = str(tmp_path / "launches.txt")  # for trials the resume launches
    try:
        run.resume()
        assert run.wait_for_completion()["status"] == "Completed"
    finally:
        del os.environ["LAUNCH_LOG"]
    children = run.get_children()
    assert [c.id for c in children] == [f"{sweep_id}_{i}" for i in range(total)]
    launches = Counter((tmp_path / "launches.txt").read_text().split())
    assert all(n == 1 for n in launches.values()), launches
    assert set(launches) == {c.id for c in children}
    for child in children:
        assert child.get_status() == "Completed", child.get_details()
        x = child.get_hyperparameters()["x"]
        assert child.get_metrics()["score"] == pytest.approx([x + s for s in range(STEPS)])
    return run


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded SQLite store, else a fresh PostgreSQL database."""
    return request.getfixturevalue("postgres_url") if request.param == "postgres" else None


@pytest.mark.parametrize("point", ["first_trial_running", "metrics_flowing", "some_finished"])
def test_kill_controller_then_resume(tmp_path: Path, point: str, store_url: str | None):
    total, concurrent = 5, 2
    proc, sweep_id = start_driver(tmp_path, total, concurrent, pause=0.15, store=store_url or "")
    store = Workspace(tmp_path / "ws", store=store_url).store

    def reached() -> bool:
        trials = store.list_trials(sweep_id)
        if point == "first_trial_running":
            return any(t.status.value == "Running" for t in trials)
        if point == "metrics_flowing":
            return any(len(store.get_metrics(t.id)) >= 2 for t in trials)
        return sum(t.status.value == "Completed" for t in trials) >= 2

    wait_until(reached)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert store.get_sweep(sweep_id).status.value == "Running"
    check_nothing_lost_or_doubled(tmp_path, sweep_id, total, store_url)


def test_trials_that_end_while_no_controller_watches_are_adopted(tmp_path: Path):
    total = 2
    proc, sweep_id = start_driver(tmp_path, total, total, pause=0.1)
    store = Workspace(tmp_path / "ws").store
    wait_until(lambda: sum(t.status.value == "Running" and t.handle is not None
                           for t in store.list_trials(sweep_id)) == total)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(STEPS * 0.1 + 1.0)  # both trials finish with no controller alive
    assert all(t.status.value == "Running" for t in store.list_trials(sweep_id))
    check_nothing_lost_or_doubled(tmp_path, sweep_id, total)


def test_trials_killed_with_their_controller_end_failed_not_running(tmp_path: Path):
    total = 2
    proc, sweep_id = start_driver(tmp_path, total, total, pause=5.0)
    workspace = Workspace(tmp_path / "ws")
    store = workspace.store
    wait_until(lambda: sum(t.handle is not None for t in store.list_trials(sweep_id)) == total)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for trial in store.list_trials(sweep_id):  # the machine "reboots": every process dies
        os.killpg(trial.handle["pgid"], signal.SIGKILL)
    time.sleep(0.3)
    run = HyperDriveRun(Experiment(workspace, "crash"), sweep_id)
    with pytest.raises(RuntimeError, match="resume"):
        run.wait_for_completion()
    run.resume()
    run.wait_for_completion(raise_on_error=False)
    statuses = {c.get_status() for c in run.get_children()}
    assert "Running" not in statuses and statuses <= {"Failed", "Completed"}


def test_a_controller_taking_over_counts_each_report_once(tmp_path: Path):
    """An adopted trial's journal is read again from its start: nothing may count twice."""
    from hypersweep import (
        BanditPolicy,
        HyperDriveConfig,
        RandomParameterSampling,
        ScriptRunConfig,
        uniform,
    )
    from hypersweep.api.sweep_run import _DRIVERS
    from hypersweep.controller import SweepController
    from hypersweep.execution import LocalProcessExecutor

    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(TRIAL)
    workspace = Workspace(tmp_path / "ws")
    os.environ["LAUNCH_LOG"] = str(tmp_path / "launches.txt")
    try:
        run = Experiment(workspace, "takeover").submit(HyperDriveConfig(
            run_config=ScriptRunConfig(source_directory=source, script="train.py",
                                       arguments=["--pause", "0.3"]),
            hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=2),
            primary_metric_name="score", primary_metric_goal="maximize", max_total_runs=2,
            # A policy that never fires: without one the runner keeps no series to count in.
            policy=BanditPolicy(slack_amount=1e9, evaluation_interval=1)))
        store = workspace.store
        wait_until(lambda: len(store.list_trials(run.id)) == 2 and all(
            len(store.get_metrics(t.id)) >= 2 for t in store.list_trials(run.id)))
        thread, first = _DRIVERS[run.id]
        first.request_stop()  # the trials keep running; nobody watches them now
        thread.join(timeout=10)
        second = SweepController(store, LocalProcessExecutor(), run.id, workspace.path)
        second.run()
    finally:
        del os.environ["LAUNCH_LOG"]
    assert run.get_status() == "Completed"
    for trial in store.list_trials(run.id):
        x = trial.params["x"]
        assert second.engine.runner.series[trial.id] == pytest.approx([x + s for s in range(STEPS)])
