"""Search quality on mixed spaces: BBOB functions seen through categorical, integer and
log-scaled parameters.

bench_bbob.py searches [-5, 5]^d with ``uniform`` only; sweeps are rarely like that. Here
the same BBOB functions (``cocoex``, suite ``bbob``) are searched through spaces of the
shapes BBOB lacks, each parameter mapped to one coordinate of the function's box:

- ``c`` categorical: ``choice("c0", ..., "c4")``, five levels at coordinates -4, -2, 0, 2, 4
  with the one nearest the function's minimiser x_opt moved onto it, the labels shuffled
  (per instance and dimension) so their order says nothing;
- ``i`` integer: ``randint(11)`` (even dimensions) or ``quniform(-5, 5, 1)`` (odd ones),
  coordinate ``value - 5`` or ``value`` plus the fraction that puts x_opt on the lattice;
- ``l`` log-scaled: ``loguniform`` over [1e-4, 1], its log mapped linearly onto [-5, 5];
- ``u`` uniform(-5, 5), the coordinate itself.

Space types (dimension j's kind): ``cat`` alternates c and u (half categorical), ``fewcat``
repeats c, u, u, u, u (a fifth categorical: the least share at which TPE takes Optuna's 24
candidates), ``int`` alternates the two integer forms, ``log`` is all log-scaled, ``mixed``
cycles c, i, l, u.
x_opt is a point of every space, so the optimum is f_opt (known) and a run reports its
**regret**: best f so far minus f_opt. Functions: f8 (Rosenbrock: a curved valley), f15
(rotated Rastrigin: multimodal with structure), f21 (Gallagher's 101 peaks: multimodal, weak
structure); dimensions 5 and 10.

Methods, one trial at a time in the same ask/tell loop as bench_bbob.py: ours ``gp``
(BayesianParameterSampling) and ``tpe`` (TPEParameterSampling); peers ``random``
(RandomParameterSampling), ``optuna-gp`` (GPSampler) and ``optuna-tpe``
(``TPESampler(seed=...)`` with Optuna's defaults, which in Optuna 5.1 are multivariate=True
and constant_liar=True; one trial at a time the liar never acts). HEBO is left out: ~3 s a
suggestion in its own virtualenv would be most of the run.

Seed ``s`` runs BBOB instance ``1 + s % 15`` (bench_bbob.instance_of) with sampler seed
``s``: a (method, task, seed) run is deterministic. Aggregates: per task the median regret
over seeds at 50 and 100 trials; ours / best peer is the ratio of medians (regrets floored
at 1e-8); per space type and dimension the geometric mean of those ratios over the
functions, and gp / tpe the same way.

Sizing: one 100-trial 10-D run costs about gp 5 s, optuna-gp 20 s, tpe 0.3 s, optuna-tpe
0.6 s of CPU; the default run (5 spaces x 3 functions x 2 dimensions x 3 seeds x 5 methods)
is about 25 CPU-minutes, most of it optuna-gp (``--methods`` without it: about 8).
``--quick``: f8 and f15, dimension 5, 2 seeds, budgets 20 and 50.

Run::

    OMP_NUM_THREADS=1 python bench/bench_mixed.py --jobs 1 --json /tmp/mixed.json
    python bench/bench_mixed.py --quick --methods tpe,optuna-tpe,random
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
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_bbob import _fmt, _problem, best_parameter, instance_of  # noqa: E402
from bench_samplers import _optuna_distributions  # noqa: E402

from hypersweep.sampling import (  # noqa: E402
    BayesianParameterSampling,
    FinishedTrial,
    RandomParameterSampling,
    TPEParameterSampling,
)
from hypersweep.space import choice, loguniform, quniform, randint, uniform  # noqa: E402

OURS = ("gp", "tpe")
PEERS = ("random", "optuna-gp", "optuna-tpe")
SPACES = {"cat": "cu", "fewcat": "cuuuu", "int": "ii", "log": "l", "mixed": "cilu"}
FUNCTIONS = (8, 15, 21)
FLOOR = 1e-8
LEVELS = (-4.0, -2.0, 0.0, 2.0, 4.0)
LOG_LOW = math.log(1e-4)


class MixedTask:
    """A BBOB problem seen through a space of kind ``space`` (see the module docstring)."""

    def __init__(self, space: str, fid: int, dim: int, instance: int) -> None:
        self.kinds = [SPACES[space][j % len(SPACES[space])] for j in range(dim)]
        self.x_opt = best_parameter(fid, dim, instance)
        self.space: dict[str, Any] = {}
        self.levels: dict[str, dict[str, float]] = {}
        self.shift: dict[str, float] = {}
        for j, kind in enumerate(self.kinds):
            name = f"x{j:02d}"
            if kind == "c":
                coords = list(LEVELS)
                coords[int(np.argmin([abs(c - self.x_opt[j]) for c in coords]))] = self.x_opt[j]
                order = np.random.default_rng([instance, fid, j]).permutation(len(coords))
                self.levels[name] = {f"c{k}": coords[int(i)] for k, i in enumerate(order)}
                self.space[name] = choice(*self.levels[name])
            elif kind == "i":
                self.shift[name] = float(self.x_opt[j] - round(self.x_opt[j]))
                self.space[name] = randint(11) if j % 2 == 0 else quniform(-5, 5, 1)
            elif kind == "l":
                self.space[name] = loguniform(LOG_LOW, 0.0)
            else:
                self.space[name] = uniform(-5.0, 5.0)

    def vector(self, params: Any) -> np.ndarray:
        out = np.empty(len(self.kinds))
        for j, kind in enumerate(self.kinds):
            name = f"x{j:02d}"
            v = params[name]
            if kind == "c":
                out[j] = self.levels[name][v]
            elif kind == "i":
                out[j] = float(v) - (5.0 if j % 2 == 0 else 0.0) + self.shift[name]
            elif kind == "l":
                out[j] = -5.0 + 10.0 * (math.log(float(v)) - LOG_LOW) / -LOG_LOW
            else:
                out[j] = float(v)
        return out


def _run_ours(task: MixedTask, problem: Any, method: str, seed: int, budget: int
              ) -> list[float]:
    sampler: Any = (BayesianParameterSampling(task.space, seed=seed) if method == "gp" else
                    TPEParameterSampling(task.space, seed=seed) if method == "tpe" else
                    RandomParameterSampling(task.space, seed=seed))
    finished: list[FinishedTrial] = []
    values: list[float] = []
    while len(finished) < budget:
        [config] = sampler.propose(1, finished, [])
        f = float(problem(task.vector(config)))
        values.append(f)
        finished.append(FinishedTrial(config, -f))  # scores: larger is better
    return values


def _run_optuna(task: MixedTask, problem: Any, method: str, seed: int, budget: int
                ) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (optuna.samplers.GPSampler(seed=seed) if method == "optuna-gp" else
               optuna.samplers.TPESampler(seed=seed))  # Optuna's defaults
    study = optuna.create_study(sampler=sampler)
    dists = _optuna_distributions(task.space)
    values: list[float] = []
    while len(values) < budget:
        trial = study.ask(dists)
        f = float(problem(task.vector(trial.params)))
        study.tell(trial, f)
        values.append(f)
    return values


Job = tuple[str, str, int, int, int, int]  # method, space, fid, dim, seed, budget


def run_one(job: Job) -> tuple[Job, list[float], float]:
    """One run: best-so-far regret after each trial, and its CPU seconds."""
    method, space, fid, dim, seed, budget = job
    start = time.process_time()
    task = MixedTask(space, fid, dim, instance_of(seed))
    _suite, problem = _problem(fid, dim, instance_of(seed))
    f_opt = float(problem(task.x_opt))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = _run_optuna if method.startswith("optuna") else _run_ours
        values = run(task, problem, method, seed, budget)
    regret = np.maximum(np.minimum.accumulate(np.array(values) - f_opt), 0.0)
    return job, regret.tolist(), time.process_time() - start


def _log(x: float) -> float:
    return math.log10(max(x, FLOOR))


def summarise(curves: dict[tuple[str, str, int, int], dict[int, list[float]]],
              methods: list[str], tasks: list[tuple[str, int, int]], budgets: tuple[int, ...]
              ) -> dict[str, Any]:
    """Medians per task, ours / best peer per task and per (space, dim), and win counts."""
    med: dict[str, float] = {}
    for (m, space, fid, dim), by_seed in curves.items():
        for b in budgets:
            finals = [c[b - 1] for c in by_seed.values() if len(c) >= b]
            if finals:
                med[f"{m} {space} f{fid} d{dim} b{b}"] = statistics.median(finals)
    ours = [m for m in OURS if m in methods]
    peers = [m for m in methods if m not in OURS]
    rows: dict[str, Any] = {}
    for space, fid, dim in tasks:
        for b in budgets:
            row = {m: med.get(f"{m} {space} f{fid} d{dim} b{b}", math.nan) for m in methods}
            cell: dict[str, Any] = {"median": row}
            avail = [p for p in peers if not math.isnan(row[p])]
            if avail:
                best_peer = min(avail, key=lambda p: row[p])
                cell["best_peer"] = best_peer
                cell["ratio"] = {m: 10 ** (_log(row[m]) - _log(row[best_peer])) for m in ours}
                low = min(row[p] for p in avail)
                cell["lowest"] = {m: row[m] <= low for m in ours}
                cell["lowest"]["best"] = any(cell["lowest"].values())
            if "gp" in ours and "tpe" in ours:
                cell["gp/tpe"] = 10 ** (_log(row["gp"]) - _log(row["tpe"]))
            rows[f"{space} f{fid} d{dim} b{b}"] = cell
    by_type: dict[str, Any] = {}
    for space in dict.fromkeys(s for s, _, _ in tasks):
        for dim in sorted({d for s, _, d in tasks if s == space}):
            for b in budgets:
                cells = [rows[f"{space} f{f} d{dim} b{b}"] for s, f, d in tasks
                         if s == space and d == dim]
                out: dict[str, float] = {}
                for m in (*ours, "gp/tpe"):
                    vals = [c["ratio"][m] if m in OURS else c[m] for c in cells
                            if (m in c.get("ratio", {})) or m in c]
                    if vals:
                        out[m] = 10 ** statistics.mean(math.log10(v) for v in vals)
                by_type[f"{space} d{dim} b{b}"] = out
    wins = {who: [sum(c.get("lowest", {}).get(who, False) for c in rows.values()),
                  sum("lowest" in c for c in rows.values())] for who in (*ours, "best")}
    return {"medians": med, "tasks": rows, "by_type": by_type, "wins": wins}


def report(summary: dict[str, Any], methods: list[str], budgets: tuple[int, ...]) -> None:
    ours = [m for m in OURS if m in methods]
    width = max(11, *(len(m) + 2 for m in methods))
    print("\nPer task: median regret over seeds (lower is better); ours / best peer")
    for b in budgets:
        print(f"\n  {b} trials".ljust(22) + "".join(m.rjust(width) for m in methods)
              + "  best peer".ljust(13) + "".join(f"{m}/peer".rjust(10) for m in ours))
        for key, cell in summary["tasks"].items():
            if not key.endswith(f" b{b}"):
                continue
            line = f"  {key.rsplit(' ', 1)[0]}".ljust(22) + "".join(
                _fmt(cell["median"][m]).rjust(width) for m in methods)
            if "best_peer" in cell:
                line += ("  " + cell["best_peer"]).ljust(13) + "".join(
                    f"{cell['ratio'][m]:.2f}".rjust(10) for m in ours)
            print(line)
    print("\nPer space type and dimension: geometric mean over functions of ours / best peer"
          " (< 1: we win), and gp / tpe (< 1: the GP is ahead)")
    cols = [m for m in (*ours, "gp/tpe") if m in OURS or len(ours) == 2]
    print("  type    d     b" + "".join(f"{m}{'' if '/' in m else '/peer'}".rjust(10)
                                       for m in cols))
    for key, cell in summary["by_type"].items():
        space, d, b = key.split()
        print(f"  {space:<6}{d[1:]:>3}{b[1:]:>6}" + "".join(
            (f"{cell[m]:.2f}" if m in cell else "-").rjust(10) for m in cols))
    print("\nTasks x budgets where ours has the lowest median regret of all (ties count):")
    for who, (won, n) in summary["wins"].items():
        print(f"  {who:<5} {won}/{n} ({100 * won / n if n else 0:.0f}%)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="f8, f15; dimension 5; 2 seeds; budgets 20, 50")
    parser.add_argument("--seeds", type=int, help="seeds per task (default 3)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--budgets", help="comma-separated budgets (default 50,100)")
    parser.add_argument("--dims", help="comma-separated dimensions (default 5,10)")
    parser.add_argument("--functions", help="comma-separated BBOB function numbers "
                        f"(default {','.join(map(str, FUNCTIONS))})")
    parser.add_argument("--spaces", help=f"comma-separated space types: {','.join(SPACES)}")
    parser.add_argument("--methods", help="comma-separated methods (default: all): "
                        + ",".join((*OURS, *PEERS)))
    parser.add_argument("--json", help="save every curve and the summary here")
    args = parser.parse_args(argv)
    started = time.time()
    budgets = (tuple(sorted(int(b) for b in args.budgets.split(","))) if args.budgets else
               (20, 50) if args.quick else (50, 100))
    dims = [int(d) for d in args.dims.split(",")] if args.dims else [5] if args.quick else [5, 10]
    fids = ([int(f) for f in args.functions.split(",")] if args.functions else
            [8, 15] if args.quick else list(FUNCTIONS))
    spaces = args.spaces.split(",") if args.spaces else list(SPACES)
    methods = args.methods.split(",") if args.methods else [*OURS, *PEERS]
    for what, given, known in (("method", methods, (*OURS, *PEERS)), ("space", spaces, SPACES)):
        if any(x not in known for x in given):
            parser.error(f"unknown {what} in {given}: choose from {','.join(known)}")
    seeds = args.seeds or (2 if args.quick else 3)
    tasks = [(s, f, d) for s in spaces for d in dims for f in fids]
    jobs: list[Job] = [(m, s, f, d, seed, budgets[-1]) for m in methods for s, f, d in tasks
                       for seed in range(seeds)]
    jobs.sort(key=lambda j: (j[0] not in ("optuna-gp", "gp"), -j[3]))  # slow ones first
    print(f"mixed spaces: {','.join(spaces)}; f{','.join(map(str, fids))}; dims {dims}; "
          f"{seeds} seeds; budgets {budgets}; methods {','.join(methods)}; {args.jobs} "
          "processes; seed s runs instance 1 + s % 15", flush=True)
    curves: dict[tuple[str, str, int, int], dict[int, list[float]]] = {}
    cpu: dict[str, list[float]] = {}
    with Pool(args.jobs) as pool:
        for done, ((m, s, f, d, seed, _), regret, seconds) in enumerate(
                pool.imap_unordered(run_one, jobs), 1):
            curves.setdefault((m, s, f, d), {})[seed] = regret
            cpu.setdefault(m, []).append(seconds)
            if done % max(1, len(jobs) // 10) == 0:
                print(f"  {done}/{len(jobs)} runs, {time.time() - started:.0f} s", flush=True)
    summary = summarise(curves, methods, tasks, budgets)
    report(summary, methods, budgets)
    print("\nCPU seconds a run (mean): " + ", ".join(
        f"{m} {statistics.mean(v):.2f}" for m, v in cpu.items()))
    elapsed = time.time() - started
    print(f"\nelapsed {elapsed:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "budgets": budgets, "dims": dims, "functions": fids, "spaces": spaces,
            "methods": methods, "seeds": seeds,
            "curves": [{"method": m, "space": s, "function": f, "dim": d, "seed": seed,
                        "instance": instance_of(seed), "regret": c}
                       for (m, s, f, d), by_seed in curves.items()
                       for seed, c in by_seed.items()],
            "summary": summary, "elapsed_s": elapsed}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
