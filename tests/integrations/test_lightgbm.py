"""LightGBMCallback with the real LightGBM: per-round metrics, and a policy that ends a poor
trial's training early, in a function trial (threads, worker processes), in a script trial (a
real subprocess sweep) and outside any sweep."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import boosting_objectives as b
import lightgbm as lgb
import pytest

from hypersweep import Experiment, HyperDriveConfig, ScriptRunConfig, Workspace, tune
from hypersweep.integrations import LightGBMCallback
from hypersweep.store import Status
from hypersweep.tracking.context import OfflineRun

HERE = Path(__file__).resolve().parent


def _count(values: Any) -> int:
    return len(values) if isinstance(values, list) else 1


def test_offline_logs_every_round_and_trains_to_the_end(
        capsys: pytest.CaptureFixture[str]) -> None:
    X, y, Xv, yv = b.data()
    train = lgb.Dataset(X, y)
    callback = LightGBMCallback()
    assert isinstance(callback.reporter.run, OfflineRun)
    booster = lgb.train({"verbosity": -1, "num_threads": 1, "metric": ["l2", "l1"]}, train,
                        num_boost_round=4, valid_sets=[train, lgb.Dataset(Xv, yv)],
                        valid_names=["training", "valid"], callbacks=[callback])
    out = capsys.readouterr().out
    for name in ("training-l2", "training-l1", "valid-l2", "valid-l1"):
        assert out.count(f"metric {name}:") == 4
    assert booster.current_iteration() == 4 and callback.rounds == 4 and not callback.stopped


def test_cv_and_the_estimator_api_log_too(capsys: pytest.CaptureFixture[str]) -> None:
    X, y, Xv, yv = b.data()
    lgb.cv({"verbosity": -1, "num_threads": 1}, lgb.Dataset(X, y), num_boost_round=3, nfold=3,
           stratified=False, seed=0, callbacks=[LightGBMCallback()])
    assert capsys.readouterr().out.count("metric valid-l2:") == 3  # the mean over the folds
    model = lgb.LGBMRegressor(n_estimators=3, verbosity=-1, n_jobs=1)
    model.fit(X, y, eval_X=(Xv,), eval_y=(yv,), callbacks=[LightGBMCallback()])
    assert capsys.readouterr().out.count("metric valid_0-l2:") == 3


def test_copies_and_pickles_leave_the_run_behind() -> None:
    callback = LightGBMCallback(run=OfflineRun())
    assert copy.deepcopy(callback).reporter is callback.reporter
    restored = pickle.loads(pickle.dumps(callback))
    assert isinstance(restored.reporter.run, OfflineRun)
    assert restored.reporter.run is not callback.reporter.run


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_function_trial_poor_one_stops_early_good_one_runs_to_the_end(executor: str) -> None:
    result = tune(b.lightgbm_objective, b.sampling(), "valid-l2", "minimize", max_total_runs=2,
                  executor=executor, policy=b.policy())
    trials = {t.params["lr"]: t for t in result._store.list_trials(result.id)}
    metrics = result.get_metrics()
    good, poor = trials[b.GOOD], trials[b.POOR]
    assert good.status == Status.COMPLETED
    assert _count(metrics[good.id]["valid-l2"]) == metrics[good.id]["rounds"] == b.ROUNDS
    assert metrics[good.id]["stopped"] == 0
    # the callback ended training (the objective returned normally): still Canceled
    assert poor.status == Status.CANCELED and poor.termination_reason == "early_termination"
    assert metrics[poor.id]["stopped"] == 1
    assert 5 <= metrics[poor.id]["rounds"] < b.ROUNDS
    assert _count(metrics[poor.id]["valid-l2"]) == metrics[poor.id]["rounds"]
    points = [p for p in result._store.get_metrics(poor.id) if p.name == "valid-l2"]
    assert [p.step for p in points] == list(range(len(points)))  # the round is the step
    assert result.best_params == {"lr": b.GOOD}


@pytest.mark.slow
def test_script_trial_poor_one_stops_early_good_one_runs_to_the_end(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "train.py").write_text(b.SCRIPT.format(tests=str(HERE), folder=str(tmp_path),
                                                     objective="lightgbm_objective"))
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=b.sampling(), primary_metric_name="valid-l2",
        primary_metric_goal="minimize", policy=b.policy(), max_total_runs=2,
        max_concurrent_runs=1)
    run = Experiment(Workspace(tmp_path / "ws"), "lightgbm").submit(config)
    run.wait_for_completion()
    trials = {c.get_hyperparameters()["lr"]: c for c in run.get_children()}
    assert trials[b.GOOD].get_status() == "Completed"
    assert _count(trials[b.GOOD].get_metrics()["valid-l2"]) == b.ROUNDS
    assert (tmp_path / f"{b.GOOD!r}.txt").read_text() == f"{b.ROUNDS} 0"
    poor = trials[b.POOR].get_details()
    assert poor["status"] == "Canceled" and poor["terminationReason"] == "early_termination"
    # the SIGTERM was recorded, training ended at the next round, and the script went on
    rounds, stopped = (tmp_path / f"{b.POOR!r}.txt").read_text().split()
    assert stopped == "1" and 5 <= int(rounds) < b.ROUNDS


def test_metrics_chooses_and_renames(capsys: pytest.CaptureFixture[str]) -> None:
    X, y, Xv, yv = b.data()
    train = lgb.Dataset(X, y)
    lgb.train({"verbosity": -1, "num_threads": 1, "metric": ["l2", "l1"]}, train,
              num_boost_round=2, valid_sets=[train, lgb.Dataset(Xv, yv)],
              valid_names=["training", "valid"],
              callbacks=[LightGBMCallback({"valid-l1": "mae"})])
    out = capsys.readouterr().out
    assert out.count("metric mae:") == 2 and "l2" not in out and "training" not in out


def test_a_callback_made_outside_the_sweep_logs_to_each_trial() -> None:
    X, y, Xv, yv = b.data()
    callback = LightGBMCallback()  # made ahead, outside any trial: offline until used

    def objective(params: dict[str, Any], run: Any) -> None:
        model = lgb.LGBMRegressor(n_estimators=params["n"], verbosity=-1, n_jobs=1)
        model.fit(X, y, eval_X=(Xv,), eval_y=(yv,), callbacks=[callback])

    from hypersweep import GridParameterSampling, choice

    result = tune(objective, GridParameterSampling({"n": choice(3, 4)}), "valid_0-l2",
                  "minimize", max_total_runs=2)
    counts = sorted(_count(m["valid_0-l2"]) for m in result.get_metrics().values())
    assert counts == [3, 4] and callback.rounds == 4
