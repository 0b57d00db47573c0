"""A worker killed mid-trial: the trial is retried once elsewhere, or fails, per ``retries``."""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

import distributed
import pytest

from hypersweep import (
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    Workspace,
    choice,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SCRIPT = """
import argparse, os, time
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=int); a = p.parse_args()
with open(os.environ["LAUNCH_LOG"], "a") as f:
    f.write(f"{os.environ['HYPERSWEEP_TRIAL_ID']} {os.getpid()}\\n")
run = Run.get_context()
for step in range(6):
    run.log("score", a.x * 10 + step)
    time.sleep(0.4)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def _kill_worker_mid_trial(address: str, store, sweep_id: str) -> str:
    """SIGKILL the worker process running one trial once it logged a metric; its trial id."""
    with distributed.Client(address, set_as_default=False) as client:
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, "no trial reached its second metric"
            running = [t for t in store.list_trials(sweep_id) if len(store.get_metrics(t.id)) >= 2]
            processing = client.processing()
            where = {key: worker for worker, keys in processing.items() for key in keys}
            victim = next((t.id for t in running if t.handle and t.handle["key"] in where), None)
            if victim is not None:
                break
            time.sleep(0.05)
        worker = where[store.get_trial(victim).handle["key"]]
        pids = client.run(os.getpid)
        os.kill(pids[worker], signal.SIGKILL)
    return victim


def _sweep(address: str, source: Path, postgres_url: str, tmp_path: Path, retries: int):
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py",
                                   environment_variables={"LAUNCH_LOG": str(tmp_path / "l.txt")}),
        hyperparameter_sampling=GridParameterSampling({"x": choice(1, 2, 3, 4)}),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_total_runs=4, max_concurrent_runs=4,
        executor=f"{address}?retries={retries}",
    )
    workspace = Workspace(tmp_path / "ws", store=postgres_url)
    return Experiment(workspace, "faults").submit(config), workspace.store


@pytest.mark.parametrize("retries", [1, 0])
def test_worker_killed_mid_trial(address, make_source, postgres_url, tmp_path, retries):
    launches = tmp_path / "l.txt"
    run, store = _sweep(address, make_source(SCRIPT), postgres_url, tmp_path, retries)
    victim = _kill_worker_mid_trial(address, store, run.id)
    run.wait_for_completion(raise_on_error=False)

    children = run.get_children()
    assert [c.id for c in children] == [f"{run.id}_{i}" for i in range(4)]  # budget exact
    lines = [line.split() for line in launches.read_text().splitlines()]
    counts = Counter(trial for trial, _ in lines)
    first_pid = next(int(pid) for trial, pid in lines if trial == victim)
    assert not _alive(first_pid)  # the lifeline killed the dead worker's orphaned trial
    for child in children:
        x = child.get_hyperparameters()["x"]
        if child.id != victim:
            assert child.get_status() == "Completed", child.get_details()
            assert counts[child.id] == 1
            assert child.get_metrics()["score"] == [x * 10 + s for s in range(6)]
            continue
        details = child.get_details()
        if retries == 1:
            assert details["status"] == "Completed", details
            assert counts[victim] == 2  # the first attempt, and its one retry
            assert store.get_tags(victim)["hypersweep.attempt"] == "1"
            points = store.get_metrics(victim, "score")
            retry = [p.value for p in points if p.seq >= 2**40]
            first = [p.value for p in points if p.seq < 2**40]
            assert retry == [x * 10 + s for s in range(6)]  # the retry's journal, whole
            assert first == [x * 10 + s for s in range(len(first))] and len(first) >= 2
        else:
            assert details["status"] == "Failed", details
            assert counts[victim] == 1
            assert "died" in details["error"] and "retries=0" in details["error"]
    assert run.get_status() == "Completed"


def test_no_data_lives_on_a_worker_that_could_die_with_it(
    address, make_source, postgres_url, tmp_path
):
    """Nothing a later trial needs is kept in one worker's memory while trials run.

    Data scattered to the cluster (a source snapshot, say) is pruned by Dask to one replica
    within seconds; a worker killed while holding it cancels every task that depends on it,
    the dead worker's retry and all later trials included. So the only keys a worker may hold
    are trials' own results.
    """
    run, store = _sweep(address, make_source(SCRIPT), postgres_url, tmp_path, retries=1)
    # a trial task's key: results of other tests' sweeps may still be held, and are fine
    task_key = re.compile(r"^hypersweep-HD_[0-9a-f-]{36}_\d+-[0-9a-f]{8}$")
    with distributed.Client(address, set_as_default=False) as client:
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, "no trial of the sweep ever ran"
            trial_keys = {t.handle["key"] for t in store.list_trials(run.id) if t.handle}
            processing = {key for keys in client.processing().values() for key in keys}
            if trial_keys & processing:  # the sweep is under way: its snapshot is out there
                break
            time.sleep(0.05)
        held = {key for keys in client.has_what().values() for key in keys}
    run.wait_for_completion(raise_on_error=False)
    assert all(task_key.match(key) for key in trial_keys)
    other = sorted(key for key in held if not task_key.match(key))
    assert not other, f"data held by single workers: {other}"
    assert run.get_status() == "Completed"
