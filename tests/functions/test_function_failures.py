"""Function sweeps that go wrong, and what a returned value means next to logged ones.

The same rules as script sweeps (``tests/sweep/test_failures.py``): the first three trials
failing alike end the sweep, ``max_failed_runs`` caps failures, a primary metric never logged
as a number fails the sweep with one message; and an objective's return value is its result,
not one more interval for the policy.
"""

from __future__ import annotations

from typing import Any

import objectives
import pytest

from hypersweep import (
    BanditPolicy,
    ConfigError,
    GridParameterSampling,
    Sweep,
    Workspace,
    choice,
    tune,
)
from hypersweep.store import Status


def _grid(n: int, **fixed: Any) -> GridParameterSampling:
    """A grid over i = 0..n-1, with the ``fixed`` values in every configuration."""
    space = {"i": choice(*range(n)), **{name: choice(v) for name, v in fixed.items()}}
    return GridParameterSampling(space)


# ---------------------------------------------------------------------------- fail fast
@pytest.mark.parametrize("executor", ["thread", "process"])
def test_the_first_three_failing_alike_end_the_sweep(executor: str) -> None:
    result = tune(objectives.fails_on_listed, _grid(60, fail_on=",".join(map(str, range(60)))), "m",
                  "maximize", max_total_runs=60, max_concurrent_runs=2, executor=executor)
    trials = result._store.list_trials(result.id)
    assert len(trials) < 10  # not 60
    assert result.get_status() == "Failed"
    error = result.get_details()["error"]
    assert error == ("the first 3 trials failed with the same error: RuntimeError: the data "
                     "folder is missing; stopping the sweep (set max_failed_runs to change "
                     "this)")
    assert all(t.status in (Status.FAILED, Status.CANCELED) for t in trials)


def test_max_failed_runs_caps_failures_and_replaces_the_first_three_rule(
        workspace: Workspace) -> None:
    result = tune(objectives.fails_on_listed, _grid(10, fail_on="0,1,2,5,7"), "m",
                  "maximize", max_total_runs=10, max_failed_runs=5, workspace=workspace)
    trials = {t.index: t for t in result._store.list_trials(result.id)}
    assert sorted(trials) == list(range(8))
    assert result.get_status() == "Failed"
    assert result.get_details()["error"].startswith("5 trials failed (max_failed_runs = 5)")
    assert result.best_value == 6.0


def test_max_failed_runs_two() -> None:
    result = tune(objectives.fails_on_listed, _grid(6, fail_on="1,3"), "m", "maximize",
                  max_total_runs=6, max_failed_runs=2)
    assert len(result._store.list_trials(result.id)) == 4
    assert result.get_status() == "Failed"
    assert "max_failed_runs = 2" in result.get_details()["error"]
    with pytest.raises(ConfigError, match="max_failed_runs"):
        tune(objectives.quadratic, _grid(2), "m", "maximize", max_total_runs=2,
             max_failed_runs=0)


def test_a_sweep_with_some_failures_completes() -> None:
    result = tune(objectives.fails_on_listed, _grid(6, fail_on="0,1"), "m", "maximize",
                  max_total_runs=6)
    assert result.get_status() == "Completed" and "error" not in result.get_details()
    assert len(result._store.list_trials(result.id)) == 6


# ---------------------------------------------------------------------------- the metric
@pytest.mark.parametrize(("objective", "expected"), [
    (lambda p, run: run.log("score", "0.086"), "'score' was logged as a string ('0.086')"),
    (lambda p, run: run.log("score", float("nan")), "'score' was logged as NaN"),
    (lambda p, run: float("nan"), "'score' was logged as NaN"),
    (lambda p, run: run.log("scor", 1.0), "Did you mean 'scor'?"),
])
def test_a_primary_metric_never_logged_as_a_number_fails_the_sweep(
        workspace: Workspace, objective: Any, expected: str) -> None:
    result = tune(objective, _grid(2), "score", "maximize", max_total_runs=2,
                  workspace=workspace)
    assert result.get_status() == "Failed"
    error = result.get_details()["error"]
    assert expected in error and "'score'" in error
    if "Did you" not in expected:
        assert "Did you mean" not in error and "not logged" not in error
    assert all(t.status == Status.COMPLETED for t in result._store.list_trials(result.id))


# ---------------------------------------------------------------------------- return value
@pytest.mark.parametrize("executor", ["thread", "process"])
def test_a_returned_value_is_not_another_interval(workspace: Workspace, executor: str) -> None:
    if executor == "process" and workspace.store.url == "memory://":
        pytest.skip("one backend is enough for the process runner")
    # Trial 1 logs a tenth of trial 0's curve. At interval 11 (the only one Bandit judges
    # here) it would be stopped; a returned value that counted as interval 11 did just that.
    sampling = GridParameterSampling({"scale": choice(1.0, 0.1)})
    result = tune(objectives.logs_ten_and_returns, sampling, "score", "maximize",
                  max_total_runs=2, policy=BanditPolicy(slack_amount=0.5,
                                                        evaluation_interval=11),
                  workspace=workspace, executor=executor)
    trials = result._store.list_trials(result.id)
    assert [t.status for t in trials] == [Status.COMPLETED, Status.COMPLETED]
    assert all(t.termination_reason is None for t in trials)
    for trial in trials:
        points = result._store.get_metrics(trial.id, "score")
        assert len(points) == 10
        assert [p.step for p in points] == list(range(10))
    assert result.best_value == 10.0


def test_the_score_is_the_best_logged_value_and_a_different_return_is_kept_as_a_tag(
        workspace: Workspace) -> None:
    sampling = GridParameterSampling({"scale": choice(1.0), "returns": choice(99.0)})
    result = tune(objectives.logs_ten_and_returns, sampling, "score", "maximize",
                  max_total_runs=1, workspace=workspace)
    (trial,) = result._store.list_trials(result.id)
    assert len(result._store.get_metrics(trial.id, "score")) == 10
    assert result.best_value == 10.0  # the best logged value, as for script trials
    assert result._store.get_tags(trial.id)["hypersweep.returned.score"] == "99.0"
    assert any("returned" in w and "score" in w for w in result.warnings)


def test_a_returned_value_is_the_point_when_nothing_was_logged(workspace: Workspace) -> None:
    result = tune(lambda p, run: 2.5 - p["i"], _grid(3), "score", "maximize",
                  max_total_runs=3, policy=BanditPolicy(slack_amount=0.1),
                  workspace=workspace)
    trials = result._store.list_trials(result.id)
    assert all(t.status == Status.COMPLETED for t in trials)  # a returned value stops nothing
    assert [len(result._store.get_metrics(t.id, "score")) for t in trials] == [1, 1, 1]
    assert result.best_value == 2.5


def test_tell_with_a_value_follows_the_same_rule() -> None:
    sweep = Sweep(_grid(1), "score", "maximize", max_total_runs=1)
    trial = sweep.ask()
    assert trial is not None
    trial.log("score", 0.2)
    trial.log("other", 1.0)
    trial.log("note", "done")
    sweep.tell(trial, {"score": 0.3, "other": 1.0, "extra": 5.0, "note": "done"})
    result = sweep.finish()
    metrics = result.get_metrics()[trial.id]
    assert metrics["score"] == 0.2 and metrics["other"] == 1.0 and metrics["extra"] == 5.0
    assert metrics["note"] == "done"
    # what was returned as logged says nothing; what differs is kept as a tag
    assert result._store.get_tags(trial.id) == {"hypersweep.returned.score": "0.3"}


def test_a_returned_number_is_the_result_when_only_unusable_values_were_logged() -> None:
    def objective(params: dict[str, Any], run: Any) -> float:
        run.log("score", "0.086")  # a string is no interval: the returned number is the result
        run.log("score", float("nan"))
        return 0.086 + params["i"]

    result = tune(objective, _grid(2), "score", "maximize", max_total_runs=2)
    assert result.get_status() == "Completed" and result.best_value == 1.086
    points = result._store.get_metrics(result.best_trial_id, "score")
    assert [p.value for p in points if p.text is None][-1] == 1.086 and len(points) == 3
