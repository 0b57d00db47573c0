"""Controllers apart from their trials: killed and resumed; two sweeps sharing one database."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    HyperDriveRun,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

STEPS = 4

TRIAL = f"""
import argparse, os, time
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
a = p.parse_args()
with open(os.environ["LAUNCH_LOG"], "a") as f:
    f.write(os.environ["HYPERSWEEP_TRIAL_ID"] + "\\n")
run = Run.get_context()
for step in range({STEPS}):
    run.log("score", a.x + step)
    time.sleep(0.3)
"""

DRIVER = """
import os, sys
from hypersweep import (Experiment, HyperDriveConfig, RandomParameterSampling,
                        ScriptRunConfig, Workspace, uniform)
ws_path, source, store, executor = sys.argv[1:5]
config = HyperDriveConfig(
    run_config=ScriptRunConfig(source_directory=source, script="train.py",
                               environment_variables={"LAUNCH_LOG": os.environ["LAUNCH_LOG"]}),
    hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=5),
    primary_metric_name="score", primary_metric_goal="maximize",
    max_total_runs=6, max_concurrent_runs=3, executor=executor)
run = Experiment(Workspace(ws_path, store=store), "crash").submit(config)
print(run.id, flush=True)
run.wait_for_completion()
"""


def _check(run: HyperDriveRun, launches: Path, total: int) -> None:
    children = run.get_children()
    assert [c.id for c in children] == [f"{run.id}_{i}" for i in range(total)]
    counts = Counter(launches.read_text().split())
    assert set(counts) == {c.id for c in children} and set(counts.values()) == {1}, counts
    for child in children:
        assert child.get_status() == "Completed", child.get_details()
        x = child.get_hyperparameters()["x"]
        assert child.get_metrics()["score"] == pytest.approx([x + s for s in range(STEPS)])


def test_controller_killed_and_resumed(address, postgres_url, tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(TRIAL)
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    launches = tmp_path / "launches.txt"
    # Trials on workers get the sweep's environment_variables, not the controller's env.
    monkeypatch.setenv("LAUNCH_LOG", str(launches))
    proc = subprocess.Popen(
        [sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "ws"), str(source),
         postgres_url, address],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    sweep_id = proc.stdout.readline().strip()
    workspace = Workspace(tmp_path / "ws", store=postgres_url)
    store = workspace.store
    deadline = time.monotonic() + 60
    # Kill once metrics flow and a trial has finished: some trials run, some are done.
    while not (any(t.status.value == "Completed" for t in store.list_trials(sweep_id))
               and any(t.status.value == "Running" and len(store.get_metrics(t.id)) >= 1
                       for t in store.list_trials(sweep_id))):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert store.get_sweep(sweep_id).status.value == "Running"
    time.sleep(1.0)  # trials keep running (and some end) on the cluster with no controller

    run = HyperDriveRun(Experiment(workspace, "crash"), sweep_id)
    run.resume()
    assert run.wait_for_completion()["status"] == "Completed"
    _check(run, launches, 6)


def test_two_sweeps_share_one_database_and_cluster(address, postgres_url, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(TRIAL)
    runs = []
    for name in ("a", "b"):
        launches = tmp_path / f"launches-{name}.txt"
        config = HyperDriveConfig(
            run_config=ScriptRunConfig(source_directory=source, script="train.py",
                                       environment_variables={"LAUNCH_LOG": str(launches)}),
            hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=1),
            primary_metric_name="score", primary_metric_goal="maximize",
            max_total_runs=4, max_concurrent_runs=2, executor=address,
        )
        # Each sweep has its own workspace folder and controller; the database is shared.
        workspace = Workspace(tmp_path / f"ws-{name}", store=postgres_url)
        runs.append((Experiment(workspace, f"shared-{name}").submit(config), launches))
    for run, launches in runs:
        assert run.wait_for_completion()["status"] == "Completed"
        _check(run, launches, 4)
    store = Workspace(tmp_path / "ws-a", store=postgres_url).store
    assert {s.id for s in store.list_sweeps()} >= {r.id for r, _ in runs}


KILLED_BEFORE_PUBLISH = """
import os, sys, time
from pathlib import Path
from hypersweep.execution.base import TrialSpec
from hypersweep.execution.dask import DaskExecutor
address, source, trial_dir, log = sys.argv[1:5]
executor = DaskExecutor(address)

def die_before_publishing(*args, **kwargs):
    time.sleep(1.5)  # long enough for the submitted task to reach a worker
    os._exit(9)

executor.client.publish_dataset = die_before_publishing
executor.launch(TrialSpec(
    trial_id="HD_window_0", argv=[sys.executable, "train.py", "--x", "1"],
    env={"LAUNCH_LOG": log}, workdir=Path(trial_dir) / "work", trial_dir=Path(trial_dir),
    snapshot=Path(source)))
"""


def test_controller_killed_between_submit_and_publish(address, make_source, tmp_path):
    """The window a resumed controller cannot see into: the script must not have started."""
    source = make_source(TRIAL)
    launches = tmp_path / "launches.txt"
    (tmp_path / "driver.py").write_text(KILLED_BEFORE_PUBLISH)
    trial_dir = tmp_path / "trial"
    done = subprocess.run(
        [sys.executable, str(tmp_path / "driver.py"), address, str(source), str(trial_dir),
         str(launches)], capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 9, done.stderr
    time.sleep(1.0)  # the scheduler releases the dead client's task; a started task would log
    assert not launches.exists()

    from hypersweep.execution.base import TrialSpec
    from hypersweep.execution.dask import DaskExecutor

    spec = TrialSpec(trial_id="HD_window_0", argv=[sys.executable, "train.py", "--x", "1"],
                     env={"LAUNCH_LOG": str(launches)}, workdir=trial_dir / "work",
                     trial_dir=trial_dir, snapshot=source)
    executor = DaskExecutor(address)
    try:
        assert not executor.launched(spec)  # so a resumed controller launches it, once
    finally:
        executor.shutdown()
