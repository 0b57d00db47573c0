"""tune() in threads: results, records on every backend, early termination, failures, Ctrl-C,
resume."""

from __future__ import annotations

import time
from typing import Any

import objectives
import pytest

import hypersweep as hs
from hypersweep import (
    BanditPolicy,
    ConfigError,
    GridParameterSampling,
    RandomParameterSampling,
    Sweep,
    TrialCanceled,
    Workspace,
    choice,
    tune,
    uniform,
)
from hypersweep.store import Status


def _space(seed: int = 0) -> RandomParameterSampling:
    return RandomParameterSampling({"x": uniform(0.0, 1.0), "kind": choice("a", "b")}, seed=seed)


def test_exports() -> None:
    assert hs.tune is tune and hs.Sweep is Sweep and hs.TrialCanceled is TrialCanceled


def test_result_api_on_every_backend(workspace: Workspace) -> None:
    result = tune(objectives.quadratic, _space(), "loss", "minimize", max_total_runs=30,
                  workspace=workspace, experiment_name="quad")
    assert result.get_status() == "Completed"
    assert isinstance(result, hs.HyperDriveRun)
    rows = result.get_children_sorted_by_primary_metric()
    assert len(rows) == 30 and all(r["status"] == "Completed" for r in rows)
    assert result.best_value == rows[0]["best_primary_metric"] == min(
        r["best_primary_metric"] for r in rows)
    assert result.best_params == rows[0]["hyperparameters"]
    best = result.get_best_run_by_primary_metric()
    assert best is not None and best.id == rows[0]["run_id"] == result.best_trial_id
    assert result.properties["best_child_run_id"] == best.id
    frame = result.to_dataframe()
    assert list(frame["run_id"]) == [f"{result.id}_{i}" for i in range(30)]
    assert result.get_metrics()[best.id] == {"loss": result.best_value}
    # the records are in the workspace, for any reader
    again = Workspace(workspace.path, store=workspace.store_url)
    if workspace.store_url != "memory://":
        stored = again.store.get_sweep(result.id)
        assert stored.experiment == "quad" and stored.status == Status.COMPLETED
        assert stored.config["trial"]["kind"] == "function"
        assert stored.config["trial"]["function"] == "objectives:quadratic"
        assert len(again.store.list_trials(result.id)) == 30


def test_cli_lists_and_shows_a_function_sweep(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from hypersweep.cli.main import cli

    ws = Workspace(tmp_path / "ws")
    result = tune(objectives.quadratic, _space(), "loss", "minimize", max_total_runs=5,
                  workspace=ws)
    runner = CliRunner()
    listed = runner.invoke(cli, ["ls", "--workspace", str(ws.path)], catch_exceptions=False)
    assert result.id in listed.output and "Completed" in listed.output
    shown = runner.invoke(cli, ["show", result.id, "--workspace", str(ws.path)],
                          catch_exceptions=False)
    assert shown.exit_code == 0 and f"{result.id}_4" in shown.output


def test_random_prefetch_gives_the_sampler_sequence() -> None:
    # discrete space: the no-repeat rule looks at history, batching must not change it
    space = {"a": choice(1, 2, 3), "b": choice("x", "y"), "c": uniform(0, 1)}
    for sampling in (RandomParameterSampling({"a": space["a"], "b": space["b"]}, seed=4),
                     RandomParameterSampling(space, seed=4),
                     RandomParameterSampling(space, seed=4, rule="sobol")):
        result = tune(lambda p, run: 0.0, sampling, "m", "maximize", max_total_runs=9)
        got = [r["hyperparameters"] for r in sorted(
            result.get_children_sorted_by_primary_metric(), key=lambda r: r["run_id"])]
        got = [result.get_hyperparameters()[f"{result.id}_{i}"] for i in range(9)]
        one_by_one: list[dict[str, Any]] = []
        for _ in range(9):
            from hypersweep.sampling import FinishedTrial

            one_by_one += sampling.propose(1, [FinishedTrial(p, 0.0) for p in one_by_one], [])
        assert got == one_by_one


def test_grid_runs_out_before_the_budget() -> None:
    sampling = GridParameterSampling({"a": choice(1, 2), "b": choice(3, 4)})
    result = tune(lambda p, run: p["a"] * p["b"], sampling, "m", "maximize", max_total_runs=10)
    assert len(result.get_children()) == 4 and result.best_params == {"a": 2, "b": 4}


def test_bandit_cancels_bad_curves_with_trial_canceled() -> None:
    logged: list[tuple[str, int]] = []

    def objective(params: dict[str, Any], run: Any) -> None:
        for i, value in enumerate(objectives.CURVES[params["curve"]]):
            logged.append((params["curve"][:3], i))
            run.log("accuracy", value)

    sampling = GridParameterSampling({"curve": choice("good", "bad", "bad2")})
    result = tune(objective, sampling, "accuracy", "maximize", max_total_runs=3,
                  policy=BanditPolicy(slack_amount=0.2))
    trials = {t.id: t for t in result._store.list_trials(result.id)}
    good, bad1, bad2 = (trials[f"{result.id}_{i}"] for i in range(3))
    assert good.status == Status.COMPLETED
    for bad in (bad1, bad2):
        assert bad.status == Status.CANCELED
        assert bad.termination_reason == "early_termination"
        assert bad.termination_detail is not None
        assert bad.termination_detail["interval"] == 1
        assert "accuracy" in bad.termination_detail["explanation"]
    # the bad trials stopped at their first log: nothing after it ran
    assert logged.count(("bad", 0)) == 2 and ("bad", 1) not in logged
    assert result.get_status() == "Completed"


def test_exceptions_fail_the_trial_with_traceback_and_the_sweep_goes_on() -> None:
    result = tune(objectives.fails_on_b, _space(), "loss", "maximize", max_total_runs=12)
    trials = result._store.list_trials(result.id)
    assert len(trials) == 12
    failed = [t for t in trials if t.params["kind"] == "b"]
    assert failed and all(t.status == Status.FAILED for t in failed)
    assert all("Traceback" in (t.error or "") and "ZeroDivisionError: b is not allowed"
               in (t.error or "") for t in failed)
    assert all(t.status == Status.COMPLETED for t in trials if t.params["kind"] == "a")
    assert result.get_status() == "Completed"


def test_all_failed_sweep_is_failed() -> None:
    def boom(params: dict[str, Any], run: Any) -> float:
        raise ValueError("nope")

    result = tune(boom, _space(), "loss", "maximize", max_total_runs=3)
    assert result.get_status() == "Failed"
    assert result.best_params is None and result.best_value is None


def test_bad_return_value_fails_the_trial() -> None:
    result = tune(lambda p, run: "high", _space(), "loss", "maximize", max_total_runs=1)
    (trial,) = result._store.list_trials(result.id)
    assert trial.status == Status.FAILED and "return a number" in (trial.error or "")


@pytest.mark.parametrize("workers", [1, 3])
def test_keyboard_interrupt_stops_cleanly_and_keeps_finished_trials(
        tmp_path: Any, workers: int) -> None:
    sampling = GridParameterSampling({"i": choice(*range(10))})
    ws = Workspace(tmp_path / "ws")
    result = tune(objectives.interrupts, sampling, "m", "maximize", max_total_runs=10,
                  max_concurrent_runs=workers, workspace=ws)
    assert result.get_status() == "Canceled"
    stored = {t.index: t for t in Workspace(tmp_path / "ws").store.list_trials(result.id)}
    assert stored[3].status == Status.CANCELED
    assert stored[3].termination_reason == "user_cancel"
    for index in (0, 1, 2):
        assert stored[index].status == Status.COMPLETED
    assert all(t.status.is_terminal and t.end_time is not None for t in stored.values())
    assert len(stored) < 10 or workers > 1


def test_resume_continues_the_sequence(tmp_path: Any) -> None:
    ws = Workspace(tmp_path / "ws")
    first = tune(objectives.quadratic, _space(seed=7), "loss", "minimize", max_total_runs=5,
                 workspace=ws)
    resumed = tune(objectives.quadratic, workspace=ws, resume=first.id, max_total_runs=12)
    assert resumed.id == first.id and resumed.get_status() == "Completed"
    straight = tune(objectives.quadratic, _space(seed=7), "loss", "minimize", max_total_runs=12)
    params = resumed.get_hyperparameters()
    expected = straight.get_hyperparameters()
    assert [params[f"{first.id}_{i}"] for i in range(12)] == \
        [expected[f"{straight.id}_{i}"] for i in range(12)]
    with pytest.raises(hs.ConfigError, match="samples with"):
        tune(objectives.quadratic, _space(seed=8), workspace=ws, resume=first.id)


def test_resume_after_interrupt_and_after_a_crash(tmp_path: Any) -> None:
    ws = Workspace(tmp_path / "ws")
    sampling = GridParameterSampling({"i": choice(*range(6))})
    first = tune(objectives.interrupts, sampling, "m", "maximize", max_total_runs=6,
                 workspace=ws)
    assert first.get_status() == "Canceled"
    again = tune(lambda p, run: float(p["i"]), workspace=ws, resume=first.id)
    statuses = [t.status.value for t in ws.store.list_trials(first.id)]
    assert statuses == ["Completed"] * 3 + ["Canceled"] + ["Completed"] * 2
    assert again.get_status() == "Completed" and again.best_value == 5.0

    # a "crash": a sweep left running with a trial in flight, then reopened
    sweep = Sweep(_space(), "loss", "minimize", workspace=ws, max_total_runs=4)
    done, lost = sweep.ask(), sweep.ask()
    assert done is not None and lost is not None
    sweep.tell(done, 1.0)
    sweep.flush()
    sweep._ended = True  # its process "died": nothing more from it
    reopened = Sweep.load(ws, sweep.id)
    orphan = ws.store.get_trial(lost.id)
    assert orphan.status == Status.FAILED and orphan.termination_reason == "orphaned"
    while (trial := reopened.ask()) is not None:
        reopened.tell(trial, 0.5)
    assert reopened.finish().get_status() == "Completed"
    assert len(ws.store.list_trials(sweep.id)) == 4


def test_resume_refuses_a_script_sweep_and_hyperdriverun_resume_explains(tmp_path: Any) -> None:
    ws = Workspace(tmp_path / "ws")
    result = tune(objectives.quadratic, _space(), "loss", "minimize", max_total_runs=1,
                  workspace=ws)
    with pytest.raises(RuntimeError, match="resume="):
        result.resume()


def test_threads_run_concurrently() -> None:
    import threading
    import time

    names: set[str] = set()

    def objective(params: dict[str, Any], run: Any) -> float:
        names.add(threading.current_thread().name)
        time.sleep(0.01)
        run.log("loss", params["x"])
        return params["x"]

    result = tune(objective, _space(), "loss", "minimize", max_total_runs=12,
                  max_concurrent_runs=3)
    assert len(result.get_children()) == 12 and len(names) >= 2
    assert all(r["status"] == "Completed" for r in result.get_children_sorted_by_primary_metric())


def test_bad_arguments() -> None:
    with pytest.raises(hs.ConfigError, match="executor"):
        tune(objectives.quadratic, _space(), "loss", "minimize", max_total_runs=1,
             executor="gpu")
    with pytest.raises(hs.ConfigError, match="max_total_runs"):
        tune(objectives.quadratic, _space(), "loss", "minimize")
    with pytest.raises(hs.ConfigError, match="primary_metric_goal"):
        tune(objectives.quadratic, _space(), "loss", "lower", max_total_runs=1)


def test_missing_primary_metric_warns() -> None:
    result = tune(lambda p, run: run.log("los", 1.0), _space(), "loss", "minimize",
                  max_total_runs=2)
    assert any("Did you mean 'los'" in w for w in result.warnings)


def test_max_duration_stops_a_running_trial_of_an_in_memory_sweep() -> None:
    sampling = GridParameterSampling({"i": choice(1, 2)})
    result = tune(objectives.slow_on_1, sampling, "i", "maximize", max_total_runs=2,
                  max_duration_minutes=0.3 / 60)
    (trial,) = result._store.list_trials(result.id)  # the deadline came before a second
    assert trial.status == Status.CANCELED and trial.termination_reason == "max_duration"
    assert len(result.get_metrics()[trial.id]["step"]) < 100


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_trial_timeout_cancels_the_trials_that_run_too_long(executor: str) -> None:
    sampling = GridParameterSampling({"i": choice(0, 1, 2, 3)})
    result = tune(objectives.slow_on_1, sampling, "i", "maximize", max_total_runs=4,
                  max_concurrent_runs=2, trial_timeout=0.5, executor=executor)
    trials = {t.index: t for t in result._store.list_trials(result.id)}
    slow = trials.pop(1)
    assert slow.status == Status.CANCELED and slow.termination_reason == "trial_timeout"
    assert slow.termination_detail == {"explanation": "ran longer than trial_timeout = 0.5 s"}
    assert len(result.get_metrics()[slow.id]["step"]) < 100  # stopped at a run.log
    assert all(t.status == Status.COMPLETED for t in trials.values())
    assert result.spec.limits.trial_timeout == 0.5  # kept for a resume


def test_trial_timeout_ends_the_worker_of_a_trial_that_never_logs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hypersweep.functions import pool

    monkeypatch.setattr(pool, "STOP_GRACE", 0.3)
    sampling = GridParameterSampling({"i": choice(0, 1, 2, 3)})
    result = tune(objectives.hangs_on_1, sampling, "i", "maximize", max_total_runs=4,
                  max_concurrent_runs=2, trial_timeout=0.3, executor="process")
    trials = {t.index: t for t in result._store.list_trials(result.id)}
    hung = trials.pop(1)
    assert hung.status == Status.CANCELED and hung.termination_reason == "trial_timeout"
    assert "woke" not in result.get_metrics().get(hung.id, {})  # its sleep never ended
    assert all(t.status == Status.COMPLETED for t in trials.values())
    assert result.best_value == 3.0


def test_trial_timeout_counts_from_when_the_worker_begins_the_trial() -> None:
    """A trial waiting for its worker process to start (a loaded machine, a heavy import in
    the objective's module) has not run yet: trial_timeout does not count the wait, and its
    start time is when the worker began it."""
    import slow_start_objectives as slow

    sampling = GridParameterSampling({"i": choice(0, 1)})
    began = time.time()
    result = tune(slow.returns_index, sampling, "i", "maximize", max_total_runs=2,
                  max_concurrent_runs=2, trial_timeout=slow.IMPORT_SECONDS / 2,
                  executor="process")
    trials = result._store.list_trials(result.id)
    assert [t.status for t in trials] == [Status.COMPLETED] * 2, [
        (t.status, t.termination_reason) for t in trials]
    # the workers import the module before they begin a trial
    assert all(t.start_time.timestamp() >= began + slow.IMPORT_SECONDS for t in trials)


def test_trial_timeout_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"trial_timeout: expected a positive number of seconds"):
        tune(objectives.quadratic, GridParameterSampling({"i": choice(1)}), "m", "maximize",
             max_total_runs=1, trial_timeout=0)


def _distance_to_03(params: dict[str, Any], run: Any) -> float:
    return abs(params["x"] - 0.3)


def test_resume_from_an_earlier_result_warm_starts_the_sampler() -> None:
    space = {"x": uniform(0.0, 1.0)}
    earlier = tune(_distance_to_03, RandomParameterSampling(space, seed=1), "d", "minimize",
                   max_total_runs=20)
    cold = tune(_distance_to_03, hs.BayesianParameterSampling(space, seed=0), "d", "minimize",
                max_total_runs=3)
    warm = tune(_distance_to_03, hs.BayesianParameterSampling(space, seed=0), "d", "minimize",
                max_total_runs=3, resume_from=[earlier])
    # cold, the first trials are a space-filling design; warm, the model already knows
    # where the minimum is from the earlier sweep's 20 trials (kept in memory, elsewhere)
    assert max(r.get_metrics()["d"] for r in warm.get_children()) < 0.05
    assert max(r.get_metrics()["d"] for r in cold.get_children()) > 0.1
    assert warm.spec.warm_start.resume_from == (earlier.id,)


def test_resume_from_feeds_the_policy(workspace: Workspace) -> None:
    policy = hs.MedianStoppingPolicy(delay_evaluation=5)
    good = GridParameterSampling({"curve": choice("good")})
    earlier = tune(objectives.curve, good, "accuracy", "maximize", max_total_runs=1,
                   workspace=workspace)
    bad = GridParameterSampling({"curve": choice("bad")})
    alone = tune(objectives.curve, bad, "accuracy", "maximize", max_total_runs=1,
                 policy=policy, workspace=workspace)
    warm = tune(objectives.curve, bad, "accuracy", "maximize", max_total_runs=1,
                policy=policy, workspace=workspace, resume_from=[earlier.id])
    assert alone.get_children()[0].get_status() == "Completed"  # nobody to compare with
    (trial,) = warm.get_children()
    details = trial.get_details()
    assert details["status"] == "Canceled", details
    assert details["terminationReason"] == "early_termination"


def test_resume_from_must_name_sweeps_of_the_workspace(tmp_path: Any) -> None:
    sampling = GridParameterSampling({"i": choice(1)})
    for bad, message in ((["HD_missing"], "resume_from: no sweep 'HD_missing'"),
                         ([42], "resume_from: expected sweep runs or their 'HD_…' ids")):
        with pytest.raises(ConfigError, match=message):
            tune(objectives.quadratic, sampling, "m", "maximize", max_total_runs=1,
                 resume_from=bad, workspace=Workspace(tmp_path / "ws"))


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_each_trial_has_its_own_outputs_folder(tmp_path: Any, executor: str) -> None:
    workspace = Workspace(tmp_path / "ws")
    result = tune(objectives.writes_outputs, GridParameterSampling({"i": choice(1, 2, 3, 4)}),
                  "i", "maximize", max_total_runs=4, max_concurrent_runs=2,
                  workspace=workspace, executor=executor)
    for child in result.get_children():
        # where script trials keep theirs, so Run, the CLI and the dashboard find them
        assert child.get_file_names() == ["outputs/model.txt"]
        written = (child.outputs_path / "model.txt").read_text()
        assert written == str(child.get_hyperparameters()["i"])
