"""XGBoost: log every round's evaluation metrics, end training when the sweep stops the trial.

``XGBoostCallback`` goes in ``callbacks=[...]`` of ``xgboost.train`` or ``xgboost.cv``, or of
an ``XGB*`` estimator. After each boosting round it logs every evaluation result under
``"<dataset>-<metric>"`` (``"valid-rmse"`` for ``evals=[(dvalid, "valid")]``,
``"validation_0-logloss"`` for an estimator's first ``eval_set``; ``xgboost.cv``'s mean over
the folds), with the round as the step; when the sweep's early-termination policy has stopped
the trial, it ends training there (the booster keeps the rounds trained so far). It logs
through a :class:`~hypersweep.integrations.reporting.Reporter`, so the same code runs in a
script trial, in a function trial (``hypersweep.tune``) and outside any sweep.

The callback finds its run when each training starts, so one made ahead (an estimator's
``callbacks=`` at module level, cloned in every trial) logs to the trial that trains. Made in
a script's main thread, it also learns of the sweep's stop request (SIGTERM) instead of the
trial being killed mid-round.

Examples
--------
>>> import xgboost as xgb
>>> from sklearn.datasets import load_diabetes
>>> X, y = load_diabetes(return_X_y=True)
>>> train, valid = xgb.DMatrix(X[:300], y[:300]), xgb.DMatrix(X[300:], y[300:])
>>> booster = xgb.train({"max_depth": 2, "nthread": 1}, train, num_boost_round=2,
...                     evals=[(valid, "valid")], verbose_eval=False,
...                     callbacks=[XGBoostCallback()])   # outside a sweep: prints
Attempted to log scalar metric valid-rmse:
...
Attempted to log scalar metric valid-rmse:
...
>>> booster.num_boosted_rounds()
2
"""

from __future__ import annotations

from typing import Any

import xgboost

from hypersweep.integrations._round_state import RoundReporting

__all__ = ["XGBoostCallback"]


class XGBoostCallback(RoundReporting, xgboost.callback.TrainingCallback):
    """An XGBoost training callback that logs each round's evaluation metrics and ends
    training when the sweep stops the trial.

    Parameters
    ----------
    metrics : str, list of str or dict, optional
        Which results to log: all (None, the default), the one named, those listed, or a
        mapping that keeps its keys and renames each to its value (``{"valid-auc": "auc"}``:
        the sweep's primary metric may then be named ``auc``).
    run : BaseRun, optional
        Where to log; default the current run (see
        :class:`~hypersweep.integrations.reporting.Reporter`).

    Attributes
    ----------
    rounds : int
        Boosting rounds of the current (or last) training.
    stopped : bool
        Whether this callback ended training because the sweep stopped the trial.

    Examples
    --------
    >>> from hypersweep import tune, GridParameterSampling, BanditPolicy, choice
    >>> import xgboost as xgb
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True)
    >>> def objective(params, run):
    ...     train, valid = xgb.DMatrix(X[:300], y[:300]), xgb.DMatrix(X[300:], y[300:])
    ...     xgb.train({"eta": params["eta"], "max_depth": 2, "nthread": 1}, train,
    ...               num_boost_round=30, evals=[(valid, "valid")], verbose_eval=False,
    ...               callbacks=[XGBoostCallback()])
    >>> result = tune(objective, GridParameterSampling({"eta": choice(0.3, 0.001)}),
    ...               "valid-rmse", "minimize", max_total_runs=2,
    ...               policy=BanditPolicy(slack_factor=0.1, delay_evaluation=5))
    >>> sorted(len(m["valid-rmse"]) for m in result.get_metrics().values())  # eta=0.001: stopped
    [5, 30]
    """

    def before_training(self, model: Any) -> Any:
        """A training starts: find the run it logs to."""
        self.start()
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        """Log round ``epoch``'s results; True (XGBoost then ends training) when the sweep
        stopped the trial."""
        metrics: dict[str, Any] = {}
        for data, by_metric in evals_log.items():
            for metric, history in by_metric.items():
                if history:
                    last = history[-1]
                    # xgboost.cv keeps (mean, std) over the folds: the mean is logged
                    metrics[f"{data}-{metric}"] = last[0] if isinstance(last, tuple) else last
        return self.report_round(metrics, step=epoch)
