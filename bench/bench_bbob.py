"""Search quality of hypersweep's samplers against peers on the BBOB suite (COCO).

The 24 noiseless BBOB functions (``cocoex``, suite ``bbob``) on [-5, 5]^d; every function's
optimum f_opt is known, so a run reports its **regret**: the best f found so far minus f_opt.
A budget's result is the best after that many trials of one run (no sampler here knows the
budget), so the 50- and 100-trial numbers come from the same 100-trial run.

Methods, all in the same ask/tell loop, one trial at a time:

- ours: ``gp`` (BayesianParameterSampling) and ``tpe`` (TPEParameterSampling), driven through
  ``propose(1, finished, [])`` with ``FinishedTrial(params, -f)`` (scores: larger is better);
- ``random`` and ``sobol``: RandomParameterSampling with ``rule="random"`` / ``"sobol"``;
- ``optuna-gp`` (GPSampler) and ``optuna-tpe`` (TPESampler with Optuna's defaults) through
  ``study.ask/tell``;
- ``smac``: SMAC3's BlackBoxFacade (a GP with EI, SMAC's facade for low-dimensional
  continuous black-box functions; the HPO facade's random forest is meant for mixed HPO
  spaces) through ``ask/tell``; skipped with a printed reason when ``smac`` is missing.
  SMAC is the one method told the run's length (``Scenario(n_trials=...)``): it sizes its
  initial design from it (25 Sobol points of 100: a quarter);
- ``hebo``: HEBO 0.3.6, which pins numpy<1.25 and so lives in its own virtualenv: each run is
  one ``bench/_hebo_worker.py`` subprocess of that interpreter (``--hebo-python``, default
  ``$HYPERSWEEP_HEBO_PYTHON`` or ``/opt/bench-hebo/bin/python``; skipped with a printed
  reason when absent). Install: ``python -m venv /opt/bench-hebo &&
  /opt/bench-hebo/bin/pip install --prefer-binary hebo==0.3.6 coco-experiment torch==2.13.0
  numpy==1.24.4 scipy==1.11.4 matplotlib==3.7.5 pandas==2.0.3 scikit-learn==1.3.2
  catboost==1.2.5`` (without the pins pip backtracks through matplotlib sources for ever).

Seeds and instances: seed ``s`` runs BBOB instance ``1 + s % 15`` with sampler seed ``s``, the
same instance for every method, so a (method, function, dimension, seed) run is deterministic.

Aggregates: per function and dimension, the median regret over seeds. The medians of one
group span orders of magnitude (f1 reaches 1e-3 where f12 stays at 1e6), so a group's
score is the mean of log10(median regret) over its functions, with regrets floored at 1e-8
(COCO's final target): the geometric mean. A ratio ours/peer is 10 ** (difference of those
means), the factor by which our typical regret in the group is larger (< 1: we win); "best"
of ours is the lower of gp and tpe per group (no picking per function); the best peer is the
peer with the lowest group score. Groups: separable f1-f5, low/moderate conditioning f6-f9,
high conditioning unimodal f10-f14, multimodal with adequate global structure f15-f19,
multimodal with weak global structure f20-f24.

Sizing (CPU seconds of one 100-trial run, 10-D: random, sobol, tpe < 0.5, optuna-tpe 0.5,
gp 4.5, optuna-gp 11; in 5-D smac ~200 and hebo > 500), the default run (see PLAN, printed in
the header; a method with fewer seeds has its medians over seeds 0..k-1, a subset of the
others'; a method run on fewer functions has no group score there and is compared with ours
function by function in the "ours / each peer" table):

- random, sobol, tpe, optuna-tpe: all 24 functions, dims 2, 5, 10, 20, 10 seeds;
- gp: all 24 functions, 10 seeds on dims 5 and 10, 3 seeds on dims 2 and 20;
- optuna-gp: all 24 functions, dims 5 and 10, 5 seeds;
- smac, hebo: f2, f8, f10, f15, f21 (one a group), dim 5, 1 seed (seed 0, instance 1).

That is about 2.7 CPU-hours: 80 minutes with ``--jobs 2`` on an otherwise idle 2-core
machine, of which SMAC and HEBO are one CPU-hour (``--methods`` without them: 50 minutes).
Determinism: two runs of one (method, function, dimension, seed) give the same regrets
(checked for gp, tpe, sobol, optuna-gp, optuna-tpe and smac) on one machine; between machines
floating point sends some runs down other paths, and the goal table's counts (medians of 12
seeds, many within 10% of the best peer) moved by one or two functions with the code unchanged.
To tell whether a change of ours helps, compare its run with the run before it seed by seed:
``bench/bbob_compare.py BEFORE.json AFTER.json`` (a mean paired log ratio and its standard
error per dimension, budget and group).
``--quick``: f2, f8, f10, f15, f21 on dims 5 and 10, 3 seeds, budgets 20 and 50; smac and
hebo on dim 5 with one seed. ``--seeds N`` runs every method on every dimension with N seeds.

Run (``pip install -e '.[bench]'``)::

    python bench/bench_bbob.py --quick                 # dims 5, 10; 3 seeds; 5 functions
    python bench/bench_bbob.py --quick --methods gp,optuna-gp,random
    python bench/bench_bbob.py --json /tmp/bbob.json   # the full run, about an hour
    python bench/bench_bbob.py --timing-only           # suggestion time at 1,000 trials
    python bench/bench_bbob.py --cache /tmp/bbob-cache --methods gp,random,optuna-gp

``--cache DIR`` keeps every peer run (never ours: ours is what changes between runs) as one
JSON line of ``DIR/peers.jsonl`` keyed by method, function, dimension, seed, the run's length
(its largest budget) and the versions it ran with (the peer's package, cocoex, numpy; for
random and sobol hypersweep's version, numpy and scipy), and reuses it instead of running it
again: peers repeat exactly, so a cached run is the run. The header says how many runs came
from the cache. Delete the file (or use another DIR) after changing a peer's code without
changing its version.

``bench/cache/bbob/peers.jsonl`` holds the Optuna GP runs of the goal table (all 24 functions,
dims 5 and 10, seeds 0-11; 100 trials; optuna 5.1.0, torch 2.13.0+cpu,
scipy 1.17.1, coco-experiment 2.8.2, numpy 2.4.6): about 3 CPU-hours that ``--cache
bench/cache/bbob`` reuses where those versions are installed (other versions miss the cache and
run). The cheap peers (random, Sobol, Optuna TPE: ten minutes for the same plan) are not kept
there.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core per process: --jobs decides the parallelism

import argparse  # noqa: E402
import functools  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
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
from hypersweep.space import uniform  # noqa: E402

HERE = Path(__file__).resolve().parent
GROUPS = {"separable": range(1, 6), "low-cond": range(6, 10), "high-cond": range(10, 15),
          "multi-adequate": range(15, 20), "multi-weak": range(20, 25)}
OURS = ("gp", "tpe")
PEERS = ("random", "sobol", "optuna-tpe", "optuna-gp", "smac", "hebo")
FLOOR = 1e-8  # COCO's final target: regrets below it count as solved
QUICK_FUNCTIONS = (2, 8, 10, 15, 21)  # one a group: ellipsoid, Rosenbrock, ellipsoid (rot.),
#                                        Rastrigin (rot.), Gallagher 101 peaks
# The default run: method -> ({dim: seeds}, functions or None for all 24); methods absent run
# every dimension with 10 seeds. CPU seconds of one 100-trial run: 20-D gp 8.5, optuna-gp 15;
# 5-D smac ~200 (2.5 s an ask once its 25-point design is done), hebo > 500 (5 s an ask).
PLAN: dict[str, tuple[dict[int, int], tuple[int, ...] | None]] = {
    "gp": ({2: 3, 5: 10, 10: 10, 20: 3}, None),
    "optuna-gp": ({5: 5, 10: 5}, None),
    "smac": ({5: 1}, QUICK_FUNCTIONS),
    "hebo": ({5: 1}, QUICK_FUNCTIONS),
}
QUICK_PLAN: dict[str, tuple[dict[int, int], tuple[int, ...] | None]] = {
    "smac": ({5: 1}, None),
    "hebo": ({5: 1}, None),
}


def instance_of(seed: int) -> int:
    return 1 + seed % 15


def _problem(fid: int, dim: int, instance: int) -> tuple[Any, Any]:
    """The suite (keep it alive: the problem lives in it) and the problem."""
    import cocoex

    suite = cocoex.Suite("bbob", "", f"function_indices:{fid} dimensions:{dim} "
                                     f"instance_indices:{instance}")
    return suite, next(iter(suite))


def best_parameter(fid: int, dim: int, instance: int) -> np.ndarray:
    """x_opt: cocoex writes it to a file in the working directory, so read it from a private
    one."""
    _suite, problem = _problem(fid, dim, instance)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            problem._best_parameter("print")
            return np.loadtxt(Path(tmp) / "._bbob_problem_best_parameter.txt", ndmin=1)
        finally:
            os.chdir(cwd)


def optimum(fid: int, dim: int, instance: int) -> float:
    """f_opt, the value at `best_parameter` (``Problem._f0`` is broken in cocoex 2.8)."""
    _suite, problem = _problem(fid, dim, instance)
    return float(problem(best_parameter(fid, dim, instance)))


def _space(dim: int) -> dict[str, Any]:
    return {f"x{i:02d}": uniform(-5.0, 5.0) for i in range(dim)}


def _vector(params: Any, dim: int) -> np.ndarray:
    return np.array([float(params[f"x{i:02d}"]) for i in range(dim)])


# -- methods -----------------------------------------------------------------------------
def _run_ours(problem: Any, dim: int, method: str, seed: int, budget: int
              ) -> tuple[list[float], float]:
    space = _space(dim)
    sampler: Any = (BayesianParameterSampling(space, seed=seed) if method == "gp" else
                    TPEParameterSampling(space, seed=seed) if method == "tpe" else
                    RandomParameterSampling(space, seed=seed, rule=method))
    finished: list[FinishedTrial] = []
    values: list[float] = []
    spent = 0.0
    while len(finished) < budget:
        start = time.process_time()
        [config] = sampler.propose(1, finished, [])
        spent += time.process_time() - start
        f = float(problem(_vector(config, dim)))
        values.append(f)
        finished.append(FinishedTrial(config, -f))  # scores: larger is better
    return values, spent


def _optuna_sampler(method: str, seed: int) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if method == "optuna-gp":
        return optuna.samplers.GPSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)  # Optuna's defaults


def _run_optuna(problem: Any, dim: int, method: str, seed: int, budget: int
                ) -> tuple[list[float], float]:
    import optuna

    study = optuna.create_study(sampler=_optuna_sampler(method, seed))
    dists: dict[str, Any] = {f"x{i:02d}": optuna.distributions.FloatDistribution(-5.0, 5.0)
                             for i in range(dim)}
    values: list[float] = []
    spent = 0.0
    while len(values) < budget:
        start = time.process_time()
        trial = study.ask(dists)
        spent += time.process_time() - start
        f = float(problem(_vector(trial.params, dim)))
        start = time.process_time()
        study.tell(trial, f)
        spent += time.process_time() - start
        values.append(f)
    return values, spent


def _run_smac(problem: Any, dim: int, seed: int, budget: int) -> tuple[list[float], float]:
    from ConfigSpace import ConfigurationSpace, Float
    from smac import BlackBoxFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    cs = ConfigurationSpace(seed=seed)
    cs.add([Float(f"x{i:02d}", (-5.0, 5.0)) for i in range(dim)])
    values: list[float] = []
    spent = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Scenario(cs, deterministic=True, n_trials=budget, seed=seed,
                            output_directory=Path(tmp) / "smac")
        smac = BlackBoxFacade(scenario, lambda config, seed=0: 0.0, overwrite=True,
                              logging_level=40)
        while len(values) < budget:
            start = time.process_time()
            info = smac.ask()
            spent += time.process_time() - start
            f = float(problem(_vector(info.config, dim)))
            start = time.process_time()
            smac.tell(info, TrialValue(cost=f))
            spent += time.process_time() - start
            values.append(f)
    return values, spent


def hebo_python(given: str | None) -> tuple[str | None, str]:
    """The HEBO interpreter to use, or None and the reason HEBO is skipped."""
    path = given or os.environ.get("HYPERSWEEP_HEBO_PYTHON") or "/opt/bench-hebo/bin/python"
    if not Path(path).exists():
        return None, f"no HEBO interpreter at {path} (see the module docstring to make one)"
    probe = subprocess.run([path, "-c", "import hebo, cocoex"], capture_output=True, text=True,
                           check=False)
    if probe.returncode:
        return None, f"{path} cannot import hebo and cocoex: {probe.stderr.strip()[-200:]}"
    return path, ""


def _run_hebo(python: str, fid: int, dim: int, instance: int, seed: int, budget: int
              ) -> tuple[list[float], float]:
    out = subprocess.run([python, str(HERE / "_hebo_worker.py"), str(fid), str(dim),
                          str(instance), str(seed), str(budget)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"HEBO worker failed (f{fid} d{dim} seed {seed}): "
                           f"{out.stderr.strip()[-500:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["values"], result["seconds"]


Job = tuple[str, int, int, int, int, float, str]  # method, fid, dim, seed, budget, f_opt, hebo


def run_one(job: Job) -> tuple[Job, list[float], float, str]:
    """One optimisation: best-so-far regret after each trial, sampler CPU seconds a trial (HEBO:
    wall seconds, timed by its worker), and
    the error that stopped a peer's run ("" when it ran; a crash of ours is raised)."""
    try:
        regret, spent = _run_one(job)
        return job, regret, spent, ""
    except Exception as err:  # a peer's crash must not lose the others' runs
        if job[0] in OURS:
            raise
        return job, [], 0.0, f"{type(err).__name__}: {err}"[:500]


def _run_one(job: Job) -> tuple[list[float], float]:
    method, fid, dim, seed, budget, f_opt, hebo = job
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "hebo":
            values, spent = _run_hebo(hebo, fid, dim, instance_of(seed), seed, budget)
        else:
            _suite, problem = _problem(fid, dim, instance_of(seed))
            if method.startswith("optuna"):
                values, spent = _run_optuna(problem, dim, method, seed, budget)
            elif method == "smac":
                values, spent = _run_smac(problem, dim, seed, budget)
            else:
                values, spent = _run_ours(problem, dim, method, seed, budget)
    regret = np.maximum(np.minimum.accumulate(np.array(values) - f_opt), 0.0)
    return regret.tolist(), spent / budget


# -- cache of peer runs ------------------------------------------------------------------
CACHE_FILE = "peers.jsonl"
_PACKAGES = {"random": ("hypersweep", "scipy"), "sobol": ("hypersweep", "scipy"),
             "optuna-gp": ("optuna", "torch", "scipy"), "optuna-tpe": ("optuna",),
             "smac": ("smac", "scikit-learn")}


@functools.cache
def peer_version(method: str, hebo: str = "") -> str:
    """What a peer's run depends on besides its seed: the versions of its packages, cocoex's
    and numpy's (HEBO's from its own interpreter)."""
    if method == "hebo":
        probe = subprocess.run(
            [hebo, "-c", "import importlib.metadata as m; print(';'.join(p + ' ' + "
             "m.version(p) for p in ('hebo', 'torch', 'coco-experiment', 'numpy')))"],
            capture_output=True, text=True, check=False)
        return probe.stdout.strip() or "hebo ?"
    names = (*_PACKAGES[method], "coco-experiment", "numpy")
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} -")
    return ";".join(found)


def cache_key(job: Job) -> str:
    method, fid, dim, seed, budget, _f_opt, hebo = job
    return json.dumps([method, fid, dim, seed, budget, peer_version(method, hebo)])


def read_cache(directory: Path) -> dict[str, tuple[list[float], float]]:
    """Cached peer runs by `cache_key`: (regret after each trial, sampler seconds a trial).
    A line that does not parse (a run killed mid-write) is skipped."""
    path = directory / CACHE_FILE
    found: dict[str, tuple[list[float], float]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
                found[json.dumps(row["key"])] = (row["regret"], row["seconds"])
            except (ValueError, KeyError, TypeError):
                continue
    return found


def write_cache(directory: Path, job: Job, regret: list[float], spent: float) -> None:
    """Append one peer run: one write of one line, so runs sharing the directory interleave
    whole lines."""
    directory.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"key": json.loads(cache_key(job)), "regret": regret, "seconds": spent})
    with open(directory / CACHE_FILE, "a") as out:
        out.write(line + "\n")


# -- suggestion time ---------------------------------------------------------------------
def time_one(job: tuple[str, int, int, int]) -> tuple[str, float]:
    """Median CPU seconds (this process's, so the load of other processes does not count) of
    one suggestion with ``n`` finished random trials on f``fid`` in ``dim`` dimensions
    (instance 1)."""
    method, fid, dim, n = job
    _suite, problem = _problem(fid, dim, 1)
    space = _space(dim)
    configs = RandomParameterSampling(space, seed=0).preview(n + 2)
    history = [FinishedTrial(c, -float(problem(_vector(c, dim)))) for c in configs]
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method.startswith("optuna"):
            import optuna

            dists: dict[str, Any] = {k: optuna.distributions.FloatDistribution(-5.0, 5.0)
                                     for k in space}
            study = optuna.create_study(sampler=_optuna_sampler(method, 0))
            study.add_trials([optuna.trial.create_trial(params=dict(t.params), distributions=dists,
                                                        value=-(t.score or 0.0))
                              for t in history[:n]])
            for _ in range(2):
                start = time.process_time()
                trial = study.ask(dists)
                times.append(time.process_time() - start)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            cls = BayesianParameterSampling if method == "gp" else TPEParameterSampling
            ours: Any = cls(space, seed=0)
            ours.propose(1, history[: n - 4], [])  # a sweep calls every trial: its cache is warm
            for r in range(3):
                start = time.process_time()
                ours.propose(1, history[: n + 2 - r], [])
                times.append(time.process_time() - start)
    return method, statistics.median(times)


# -- report ------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"


def group_of(fid: int) -> str:
    return next(g for g, fids in GROUPS.items() if fid in fids)


def log_ratio(before: list[float], after: list[float], budget: int) -> float | None:
    """log10(after / before) of two runs' regrets at ``budget`` (floored at ``FLOOR``), or
    None when either run is shorter: one sample of a seed-by-seed comparison."""
    if len(before) < budget or len(after) < budget:
        return None
    return math.log10(max(after[budget - 1], FLOOR)) - math.log10(max(before[budget - 1], FLOOR))


def mean_and_error(logs: list[float]) -> tuple[float, float]:
    """The mean of paired log ratios and its standard error (needs two or more)."""
    return statistics.fmean(logs), statistics.stdev(logs) / math.sqrt(len(logs))


def summarise(curves: dict[tuple[str, int, int], dict[int, list[float]]], methods: list[str],
              fids: list[int], dims: list[int], budgets: tuple[int, ...]) -> dict[str, Any]:
    """Medians per function, group scores and ratios, wins and the checks (JSON-ready)."""
    med: dict[str, dict[str, float]] = {}  # "method f d b" -> median regret
    for (m, fid, dim), by_seed in curves.items():
        for b in budgets:
            finals = [c[b - 1] for c in by_seed.values() if len(c) >= b]
            if finals:
                med.setdefault(m, {})[f"f{fid} d{dim} b{b}"] = statistics.median(finals)
    ours = [m for m in OURS if m in methods]
    peers = [m for m in methods if m not in OURS]

    def get(m: str, fid: int, dim: int, b: int) -> float:
        return med.get(m, {}).get(f"f{fid} d{dim} b{b}", math.nan)

    groups: dict[str, Any] = {}
    for g, gfids in GROUPS.items():
        fs = [f for f in fids if f in gfids]
        for dim in dims:
            for b in budgets:
                score = {}
                for m in methods:
                    vals = [get(m, f, dim, b) for f in fs]
                    if fs and not any(math.isnan(v) for v in vals):
                        score[m] = statistics.mean(math.log10(max(v, FLOOR)) for v in vals)
                if not score:
                    continue
                cell: dict[str, Any] = {"score": score}
                if ours and all(m in score for m in ours):
                    score["best"] = min(score[m] for m in ours)
                avail = [p for p in peers if p in score]
                if avail:
                    best_peer = min(avail, key=lambda p: score[p])
                    cell["best_peer"] = best_peer
                    cell["ratio"] = {m: 10 ** (score[m] - score[best_peer])
                                     for m in (*ours, "best") if m in score}
                    cell["worst_vs_peer"] = {m: max((10 ** (score[m] - score[p]), p)
                                                    for p in avail)
                                             for m in (*ours, "best") if m in score}
                groups[f"{g} d{dim} b{b}"] = cell
    wins: dict[str, Any] = {}
    worse_than_random: dict[str, list[str]] = {m: [] for m in ours}
    # A median of 12 seeds above random's was, on f16 and f23, within one standard error of
    # the seed-by-seed comparison: each such cell carries that comparison, (mean, error).
    paired_with_random: dict[str, tuple[float, float]] = {}
    for dim in dims:
        for b in budgets:
            for who in (*ours, "best") if ours else ():
                n = won = 0
                for fid in fids:
                    row = {m: get(m, fid, dim, b) for m in methods}
                    if any(math.isnan(v) for v in row.values()):
                        row = {m: v for m, v in row.items() if not math.isnan(v)}
                    mine = (min(row[m] for m in ours if m in row) if who == "best"
                            else row.get(who, math.nan))
                    if math.isnan(mine) or not any(m in row for m in peers):
                        continue
                    n += 1
                    won += mine <= min(row[m] for m in peers if m in row)
                wins[f"{who} d{dim} b{b}"] = (won, n)
            for m in ours:
                for fid in fids:
                    if get(m, fid, dim, b) > get("random", fid, dim, b):
                        worse_than_random[m].append(f"f{fid} d{dim} b{b}")
                        mine = curves.get((m, fid, dim), {})
                        theirs = curves.get(("random", fid, dim), {})
                        logs = [r for r in (log_ratio(theirs[seed], mine[seed], b) for seed in mine
                                            if seed in theirs) if r is not None]
                        if len(logs) >= 2:
                            paired_with_random[f"{m} f{fid} d{dim} b{b}"] = mean_and_error(logs)
    pairwise: dict[str, Any] = {}  # "gp/smac d5 b100" -> (ratio, functions in common)
    for m in ours:
        for p in peers:
            for dim in dims:
                for b in budgets:
                    both = [(get(m, f, dim, b), get(p, f, dim, b)) for f in fids]
                    logs = [math.log10(max(a, FLOOR)) - math.log10(max(c, FLOOR))
                            for a, c in both if not (math.isnan(a) or math.isnan(c))]
                    if logs:
                        pairwise[f"{m}/{p} d{dim} b{b}"] = (10 ** statistics.mean(logs), len(logs))
    return {"medians": med, "groups": groups, "wins": wins,
            "worse_than_random": worse_than_random, "paired_with_random": paired_with_random,
            "pairwise": pairwise}


def report(summary: dict[str, Any], methods: list[str], fids: list[int], dims: list[int],
           budgets: tuple[int, ...]) -> None:
    med = summary["medians"]
    width = max(11, *(len(m) + 2 for m in methods))
    ours = [m for m in OURS if m in methods]
    print("\nPer function: median regret over seeds (lower is better)")
    for dim in dims:
        for b in budgets:
            print(f"\n  d={dim}, {b} trials".ljust(14) + "".join(m.rjust(width) for m in methods))
            for fid in fids:
                print(f"  f{fid}".ljust(14) + "".join(
                    _fmt(med.get(m, {}).get(f"f{fid} d{dim} b{b}", math.nan)).rjust(width)
                    for m in methods))
    print("\nPer group: geometric mean of the functions' median regrets (floor 1e-8), and "
          "ours / best peer (< 1: we win)")
    head = "group".ljust(16) + "d".rjust(3) + "b".rjust(5) + "".join(m.rjust(width)
                                                                     for m in methods)
    extra = "".join(f"{m}/peer".rjust(10) for m in (*ours, "best")) if ours else ""
    print(head + "  best peer".ljust(13) + extra)
    for key, cell in summary["groups"].items():
        g, d, b = key.split()
        line = g.ljust(16) + d[1:].rjust(3) + b[1:].rjust(5) + "".join(
            (_fmt(10 ** cell["score"][m]) if m in cell["score"] else "-").rjust(width)
            for m in methods)
        if "ratio" in cell:
            line += ("  " + cell["best_peer"]).ljust(13) + "".join(
                f"{cell['ratio'][m]:.2f}".rjust(10) if m in cell["ratio"] else "-".rjust(10)
                for m in (*ours, "best"))
        print(line)
    if not ours:
        return
    print("\nFunctions where ours has the lowest median regret of all methods (ties count):")
    for who in (*ours, "best"):
        cells = []
        for dim in dims:
            for b in budgets:
                won, n = summary["wins"].get(f"{who} d{dim} b{b}", (0, 0))
                cells.append(f"d{dim}/b{b} {won}/{n} ({100 * won / n if n else 0:.0f}%)")
        print(f"  {who:<5}" + ", ".join(cells))
    print("\nNever worse than random (median regret above random's; in brackets the mean "
          "log10 ratio to random seed by seed, and its standard error):")
    paired = summary.get("paired_with_random", {})
    for m in ours:
        bad = [f"{key} [{paired[f'{m} {key}'][0]:+.2f} ± {paired[f'{m} {key}'][1]:.2f}]"
               if f"{m} {key}" in paired else key for key in summary["worse_than_random"][m]]
        print(f"  {m:<5}" + ("never" if not bad else f"{len(bad)}: " + ", ".join(bad)))
    print("\nOurs / each peer over the functions both ran: geometric mean of the ratios of "
          "median regrets (< 1: we win), [functions]")
    cols = [(d, b) for d in dims for b in budgets]
    print("".ljust(22) + "".join(f"d{d} b{b}".rjust(14) for d, b in cols))
    for m in ours:
        for p in [p for p in methods if p not in OURS]:
            cells = [summary["pairwise"].get(f"{m}/{p} d{d} b{b}") for d, b in cols]
            print(f"  {m}/{p}".ljust(22) + "".join(
                (f"{c[0]:.2f} [{c[1]}]" if c else "-").rjust(14) for c in cells))
    print("\nWorst group ratio against any peer (ours / that peer):")
    for who in (*ours, "best"):
        worst = [(cell["worst_vs_peer"][who][0], key, cell["worst_vs_peer"][who][1])
                 for key, cell in summary["groups"].items()
                 if who in cell.get("worst_vs_peer", {})]
        if worst:
            r, key, peer = max(worst)
            print(f"  {who:<5}{r:.2f} ({key}, vs {peer})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="dims 5,10; 3 seeds; budgets 20,50; f" +
                        ",".join(map(str, QUICK_FUNCTIONS)))
    parser.add_argument("--seeds", type=int, help="seeds for every method (default: PLAN)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--budgets", help="comma-separated budgets (default 50,100)")
    parser.add_argument("--dims", help="comma-separated dimensions (default 2,5,10,20)")
    parser.add_argument("--functions", help="comma-separated BBOB function numbers 1-24")
    parser.add_argument("--methods", help="comma-separated methods (default: all): "
                        + ",".join((*OURS, *PEERS)))
    parser.add_argument("--hebo-python", help="interpreter with hebo and cocoex "
                        "(default $HYPERSWEEP_HEBO_PYTHON or /opt/bench-hebo/bin/python)")
    parser.add_argument("--json", help="save every curve and the summary here")
    parser.add_argument("--cache", help="directory whose peers.jsonl keeps and reuses the "
                        "peers' runs (never ours)")
    parser.add_argument("--no-timing", action="store_true", help="skip the timing section")
    parser.add_argument("--timing-only", action="store_true", help="only the timing section")
    args = parser.parse_args(argv)
    started = time.time()
    budgets = (tuple(sorted(int(b) for b in args.budgets.split(","))) if args.budgets else
               (20, 50) if args.quick else (50, 100))
    dims = ([int(d) for d in args.dims.split(",")] if args.dims else
            [5, 10] if args.quick else [2, 5, 10, 20])
    fids = ([int(f) for f in args.functions.split(",")] if args.functions else
            list(QUICK_FUNCTIONS) if args.quick else list(range(1, 25)))
    if not all(1 <= f <= 24 for f in fids):
        parser.error(f"--functions expects numbers 1-24 (got {args.functions})")
    methods = args.methods.split(",") if args.methods else [*OURS, *PEERS]
    unknown = [m for m in methods if m not in (*OURS, *PEERS)]
    if unknown:
        parser.error(f"unknown method(s) {unknown}: choose from {','.join((*OURS, *PEERS))}")
    skipped: dict[str, str] = {}
    hebo = ""
    if "hebo" in methods:
        path, why = hebo_python(args.hebo_python)
        hebo = path or ""
        if path is None:
            skipped["hebo"] = why
    if "smac" in methods:
        try:
            import smac  # noqa: F401
        except ImportError as err:
            skipped["smac"] = f"cannot import smac ({err}); python -m pip install swig smac"
    methods = [m for m in methods if m not in skipped]

    def plan(m: str) -> tuple[dict[int, int], list[int]]:
        """The method's seeds per dimension and its functions."""
        table = QUICK_PLAN if args.quick else {} if args.seeds else PLAN
        pdims, pfids = table.get(m, ({d: 3 if args.quick else 10 for d in dims}, None))
        return ({d: args.seeds or n for d, n in pdims.items() if d in dims},
                fids if args.functions or pfids is None else [f for f in fids if f in pfids])

    jobs: list[Job] = []  # every run of the plan; after the cache, those still to run
    optima: dict[tuple[int, int, int], float] = {}
    if not args.timing_only:
        for m in methods:
            mdims, mfids = plan(m)
            for fid in mfids:
                for dim, seeds in mdims.items():
                    for s in range(seeds):
                        key = (fid, dim, instance_of(s))
                        if key not in optima:
                            optima[key] = optimum(*key)
                        jobs.append((m, fid, dim, s, budgets[-1], optima[key], hebo))
    # Slow methods and dimensions first so the pool's tail is short.
    slow = ("hebo", "smac", "optuna-gp", "gp")
    jobs.sort(key=lambda j: (slow.index(j[0]) if j[0] in slow else len(slow), -j[2]))
    cache_dir = Path(args.cache) if args.cache else None
    cached: list[tuple[Job, list[float], float]] = []
    if cache_dir is not None:
        stored = read_cache(cache_dir)
        hits = {j: stored[cache_key(j)] for j in jobs
                if j[0] not in OURS and cache_key(j) in stored}
        cached = [(j, *hits[j]) for j in jobs if j in hits]
        jobs = [j for j in jobs if j not in hits]
    print(f"BBOB: f{','.join(map(str, fids))}; dims {dims}; budgets {budgets}; "
          f"{args.jobs} processes; seed s runs instance 1 + s % 15")
    for m in methods:
        mdims, mfids = plan(m)
        print(f"  {m:<11} " + ", ".join(f"d{d}: {n} seeds" for d, n in mdims.items())
              + ("" if mfids == fids else f"; only f{','.join(map(str, mfids))}"))
    for m, why in skipped.items():
        print(f"  {m:<11} skipped: {why}")
    if cache_dir is not None:
        print(f"  cache {cache_dir / CACHE_FILE}: {len(cached)} peer runs reused, "
              f"{sum(j[0] not in OURS for j in jobs)} run and stored")
    sys.stdout.flush()
    curves: dict[tuple[str, int, int], dict[int, list[float]]] = {}
    per_trial: dict[str, list[float]] = {}
    timing: list[tuple[str, float]] = []
    failed: list[str] = []
    done = 0
    for (m, fid, dim, seed, *_), regret, spent in cached:
        curves.setdefault((m, fid, dim), {})[seed] = regret
        per_trial.setdefault(m, []).append(spent)
    with Pool(args.jobs) as pool:
        for job, regret, spent, error in pool.imap_unordered(run_one, jobs):
            m, fid, dim, seed, *_ = job
            if error:
                failed.append(f"{m} f{fid} d{dim} seed {seed}: {error}")
                print(f"  failed: {failed[-1]}", flush=True)
                continue
            if cache_dir is not None and m not in OURS:
                write_cache(cache_dir, job, regret, spent)
            curves.setdefault((m, fid, dim), {})[seed] = regret
            per_trial.setdefault(m, []).append(spent)
            done += 1
            if done % max(1, len(jobs) // 10) == 0:
                print(f"  {done}/{len(jobs)} runs, {time.time() - started:.0f} s", flush=True)
        if not args.no_timing:
            timing = pool.map(time_one, [(m, 8, 10, 1000)
                                         for m in ("gp", "tpe", "optuna-gp", "optuna-tpe")])
    summary: dict[str, Any] = {}
    if jobs or cached:
        summary = summarise(curves, methods, fids, dims, budgets)
        report(summary, methods, fids, dims, budgets)
        print("\nMean sampler CPU time per trial during the runs (ms; hebo: wall): "
              + ", ".join(f"{m} {1e3 * statistics.mean(v):.1f}" for m, v in per_trial.items()))
    if timing:
        print("\nSuggestion CPU time with 1,000 finished trials (f8 Rosenbrock, 10-D, median, ms):")
        for method, seconds in timing:
            print(f"  {method:<11} {1e3 * seconds:9.1f}")
    elapsed = time.time() - started
    print(f"\nelapsed {elapsed:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "budgets": budgets, "dims": dims, "functions": fids, "methods": methods,
            "skipped": skipped, "failed": failed, "plan": {m: plan(m) for m in methods},
            "curves": [{"method": m, "function": f, "dim": d, "seed": s,
                        "instance": instance_of(s), "regret": c}
                       for (m, f, d), by_seed in curves.items() for s, c in by_seed.items()],
            "summary": {**summary, "wins": {k: list(v) for k, v in
                                            summary.get("wins", {}).items()}},
            "timing_ms": {m: 1e3 * s for m, s in timing},
            "per_trial_ms": {m: 1e3 * statistics.mean(v) for m, v in per_trial.items()},
            "elapsed_s": elapsed}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
