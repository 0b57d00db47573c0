"""Search quality of hypersweep's samplers against random, Sobol, Optuna and Hyperopt.

Every method runs the same ask/tell loop on the same tasks and seeds; we report, per task
and budget, the median over seeds of the final regret (synthetic tasks: best loss minus the
known optimum) or of the best loss (model tasks: CV error / log loss, whose optimum is
unknown), the ratio of our best method to the best baseline (< 1: we win), and the time a
sampler takes per suggestion with 100 and 1,000 finished trials.

Methods: ``gp`` (BayesianParameterSampling) and ``tpe`` (TPEParameterSampling), called
``propose(1, finished, [])`` one trial at a time; ``gp-c4`` / ``tpe-c4`` the same with 4
trials always in flight (``propose(1, finished, pending=3 others)``, oldest finishes first);
``random`` and ``sobol`` (RandomParameterSampling); ``optuna-tpe`` (TPESampler,
multivariate=True), ``optuna-gp`` (GPSampler) through ``study.ask/tell``, and their ``-c4``
forms the same way (``optuna-tpe-c4`` with ``constant_liar=True``); ``hyperopt``
(``tpe.suggest`` through ``fmin``). A budget's result is the best after that many trials of
one run (no sampler here knows the budget).

Tasks: Branin (2-d), Hartmann-6, Ackley-5 on [-5, 10]^5, a mixed space (continuous, log,
integer, quantized and categorical), SVC on digits (C and gamma log-scaled; 3-fold CV error
from a 16x16 table interpolated in log space) and HistGradientBoosting on breast cancer
(4 discrete parameters; 3-fold CV log loss from the full 240-point table). The tables are
real scikit-learn CV scores made by ``bench/_tables.py`` (committed), so a run spends its
time in the samplers.

Ten seeds are few at 30 trials: a task's median moves by up to 2x with the seeds. On
Hartmann-6 at 30, 10 seeds gave Optuna's GP 0.112 against our 0.267; 40 seeds
(``--seeds 40 --tasks hartmann6 --budgets 30 --methods gp,optuna-gp``) give 0.461 against our
0.181; on Ackley-5, 40 seeds give 3.48 / 2.53 (Optuna GP, 30 / 100 trials) against our
3.25 / 2.42. Use ``--seeds`` for a verdict on one task.

Run (``pip install -e '.[bench]'``; ``--jobs`` processes share the tasks)::

    python bench/bench_samplers.py --quick     # 3 seeds, budgets 30 and 60: ~5 min, 2 cores
    python bench/bench_samplers.py             # 10 seeds, budgets 30 and 100: about an hour
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core per process: --jobs decides the parallelism

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Mapping  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from hypersweep.sampling import (  # noqa: E402
    BayesianParameterSampling,
    FinishedTrial,
    RandomParameterSampling,
    TPEParameterSampling,
)
from hypersweep.space import (  # noqa: E402
    Choice,
    Expression,
    LogUniform,
    QUniform,
    RandInt,
    Uniform,
    choice,
    loguniform,
    quniform,
    randint,
    uniform,
)

TABLES = Path(__file__).resolve().parent / "tables"


# -- tasks -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    name: str
    space: dict[str, Expression]
    loss: Callable[[Mapping[str, Any]], float]
    optimum: float | None  # known minimum: report regret; None: report the best loss


def _branin(p: Mapping[str, Any]) -> float:
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                 [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann6(p: Mapping[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(6)])
    return -float(_H_ALPHA @ np.exp(-np.sum(_H_A * (x - _H_P) ** 2, axis=1)))


def _ackley(p: Mapping[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(5)])
    return float(-20 * np.exp(-0.2 * np.sqrt(np.mean(x**2)))
                 - np.exp(np.mean(np.cos(2 * np.pi * x))) + 20 + math.e)


_OFFSET = {"adam": 0.0, "sgd": 0.6, "rmsprop": 0.25, "adagrad": 1.0}


def _mixed(p: Mapping[str, Any]) -> float:
    """A made-up training loss: continuous, log-scaled, integer, quantized and categorical."""
    shift = 0.25 if p["optimizer"] == "sgd" else 0.0  # the best dropout depends on the optimizer
    return (4 * (p["dropout"] - 0.3 - shift) ** 2 + ((math.log10(p["lr"]) + 2.5) / 1.5) ** 2
            + ((p["layers"] - 5) / 4) ** 2 + ((math.log2(p["units"]) - 7) / 3) ** 2
            + _OFFSET[p["optimizer"]])


def _svc_task() -> Callable[[Mapping[str, Any]], float]:
    from scipy.interpolate import RegularGridInterpolator

    data = json.loads((TABLES / "svc_digits.json").read_text())
    interp = RegularGridInterpolator((data["log_C"], data["log_gamma"]),
                                     np.array(data["error"]))

    def loss(p: Mapping[str, Any]) -> float:
        lc = min(max(math.log(p["C"]), data["log_C"][0]), data["log_C"][-1])
        lg = min(max(math.log(p["gamma"]), data["log_gamma"][0]), data["log_gamma"][-1])
        return float(interp([[lc, lg]])[0])

    return loss


def _hgb_task() -> tuple[dict[str, Expression], Callable[[Mapping[str, Any]], float]]:
    data = json.loads((TABLES / "hgb_cancer.json").read_text())
    names = data["names"]
    table = {tuple(row[:-1]): row[-1] for row in data["rows"]}
    values = {n: sorted({row[i] for row in data["rows"]}) for i, n in enumerate(names)}
    space: dict[str, Expression] = {n: choice(*values[n]) for n in names}

    def loss(p: Mapping[str, Any]) -> float:
        return float(table[tuple(p[n] for n in names)])

    return space, loss


def make_tasks() -> list[Task]:
    hgb_space, hgb_loss = _hgb_task()
    return [
        Task("branin", {"x1": uniform(-5.0, 10.0), "x2": uniform(0.0, 15.0)}, _branin,
             0.397887),
        Task("hartmann6", {f"x{i}": uniform(0.0, 1.0) for i in range(6)}, _hartmann6, -3.32237),
        Task("ackley5", {f"x{i}": uniform(-5.0, 10.0) for i in range(5)}, _ackley, 0.0),
        Task("mixed", {"dropout": uniform(0.0, 0.8), "lr": loguniform(math.log(1e-5), 0.0),
                       "layers": randint(12), "units": quniform(8, 512, 8),
                       "optimizer": choice("adam", "sgd", "rmsprop", "adagrad")}, _mixed, 0.0),
        Task("svc_digits", {"C": loguniform(-4.6, 9.2), "gamma": loguniform(-11.5, 0.0)},
             _svc_task(), None),
        Task("hgb_cancer", hgb_space, hgb_loss, None),
    ]


# -- methods -----------------------------------------------------------------------------
def _optuna_distributions(space: Mapping[str, Expression]) -> dict[str, Any]:
    import optuna

    out: dict[str, Any] = {}
    for name, e in space.items():
        if isinstance(e, Uniform):
            out[name] = optuna.distributions.FloatDistribution(e.args[0], e.args[1])
        elif isinstance(e, LogUniform):
            out[name] = optuna.distributions.FloatDistribution(
                math.exp(e.args[0]), math.exp(e.args[1]), log=True)
        elif isinstance(e, QUniform):
            out[name] = optuna.distributions.IntDistribution(e.args[0], e.args[1], step=e.args[2])
        elif isinstance(e, RandInt):
            out[name] = optuna.distributions.IntDistribution(0, e.upper - 1)
        elif isinstance(e, Choice):
            out[name] = optuna.distributions.CategoricalDistribution(list(e.options))
        else:
            raise TypeError(f"no Optuna form for {e!r}")
    return out


def _hyperopt_space(space: Mapping[str, Expression]) -> dict[str, Any]:
    from hyperopt import hp

    out: dict[str, Any] = {}
    for name, e in space.items():
        if isinstance(e, Uniform):
            out[name] = hp.uniform(name, e.args[0], e.args[1])
        elif isinstance(e, LogUniform):
            out[name] = hp.loguniform(name, e.args[0], e.args[1])  # exponents, as Azure
        elif isinstance(e, QUniform):
            out[name] = hp.quniform(name, e.args[0], e.args[1], e.args[2])
        elif isinstance(e, RandInt):
            out[name] = hp.randint(name, e.upper)
        elif isinstance(e, Choice):
            out[name] = hp.choice(name, list(e.options))
        else:
            raise TypeError(f"no Hyperopt form for {e!r}")
    return out


def _in_flight(method: str) -> tuple[str, int]:
    """``"gp-c4"`` -> ``("gp", 4)``: the method and how many of its trials run at once."""
    kind, _, conc = method.partition("-c")
    return kind, int(conc) if conc else 1


def _run_ours(task: Task, method: str, seed: int, budget: int) -> tuple[list[float], float]:
    kind, concurrency = _in_flight(method)
    cls = BayesianParameterSampling if kind == "gp" else TPEParameterSampling
    sampler: Any = (cls(task.space, seed=seed) if kind in ("gp", "tpe") else
                    RandomParameterSampling(task.space, seed=seed, rule=kind))
    finished: list[FinishedTrial] = []
    pending: list[dict[str, Any]] = []
    losses: list[float] = []
    spent = 0.0
    while len(finished) < budget:
        want = min(concurrency, budget - len(finished)) - len(pending)
        if want > 0:
            start = time.perf_counter()
            pending += sampler.propose(1 if pending else want, finished, pending)
            spent += time.perf_counter() - start
            continue
        config = pending.pop(0)  # the oldest trial in flight finishes first
        loss = task.loss(config)
        losses.append(loss)
        finished.append(FinishedTrial(config, -loss))
    return losses, spent


def _run_optuna(task: Task, method: str, seed: int, budget: int) -> tuple[list[float], float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kind, concurrency = _in_flight(method)
    if kind == "optuna-gp":
        sampler: Any = optuna.samplers.GPSampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True,
                                             constant_liar=concurrency > 1)
    study = optuna.create_study(sampler=sampler)
    dists = _optuna_distributions(task.space)
    losses: list[float] = []
    running: list[Any] = []
    spent = 0.0
    while len(losses) < budget:
        if len(running) < min(concurrency, budget - len(losses)):
            start = time.perf_counter()
            running.append(study.ask(dists))  # asked while the others still run
            spent += time.perf_counter() - start
            continue
        trial = running.pop(0)  # the oldest trial in flight finishes first
        loss = task.loss(trial.params)
        start = time.perf_counter()
        study.tell(trial, loss)
        spent += time.perf_counter() - start
        losses.append(loss)
    return losses, spent


def _run_hyperopt(task: Task, seed: int, budget: int) -> tuple[list[float], float]:
    from hyperopt import STATUS_OK, Trials, fmin, tpe

    losses: list[float] = []
    in_objective = [0.0]

    def objective(params: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        config = {k: int(v) if isinstance(task.space[k], QUniform | RandInt)
                  and isinstance(task.space[k].args[-1], int) else v for k, v in params.items()}
        loss = task.loss(config)
        losses.append(loss)
        in_objective[0] += time.perf_counter() - start
        return {"loss": loss, "status": STATUS_OK}

    start = time.perf_counter()
    fmin(objective, _hyperopt_space(task.space), algo=tpe.suggest, max_evals=budget,
         trials=Trials(), rstate=np.random.default_rng(seed), show_progressbar=False)
    return losses, time.perf_counter() - start - in_objective[0]


def run_one(job: tuple[str, str, int, int]) -> tuple[str, str, int, list[float], float]:
    task_name, method, seed, budget = job
    task = next(t for t in make_tasks() if t.name == task_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method.startswith("optuna"):
            losses, spent = _run_optuna(task, method, seed, budget)
        elif method == "hyperopt":
            losses, spent = _run_hyperopt(task, seed, budget)
        else:
            losses, spent = _run_ours(task, method, seed, budget)
    best = np.minimum.accumulate(losses).tolist()
    return task_name, method, seed, best, spent / budget


# -- suggestion time at 100 and 1,000 trials ---------------------------------------------
def time_one(job: tuple[str, int]) -> tuple[str, int, float]:
    """Median seconds of one suggestion with ``n`` finished trials (mixed task's space)."""
    method, n = job
    task = next(t for t in make_tasks() if t.name == "mixed")
    configs = RandomParameterSampling(task.space, seed=0).preview(n)
    history = [FinishedTrial(c, -task.loss(c)) for c in configs]
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method.startswith("optuna"):
            import optuna

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            dists = _optuna_distributions(task.space)
            sampler: Any = (optuna.samplers.GPSampler(seed=0) if method == "optuna-gp" else
                            optuna.samplers.TPESampler(seed=0, multivariate=True))
            study = optuna.create_study(sampler=sampler)
            study.add_trials([optuna.trial.create_trial(params=dict(t.params), distributions=dists,
                                                        value=-(t.score or 0.0))
                              for t in history])
            for _ in range(2):
                start = time.perf_counter()
                trial = study.ask(dists)
                times.append(time.perf_counter() - start)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            cls = BayesianParameterSampling if method == "gp" else TPEParameterSampling
            ours: Any = cls(task.space, seed=0)
            ours.propose(1, history[:-4], [])  # a sweep calls every trial: its cache is warm
            for r in range(3):
                start = time.perf_counter()
                ours.propose(1, history[: n - r], [])
                times.append(time.perf_counter() - start)
    return method, n, statistics.median(times)


# -- report ------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, budgets 30 and 60")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 10, quick 3)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--budgets", help="comma-separated budgets (default 30,100; quick 30,60)")
    parser.add_argument("--tasks", help="comma-separated task names (default: all)")
    parser.add_argument("--methods", help="comma-separated methods (default: all)")
    parser.add_argument("--no-timing", action="store_true", help="skip the timing table")
    parser.add_argument("--timing-only", action="store_true", help="only the timing table")
    args = parser.parse_args(argv)
    started = time.time()
    seeds = args.seeds or (3 if args.quick else 10)
    budgets = (tuple(sorted(int(b) for b in args.budgets.split(","))) if args.budgets else
               (30, 60) if args.quick else (30, 100))
    ours = ["gp", "tpe"]
    methods = (args.methods.split(",") if args.methods else
               [*ours, "gp-c4", "tpe-c4", "random", "sobol", "optuna-tpe", "optuna-gp",
                "hyperopt", "optuna-gp-c4", "optuna-tpe-c4"])
    tasks = [t for t in make_tasks() if not args.tasks or t.name in args.tasks.split(",")]
    if args.timing_only:
        tasks = []
    jobs = [(t.name, m, s, budgets[-1]) for t in tasks for m in methods for s in range(seeds)]
    # Slow methods first so the pool's tail is short.
    jobs.sort(key=lambda j: (not j[1].startswith("optuna-gp"), not j[1].startswith("gp")))
    print(f"{len(tasks)} tasks x {len(methods)} methods x {seeds} seeds, budgets {budgets}, "
          f"{args.jobs} processes", flush=True)
    results: dict[tuple[str, str], list[list[float]]] = {}
    per_trial: dict[str, list[float]] = {}
    with Pool(args.jobs) as pool:
        for name, method, _, best, spent in pool.imap_unordered(run_one, jobs):
            results.setdefault((name, method), []).append(best)
            per_trial.setdefault(method, []).append(spent)
        timing = ([] if args.no_timing else
                  pool.map(time_one, [(m, n) for m in ("gp", "tpe", "optuna-tpe", "optuna-gp")
                                      for n in (100, 1000)
                                      if not (m == "optuna-gp" and n == 1000 and args.quick)]))
    baselines = [m for m in methods if m not in ours and not m.endswith("-c4")]
    width = max(10, *(len(m) + 1 for m in methods))
    wins = {b: [0, 0] for b in budgets}
    never_loses_to_random = True
    for task in tasks:
        what = "regret" if task.optimum is not None else "best loss"
        print(f"\n{task.name} — median {what} over {seeds} seeds (lower is better)")
        print("budget".ljust(8) + "".join(m.rjust(width) for m in methods)
              + "  ours/best-baseline")
        for b in budgets:
            row = {}
            for m in methods:
                curves = results.get((task.name, m), [])
                finals = [c[b - 1] - (task.optimum or 0.0) for c in curves]
                row[m] = statistics.median(finals) if finals else math.nan
            our = min((row[m] for m in ours if m in row), default=math.nan)
            base = min((row[m] for m in baselines), default=math.nan)
            ratio = our / base if base > 0 else (1.0 if our <= base else math.inf)
            wins[b][0] += our <= base
            wins[b][1] += 1
            if "random" in row and our > row["random"]:
                never_loses_to_random = False
            print(str(b).ljust(8) + "".join(_fmt(row[m]).rjust(width) for m in methods)
                  + f"  {ratio:.2f}")
    pairs = [(m, m.removesuffix("-c4")) for m in methods
             if m.endswith("-c4") and m.removesuffix("-c4") in methods]
    if tasks and pairs:
        print("\n4 in flight vs one at a time: median regret (or best loss) ratio, c4 / sequential")
        print("task".ljust(12) + "budget".ljust(8) + "".join(m.rjust(width + 3) for m, _ in pairs))
        for task in tasks:
            for b in budgets:
                cells = []
                for conc, seq in pairs:
                    meds = [statistics.median(c[b - 1] - (task.optimum or 0.0)
                                              for c in results[(task.name, m)])
                            for m in (conc, seq)]
                    cells.append(meds[0] / meds[1] if meds[1] > 0 else math.nan)
                print(task.name.ljust(12) + str(b).ljust(8)
                      + "".join(f"{c:.2f}".rjust(width + 3) for c in cells))
    if tasks:
        print("\nour best method is best (or tied) on: "
              + ", ".join(f"{w}/{n} tasks at budget {b}" for b, (w, n) in wins.items())
              + f"; never worse than random: {never_loses_to_random}")
        print("\nmean sampler time per trial during the runs (ms): "
              + ", ".join(f"{m} {1e3 * statistics.mean(v):.1f}" for m, v in per_trial.items()))
    if timing:
        print("\nsuggestion time with n finished trials (mixed space, median, ms):")
        for method, n, seconds in timing:
            print(f"  {method:<11} n={n:<5} {1e3 * seconds:8.1f}")
    print(f"\nelapsed {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
