"""A v1 script's ``from azureml.core import Run`` on Dask workers: each imports its own shim."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from hypersweep import (
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    Workspace,
    choice,
)
from hypersweep.execution import layout
from hypersweep.execution._dask_worker import _own_shim
from hypersweep.tracking.integrations import SHIM_ARCHIVE_PREFIX, shim_archive

SCRIPT = """
import argparse
import azureml.core
from azureml.core import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=int); a = p.parse_args()
Run.get_context().log("score", a.x)
print("shim:", azureml.core.__file__)
"""


def test_the_controllers_archive_becomes_the_workers(tmp_path: Path) -> None:
    controllers = shim_archive(tmp_path / "controller" / "shims")
    env = {"PYTHONPATH": os.pathsep.join(["/mine", controllers, "/after"])}
    _own_shim(env, tmp_path / "worker")
    ours = shim_archive(layout.shims_dir(tmp_path / "worker"))
    assert env["PYTHONPATH"].split(os.pathsep) == ["/mine", ours, "/after"]
    untouched = {"PYTHONPATH": "/mine"}
    _own_shim(untouched, tmp_path / "other")
    assert untouched == {"PYTHONPATH": "/mine"} and not (tmp_path / "other").exists()


@pytest.mark.slow
@pytest.mark.postgres
def test_v1_trials_on_workers_import_the_workers_archive(
    address: str, make_source: Callable[..., Path], postgres_url: str, tmp_path: Path,
) -> None:
    workspace = Workspace(tmp_path / "ws", store=postgres_url)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=make_source(SCRIPT), script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"x": choice(1, 2, 3)}),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_total_runs=3, max_concurrent_runs=3,
        executor="dask://" + address.removeprefix("tcp://"),
    )
    run = Experiment(workspace, "dask-v1").submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    children = run.get_children()
    assert details["status"] == "Completed", [c.get_details().get("error") for c in children]
    for child in children:
        assert child.get_metrics()["score"] == child.get_hyperparameters()["x"]
        folder = next((tmp_path / "ws").rglob(child.id))
        (line,) = [x for x in (folder / "stdout.log").read_text().splitlines()
                   if x.startswith("shim: ")]
        archive = Path(line.removeprefix("shim: ")).parents[2]
        # The worker's own copy, in its scratch space: not the controller's in the workspace.
        assert archive.name.startswith(SHIM_ARCHIVE_PREFIX)
        assert archive.parent.name == layout.SHIMS and "dask-scratch-space" in str(archive)
