"""SweepSearchCV against scikit-learn's own RandomizedSearchCV and estimator checks: the same
cv_results_ keys and scores, clone/params/pickle, refit and predict, and a policy that stops
poor candidates after a few folds."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import loguniform as scipy_loguniform
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import RandomizedSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import check_estimator

from hypersweep import BanditPolicy, ConfigError, Workspace, choice, loguniform, uniform
from hypersweep.integrations import SweepSearchCV
from hypersweep.store import Status


def _iris() -> tuple[np.ndarray, np.ndarray]:
    return load_iris(return_X_y=True)


@pytest.mark.parametrize("options", [
    {},
    {"return_train_score": True},
    {"scoring": ["r2", "neg_mean_absolute_error"], "refit": "r2"},
    {"scoring": {"r2": "r2", "mae": "neg_mean_absolute_error"}, "refit": "mae",
     "return_train_score": True},
])
def test_cv_results_has_randomized_search_cv_keys(options: dict) -> None:
    X, y = load_diabetes(return_X_y=True)
    ours = SweepSearchCV(Ridge(), {"alpha": uniform(0.01, 1)}, n_trials=3, cv=3,
                         random_state=0, **options).fit(X, y)
    theirs = RandomizedSearchCV(Ridge(), {"alpha": [0.1, 0.5, 1.0]}, n_iter=3, cv=3,
                                random_state=0, **options).fit(X, y)
    assert sorted(ours.cv_results_) == sorted(theirs.cv_results_)
    for key, value in ours.cv_results_.items():
        assert len(value) == 3, key
    assert ours.cv_results_["param_alpha"].dtype == theirs.cv_results_["param_alpha"].dtype


def test_scores_match_cross_val_score_and_refit_predicts() -> None:
    X, y = _iris()
    search = SweepSearchCV(LogisticRegression(max_iter=1000), {"C": loguniform(-4, 2)},
                           n_trials=4, cv=4, random_state=0).fit(X, y)
    results = search.cv_results_
    for i, params in enumerate(results["params"]):
        expected = cross_val_score(LogisticRegression(max_iter=1000, **params), X, y, cv=4)
        assert results["mean_test_score"][i] == pytest.approx(expected.mean())
        assert [results[f"split{k}_test_score"][i] for k in range(4)] == \
            pytest.approx(list(expected))
    best = int(np.argmax(results["mean_test_score"]))
    assert search.best_index_ == best and results["rank_test_score"][best] == 1
    assert search.best_score_ == pytest.approx(results["mean_test_score"][best])
    assert search.best_params_ == results["params"][best]
    assert search.best_estimator_.get_params()["C"] == search.best_params_["C"]
    assert search.score(X, y) == pytest.approx(search.best_estimator_.score(X, y))
    assert search.predict_proba(X[:3]).shape == (3, 3)
    assert list(search.classes_) == [0, 1, 2] and search.n_splits_ == 4
    assert search.refit_time_ >= 0 and (results["mean_fit_time"] > 0).all()
    assert len(search.trial_ids_) == 4 and search.sweep_.get_status() == "Completed"


def test_a_policy_stops_poor_candidates_after_a_few_folds() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    # the good candidate first (grid order), then one that only predicts the majority class
    search = SweepSearchCV(model, {"clf__C": choice(1.0, 1e-7)}, sampling="grid",
                           n_trials=None, cv=10,
                           policy=BanditPolicy(slack_factor=0.05, delay_evaluation=2))
    search.fit(X, y)
    results = search.cv_results_
    good, poor = (results["params"].index({"clf__C": c}) for c in (1.0, 1e-7))
    splits = np.array([results[f"split{k}_test_score"] for k in range(10)]).T
    assert not np.isnan(splits[good]).any()
    folds_run = int((~np.isnan(splits[poor])).sum())
    assert 2 <= folds_run < 10  # stopped after a few folds, not fitted on all ten
    assert np.isnan(results["mean_test_score"][poor]) and results["rank_test_score"][poor] == 2
    assert search.best_params_ == {"clf__C": 1.0}
    trials = {t.id: t for t in search.sweep_.store.list_trials(search.sweep_id_)}
    stopped = trials[search.trial_ids_[poor]]
    assert stopped.status == Status.CANCELED and stopped.termination_reason == "early_termination"
    assert trials[search.trial_ids_[good]].status == Status.COMPLETED


def test_clone_params_pickle_and_a_workspace(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    search = SweepSearchCV(DecisionTreeClassifier(random_state=0),
                           {"max_depth": choice(1, 2, 3), "criterion": ["gini", "entropy"]},
                           n_trials=3, cv=3, random_state=0, workspace=workspace,
                           experiment_name="trees")
    twin = clone(search)
    assert twin.workspace is workspace and twin.search_space == search.search_space
    assert twin.get_params()["estimator__max_depth"] is None
    twin.set_params(estimator__max_depth=2, n_trials=2)
    assert twin.estimator.max_depth == 2 and search.estimator.max_depth is None
    X, y = _iris()
    search.fit(X, y)
    # recorded in the workspace, like any sweep
    record = workspace.store.get_sweep(search.sweep_id_)
    assert record.experiment == "trees" and record.status == Status.COMPLETED
    assert len(workspace.store.list_trials(search.sweep_id_)) == 3
    restored = pickle.loads(pickle.dumps(search))
    assert (restored.predict(X) == search.predict(X)).all()
    assert restored.sweep_id_ == search.sweep_id_ and not hasattr(restored, "sweep_")
    assert restored.workspace is None and search.workspace is workspace


def test_values_that_are_objects_are_recorded_by_label() -> None:
    X, y = _iris()
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))])
    search = SweepSearchCV(model, {"scale": [StandardScaler(), "passthrough"],
                                   "clf__C": [0.1, 1.0]}, sampling="grid", n_trials=None,
                           cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    scalers = {type(p["scale"]).__name__ for p in search.cv_results_["params"]}
    assert scalers == {"StandardScaler", "str"}
    recorded = {t.params["scale"] for t in search.sweep_.store.list_trials(search.sweep_id_)}
    assert recorded == {"StandardScaler()", "'passthrough'"}


def test_failing_fits_score_error_score_and_all_failing_raises() -> None:
    X, y = _iris()
    search = SweepSearchCV(LogisticRegression(), {"C": [-1.0, 1.0]}, sampling="grid",
                           n_trials=None, cv=3, error_score=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    bad = search.cv_results_["params"].index({"C": -1.0})
    assert search.cv_results_["mean_test_score"][bad] == 0.0
    assert search.best_params_ == {"C": 1.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="all the fits failed"):
            SweepSearchCV(LogisticRegression(), {"C": [-1.0, -2.0]}, n_trials=2,
                          cv=3).fit(X, y)
        with pytest.raises(RuntimeError, match="error_score='raise'"):
            SweepSearchCV(LogisticRegression(), {"C": [-1.0]}, n_trials=1, cv=3,
                          error_score="raise").fit(X, y)


def test_fit_params_are_split_with_the_folds_and_threads_work() -> None:
    X, y = _iris()
    weights = np.ones(len(y))
    search = SweepSearchCV(LogisticRegression(max_iter=1000), {"C": loguniform(-2, 2)},
                           n_trials=4, cv=3, n_jobs=2, random_state=0)
    search.fit(X, y, sample_weight=weights)
    assert not np.isnan(search.cv_results_["mean_test_score"]).any()


@pytest.mark.parametrize(("options", "named"), [
    ({"search_space": {"C": scipy_loguniform(1e-3, 1)}}, "search_space['C']"),
    ({"search_space": {}}, "search_space"),
    ({"sampling": "nope"}, "sampling"),
    ({"n_trials": 0}, "n_trials"),
    ({"n_trials": None}, "n_trials"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"scoring": ["accuracy", "f1_macro"]}, "refit"),
    ({"scoring": ["accuracy"], "refit": "f1"}, "refit"),
])
def test_bad_input_names_the_parameter(options: dict, named: str) -> None:
    given = {"search_space": {"C": loguniform(-2, 2)}, **options}
    with pytest.raises(ConfigError, match=named.replace("[", r"\[")):
        SweepSearchCV(LogisticRegression(), cv=3, **given).fit(*_iris())


@pytest.mark.slow
def test_scikit_learn_estimator_checks_pass() -> None:
    search = SweepSearchCV(LogisticRegression(), {"C": loguniform(-2, 2)}, n_trials=2, cv=2,
                           random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(search, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])) for r in results
              if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) > 40


def test_candidates_in_worker_processes() -> None:
    X, y = _iris()
    search = SweepSearchCV(LogisticRegression(max_iter=1000), {"C": loguniform(-2, 2)},
                           n_trials=3, cv=3, n_jobs=2, executor="process", random_state=0)
    search.fit(X, y)
    expected = cross_val_score(LogisticRegression(max_iter=1000, **search.best_params_), X, y,
                               cv=3)
    assert search.best_score_ == pytest.approx(expected.mean())
