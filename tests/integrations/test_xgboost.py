"""XGBoostCallback with the real XGBoost: per-round metrics, and a policy that ends a poor
trial's training early, in a function trial (threads, worker processes), in a script trial (a
real subprocess sweep) and outside any sweep."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import boosting_objectives as b
import pytest
import xgboost as xgb

from hypersweep import Experiment, HyperDriveConfig, ScriptRunConfig, Workspace, tune
from hypersweep.integrations import XGBoostCallback
from hypersweep.store import Status
from hypersweep.tracking.context import OfflineRun

HERE = Path(__file__).resolve().parent


def _count(values: Any) -> int:
    return len(values) if isinstance(values, list) else 1


def test_offline_logs_every_round_and_trains_to_the_end(
        capsys: pytest.CaptureFixture[str]) -> None:
    X, y, Xv, yv = b.data()
    train = xgb.DMatrix(X, y)
    callback = XGBoostCallback()
    assert isinstance(callback.reporter.run, OfflineRun)
    booster = xgb.train({"nthread": 1, "eval_metric": ["rmse", "mae"]}, train,
                        num_boost_round=4, evals=[(train, "train"), (xgb.DMatrix(Xv, yv), "valid")],
                        verbose_eval=False, callbacks=[callback])
    out = capsys.readouterr().out
    for name in ("train-rmse", "train-mae", "valid-rmse", "valid-mae"):
        assert out.count(f"metric {name}:") == 4
    assert booster.num_boosted_rounds() == 4 and callback.rounds == 4 and not callback.stopped


def test_cv_and_the_estimator_api_log_too(capsys: pytest.CaptureFixture[str]) -> None:
    X, y, Xv, yv = b.data()
    xgb.cv({"nthread": 1}, xgb.DMatrix(X, y), num_boost_round=3, nfold=3, seed=0,
           callbacks=[XGBoostCallback()])
    out = capsys.readouterr().out
    assert out.count("metric test-rmse:") == 3  # the mean over the folds
    # an estimator deep-copies its callbacks: the copy still logs to the run
    model = xgb.XGBRegressor(n_estimators=3, n_jobs=1, callbacks=[XGBoostCallback()])
    model.fit(X, y, eval_set=[(Xv, yv)], verbose=False)
    assert capsys.readouterr().out.count("metric validation_0-rmse:") == 3


def test_copies_and_pickles_leave_the_run_behind() -> None:
    callback = XGBoostCallback(run=OfflineRun())
    assert copy.deepcopy(callback).reporter is callback.reporter
    restored = pickle.loads(pickle.dumps(callback))
    assert isinstance(restored.reporter.run, OfflineRun)
    assert restored.reporter.run is not callback.reporter.run


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_function_trial_poor_one_stops_early_good_one_runs_to_the_end(executor: str) -> None:
    result = tune(b.xgboost_objective, b.sampling(), "valid-rmse", "minimize",
                  max_total_runs=2, executor=executor, policy=b.policy())
    trials = {t.params["lr"]: t for t in result._store.list_trials(result.id)}
    metrics = result.get_metrics()
    good, poor = trials[b.GOOD], trials[b.POOR]
    assert good.status == Status.COMPLETED
    assert _count(metrics[good.id]["valid-rmse"]) == metrics[good.id]["rounds"] == b.ROUNDS
    assert metrics[good.id]["stopped"] == 0
    # the callback ended training (the objective returned normally): still Canceled
    assert poor.status == Status.CANCELED and poor.termination_reason == "early_termination"
    assert metrics[poor.id]["stopped"] == 1
    assert 5 <= metrics[poor.id]["rounds"] < b.ROUNDS
    assert _count(metrics[poor.id]["valid-rmse"]) == metrics[poor.id]["rounds"]
    points = [p for p in result._store.get_metrics(poor.id) if p.name == "valid-rmse"]
    assert [p.step for p in points] == list(range(len(points)))  # the round is the step
    assert result.best_params == {"lr": b.GOOD}


@pytest.mark.slow
def test_script_trial_poor_one_stops_early_good_one_runs_to_the_end(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "train.py").write_text(b.SCRIPT.format(tests=str(HERE), folder=str(tmp_path),
                                                     objective="xgboost_objective"))
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=b.sampling(), primary_metric_name="valid-rmse",
        primary_metric_goal="minimize", policy=b.policy(), max_total_runs=2,
        max_concurrent_runs=1)
    run = Experiment(Workspace(tmp_path / "ws"), "xgboost").submit(config)
    run.wait_for_completion()
    trials = {c.get_hyperparameters()["lr"]: c for c in run.get_children()}
    assert trials[b.GOOD].get_status() == "Completed"
    assert _count(trials[b.GOOD].get_metrics()["valid-rmse"]) == b.ROUNDS
    assert (tmp_path / f"{b.GOOD!r}.txt").read_text() == f"{b.ROUNDS} 0"
    poor = trials[b.POOR].get_details()
    assert poor["status"] == "Canceled" and poor["terminationReason"] == "early_termination"
    # the SIGTERM was recorded, training ended at the next round, and the script went on
    rounds, stopped = (tmp_path / f"{b.POOR!r}.txt").read_text().split()
    assert stopped == "1" and 5 <= int(rounds) < b.ROUNDS


def test_metrics_chooses_and_renames(capsys: pytest.CaptureFixture[str]) -> None:
    X, y, Xv, yv = b.data()
    train = xgb.DMatrix(X, y)
    xgb.train({"nthread": 1, "eval_metric": ["rmse", "mae"]}, train, num_boost_round=2,
              evals=[(train, "train"), (xgb.DMatrix(Xv, yv), "valid")], verbose_eval=False,
              callbacks=[XGBoostCallback(["valid-mae"])])
    out = capsys.readouterr().out
    assert out.count("metric valid-mae:") == 2 and "rmse" not in out and "train" not in out


def test_a_callback_made_outside_the_sweep_logs_to_each_trial() -> None:
    X, y, Xv, yv = b.data()
    model = xgb.XGBRegressor(n_jobs=1, callbacks=[XGBoostCallback()])  # made ahead

    def objective(params: dict[str, Any], run: Any) -> None:
        copy.deepcopy(model).set_params(n_estimators=params["n"]).fit(
            X, y, eval_set=[(Xv, yv)], verbose=False)

    from hypersweep import GridParameterSampling, choice

    result = tune(objective, GridParameterSampling({"n": choice(3, 4)}), "validation_0-rmse",
                  "minimize", max_total_runs=2)
    counts = sorted(_count(m["validation_0-rmse"]) for m in result.get_metrics().values())
    assert counts == [3, 4]
