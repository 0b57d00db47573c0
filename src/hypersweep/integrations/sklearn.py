"""`SweepSearchCV`: scikit-learn's ``RandomizedSearchCV``, run as a hypersweep function sweep.

Each candidate is a function trial of :func:`hypersweep.tune`, and its cross-validation folds
are the trial's intervals: after each fold the trial logs ``mean_test_score``, the mean test
score over the folds so far (the folds are the same for every trial), so an early-termination
policy compares candidates fold by fold and stops poor ones after a few folds instead of
fitting them all. The sweep is recorded like any other: in memory by default, in a
``Workspace`` when given (``hypersweep ls/show`` and the dashboard list it).

What it answers is what ``RandomizedSearchCV`` answers: ``best_params_``, ``best_score_``,
``best_index_``, ``best_estimator_`` (refit on all the data), ``cv_results_`` with the same
keys, ``predict``/``score``/``predict_proba``..., and multi-metric ``scoring`` with ``refit``
naming the metric to rank on. A candidate the policy stopped has the scores of the folds it
ran, ``nan`` for the others and for its means, and ranks after every finished candidate.

Records per trial (per fold, the fold's index the step): ``split_test_score``,
``fit_time``, ``score_time`` (and ``split_train_score``), then the running
``mean_test_score``, the sweep's primary metric (``mean_test_<name>``/``split_test_<name>``
per scorer with several). A trial's score *in the sweep's records* is, as for every trial,
the best value it logged, here the best running mean; ``best_params_`` ranks on the final
mean over all folds, as scikit-learn does.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> from hypersweep import loguniform
>>> X, y = load_iris(return_X_y=True)
>>> search = SweepSearchCV(LogisticRegression(max_iter=500), {"C": loguniform(-4, 2)},
...                        n_trials=5, cv=3, random_state=0).fit(X, y)
>>> round(search.best_score_, 2), sorted(search.cv_results_)[:3]
(0.97, ['mean_fit_time', 'mean_score_time', 'mean_test_score'])
>>> search.predict(X[:2])
array([0, 0])
"""

from __future__ import annotations

import numbers
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring, get_scorer
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import _safe_indexing, check_random_state

from hypersweep.api.tune import tune
from hypersweep.errors import ConfigError
from hypersweep.sampling import GridParameterSampling
from hypersweep.sampling.base import Sampler
from hypersweep.sampling.registry import sampler_class
from hypersweep.space import Expression, choice

__all__ = ["SweepSearchCV"]

#: Per-fold metric (1: the fit raised) and the tag with a trial's first fit error.
FIT_FAILED, FIT_ERROR = "fit_failed", "fit_error"

#: Values a hypersweep choice holds as they are; others (tuples, estimators) go by label.
_PLAIN = (str, int, float, bool, type(None))


class SweepSearchCV(BaseSearchCV):
    """A drop-in for ``RandomizedSearchCV`` whose candidates are trials of a hypersweep sweep.

    Parameters
    ----------
    estimator : estimator
        The estimator to tune (cloned for every fit).
    search_space : dict
        Parameter name (``"C"``, ``"svc__C"``) to a hypersweep expression (``uniform(0, 1)``,
        ``loguniform(-3, 3)``, ``choice(...)``...) or a list of values (any objects: tuples
        and estimators too, recorded by their ``repr``).
    sampling : {"random", "grid", "bayesian", "tpe"} or a sampler class
        How candidates are chosen (``TPEParameterSampling``...); default random.
    n_trials : int or None, default 10
        Candidates to try (``n_iter``). None with grid sampling: the whole grid.
    scoring : str, callable, list or dict, optional
        As in scikit-learn; several metrics need ``refit`` to name the one to rank on.
    cv : int, cross-validation generator or iterable, optional
        As in scikit-learn (default 5-fold, stratified for classifiers). The folds are
        drawn once: every candidate sees the same ones, in the same order.
    policy : EarlyTerminationPolicy, optional
        ``BanditPolicy``, ``MedianStoppingPolicy``, ``AshaPolicy``...: judged after each fold.
    n_jobs : int, optional
        Candidates evaluated at once (threads; -1: one per core).
    refit : bool, str or callable, default True
        As in scikit-learn.
    random_state : int, RandomState or None
        Seed of the sampler (and nothing else: seed ``cv`` and the estimator yourself).
    return_train_score : bool, default False
        Also score each fold's training data.
    error_score : "raise" or float, default nan
        A fold whose fit fails scores this (with a warning); "raise" re-raises.
    workspace : Workspace, optional
        Record the sweep there; default in memory only.
    experiment_name : str, optional
        Default ``"SweepSearchCV"``.
    executor : {"thread", "process"}
        As in :func:`hypersweep.tune` (processes need a picklable estimator and data).
    verbose : int
        Accepted for compatibility; the sweep logs through ``logging``.

    Attributes
    ----------
    cv_results_, best_index_, best_score_, best_params_, best_estimator_, refit_time_,
    scorer_, multimetric_, n_splits_ : as in ``RandomizedSearchCV``.
    sweep_ : FunctionSweepRun
        The sweep's run: its records, ``get_metrics()``, ``to_dataframe()``...
    trial_ids_ : list of str
        The trial behind each row of ``cv_results_``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from hypersweep import BanditPolicy, loguniform
    >>> X, y = load_iris(return_X_y=True)
    >>> search = SweepSearchCV(SVC(), {"C": loguniform(-6, 3), "kernel": ["rbf", "linear"]},
    ...                        n_trials=8, cv=5, random_state=1,
    ...                        policy=BanditPolicy(slack_factor=0.05, delay_evaluation=1))
    >>> search = search.fit(X, y)
    >>> search.best_params_["C"] > 0.01, int(search.cv_results_["rank_test_score"].min())
    (True, 1)
    """

    def __init__(
        self,
        estimator: Any,
        search_space: Mapping[str, Any],
        *,
        sampling: str | type[Sampler] = "random",
        n_trials: int | None = 10,
        scoring: Any = None,
        cv: Any = None,
        policy: Any = None,
        n_jobs: int | None = None,
        refit: bool | str | Callable[..., int] = True,
        random_state: Any = None,
        return_train_score: bool = False,
        error_score: Any = np.nan,
        workspace: Any = None,
        experiment_name: str | None = None,
        executor: str = "thread",
        verbose: int = 0,
    ) -> None:
        self.estimator = estimator
        self.search_space = search_space
        self.sampling = sampling
        self.n_trials = n_trials
        self.scoring = scoring
        self.cv = cv
        self.policy = policy
        self.n_jobs = n_jobs
        self.refit = refit
        self.random_state = random_state
        self.return_train_score = return_train_score
        self.error_score = error_score
        self.workspace = workspace
        self.experiment_name = experiment_name
        self.executor = executor
        self.verbose = verbose

    def __sklearn_clone__(self) -> SweepSearchCV:
        # As sklearn.base.clone, but the workspace is shared (it holds the store's connections
        # and locks) and so are the search space's expressions (immutable: they refuse a copy).
        params = {name: clone(value, safe=False)
                  for name, value in self.get_params(deep=False).items()
                  if name not in ("workspace", "search_space")}
        space = self.search_space
        if isinstance(space, Mapping):
            space = {k: v if isinstance(v, Expression) else clone(v, safe=False)
                     for k, v in space.items()}
        return type(self)(**params, workspace=self.workspace, search_space=space)

    def __getstate__(self) -> dict[str, Any]:
        # The sweep's run and the workspace hold the store's connections: a pickle keeps the
        # sweep's id and the results, and comes back with workspace=None.
        state = dict(super().__getstate__())
        state.pop("sweep_", None)
        state["workspace"] = None
        return state

    def _run_search(self, evaluate_candidates: Any) -> None:  # BaseSearchCV's hook: unused
        raise NotImplementedError("SweepSearchCV.fit runs a hypersweep sweep")

    def fit(self, X: Any, y: Any = None, *, groups: Any = None,
            **fit_params: Any) -> SweepSearchCV:
        """Run the sweep: each candidate a trial, each fold an interval; then refit the best.

        Parameters
        ----------
        X, y : array-like
            Training data and targets.
        groups : array-like, optional
            Group labels for group-aware ``cv`` splitters.
        **fit_params
            Passed to every ``fit`` (sample-aligned arrays are split with the folds).

        Returns
        -------
        SweepSearchCV
            self, fitted.

        Examples
        --------
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.linear_model import Ridge
        >>> from hypersweep import uniform
        >>> X, y = load_diabetes(return_X_y=True)
        >>> search = SweepSearchCV(Ridge(), {"alpha": uniform(0, 1)}, n_trials=3, cv=3,
        ...                        scoring=["r2", "neg_mean_absolute_error"], refit="r2",
        ...                        random_state=0).fit(X, y)
        >>> search.cv_results_["split2_test_neg_mean_absolute_error"].shape
        (3,)
        """
        scorers, multimetric = self._scorers()
        refit_metric = self._refit_metric(scorers, multimetric)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        space, labels = _space(self.search_space)
        sampler = self._sampler(space)
        suffix = f"_{refit_metric}" if multimetric else "_score"
        objective = _CrossValidation(self.estimator, X, y, splits, scorers, multimetric,
                                     dict(fit_params), labels, self.return_train_score,
                                     self.error_score, refit_metric)
        result = tune(objective, sampler, f"mean_test{suffix}", "maximize",
                      max_total_runs=self._n_trials(sampler), max_concurrent_runs=self._workers(),
                      policy=self.policy, workspace=self.workspace,
                      experiment_name=self.experiment_name or "SweepSearchCV",
                      executor=self.executor)
        self.sweep_ = result
        self.sweep_id_ = result.id
        self.multimetric_ = multimetric
        self.scorer_ = scorers if multimetric else scorers["score"]
        self.n_splits_ = len(splits)
        failed = _failed_trials(result)
        if failed and self.error_score == "raise":
            raise RuntimeError(f"a candidate's fit failed (error_score='raise'):\n{failed[0]}")
        self.cv_results_, self.trial_ids_ = _cv_results(result, labels, list(scorers),
                                                        len(splits), self.return_train_score)
        _raise_when_every_fit_failed(result, self.trial_ids_)
        if self.refit is not False:
            if callable(self.refit):
                self.best_index_ = int(self.refit(self.cv_results_))
            else:
                self.best_index_ = int(self.cv_results_[f"rank_test{suffix}"].argmin())
                self.best_score_ = float(self.cv_results_[f"mean_test{suffix}"][self.best_index_])
            self.best_params_ = self.cv_results_["params"][self.best_index_]
            started = time.time()
            self.best_estimator_ = clone(self.estimator).set_params(
                **clone(self.best_params_, safe=False))
            if y is None:
                self.best_estimator_.fit(X, **fit_params)
            else:
                self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.time() - started
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    # ------------------------------------------------------------------ checks
    def _scorers(self) -> tuple[dict[str, Any], bool]:
        scoring = self.scoring
        if scoring is None or isinstance(scoring, str) or callable(scoring):
            return {"score": check_scoring(self.estimator, scoring)}, False
        if isinstance(scoring, Mapping):
            return {str(k): get_scorer(v) if isinstance(v, str) else v
                    for k, v in scoring.items()}, True
        if isinstance(scoring, (list, tuple, set)) and all(isinstance(s, str) for s in scoring):
            return {s: get_scorer(s) for s in scoring}, True
        raise ConfigError(f"scoring: expected a scorer name, a callable, or a list or dict of "
                          f"them (got {scoring!r})")

    def _refit_metric(self, scorers: dict[str, Any], multimetric: bool) -> str:
        if not multimetric:
            return "score"
        if isinstance(self.refit, str):
            if self.refit not in scorers:
                raise ConfigError(f"refit: {self.refit!r} is not one of the scorers "
                                  f"{sorted(scorers)}")
            return self.refit
        if self.refit is not False and not callable(self.refit):
            raise ConfigError(f"refit: with several scorers, name the one to rank on (one "
                              f"of {sorted(scorers)}), or give a callable or False")
        return next(iter(scorers))  # the policy's metric when nothing is refit

    def _sampler(self, space: dict[str, Any]) -> Sampler:
        cls = self.sampling
        if isinstance(cls, str):
            try:
                cls = sampler_class(cls)
            except (KeyError, ValueError):
                raise ConfigError(f"sampling: expected 'random', 'grid', 'bayesian', 'tpe' "
                                  f"or a sampler class (got {self.sampling!r})") from None
        if not (isinstance(cls, type) and issubclass(cls, Sampler)):
            raise ConfigError(f"sampling: expected 'random', 'grid', 'bayesian', 'tpe' or a "
                              f"sampler class (got {self.sampling!r})")
        make: Callable[..., Sampler] = cls
        if "seed" not in cls.settings:
            return make(space)
        seed = self.random_state
        if seed is not None and not isinstance(seed, numbers.Integral):
            seed = int(check_random_state(seed).randint(2**31 - 1))
        return make(space, seed=seed)

    def _n_trials(self, sampler: Sampler) -> int:
        n = self.n_trials
        if n is None:
            if not isinstance(sampler, GridParameterSampling):
                raise ConfigError("n_trials: None means the whole grid, which needs "
                                  "sampling='grid'; give a number")
            return max(1, sampler.size)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ConfigError(f"n_trials: expected an int >= 1 (got {n!r})")
        return int(n)

    def _workers(self) -> int:
        import os

        n = self.n_jobs
        if n is None:
            return 1
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n == 0:
            raise ConfigError(f"n_jobs: expected a positive int, -1 or None (got {n!r})")
        cores = os.cpu_count() or 1
        return int(n) if n > 0 else max(1, cores + 1 + int(n))


# ---------------------------------------------------------------------- the trial
class _CrossValidation:
    """One candidate's cross-validation: the function trial's objective (picklable, for
    ``executor="process"``)."""

    def __init__(self, estimator: Any, X: Any, y: Any, splits: Sequence[Any],
                 scorers: dict[str, Any], multimetric: bool, fit_params: dict[str, Any],
                 labels: dict[str, dict[str, Any]], train_score: bool, error_score: Any,
                 primary: str) -> None:
        self.estimator, self.X, self.y, self.splits = estimator, X, y, splits
        self.scorers, self.multimetric, self.fit_params = scorers, multimetric, fit_params
        self.labels, self.train_score = labels, train_score
        self.error_score, self.primary = error_score, primary

    def __call__(self, params: dict[str, Any], run: Any) -> None:
        chosen = _decode(params, self.labels)
        n = _n_samples(self.X)
        tests: dict[str, list[float]] = {name: [] for name in self.scorers}
        for fold, (train, test) in enumerate(self.splits):
            model = clone(self.estimator).set_params(**clone(chosen, safe=False))
            fit_params = {k: _safe_indexing(v, train) if _aligned(v, n) else v
                          for k, v in self.fit_params.items()}
            X_train, X_test = _safe_indexing(self.X, train), _safe_indexing(self.X, test)
            y_train = None if self.y is None else _safe_indexing(self.y, train)
            y_test = None if self.y is None else _safe_indexing(self.y, test)
            started = time.time()
            try:
                model.fit(X_train, **fit_params) if y_train is None \
                    else model.fit(X_train, y_train, **fit_params)
                fitted = True
            except Exception as err:
                if self.error_score == "raise":
                    raise
                warnings.warn(f"SweepSearchCV: a fit failed on fold {fold} with {chosen!r}; "
                              f"its scores are {self.error_score!r}: {err!r}",
                              RuntimeWarning, stacklevel=2)
                fitted = False
                if FIT_ERROR not in run.get_tags():
                    run.tag(FIT_ERROR, f"{type(err).__name__}: {err}")
            run.log(FIT_FAILED, float(not fitted), step=fold)
            fit_time = time.time() - started
            started = time.time()
            scores = self._score(model, X_test, y_test) if fitted else None
            score_time = time.time() - started
            run.log("fit_time", fit_time, step=fold)
            run.log("score_time", score_time, step=fold)
            if self.train_score:
                train_scores = self._score(model, X_train, y_train) if fitted else None
                for name in self.scorers:
                    run.log(_key("split_train", name, self.multimetric),
                            self._value(train_scores, name), step=fold)
            for name in self.scorers:
                value = self._value(scores, name)
                tests[name].append(value)
                run.log(_key("split_test", name, self.multimetric), value, step=fold)
            # the primary metric last: logging it may stop the trial (TrialCanceled)
            for name in sorted(self.scorers, key=lambda s: s == self.primary):
                run.log(_key("mean_test", name, self.multimetric),
                        float(np.mean(tests[name])), step=fold)

    def _score(self, model: Any, X: Any, y: Any) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, scorer in self.scorers.items():
            out[name] = float(scorer(model, X) if y is None else scorer(model, X, y))
        return out

    def _value(self, scores: dict[str, float] | None, name: str) -> float:
        return float(self.error_score) if scores is None else scores[name]


def _raise_when_every_fit_failed(result: Any, trial_ids: Sequence[str]) -> None:
    """As scikit-learn: a search none of whose fits succeeded is an error, not a result."""
    metrics = result.get_metrics()
    failed = [metrics.get(i, {}).get(FIT_FAILED) for i in trial_ids]
    series = [f if isinstance(f, list) else [f] for f in failed if f is not None]
    if not series or not all(v == 1.0 for s in series for v in s):
        return
    error = result.store.get_tags(trial_ids[0]).get(FIT_ERROR, "")
    raise ValueError(f"all the fits failed: every candidate's fit raised on every fold it ran "
                     f"({sum(map(len, series))} fits); the first candidate's error: {error}")


def _key(prefix: str, name: str, multimetric: bool) -> str:
    return f"{prefix}_{name}" if multimetric else f"{prefix}_score"


def _n_samples(X: Any) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else len(X)


def _aligned(value: Any, n: int) -> bool:
    """Whether a fit parameter is per sample (split with the folds), as scikit-learn judges."""
    try:
        return not isinstance(value, (str, bytes)) and _n_samples(value) == n
    except TypeError:
        return False


# ---------------------------------------------------------------------- the space
def _space(search_space: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The hypersweep space, and per parameter whose values are objects, label -> object."""
    if not isinstance(search_space, Mapping) or not search_space:
        raise ConfigError(f"search_space: expected a dict of parameter name to a hypersweep "
                          f"expression or a list of values (got {search_space!r})")
    space: dict[str, Any] = {}
    labels: dict[str, dict[str, Any]] = {}
    for name, given in search_space.items():
        if isinstance(given, Expression):
            space[name] = given
        elif isinstance(given, (list, tuple)) and given:
            values = list(given)
            if all(isinstance(v, _PLAIN) for v in values):
                space[name] = choice(*values)
            else:
                named = _labelled(values)
                labels[name] = named
                space[name] = choice(*named)
        else:
            hint = " (scipy.stats distributions: use hypersweep's uniform, loguniform, " \
                   "randint...)" if hasattr(given, "rvs") else ""
            raise ConfigError(f"search_space[{name!r}]: expected a hypersweep expression or a "
                              f"non-empty list of values (got {given!r}){hint}")
    return space, labels


def _labelled(values: list[Any]) -> dict[str, Any]:
    named: dict[str, Any] = {}
    for value in values:
        label = repr(value)
        while label in named:  # two values that print alike
            label += "'"
        named[label] = value
    return named


def _decode(params: Mapping[str, Any], labels: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {k: labels[k][v] if k in labels else v for k, v in params.items()}


# ---------------------------------------------------------------------- the results
def _failed_trials(result: Any) -> list[str]:
    return [t.error or "" for t in result.store.list_trials(result.id)
            if t.status.value == "Failed"]


def _series(metrics: Mapping[str, Any], name: str, folds: int) -> np.ndarray:
    values = metrics.get(name, [])
    values = values if isinstance(values, list) else [values]
    out = np.full(folds, np.nan)
    numbers_only = [float(v) if isinstance(v, (int, float)) else np.nan for v in values[:folds]]
    out[:len(numbers_only)] = numbers_only
    return out


_ABSENT = object()


def _param_column(values: list[Any]) -> np.ma.MaskedArray:
    """A parameter's column as scikit-learn makes it: masked where a candidate has no value,
    numeric when every value is a number of one kind, else of objects."""
    given = [v for v in values if v is not _ABSENT]
    try:
        inferred = np.array(given)
        dtype = inferred.dtype if inferred.dtype.kind != "U" and inferred.ndim == 1 else object
    except ValueError:  # sequences of different lengths
        dtype = np.dtype(object)
    column = np.ma.MaskedArray(np.empty(len(values), dtype=dtype), mask=True)
    for i, value in enumerate(values):
        if value is not _ABSENT:
            column[i] = value
    return column


def _rank(means: np.ndarray) -> np.ndarray:
    """scikit-learn's ranking: 1 is best, ties share the lower rank, nan ranks last."""
    from scipy.stats import rankdata

    if np.isnan(means).all():
        return np.ones(len(means), dtype=np.int32)
    filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
    return np.asarray(rankdata(-filled, method="min"), dtype=np.int32)


def _cv_results(result: Any, labels: Mapping[str, Mapping[str, Any]], names: list[str],
                folds: int, train_score: bool) -> tuple[dict[str, Any], list[str]]:
    trials = sorted(result.store.list_trials(result.id), key=lambda t: t.index)
    metrics = result.get_metrics()
    multimetric = names != ["score"]
    params = [_decode(t.params, labels) for t in trials]
    out: dict[str, Any] = {}
    for key in ("fit_time", "score_time"):  # over the folds a trial ran
        table = np.array([_series(metrics.get(t.id, {}), key, folds)
                          for t in trials]).reshape(len(trials), folds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a trial that ran no fold
            out[f"mean_{key}"] = np.nanmean(table, axis=1)
            out[f"std_{key}"] = np.nanstd(table, axis=1)
    for name in sorted({k for p in params for k in p}):
        out[f"param_{name}"] = _param_column([p.get(name, _ABSENT) for p in params])
    out["params"] = params
    sets = ["test", "train"] if train_score else ["test"]
    for name in names:
        for kind in sets:
            key = _key(f"split_{kind}", name, multimetric)
            table = np.array([_series(metrics.get(t.id, {}), key, folds)
                              for t in trials]).reshape(len(trials), folds)
            for k in range(folds):
                out[f"split{k}_{kind}_{'score' if not multimetric else name}"] = table[:, k]
            whole = ~np.isnan(table).any(axis=1)  # a stopped trial has no mean
            suffix = name if multimetric else "score"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-nan rows
                out[f"mean_{kind}_{suffix}"] = np.where(whole, table.mean(axis=1), np.nan)
                out[f"std_{kind}_{suffix}"] = np.where(whole, table.std(axis=1), np.nan)
            if kind == "test":
                out[f"rank_test_{suffix}"] = _rank(out[f"mean_test_{suffix}"])
    return out, [t.id for t in trials]
