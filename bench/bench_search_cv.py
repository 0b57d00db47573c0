"""SweepSearchCV: cross-validation folds a policy saves, and the best mean score it keeps.

``SweepSearchCV`` over ``make_pipeline(StandardScaler(), SVC())`` on scikit-learn's bundled
breast-cancer data (569 samples), 10-fold stratified cross-validation, 40 random candidates a
seed: ``C`` log-uniform e^-5..e^5, ``gamma`` log-uniform e^-9..1, ``kernel`` rbf or sigmoid.
The same seeds draw the same candidates with and without a policy; candidates run one at a
time, so a policy's decisions do not depend on timing.

Columns: ``folds`` = folds fitted over all candidates (sum over seeds); ``ratio`` = that over
the folds fitted without a policy; ``best`` = ``best_score_`` (the best candidate's mean
accuracy over all 10 folds; mean over seeds); ``best/none`` = this best over none's (1: as
good, below 1: worse); ``s`` = wall seconds. The last row is scikit-learn's ``GridSearchCV``
over the very candidates of the sweep without a policy: the same best (a check), and the
time of the same fits without a sweep around them.

Run: ``OMP_NUM_THREADS=1 python bench/bench_search_cv.py`` (about five minutes on 2 cores);
``--seeds 2`` for a quicker look.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from hypersweep import AshaPolicy, BanditPolicy, MedianStoppingPolicy, loguniform
from hypersweep.integrations import SweepSearchCV

FOLDS, TRIALS = 10, 40
POLICIES: list[tuple[str, Any]] = [
    ("none", None),
    ("bandit 5%", BanditPolicy(slack_factor=0.05, delay_evaluation=2)),
    ("median", MedianStoppingPolicy(delay_evaluation=2)),
    ("asha", AshaPolicy(min_resource=2, reduction_factor=3)),
]


def rows(seeds: int) -> list[dict[str, Any]]:
    X, y = load_breast_cancer(return_X_y=True)
    space = {"svc__C": loguniform(-5, 5), "svc__gamma": loguniform(-9, 0),
             "svc__kernel": ["rbf", "sigmoid"]}
    out: list[dict[str, Any]] = []
    candidates: list[list[dict[str, Any]]] = []  # the unpoliced sweep's, per seed
    for label, policy in POLICIES:
        fitted, bests, started = 0, [], time.perf_counter()
        for seed in range(seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                search = SweepSearchCV(make_pipeline(StandardScaler(), SVC()), space,
                                       n_trials=TRIALS, cv=FOLDS, random_state=seed,
                                       policy=policy, refit=False).fit(X, y)
            results = search.cv_results_
            fitted += sum(int((~np.isnan(results[f"split{k}_test_score"])).sum())
                          for k in range(FOLDS))
            bests.append(float(np.nanmax(results["mean_test_score"])))
            if policy is None:
                candidates.append(results["params"])
        out.append({"policy": label, "folds": fitted, "best": statistics.mean(bests),
                    "seconds": time.perf_counter() - started})
    # scikit-learn's own search over the very candidates of the unpoliced sweep: the same
    # best (a check), and its time next to ours
    started, bests = time.perf_counter(), []
    for tried in candidates:
        grid = [{k: [v] for k, v in p.items()} for p in tried]
        theirs = GridSearchCV(make_pipeline(StandardScaler(), SVC()), grid, cv=FOLDS,
                              refit=False).fit(X, y)
        bests.append(float(np.max(theirs.cv_results_["mean_test_score"])))
    out.append({"policy": "scikit-learn", "folds": FOLDS * TRIALS * seeds,
                "best": statistics.mean(bests), "seconds": time.perf_counter() - started})
    for row in out:
        row["ratio"] = row["folds"] / out[0]["folds"]
        row["kept"] = row["best"] / out[0]["best"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(f"SweepSearchCV, SVC on breast cancer, {TRIALS} candidates x {FOLDS} folds, "
          f"{args.seeds} seeds")
    print(f"{'policy':<14}{'folds':>8}{'ratio':>8}{'best':>9}{'best/none':>11}{'s':>7}")
    for row in rows(args.seeds):
        print(f"{row['policy']:<14}{row['folds']:>8}{row['ratio']:>8.2f}{row['best']:>9.4f}"
              f"{row['kept']:>11.3f}{row['seconds']:>7.1f}")


if __name__ == "__main__":
    main()
