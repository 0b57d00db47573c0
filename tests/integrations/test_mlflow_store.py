"""The MLflow store plugin in-process: MLflow's store calls become the trial's journal records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

mlflow = pytest.importorskip(
    "mlflow", reason="mlflow is not installed (pip install mlflow-skinny)"
)

from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

from hypersweep.tracking import JournalReader, mlflow_store  # noqa: E402
from hypersweep.tracking.mlflow_store import HypersweepStore  # noqa: E402


@pytest.fixture
def trial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This process as trial HD_t_0; yields the journal path."""
    journal = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("HYPERSWEEP_TRIAL_ID", "HD_t_0")
    monkeypatch.setenv("HYPERSWEEP_JOURNAL", str(journal))
    monkeypatch.setenv("HYPERSWEEP_OUTPUTS", str(tmp_path / "outputs"))
    mlflow_store._reset_state()
    yield journal
    mlflow_store._reset_state()


def records(journal: Path) -> list[tuple[str, str, object, int | None]]:
    return [(r.kind, r.name, r.value, r.step) for r in JournalReader(journal).read()]


def test_first_top_level_run_is_the_trial(trial: Path) -> None:
    store = HypersweepStore("hypersweep:")
    run = store.create_run("0", "me", 0, [RunTag("mlflow.user", "me"), RunTag("team", "a")], None)
    assert run.info.run_id == "HD_t_0"
    assert run.info.artifact_uri.endswith("/outputs")
    again = store.create_run("0", "me", 0, [], "second")
    assert again.info.run_id != "HD_t_0" and again.info.run_name == "second"
    # start_run(tags=...) tags are the trial's; MLflow's own context tags are not
    assert records(trial) == [("tag", "team", "a", None)]


def test_metrics_params_tags_and_steps(trial: Path) -> None:
    store = HypersweepStore()
    run_id = store.create_run("0", "", 0, [], None).info.run_id
    for value in (0.5, 0.4):  # MLflow passes step 0 when the script gave none
        store.log_metric(run_id, Metric("loss", value, 1, 0))
    store.log_batch(run_id, metrics=[Metric("acc", 1, 2, 7)], params=[Param("lr", "0.1")],
                    tags=[RunTag("model", "svm")])
    assert records(trial) == [
        ("metric", "loss", 0.5, 0),
        ("metric", "loss", 0.4, 1),
        ("metric", "acc", 1.0, 7),
        ("tag", "lr", "0.1", None),
        ("tag", "model", "svm", None),
    ]
    got = store.get_run(run_id)
    assert got.data.metrics == {"loss": 0.4, "acc": 1.0}
    assert got.data.params == {"lr": "0.1"}
    assert got.data.tags["model"] == "svm"
    assert [m.value for m in store.get_metric_history(run_id, "loss")] == [0.5, 0.4]


def test_nested_runs_log_metrics_to_the_trial_but_keep_params(trial: Path) -> None:
    store = HypersweepStore()
    parent = store.create_run("0", "", 0, [], None).info.run_id
    child = store.create_run("0", "", 0, [RunTag("mlflow.parentRunId", parent)], None)
    assert child.info.run_id != parent
    store.log_batch(child.info.run_id, [Metric("score", 0.9, 1, 0)], [Param("C", "1")],
                    [RunTag("t", "x")])
    assert records(trial) == [("metric", "score", 0.9, 0)]
    found = store.search_runs(["0"], f"tags.mlflow.parentRunId = '{parent}'", ViewType.ALL)
    assert [r.info.run_id for r in found] == [child.info.run_id]


def test_resuming_the_trial_run_and_ending_it(trial: Path) -> None:
    store = HypersweepStore()
    # start_run with MLFLOW_RUN_ID set: get_run first, then update_run_info
    assert store.get_run("HD_t_0").info.status == "RUNNING"
    info = store.update_run_info("HD_t_0", RunStatus.FINISHED, 5, None)
    assert info.status == "FINISHED"
    # a later start_run creates another MLflow run of the same trial
    assert store.create_run("0", "", 0, [], None).info.run_id != "HD_t_0"
    assert records(trial) == []  # the status is the process's, not a journal record
    with pytest.raises(MlflowException):
        store.get_run("nope")


def test_every_experiment_name_is_the_trials(trial: Path) -> None:
    store = HypersweepStore()
    exp = store.get_experiment_by_name("whatever")
    assert exp.name == "whatever" and exp.experiment_id == store.create_experiment("x")


def test_offline_outside_a_sweep(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    mlflow_store._reset_state()
    store = HypersweepStore()
    run_id = store.create_run("0", "", 0, [], None).info.run_id
    assert not run_id.startswith("HD_")
    store.log_metric(run_id, Metric("loss", 0.5, 1, 0))
    assert "Attempted to log scalar metric loss:\n0.5" in capsys.readouterr().out
