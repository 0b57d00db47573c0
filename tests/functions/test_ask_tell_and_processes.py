"""Ask/tell directly, and trials in real worker processes."""

from __future__ import annotations

import os
import sys
import types
from typing import Any

import objectives
import pytest

from hypersweep import (
    BanditPolicy,
    GridParameterSampling,
    RandomParameterSampling,
    Sweep,
    Workspace,
    choice,
    tune,
    uniform,
)
from hypersweep.store import Status


def _space(seed: int = 0) -> RandomParameterSampling:
    return RandomParameterSampling({"x": uniform(0.0, 1.0), "kind": choice("a", "b")}, seed=seed)


def test_ask_tell_with_should_stop(workspace: Workspace) -> None:
    sweep = Sweep(GridParameterSampling({"curve": choice("good", "bad")}), "accuracy",
                  "maximize", policy=BanditPolicy(slack_factor=0.1), workspace=workspace,
                  max_total_runs=5)
    good, bad = sweep.ask(), sweep.ask()
    assert good is not None and bad is not None
    assert bad.id == f"{sweep.id}_1" and bad.params == {"curve": "bad"}
    good.log("accuracy", 0.9)
    bad.log("accuracy", 0.2)  # ask/tell: log never raises, should_stop tells
    assert bad.should_stop() and not good.should_stop()
    bad.log("accuracy", 0.3)  # still recorded
    sweep.tell(bad)
    sweep.tell(good, 0.95)
    assert sweep.ask() is None  # grid exhausted
    result = sweep.finish()
    trials = {t.index: t for t in workspace.store.list_trials(sweep.id)}
    assert trials[1].status == Status.CANCELED
    assert trials[1].termination_reason == "early_termination"
    assert trials[1].termination_detail and trials[1].termination_detail["interval"] == 1
    assert trials[0].status == Status.COMPLETED
    # told 0.95 after logging 0.9: a result, not a second interval
    assert result.best_value == 0.9 and result.best_params == {"curve": "good"}
    assert workspace.store.get_tags(good.id)["hypersweep.returned.accuracy"] == "0.95"
    assert result.get_metrics()[bad.id] == {"accuracy": [0.2, 0.3]}
    assert sweep.result.get_status() == "Completed"


def test_ask_tell_statuses_tags_and_logging_api(workspace: Workspace) -> None:
    with Sweep(_space(), "loss", "minimize", workspace=workspace) as sweep:
        a, b, c = sweep.ask(), sweep.ask(), sweep.ask()
        assert a is not None and b is not None and c is not None
        a.log_list("curve", [1, 2])
        a.log_row("table", epoch=1, loss=0.5)
        a.tag("model", "svm")
        a.log("note", "text")
        sweep.tell(a, {"loss": 0.4, "other": 2})
        sweep.tell(b, status="Failed", error="broke")
        sweep.tell(c, status="Canceled")
        d = sweep.ask()
        assert d is not None
    # leaving the block finishes the sweep; d never told: it ended Canceled
    trials = {t.index: t for t in workspace.store.list_trials(sweep.id)}
    assert [trials[i].status.value for i in range(4)] == \
        ["Completed", "Failed", "Canceled", "Canceled"]
    assert trials[1].error == "broke" and trials[2].termination_reason == "user_cancel"
    assert workspace.store.get_tags(a.id) == {"model": "svm"}
    metrics = sweep.result.get_metrics()[a.id]
    assert metrics["curve"] == [1, 2] and metrics["table"] == {"epoch": [1], "loss": [0.5]}
    assert metrics["note"] == "text" and metrics["loss"] == 0.4
    assert sweep.ask() is None


def test_cancel_requested_from_another_handle(tmp_path: Any) -> None:
    ws = Workspace(tmp_path / "ws")
    sweep = Sweep(_space(), "loss", "minimize", workspace=ws)
    trial = sweep.ask()
    assert trial is not None
    sweep.result.cancel()  # what `hypersweep cancel` does
    sweep._background()  # the flusher's periodic check, without waiting for it
    assert trial.should_stop() and sweep.ask() is None
    assert sweep.finish().get_status() == "Canceled"


def test_processes_run_in_other_processes(workspace: Workspace) -> None:
    result = tune(objectives.busy, _space(), "x", "maximize", max_total_runs=6,
                  max_concurrent_runs=2, executor="process", workspace=workspace)
    metrics = result.get_metrics()
    pids = {m["pid"] for m in metrics.values()}
    assert len(metrics) == 6 and os.getpid() not in pids
    assert all(r["status"] == "Completed" for r in result.get_children_sorted_by_primary_metric())
    assert result.best_value == max(p["x"] for p in result.get_hyperparameters().values())


def test_processes_early_termination_via_stop_flag() -> None:
    sampling = GridParameterSampling({"curve": choice("good", "bad", "bad2")})
    result = tune(objectives.curve, sampling, "accuracy", "maximize", max_total_runs=3,
                  max_concurrent_runs=2, executor="process",
                  policy=BanditPolicy(slack_amount=0.2))
    trials = {t.index: t for t in result._store.list_trials(result.id)}
    assert trials[0].status == Status.COMPLETED
    series = result.get_metrics()
    for index in (1, 2):
        assert trials[index].status == Status.CANCELED
        assert trials[index].termination_reason == "early_termination"
        # stopped long before its 40 values: the worker's next run.log raised
        assert len(series[trials[index].id]["accuracy"]) < 40


def test_processes_failures_and_interrupt() -> None:
    failed = tune(objectives.fails_on_b, _space(), "m", "maximize", max_total_runs=6,
                  max_concurrent_runs=2, executor="process")
    for trial in failed._store.list_trials(failed.id):
        if trial.params["kind"] == "b":
            assert trial.status == Status.FAILED and "ZeroDivisionError" in (trial.error or "")
    # 40 trials, so that "the sweep stopped early" holds even when trial 3's worker is slow to
    # report its interrupt and the other worker runs several trials meanwhile (a busy machine).
    sampling = GridParameterSampling({"i": choice(*range(40))})
    stopped = tune(objectives.interrupts, sampling, "m", "maximize", max_total_runs=40,
                   max_concurrent_runs=2, executor="process")
    assert stopped.get_status() == "Canceled"
    trials = {t.index: t for t in stopped._store.list_trials(stopped.id)}
    assert trials[3].status == Status.CANCELED and trials[3].termination_reason == "user_cancel"
    # Two workers: trial 3 got a slot one of 0, 1 and 2 freed, so at most one of them was
    # still running when 3 interrupted (on a busy machine trial 2 can end before trial 1), and
    # that one is canceled like it, never lost.
    earlier = [trials[i] for i in range(3)]
    assert sum(t.status == Status.COMPLETED for t in earlier) >= 2
    for trial in earlier:
        assert trial.status == Status.COMPLETED or (
            trial.status == Status.CANCELED and trial.termination_reason == "user_cancel")
    # Nothing starts after the interrupt is handled. A trial may start between trial 3's
    # KeyboardInterrupt and its message reaching the sweep (another trial's end can arrive
    # first), so the bound is trial 3's recorded end, not an index.
    assert len(trials) < 40 and trials[3].end_time is not None
    for trial in trials.values():
        assert trial.status.is_terminal
        assert trial.start_time is not None and trial.start_time <= trials[3].end_time
        if trial.index > 3:
            assert trial.status == Status.COMPLETED or trial.termination_reason == "user_cancel"


def test_processes_refuse_what_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="executor='thread'"):
        tune(lambda p, run: 0.0, _space(), "m", "maximize", max_total_runs=1,
             executor="process")


def test_processes_a_dead_worker_fails_only_its_trial() -> None:
    sampling = GridParameterSampling({"i": choice(*range(8))})
    result = tune(objectives.dies_on_3, sampling, "i", "maximize", max_total_runs=8,
                  max_concurrent_runs=2, executor="process")
    trials = {t.index: t for t in result._store.list_trials(result.id)}
    assert sorted(trials) == list(range(8))
    dead = trials[3]
    assert dead.status == Status.FAILED
    assert "died before the trial ended" in (dead.error or "")
    pids = {index: values["pid"] for index, values in
            ((t.index, result._store.get_metrics(t.id)) for t in trials.values())
            for values in [{p.name: p.value for p in values}]}
    assert f"pid {int(pids[3])}" in (dead.error or "")  # its metrics up to the death are kept
    for index, trial in trials.items():
        if index != 3:
            assert trial.status == Status.COMPLETED, (index, trial.error)
    # the pool replaced the dead worker: later trials ran in a process that is not it
    assert pids[3] not in {pids[i] for i in range(4, 8)}
    assert result.best_value == 7.0
    assert result.get_status() == "Completed"


def test_processes_an_objective_workers_cannot_import_fails_its_trials() -> None:
    ghost = types.ModuleType("hypersweep_ghost_module")  # importable here only

    def objective(params: dict[str, Any], run: Any) -> float:
        return 1.0

    objective.__module__ = ghost.__name__
    objective.__qualname__ = "objective"
    ghost.objective = objective  # type: ignore[attr-defined]
    sys.modules[ghost.__name__] = ghost
    try:
        result = tune(objective, GridParameterSampling({"i": choice(1, 2, 3)}), "i",
                      "maximize", max_total_runs=3, max_concurrent_runs=2, executor="process")
    finally:
        del sys.modules[ghost.__name__]
    trials = result._store.list_trials(result.id)
    assert len(trials) == 3
    for trial in trials:
        assert trial.status == Status.FAILED
        assert "could not load the objective" in (trial.error or "")
        assert "hypersweep_ghost_module" in (trial.error or "")
    assert result.get_status() == "Failed"
