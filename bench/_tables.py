"""Tables of real model scores for bench_samplers.py: scikit-learn CV on bundled datasets.

Evaluating a model for every trial of every method and seed would take hours on 2 cores, so
(as tabular benchmarks such as HPOBench do) each model is evaluated once on a grid and the
benchmark looks the score up: exactly for the all-discrete HGB space, by linear
interpolation in log space for the continuous SVC space. Run this file to rebuild the
tables (about 2 minutes): ``python bench/_tables.py``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent / "tables"
SVC_LOG_C = [round(-4.6 + i * (9.2 + 4.6) / 15, 4) for i in range(16)]       # C in [1e-2, 1e4]
SVC_LOG_GAMMA = [round(-11.5 + i * 11.5 / 15, 4) for i in range(16)]         # gamma in [1e-5, 1]
HGB_GRID = {
    "learning_rate": [0.02, 0.05, 0.1, 0.2, 0.5],
    "max_leaf_nodes": [4, 8, 16, 48],
    "min_samples_leaf": [2, 8, 20, 50],
    "l2_regularization": [0.0, 1.0, 10.0],
}


def build_svc() -> dict[str, list[list[float]]]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.svm import SVC

    x, y = load_digits(return_X_y=True)
    x, y = x[:800] / 16.0, y[:800]
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    table = [[1.0 - float(cross_val_score(SVC(C=math.exp(c), gamma=math.exp(g)), x, y,
                                          cv=cv).mean())
              for g in SVC_LOG_GAMMA] for c in SVC_LOG_C]
    return {"log_C": SVC_LOG_C, "log_gamma": SVC_LOG_GAMMA, "error": table}


def build_hgb() -> dict[str, object]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x, y = load_breast_cancer(return_X_y=True)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    names = list(HGB_GRID)
    rows = []
    for values in itertools.product(*HGB_GRID.values()):
        params = dict(zip(names, values, strict=True))
        model = HistGradientBoostingClassifier(max_iter=30, early_stopping=False,
                                               random_state=0, **params)
        loss = -float(cross_val_score(model, x, y, cv=cv, scoring="neg_log_loss").mean())
        rows.append([*values, loss])
    return {"names": names, "rows": rows}


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for name, build in (("svc_digits", build_svc), ("hgb_cancer", build_hgb)):
        if len(sys.argv) > 1 and name not in sys.argv[1:]:
            continue
        start = time.time()
        (HERE / f"{name}.json").write_text(json.dumps(build()))
        print(f"{name}: {time.time() - start:.0f} s")
