"""LightGBM: log every round's evaluation metrics, end training when the sweep stops the trial.

``LightGBMCallback`` goes in ``callbacks=[...]`` of ``lightgbm.train``, ``lightgbm.cv`` or an
``LGBM*.fit``. After each boosting round it logs every evaluation result under
``"<dataset>-<metric>"`` (``"valid_0-l2"``, ``"training-auc"``; name the sets with
``valid_names``), with the round as the step; when the sweep's early-termination policy has
stopped the trial, it ends training there (LightGBM's own early-stopping exception: the
booster keeps the rounds trained so far). It logs through a
:class:`~hypersweep.integrations.reporting.Reporter`, so the same code runs in a script
trial, in a function trial (``hypersweep.tune``) and outside any sweep.

The callback finds its run when each training starts, so one made ahead (an estimator's
``callbacks=`` at module level, cloned in every trial) logs to the trial that trains. Made in
a script's main thread, it also learns of the sweep's stop request (SIGTERM) instead of the
trial being killed mid-round.

Examples
--------
>>> import lightgbm as lgb
>>> from sklearn.datasets import load_diabetes
>>> X, y = load_diabetes(return_X_y=True)
>>> data = lgb.Dataset(X[:300], y[:300])
>>> valid = lgb.Dataset(X[300:], y[300:], reference=data)
>>> booster = lgb.train({"verbosity": -1, "num_leaves": 7}, data, num_boost_round=2,
...                     valid_sets=[valid], valid_names=["valid"],
...                     callbacks=[LightGBMCallback()])   # outside a sweep: prints
Attempted to log scalar metric valid-l2:
...
Attempted to log scalar metric valid-l2:
...
>>> booster.current_iteration()
2
"""

from __future__ import annotations

from typing import Any

import lightgbm

from hypersweep.integrations._round_state import RoundReporting

__all__ = ["LightGBMCallback"]


class LightGBMCallback(RoundReporting):
    """A LightGBM callback that logs each round's evaluation metrics and ends training when
    the sweep stops the trial.

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
    >>> import lightgbm as lgb
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True)
    >>> def objective(params, run):
    ...     data = lgb.Dataset(X[:300], y[:300])
    ...     valid = lgb.Dataset(X[300:], y[300:], reference=data)
    ...     lgb.train({"verbosity": -1, "learning_rate": params["lr"], "num_threads": 1},
    ...               data, num_boost_round=30, valid_sets=[valid], valid_names=["valid"],
    ...               callbacks=[LightGBMCallback()])
    >>> result = tune(objective, GridParameterSampling({"lr": choice(0.1, 0.0001)}),
    ...               "valid-l2", "minimize", max_total_runs=2,
    ...               policy=BanditPolicy(slack_factor=0.1, delay_evaluation=5))
    >>> sorted(len(m["valid-l2"]) for m in result.get_metrics().values())  # lr=0.0001: stopped
    [5, 30]
    """

    # LightGBM runs callbacks by `order`: after record_evaluation (20), before early_stopping
    # (30), so the round early_stopping ends on is logged too.
    order = 25
    before_iteration = False

    def __call__(self, env: Any) -> None:
        """Log round ``env.iteration``'s results; raise LightGBM's early-stopping exception
        when the sweep stopped the trial."""
        if env.iteration == env.begin_iteration:
            self.start()
        results = env.evaluation_result_list or []
        # cv results carry (dataset, metric, mean, higher_better, stdv): the mean is logged.
        if self.report_round({f"{r[0]}-{r[1]}": r[2] for r in results}, step=env.iteration):
            raise lightgbm.callback.EarlyStopException(env.iteration, results)
