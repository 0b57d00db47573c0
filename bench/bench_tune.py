"""``tune`` against Optuna from a fresh process, and a function sweep's cost per trial to 100k.

Every measurement runs in a FRESH Python subprocess, so imports and first-call costs count:
the time is from before ``import hypersweep`` (``import optuna``) to the end of the sweep, as
the subprocess measures it (the interpreter's own start, the same for both, is left out).

Both sides import compiled bytecode, as an installed package does (pip compiles ``.pyc`` files
at install): Optuna's are in site-packages; ours, run from a source tree, are compiled once
before the clock starts into a cache folder of the run (``PYTHONPYCACHEPREFIX``), even where
``PYTHONDONTWRITEBYTECODE`` is set. Without that, every fresh process of ours compiled ~80
modules from source (~0.08 s of CPU) and Optuna none.

1. ``tune`` vs ``optuna.create_study().optimize`` with a trivial objective (one float, one
   choice), one trial at a time, at 100 / 1,000 / 10,000 trials:

   - random sampling on both sides: our ``RandomParameterSampling`` vs Optuna's
     ``RandomSampler`` (the comparison the targets are about);
   - records in memory (ours: the default; Optuna: its in-memory storage) and in a SQLite
     file (ours: ``Workspace(store="sqlite:///...")``; Optuna: ``storage="sqlite:///..."``).

   Ratios > 1 mean hypersweep is faster. Targets: 3x in memory, 10x with SQLite.
   ``ceiling`` is the ratio hypersweep would reach if its run cost no more than importing the
   library it cannot do without, measured in a fresh process of the same run: the floor of a
   first call, whatever hypersweep itself does. With SQLite records that is Python's SQLite
   driver (a sweep's own store calls run on it, without SQLAlchemy: ``store/sqlite.py``); in
   memory there is none (a random ``tune`` imports neither numpy nor scipy), so no ceiling.
   (``bench_functions.py`` measures the same loops in one warm process: throughput once
   everything is imported.)

2. An ask/tell function sweep with SQLite records at 1k / 10k / 100k trials (one run each):
   the time a thousand trials take early and late in the run, each the mean over a tenth of
   the run's thousands (the first thousand, warm-up, left out where there are three or more),
   their ratio (how the per-trial cost grows; target <= 2x), and the subprocess's peak RSS.

Run: ``OMP_NUM_THREADS=1 python bench/bench_tune.py`` (``--sizes 100,1000,10000``,
``--sqlite-sizes 100,1000`` (Optuna's RDB storage takes minutes at 10,000), ``--repeat 1``,
``--scale 1000,10000,100000``; ``--src /other/src`` runs hypersweep from another source tree,
e.g. an export of an earlier commit, for before/after numbers).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bytecode import use_compiled_bytecode

TUNE = """
import time
t0, c0 = time.perf_counter(), time.process_time()
import hypersweep as hs
import logging
logging.disable(logging.WARNING)
def objective(params, run):
    return (params["x"] - 0.3) ** 2 + (0.0 if params["kind"] == "a" else 0.1)
sampling = hs.RandomParameterSampling({"x": hs.uniform(0.0, 1.0), "kind": hs.choice("a", "b")},
                                      seed=1)
workspace = None if URL is None else hs.Workspace(FOLDER, store=URL)
result = hs.tune(objective, sampling, "loss", "minimize", max_total_runs=N,
                 workspace=workspace)
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
assert result.get_status() == "Completed", result.get_status()
print(elapsed, cpu)
"""

OPTUNA = """
import time
t0, c0 = time.perf_counter(), time.process_time()
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
def objective(trial):
    x = trial.suggest_float("x", 0.0, 1.0)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    return (x - 0.3) ** 2 + (0.0 if kind == "a" else 0.1)
study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1), storage=URL,
                            direction="minimize")
study.optimize(objective, n_trials=N)
elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
assert len(study.trials) == N
print(elapsed, cpu)
"""

FLOOR = """
import importlib, time
c0 = time.process_time()
for name in MODULES:
    importlib.import_module(name)
print(0.0, time.process_time() - c0)
"""

#: What a first ``tune`` must import whatever hypersweep itself does, by where records go
#: (in memory: nothing beyond the standard library). With a SQLite file, the driver,
#: ``sqlite3`` (~1 ms: the SQLite library's own); SQLAlchemy, ~0.1 s with its SQLite dialect,
#: is loaded only by the faces' reads and by a database that needs migrating.
FLOOR_MODULES = {"sqlite": ["sqlite3"]}

SCALE = """
import resource, time
import hypersweep as hs
import logging
logging.disable(logging.WARNING)
sampling = hs.RandomParameterSampling({"x": hs.uniform(0.0, 1.0), "kind": hs.choice("a", "b")},
                                      seed=1)
sweep = hs.Sweep(sampling, "loss", "minimize", max_total_runs=N,
                 workspace=hs.Workspace(FOLDER, store=URL))
laps, cpu_laps = [], []
t, c = time.perf_counter(), time.process_time()
done = 0
while (trial := sweep.ask()) is not None:
    p = trial.params
    sweep.tell(trial, (p["x"] - 0.3) ** 2 + (0.0 if p["kind"] == "a" else 0.1))
    done += 1
    if done % 1000 == 0:
        now, cpu = time.perf_counter(), time.process_time()
        laps.append(now - t)
        cpu_laps.append(cpu - c)
        t, c = now, cpu
sweep.finish()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
# A thousand trials' time, averaged over the first and the last tenth of the run: one lap
# against one measured mostly whether a full GC pass fell in it. The first lap (warm-up:
# imports, first statements) is left out where the run is long enough.
k = max(1, len(laps) // 10)
skip = 1 if len(laps) > 2 * k else 0
def mean(values):
    return sum(values) / len(values)
print(json.dumps({"first": mean(laps[skip:skip + k]), "last": mean(laps[-k:]),
                  "total": sum(laps), "peak_mb": peak,
                  "cpu_first": mean(cpu_laps[skip:skip + k]), "cpu_last": mean(cpu_laps[-k:])}))
"""


def _run(code: str, env_path: str | None, **values: object) -> str:
    header = "".join(f"{k} = {v!r}\n" for k, v in values.items())
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if env_path:
        env["PYTHONPATH"] = env_path
    done = subprocess.run([sys.executable, "-c", "import json\n" + header + code],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return done.stdout.strip().splitlines()[-1]


def _best_of_each(repeat: int, *measures: Callable[[], str]) -> list[tuple[float, float]]:
    """The least wall and CPU seconds of ``repeat`` runs of each of ``measures``, run in turn
    (one of each, then again), so that a change in the machine's speed meets every side."""
    runs: list[list[tuple[float, ...]]] = [[] for _ in measures]
    for _ in range(repeat):
        for measure, kept in zip(measures, runs, strict=True):
            kept.append(tuple(map(float, measure().split())))
    return [(min(r[0] for r in kept), min(r[1] for r in kept)) for kept in runs]


def warm_up(folder: Path, env_path: str | None) -> None:
    """Run each kind of sweep once, small, so every module either side imports is compiled
    into the run's bytecode cache before anything is measured (the scale part imports what
    ``tune`` with SQLite records does)."""
    for url in (None, f"sqlite:///{folder / 'warm.db'}"):
        _run(TUNE, env_path, N=2, URL=url, FOLDER=str(folder / "warm"))
        _run(OPTUNA, None, N=2, URL=None if url is None else f"sqlite:///{folder / 'warm_op.db'}")


def compare(sizes: list[int], sqlite_sizes: list[int], repeat: int, folder: Path,
            env_path: str | None) -> None:
    print("tune vs Optuna, fresh process each (import + first call included), random "
          f"sampling both sides (Optuna RandomSampler), best of {repeat} runs "
          "each, the two sides in turn")
    print("wall: seconds as the clock runs; cpu: seconds of CPU the process used (on a shared "
          "machine the\nwall time also measures the other load, the CPU time what the run "
          "costs)")
    print("ceiling: Optuna's CPU over the CPU of a fresh process importing only what a tune "
          "with those records cannot do without, timed in turn with the two sides: "
          + "; ".join(f"{records}: {' + '.join(modules)}"
                      for records, modules in FLOOR_MODULES.items()))
    print(f"{'records':<8} {'trials':>7} {'ours wall':>10} {'optuna wall':>12} {'ratio':>7} "
          f"{'ours cpu':>9} {'optuna cpu':>11} {'ratio':>7} {'ceiling':>8} {'target':>7}  ok")
    cells = [("memory", n, 3.0) for n in sizes] + [("sqlite", n, 10.0) for n in sqlite_sizes]
    counter = itertools.count()  # a fresh file for every run
    for records, n, target in cells:

        def ours(records: str = records, n: int = n) -> str:
            i = next(counter)
            url = None if records == "memory" else f"sqlite:///{folder / f'hs{n}_{i}.db'}"
            return _run(TUNE, env_path, N=n, URL=url, FOLDER=str(folder / f"ws{n}_{i}"))

        def theirs(records: str = records, n: int = n) -> str:
            i = next(counter)
            url = None if records == "memory" else f"sqlite:///{folder / f'op{n}_{i}.db'}"
            return _run(OPTUNA, None, N=n, URL=url)

        modules = FLOOR_MODULES.get(records)
        floor = [] if modules is None else [lambda m=modules: _run(FLOOR, None, MODULES=m)]
        (hs_s, hs_cpu), (op_s, op_cpu), *floor_best = _best_of_each(repeat, ours, theirs,
                                                                     *floor)
        ratio, cpu_ratio = op_s / hs_s, op_cpu / hs_cpu
        ceiling = f"{op_cpu / floor_best[0][1]:>7.1f}x" if floor_best else f"{'-':>8}"
        print(f"{records:<8} {n:>7,} {hs_s:>10.3f} {op_s:>12.3f} {ratio:>6.2f}x "
              f"{hs_cpu:>9.3f} {op_cpu:>11.3f} {cpu_ratio:>6.2f}x "
              f"{ceiling} {target:>6.0f}x  "
              f"{'yes' if min(ratio, cpu_ratio) >= target else 'NO'}", flush=True)


def scale(sizes: list[int], folder: Path, env_path: str | None) -> None:
    print("\nask/tell function sweep, SQLite records, one run each")
    print(f"{'trials':>8} {'total s':>8} {'early 1k s':>11} {'late 1k s':>10} {'late/early':>11} "
          f"{'cpu early 1k':>13} {'cpu late 1k':>12} {'late/early':>11} {'peak RSS MB':>12}")
    for n in sizes:
        row = json.loads(_run(SCALE, env_path, N=n, URL=f"sqlite:///{folder / f'scale{n}.db'}",
                              FOLDER=str(folder / f"scale{n}")))
        print(f"{n:>8,} {row['total']:>8.2f} {row['first']:>11.3f} {row['last']:>10.3f} "
              f"{row['last'] / row['first']:>10.2f}x {row['cpu_first']:>13.3f} "
              f"{row['cpu_last']:>12.3f} {row['cpu_last'] / row['cpu_first']:>10.2f}x "
              f"{row['peak_mb']:>12.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000",
                        help="trial counts of the in-memory comparison ('': none)")
    parser.add_argument("--sqlite-sizes", default="100,1000",
                        help="trial counts of the comparison with SQLite records ('': none)")
    parser.add_argument("--scale", default="1000,10000,100000",
                        help="trial counts of the ask/tell sweeps of part 2 ('': none)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--src", default=None, help="run hypersweep from this source tree")
    args = parser.parse_args()

    def sizes(option: str) -> list[int]:
        text = getattr(args, option.replace("-", "_"))
        parts = [s.strip() for s in text.split(",") if s.strip()]
        if not all(s.isdigit() and int(s) > 0 for s in parts):
            parser.error(f"--{option}: trial counts, comma-separated, each at least 1 (got "
                         f"{text!r}; '' runs none)")
        return [int(s) for s in parts]

    memory, sqlite_, scaled = sizes("sizes"), sizes("sqlite-sizes"), sizes("scale")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        use_compiled_bytecode(folder / "pycache")
        warm_up(folder, args.src)
        compare(memory, sqlite_, args.repeat, folder, args.src)
        if scaled:
            scale(scaled, folder, args.src)


if __name__ == "__main__":
    main()
