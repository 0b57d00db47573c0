"""A Dask trial's environment is its worker's: its own PATH and PYTHONPATH, and its own shim for
a v1 script's ``from azureml.core import Run``."""

from __future__ import annotations

import os
import sys
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
from hypersweep.tracking.integrations import SHIM_ARCHIVE_PREFIX, azureml_core_installed

distributed = pytest.importorskip("distributed")

SCRIPT = """
import argparse
import azureml.core
from azureml.core import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=int); a = p.parse_args()
Run.get_context().log("score", a.x)
print("shim:", azureml.core.__file__)
"""


ENVIRONMENT = """
import argparse, os
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=int); a = p.parse_args()
print("PATH=" + os.environ["PATH"])
print("PYTHONPATH=" + os.environ.get("PYTHONPATH", ""))
Run.get_context().log("score", a.x)
"""


@pytest.mark.slow
def test_trials_get_the_workers_environment_not_the_controllers(
    make_source: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """docs/cluster.md: a trial's environment is the worker's plus the sweep's variables; the
    controller's PATH and PYTHONPATH (paths of its own machine) stay with it."""
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", os.pathsep.join(["/controller-only/bin", path]))
    monkeypatch.setenv("PYTHONPATH", "/controller-only/lib")
    worker_env = {"PATH": os.pathsep.join(["/worker-only/bin", path]),
                  "PYTHONPATH": "/worker-only/lib"}
    with distributed.LocalCluster(
        n_workers=1, processes=True, threads_per_worker=1, host="127.0.0.1",
        dashboard_address=None, worker_dashboard_address=None, env=worker_env,
    ) as cluster:
        config = HyperDriveConfig(
            run_config=ScriptRunConfig(source_directory=make_source(ENVIRONMENT),
                                       script="train.py"),
            hyperparameter_sampling=GridParameterSampling({"x": choice(1)}),
            primary_metric_name="score", primary_metric_goal="maximize",
            max_total_runs=1, max_concurrent_runs=1,
            executor="dask://" + cluster.scheduler_address.removeprefix("tcp://"),
        )
        run = Experiment(Workspace(tmp_path / "ws"), "dask-env").submit(config)
        details = run.wait_for_completion(raise_on_error=False)
    (child,) = run.get_children()
    assert details["status"] == "Completed", child.get_details().get("error")
    folder = next((tmp_path / "ws").rglob(child.id))
    seen = dict(line.split("=", 1) for line in (folder / "stdout.log").read_text().splitlines()
                if line.startswith(("PATH=", "PYTHONPATH=")))
    trial_path = seen["PATH"].split(os.pathsep)
    assert trial_path[0] == os.path.dirname(sys.executable)  # the worker's python first
    assert "/worker-only/bin" in trial_path and "/controller-only/bin" not in trial_path
    trial_pythonpath = seen["PYTHONPATH"].split(os.pathsep)
    assert trial_pythonpath[0] == "/worker-only/lib"
    assert "/controller-only/lib" not in trial_pythonpath
    if not azureml_core_installed():  # then the worker's own shim archive follows
        (shim,) = trial_pythonpath[1:]
        assert os.path.basename(shim).startswith(SHIM_ARCHIVE_PREFIX)
        assert "dask-scratch-space" in shim


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
