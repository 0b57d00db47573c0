"""Objectives and trial scripts shared by the LightGBM and XGBoost tests (module level, so
worker processes can import them).

A good trial (learning rate 0.1) and a poor one (0.0001) train on scikit-learn's diabetes
data; a BanditPolicy with a 10% slack stops the poor one at round 5, where its validation
loss is far behind. Poor trials pause a little each round, so the stop request reaches them
wherever they run (a worker process, a script): the verdict does not depend on timing.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from hypersweep import BanditPolicy, GridParameterSampling, choice

ROUNDS = 60
GOOD, POOR = 0.1, 0.0001
PAUSE = 0.05  # seconds a poor trial spends per round


def sampling() -> GridParameterSampling:
    """The good trial first, then the poor one (run one at a time: the good one sets the bar)."""
    return GridParameterSampling({"lr": choice(GOOD, POOR)})


def policy() -> BanditPolicy:
    return BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return X[:300], y[:300], X[300:], y[300:]


def pause(lr: float) -> None:
    if lr < GOOD:
        time.sleep(PAUSE)


def lightgbm_objective(params: dict[str, Any], run: Any) -> dict[str, Any]:
    import lightgbm as lgb

    from hypersweep.integrations import LightGBMCallback

    X, y, Xv, yv = data()
    train = lgb.Dataset(X, y)
    valid = lgb.Dataset(Xv, yv, reference=train)
    callback = LightGBMCallback()
    booster = lgb.train({"verbosity": -1, "learning_rate": params["lr"], "num_threads": 1,
                         "seed": 0}, train, num_boost_round=ROUNDS, valid_sets=[valid],
                        valid_names=["valid"],
                        callbacks=[callback, lambda env: pause(params["lr"])])
    return {"rounds": booster.current_iteration(), "stopped": int(callback.stopped)}


def xgboost_objective(params: dict[str, Any], run: Any) -> dict[str, Any]:
    import xgboost as xgb

    from hypersweep.integrations import XGBoostCallback

    class Pause(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            pause(params["lr"])
            return False

    X, y, Xv, yv = data()
    callback = XGBoostCallback()
    booster = xgb.train({"eta": params["lr"], "max_depth": 3, "nthread": 1, "seed": 0},
                        xgb.DMatrix(X, y), num_boost_round=ROUNDS,
                        evals=[(xgb.DMatrix(Xv, yv), "valid")], verbose_eval=False,
                        callbacks=[callback, Pause()])
    return {"rounds": booster.num_boosted_rounds(), "stopped": int(callback.stopped)}


#: A script trial: the same training, from the command line; it writes how many rounds ran
#: to <folder>/<lr>.txt (the folder is substituted for {folder}).
SCRIPT = """
import argparse, sys
sys.path.insert(0, {tests!r})
import boosting_objectives as b
parser = argparse.ArgumentParser(); parser.add_argument("--lr", type=float)
lr = parser.parse_args().lr
result = b.{objective}({{"lr": lr}}, None)
with open({folder!r} + "/" + repr(lr) + ".txt", "w") as out:
    out.write(str(result["rounds"]) + " " + str(result["stopped"]))
"""

