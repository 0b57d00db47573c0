"""Trials per second of function trials: hypersweep ``tune`` against Optuna, in one run.

A trivial objective (one float, one choice), random sampling, 1,000 trials, one at a time:

- in memory: ``tune`` (default in-memory records) vs Optuna ``RandomSampler`` + in-memory
  storage;
- SQLite: ``tune(workspace=Workspace(store="sqlite:///..."))`` vs Optuna's RDB storage
  ``sqlite:///...``.

Each cell is the best of ``--repeat`` runs (the machine is shared; the best is the least
disturbed). Ratios > 1 mean hypersweep is faster. Targets: 3x in memory, 10x with SQLite.

Run: ``python bench/bench_functions.py`` (``--trials 1000 --repeat 3``).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypersweep as hs


def objective(params: dict[str, Any], run: Any) -> float:
    return (params["x"] - 0.3) ** 2 + (0.0 if params["kind"] == "a" else 0.1)


def optuna_objective(trial: Any) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    return (x - 0.3) ** 2 + (0.0 if kind == "a" else 0.1)


def run_hypersweep(trials: int, store: str | None, folder: Path) -> float:
    sampling = hs.RandomParameterSampling({"x": hs.uniform(0.0, 1.0),
                                           "kind": hs.choice("a", "b")}, seed=1)
    workspace = None
    if store is not None:
        workspace = hs.Workspace(folder / "ws", store=store)
        _ = workspace.store  # open and migrate before timing, as Optuna's storage is made below
    start = time.perf_counter()
    result = hs.tune(objective, sampling, "loss", "minimize", max_total_runs=trials,
                     workspace=workspace)
    elapsed = time.perf_counter() - start
    assert len(result.get_children()) == trials
    return trials / elapsed


def run_optuna(trials: int, storage_url: str | None) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(storage_url) if storage_url else None
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1), storage=storage,
                                direction="minimize")
    start = time.perf_counter()
    study.optimize(optuna_objective, n_trials=trials)
    elapsed = time.perf_counter() - start
    assert len(study.trials) == trials
    return trials / elapsed


def best_of(repeat: int, measure: Callable[[int], float]) -> float:
    return max(measure(i) for i in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    n = args.trials
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_hypersweep(50, None, folder / "warm")  # imports and first-use costs, both sides
        run_optuna(20, None)
        rows = []
        hs_mem = best_of(args.repeat, lambda i: run_hypersweep(n, None, folder / f"m{i}"))
        op_mem = best_of(args.repeat, lambda i: run_optuna(n, None))
        rows.append(("memory", hs_mem, op_mem, 3.0))
        hs_sql = best_of(args.repeat, lambda i: run_hypersweep(
            n, f"sqlite:///{folder / f'hs{i}.db'}", folder / f"s{i}"))
        op_sql = best_of(args.repeat, lambda i: run_optuna(n, f"sqlite:///{folder / f'op{i}.db'}"))
        rows.append(("sqlite", hs_sql, op_sql, 10.0))
    print(f"{n} trials, random sampling, 1 float + 1 choice, trivial objective "
          f"(best of {args.repeat})")
    print(f"{'records':<8} {'hypersweep/s':>13} {'optuna/s':>10} {'ratio':>7} {'target':>7}  ok")
    for name, ours, theirs, target in rows:
        ratio = ours / theirs
        print(f"{name:<8} {ours:>13,.0f} {theirs:>10,.0f} {ratio:>6.1f}x {target:>6.0f}x  "
              f"{'yes' if ratio >= target else 'NO'}")


if __name__ == "__main__":
    main()
