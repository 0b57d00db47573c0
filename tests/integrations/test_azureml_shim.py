"""Unchanged Azure ML v1 scripts (``from azureml.core import Run``) in trials, and alone."""

from __future__ import annotations

import os
import subprocess
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
from hypersweep.tracking.integrations import SHIM_DIR

V1_SCRIPT = """
    import argparse
    from azureml.core import Run
    from azureml.core.run import Run as SameRun
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float)
    a = p.parse_args()
    assert Run is SameRun
    run = Run.get_context()
    for epoch in range(3):
        run.log("accuracy", a.lr * (epoch + 1))
    run.tag("flavour", "v1")
    print("context:", type(run).__name__, run.id)
"""


@pytest.mark.slow
def test_v1_script_swept(sqlite_workspace: Workspace, make_source: Callable[..., Path]) -> None:
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=make_source(V1_SCRIPT), script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"lr": choice(0.1, 0.3)}),
        primary_metric_name="accuracy", primary_metric_goal="maximize", max_total_runs=2,
    )
    run = Experiment(sqlite_workspace, "v1").submit(config)
    assert run.wait_for_completion()["status"] == "Completed"
    for child in run.get_children():
        lr = child.get_hyperparameters()["lr"]
        assert child.get_metrics()["accuracy"] == pytest.approx([lr, 2 * lr, 3 * lr])
        assert child.get_tags()["flavour"] == "v1"
        assert f"context: TrialRun {child.id}" in child.log_path.read_text()
    best = run.get_best_run_by_primary_metric()
    assert best is not None and best.get_hyperparameters()["lr"] == 0.3


def _run_alone(tmp_path: Path, code: str, pythonpath: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "train.py").write_text(code)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPERSWEEP_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run([sys.executable, "train.py", "--lr", "0.5"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def test_v1_script_alone_is_an_offline_run(tmp_path: Path) -> None:
    import textwrap

    done = _run_alone(tmp_path, textwrap.dedent(V1_SCRIPT), SHIM_DIR)
    assert done.returncode == 0, done.stderr
    assert "Attempted to log scalar metric accuracy:\n0.5" in done.stdout
    assert "context: OfflineRun OfflineRun_" in done.stdout


def test_without_the_shim_azureml_is_not_there(tmp_path: Path) -> None:
    # The user's own interpreter is untouched: no azureml unless a trial's PYTHONPATH adds it.
    done = _run_alone(tmp_path, "import azureml\n", None)
    assert done.returncode != 0 and "No module named 'azureml'" in done.stderr


def test_shim_says_what_it_is_for_other_names(tmp_path: Path) -> None:
    done = _run_alone(tmp_path, "from azureml.core import Workspace\n", SHIM_DIR)
    assert done.returncode != 0
    assert "cannot import name 'Workspace'" in done.stderr and "shims" in done.stderr
