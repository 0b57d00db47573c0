"""Hypervolume reached by hypersweep's samplers on multi-objective problems, against Optuna.

Problems (``bench/_mo_problems.py`` has the definitions and the citations): ZDT1 and ZDT2
(2 objectives, d = 30, reference point (11, 11)), DTLZ2 with 3 objectives (d = 12, reference
(1.1, 1.1, 1.1)) and the constrained C2-DTLZ2 (2 objectives, 1 constraint, d = 12, reference
(1.1, 1.1); about 3 uniform points in 10,000 are feasible). All are minimized on [0, 1]^d.

Samplers: ``gp`` (BayesianParameterSampling) and ``tpe`` (TPEParameterSampling), driven at
the sampler level one trial at a time: ``propose(1, finished, [])``, evaluate, append
``FinishedTrial(params, score=values[0], values=..., violations=...)`` with the objectives
negated (larger is better); ``random`` and ``sobol`` (RandomParameterSampling, ``rule``);
``optuna-tpe`` (``TPESampler(seed=...)``, its defaults: independent TPE for several
objectives, constant liar on) and ``optuna-gp`` (``GPSampler(seed=...)``: logEHVI for several
objectives, logCEHVI with constraints), through ``study.ask/tell`` on a study with one
``minimize`` direction per objective; constraints go in with ``trial.set_constraint`` before
``tell`` (Optuna 5.x reads them from there; its ``constraints_func`` is deprecated since 5.0).
Written and run against Optuna 5.1.0.

Measure: the hypervolume of the feasible trials' values (every trial counts; dominated ones
add nothing) above the problem's fixed reference point, ``hypersweep.pareto.hypervolume``
on the negated values for every sampler, Optuna's included. A budget's value is that of the
first ``b`` trials of one run (no sampler here knows the budget). Per problem and budget the
table gives each sampler's median over seeds divided by the best median of the two Optuna
samplers (> 1: more hypervolume than Optuna's best), then the verdict for each of ours:
"ahead" on a problem when its ratio is at least 1, and whether its median is ever below
random's. On ZDT the reference (11, 11) is far from the front (the largest hypervolume is
about 120.7 and even random reaches most of it), so ratios there are close to 1 and small
gaps matter; the raw medians are printed too. Then the time of one suggestion of ours with
500 finished trials (one history of random trials per problem, one seed; goal < 200 ms).

A full run (Optuna 5.1.0, 2 cores, 23 min): ``gp`` ahead of Optuna's best on 3 of 4 problems at
50 trials (C2-DTLZ2 0.38: Optuna's GP finds the feasible region sooner) and on 4 of 4 at 100
(1.02, 1.09, 1.73, 1.12); ``tpe`` ahead on none (0.11-0.83 at 100 trials; Optuna's TPE was
0.31-1.00), both never behind random. Optuna's GP reaches almost no volume on DTLZ2 at 50
trials (0.03 of its TPE's), so there the ratios are to Optuna's TPE. With 500 trials a
suggestion took 33-89 ms (gp) and 6-19 ms (tpe).

Run (``pip install -e '.[bench]'``; ``--jobs`` processes share the runs)::

    python bench/bench_multiobjective.py --quick   # 3 seeds, 50 trials: ~3 min, 2 cores
    python bench/bench_multiobjective.py           # 10 seeds, 50 and 100 trials: ~25 min
    python bench/bench_multiobjective.py --problems c2dtlz2 --samplers gp,optuna-gp --seeds 20
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core per process: --jobs decides the parallelism

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the problems module beside us

from _mo_problems import PROBLEMS, Problem  # noqa: E402

from hypersweep.pareto import hypervolume  # noqa: E402
from hypersweep.sampling import (  # noqa: E402
    BayesianParameterSampling,
    FinishedTrial,
    RandomParameterSampling,
    TPEParameterSampling,
)
from hypersweep.space import Expression, uniform  # noqa: E402

OURS = ("gp", "tpe")
OPTUNA = ("optuna-tpe", "optuna-gp")
SAMPLERS = (*OURS, "random", "sobol", *OPTUNA)
TIMING_TRIALS = 500


def _space(problem: Problem) -> dict[str, Expression]:
    return {f"x{i:02d}": uniform(0.0, 1.0) for i in range(problem.dim)}


def _vector(params: Any, problem: Problem) -> np.ndarray:
    return np.array([params[f"x{i:02d}"] for i in range(problem.dim)], dtype=float)


def _trial(params: Any, problem: Problem) -> FinishedTrial:
    f, violations = problem.evaluate(_vector(params, problem))
    values = tuple(-v for v in f)  # the samplers maximize
    return FinishedTrial(params, values[0], values=values,
                         violations=violations if problem.n_constraints else None)


# -- one run -----------------------------------------------------------------------------
def _run_ours(problem: Problem, method: str, seed: int, budget: int
              ) -> tuple[list[FinishedTrial], float]:
    space = _space(problem)
    sampler: Any = (BayesianParameterSampling(space, seed=seed) if method == "gp" else
                    TPEParameterSampling(space, seed=seed) if method == "tpe" else
                    RandomParameterSampling(space, seed=seed, rule=method))
    finished: list[FinishedTrial] = []
    spent = 0.0
    while len(finished) < budget:
        start = time.perf_counter()
        params = sampler.propose(1, finished, [])[0]
        spent += time.perf_counter() - start
        finished.append(_trial(params, problem))
    return finished, spent


def _run_optuna(problem: Problem, method: str, seed: int, budget: int
                ) -> tuple[list[FinishedTrial], float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler: Any = (optuna.samplers.GPSampler(seed=seed) if method == "optuna-gp" else
                    optuna.samplers.TPESampler(seed=seed))
    study = optuna.create_study(directions=["minimize"] * problem.n_objectives,
                                sampler=sampler)
    dists: dict[str, optuna.distributions.BaseDistribution] = {
        name: optuna.distributions.FloatDistribution(0.0, 1.0) for name in _space(problem)}
    finished: list[FinishedTrial] = []
    spent = 0.0
    while len(finished) < budget:
        start = time.perf_counter()
        trial = study.ask(dists)
        spent += time.perf_counter() - start
        done = _trial(trial.params, problem)
        for i, violation in enumerate(done.violations or ()):
            trial.set_constraint(f"c{i}", violation)
        start = time.perf_counter()
        study.tell(trial, [-v for v in done.values or ()])
        spent += time.perf_counter() - start
        finished.append(done)
    return finished, spent


def front_volume(trials: list[FinishedTrial], problem: Problem) -> float:
    """Hypervolume of the feasible trials above the problem's reference (oriented)."""
    points = np.array([t.values for t in trials if t.feasible and t.values is not None],
                      dtype=float).reshape(-1, problem.n_objectives)
    return hypervolume(points, [-r for r in problem.reference])


def run_one(job: tuple[str, str, int, tuple[int, ...]]
            ) -> tuple[str, str, int, dict[int, float], float]:
    name, method, seed, budgets = job
    problem = PROBLEMS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = _run_optuna if method in OPTUNA else _run_ours
        trials, spent = run(problem, method, seed, max(budgets))
    volumes = {b: front_volume(trials[:b], problem) for b in budgets}
    return name, method, seed, volumes, spent / max(budgets)


# -- suggestion time with 500 finished trials --------------------------------------------
def time_one(job: tuple[str, str]) -> tuple[str, str, float]:
    """Median seconds of one suggestion of ours with 500 finished (random) trials."""
    method, name = job
    problem = PROBLEMS[name]
    space = _space(problem)
    configs = RandomParameterSampling(space, seed=0).preview(TIMING_TRIALS)
    history = [_trial(c, problem) for c in configs]
    cls = BayesianParameterSampling if method == "gp" else TPEParameterSampling
    sampler: Any = cls(space, seed=0)
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler.propose(1, history[:-4], [])  # a sweep calls every trial: its cache is warm
        for r in range(3):
            start = time.perf_counter()
            sampler.propose(1, history[: TIMING_TRIALS - r], [])
            times.append(time.perf_counter() - start)
    return method, name, statistics.median(times)


# -- report ------------------------------------------------------------------------------
def _ratio(value: float, best: float) -> float:
    if best > 0:
        return value / best
    return 1.0 if value == best else math.inf  # Optuna found nothing feasible


def _table(budget: int, problems: list[str], samplers: list[str], seeds: int,
           results: dict[tuple[str, str], dict[int, list[float]]]) -> None:
    print(f"\n{budget} trials: median hypervolume over {seeds} seeds / best Optuna median "
          "(> 1: more than Optuna's best)")
    width = max(11, *(len(s) + 2 for s in samplers))
    print("problem".ljust(10) + "".join(s.rjust(width) for s in samplers)
          + "best Optuna".rjust(14))
    medians: dict[tuple[str, str], float] = {}
    for name in problems:
        for s in samplers:
            volumes = results.get((name, s), {}).get(budget, [])
            medians[name, s] = statistics.median(volumes) if volumes else math.nan
        best = max((medians[name, s] for s in samplers if s in OPTUNA), default=math.nan)
        print(name.ljust(10) + "".join(f"{_ratio(medians[name, s], best):.3f}".rjust(width)
                                       for s in samplers) + f"{best:14.4g}")
    print("raw medians:  " + "; ".join(
        f"{n} " + " ".join(f"{s}={medians[n, s]:.4g}" for s in samplers) for n in problems))
    for ours in [s for s in samplers if s in OURS]:
        ahead = 0
        for name in problems:
            best = max((medians[name, s] for s in samplers if s in OPTUNA), default=math.nan)
            ahead += _ratio(medians[name, ours], best) >= 1.0
        behind = {b: [n for n in problems if medians[n, ours] < medians[n, b]]
                  for b in ("random", "sobol") if b in samplers}
        text = "; ".join(f"never behind {b}: {'yes' if not late else 'no ' + str(late)}"
                         for b, late in behind.items())
        print(f"  {ours}: ahead on {ahead} of {len(problems)} problems; {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, 50 trials")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 10, quick 3)")
    parser.add_argument("--budgets", help="comma-separated budgets (default 50,100; quick 50)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--problems", help=f"comma-separated, of {','.join(PROBLEMS)}")
    parser.add_argument("--samplers", help=f"comma-separated, of {','.join(SAMPLERS)}")
    parser.add_argument("--no-timing", action="store_true", help="skip the 500-trial timing")
    parser.add_argument("--timing-only", action="store_true", help="only the 500-trial timing")
    args = parser.parse_args(argv)
    started = time.time()
    seeds = args.seeds or (3 if args.quick else 10)
    budgets = (tuple(sorted(int(b) for b in args.budgets.split(","))) if args.budgets else
               (50,) if args.quick else (50, 100))
    problems = args.problems.split(",") if args.problems else list(PROBLEMS)
    samplers = args.samplers.split(",") if args.samplers else list(SAMPLERS)
    for given, known in ((problems, PROBLEMS), (samplers, SAMPLERS)):
        unknown = [x for x in given if x not in known]
        if unknown:
            parser.error(f"unknown {unknown}; choose from {','.join(known)}")
    if args.timing_only:
        problems_run: list[str] = []
    else:
        problems_run = problems
    jobs = [(p, s, seed, budgets) for p in problems_run for s in samplers for seed in range(seeds)]
    # The model-based samplers first (the slowest runs), so the pool's tail is short.
    jobs.sort(key=lambda j: (j[1] not in ("gp", "optuna-gp"), j[1] not in ("tpe", "optuna-tpe")))
    print(f"optuna {_optuna_version()}; {len(problems_run)} problems x {len(samplers)} samplers x "
          f"{seeds} seeds, budgets {budgets}, {args.jobs} processes", flush=True)
    results: dict[tuple[str, str], dict[int, list[float]]] = {}
    per_trial: dict[str, list[float]] = {}
    timing_jobs = ([] if args.no_timing else
                   [(s, p) for s in samplers if s in OURS for p in problems])
    with Pool(args.jobs) as pool:
        for name, method, _, volumes, spent in pool.imap_unordered(run_one, jobs):
            for b, v in volumes.items():
                results.setdefault((name, method), {}).setdefault(b, []).append(v)
            per_trial.setdefault(method, []).append(spent)
        timing = pool.map(time_one, timing_jobs)
    if problems_run:
        for b in budgets:
            _table(b, problems_run, samplers, seeds, results)
        print("\nmean sampler time per trial during the runs (ms): "
              + ", ".join(f"{m} {1e3 * statistics.mean(v):.1f}" for m, v in per_trial.items()))
    if timing:
        print(f"\nsuggestion time with {TIMING_TRIALS} finished trials (median of 3, ms; "
              "goal < 200):")
        for method, name, seconds in timing:
            verdict = "ok" if seconds < 0.2 else "OVER"
            print(f"  {method:<4} {name:<8} {1e3 * seconds:8.1f}  {verdict}")
    print(f"\nelapsed {time.time() - started:.0f} s")
    return 0


def _optuna_version() -> str:
    try:
        import optuna
    except ImportError:
        return "missing"
    return str(optuna.__version__)


if __name__ == "__main__":
    sys.exit(main())
