"""Whole sweeps of unchanged Azure ML v2 scripts that log only through MLflow.

Real trial processes, a real SQLite store: ``mlflow.log_metric``/``log_metrics`` (with and
without ``mlflow.start_run()``) and scikit-learn autologging land as the trials' metrics.
"""

from __future__ import annotations

import importlib.util
import json
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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("mlflow") is None,
        reason="mlflow is not installed (pip install mlflow-skinny)",
    ),
]

V2_SCRIPT = """
    import argparse, json, os
    import mlflow
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float)
    p.add_argument("--style")
    a = p.parse_args()

    def train():
        for epoch in range(3):
            if a.style == "start_run":
                mlflow.log_metric("score", a.x * (epoch + 1), step=epoch)
            else:
                mlflow.log_metric("score", a.x * (epoch + 1))  # no step
        mlflow.log_metrics({"loss": 1 - a.x, "acc": a.x}, step=5)
        mlflow.log_param("style", a.style)
        mlflow.set_tags({"family": "v2"})
        with open("outputs/mlflow.json", "w") as f:
            json.dump({"run_id": mlflow.active_run().info.run_id,
                       "uri": mlflow.get_tracking_uri()}, f)

    if a.style == "start_run":
        with mlflow.start_run():
            train()
    else:
        train()  # the implicit run mlflow.log_metric starts
"""

AUTOLOG_SCRIPT = """
    import argparse
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    p = argparse.ArgumentParser()
    p.add_argument("--C", type=float)
    a = p.parse_args()
    mlflow.sklearn.autolog()
    X, y = load_iris(return_X_y=True)
    LogisticRegression(C=a.C, max_iter=300).fit(X, y)
"""

USER_URI_SCRIPT = """
    import json, os
    from hypersweep import Run
    Run.get_context().log("score", 1.0)
    with open("outputs/env.json", "w") as f:
        json.dump({k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}, f)
"""


def hyperdrive(source: Path, sampling, metric: str, runs: int, **script) -> HyperDriveConfig:
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py", **script),
        hyperparameter_sampling=sampling, primary_metric_name=metric,
        primary_metric_goal="maximize", max_total_runs=runs, max_concurrent_runs=2,
    )


def test_mlflow_metrics_with_and_without_start_run(
    sqlite_workspace: Workspace, make_source: Callable[..., Path]
) -> None:
    sampling = GridParameterSampling({"x": choice(0.25, 0.75),
                                      "style": choice("implicit", "start_run")})
    run = Experiment(sqlite_workspace, "v2").submit(
        hyperdrive(make_source(V2_SCRIPT), sampling, "score", 4))
    assert run.wait_for_completion()["status"] == "Completed"
    children = run.get_children()
    assert [c.get_status() for c in children] == ["Completed"] * 4
    store = sqlite_workspace.store
    for child in children:
        x = child.get_hyperparameters()["x"]
        metrics = child.get_metrics()
        assert metrics["score"] == pytest.approx([x, 2 * x, 3 * x])
        assert metrics["acc"] == pytest.approx(x) and metrics["loss"] == pytest.approx(1 - x)
        # steps: given ones kept; MLflow's default 0 numbers the values 0, 1, 2
        assert [p.step for p in store.get_metrics(child.id, "score")] == [0, 1, 2]
        assert [p.step for p in store.get_metrics(child.id, "acc")] == [5]
        tags = child.get_tags()
        assert tags["style"] == child.get_hyperparameters()["style"]
        assert tags["family"] == "v2"
        assert not any(k.startswith("mlflow.source") or k == "mlflow.user" for k in tags)
        # the MLflow run is the trial, as on Azure
        seen = json.loads((child.outputs_path / "mlflow.json").read_text())
        assert seen == {"run_id": child.id, "uri": "hypersweep:"}
    best = run.get_best_run_by_primary_metric()
    assert best is not None and best.get_hyperparameters()["x"] == 0.75
    ranked = run.get_children_sorted_by_primary_metric()
    assert [r["best_primary_metric"] for r in ranked] == pytest.approx([2.25, 2.25, 0.75, 0.75])


def test_sklearn_autolog_metrics_land_in_the_store(
    sqlite_workspace: Workspace, make_source: Callable[..., Path]
) -> None:
    sampling = GridParameterSampling({"C": choice(0.5)})
    run = Experiment(sqlite_workspace, "autolog").submit(
        hyperdrive(make_source(AUTOLOG_SCRIPT), sampling, "training_score", 1))
    assert run.wait_for_completion()["status"] == "Completed"
    best = run.get_best_run_by_primary_metric()
    assert best is not None
    metrics = best.get_metrics()
    assert 0.8 < metrics["training_score"] <= 1.0
    assert "training_accuracy_score" in metrics
    tags = best.get_tags()
    assert tags["C"] == "0.5" and tags["estimator_name"] == "LogisticRegression"
    # the model MLflow logged sits in the trial's outputs folder
    assert any(name.endswith("MLmodel") for name in best.get_file_names())


def test_users_tracking_uri_is_respected(
    sqlite_workspace: Workspace, make_source: Callable[..., Path]
) -> None:
    sampling = GridParameterSampling({"x": choice(1)})
    mine = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9/mine"}
    run = Experiment(sqlite_workspace, "uri").submit(
        hyperdrive(make_source(USER_URI_SCRIPT), sampling, "score", 1,
                   environment_variables=mine))
    assert run.wait_for_completion()["status"] == "Completed"
    (child,) = run.get_children()
    seen = json.loads((child.outputs_path / "env.json").read_text())
    assert seen == mine  # no MLFLOW_RUN_ID / EXPERIMENT_NAME either
