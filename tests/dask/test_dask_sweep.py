"""Whole sweeps whose trials run on a real 4-worker Dask cluster, records in PostgreSQL."""

from __future__ import annotations

import os

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
import argparse, os, socket
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=int); a = p.parse_args()
run = Run.get_context()
for step in range(3):
    run.log("score", a.x * 10 + step)
os.makedirs("outputs", exist_ok=True)
with open("outputs/where.txt", "w") as f:
    f.write(f"{os.getpid()} {os.environ['HYPERSWEEP_OUTPUTS']}")
print("hello from", a.x, open("data.txt").read())
"""


def test_sweep_runs_its_trials_on_dask_workers(address, make_source, postgres_url, tmp_path):
    source = make_source(SCRIPT)
    (source / "data.txt").write_text("snapshot-data")
    workspace = Workspace(tmp_path / "ws", store=postgres_url)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"x": choice(1, 2, 3, 4, 5, 6)}),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_total_runs=6, max_concurrent_runs=4,
        executor="dask://" + address.removeprefix("tcp://"),
    )
    run = Experiment(workspace, "dask").submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    errors = [c.get_details().get("error") for c in run.get_children()]
    assert details["status"] == "Completed", errors
    children = run.get_children()
    assert len(children) == 6
    for child in children:
        assert child.get_status() == "Completed", child.get_details()
        x = child.get_hyperparameters()["x"]
        assert child.get_metrics()["score"] == [x * 10, x * 10 + 1, x * 10 + 2]
        folder = tmp_path / "ws" / ".hypersweep" / "runs" / child.id
        folder = folder if folder.exists() else next((tmp_path / "ws").rglob(child.id))
        assert f"hello from {x} snapshot-data" in (folder / "stdout.log").read_text()
        where = (folder / "work" / "outputs" / "where.txt").read_text()
        # The trial ran in the worker's scratch space, not in the workspace.
        assert "dask-scratch-space" in where.split()[1]
        assert int(where.split()[0]) != os.getpid()
    assert run.get_best_run_by_primary_metric().get_hyperparameters() == {"x": 6}
