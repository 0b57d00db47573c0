"""Hypersweep inside the training frameworks: callbacks that log each round and stop early.

Each integration lives in its own module and imports its framework only there, so
``import hypersweep.integrations`` stays light; install the framework with its extra
(``pip install hypersweep[lightgbm]``...). The names below are loaded on first use:

- :class:`~hypersweep.integrations.reporting.Reporter`: what every callback logs through
  (a function trial's run, a script trial's run, or an offline run that prints).
- ``LightGBMCallback`` (:mod:`hypersweep.integrations.lightgbm`), ``XGBoostCallback``
  (:mod:`hypersweep.integrations.xgboost`): log the evaluation metrics each round and end
  training when the sweep's policy stops the trial.
- ``LightningCallback``, ``KerasCallback``, ``TransformersCallback`` (their modules): the
  same for each epoch or evaluation of a deep-learning framework.
- ``SweepSearchCV`` (:mod:`hypersweep.integrations.sklearn`): a drop-in for scikit-learn's
  ``RandomizedSearchCV`` whose cross-validation folds are the policy's intervals.

Examples
--------
>>> import hypersweep.integrations
>>> hypersweep.integrations.__all__
['KerasCallback', 'LightGBMCallback', 'LightningCallback', 'Reporter', 'SweepSearchCV', \
'TransformersCallback', 'XGBoostCallback']
"""

from __future__ import annotations

from hypersweep.integrations.reporting import Reporter
from hypersweep.lazy import lazy_exports

__all__ = ["KerasCallback", "LightGBMCallback", "LightningCallback", "Reporter", "SweepSearchCV",
           "TransformersCallback", "XGBoostCallback"]

# Public name -> the module of this package that defines it (imported on first use: each
# imports its framework).
_LAZY = {
    "KerasCallback": ".keras",
    "LightGBMCallback": ".lightgbm",
    "LightningCallback": ".lightning",
    "SweepSearchCV": ".sklearn",
    "TransformersCallback": ".transformers",
    "XGBoostCallback": ".xgboost",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
