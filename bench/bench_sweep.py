"""Controller overhead: a sweep of trivial script trials against bare process starts.

For each concurrency, prints the wall time of a sweep of N trivial trials as a ratio against
starting the same N bare ``python script.py`` processes that many at a time, in the same
process (each logging to a journal of its own, as a trial does), and the CPU each costs per
trial (this process and its children: on a machine busy with other work the CPU is steadier
than the wall time). ``--rounds`` alternates bare and sweep runs so that a change in the
machine's load hits both; ``--fresh-supervisors`` adds sweeps whose supervisors start as fresh
interpreters rather than forked from the launcher.

Each sweep runs in a new workspace whose database is created before the clock starts (a one-off
cost, not a sweep's), and one small sweep runs untimed first: the first sweep of a process
imports ~100 modules (~0.15 s of CPU, 1.5 ms a trial of a 100-trial sweep) that a long-lived
process pays once. With ``--rounds`` above 1 each round's ratios are printed too, and the
median of the rounds beside the ratio of the totals: one commit's ratio moved by 0.1 from run
to run at concurrency 2, so a single round says little. The breakdown splits a sweep's extra
wall time per trial into the part inside a trial (its recorded start to end, against a bare
process's lifetime: supervisor, working copy, records) and the part between trials (a slot left
idle: the controller's wake-up, store writes, the next launch).

Run it on an idle machine, and not within two minutes of deleting many files. On an ext4 file
system without a journal (this project's test machines) the kernel does not reuse an inode
freed in the last minute, and scans past each such inode when it allocates one: after 5,000
files were deleted, a new file or folder cost 0.16-0.23 ms of CPU for 60 s, then 0.02 ms from
90 s on (up to 1 ms after larger deletions: a test run, a benchmark cleaning up, ``pip
install``). A trial makes seven more than a bare start, so that alone moved the ratio by up to
0.1. The run starts by timing file creation in its own folder, prints it, and says when it is
slow; ``TMPDIR=/dev/shm`` keeps the runs on a tmpfs, which has no such cost.

Every process of a run (bare starts, trials, supervisors, the launcher) imports compiled
bytecode from a cache of the run (``PYTHONPYCACHEPREFIX``; ``bench/_bytecode.py``), filled by
the untimed warm-up, even where ``PYTHONDONTWRITEBYTECODE`` is set: with that variable set and
a cache prefix inherited, each trial compiled its imports from source (324 ms of CPU a bare
start against 63 ms), which hid any difference between the two sides.

The CPU is split into this process's (the controller; for bare starts, the loop that starts
them) and its children's (trials, supervisors, the launcher). At concurrency 4 on 2 cores the
children's share is the noisy one: each process runs time-sliced with three others, and a bare
start's CPU grew by ~40% from concurrency 2 to 4 on the same machine.

    OMP_NUM_THREADS=1 python bench/bench_sweep.py [--trials 100] [--concurrency 2 4]
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bytecode import use_compiled_bytecode

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)

SCRIPT = """
import argparse
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
Run.get_context().log("score", a.x)
"""


LAST_LIFETIMES: list[float] = []  # each bare process's start to its end seen, last bare()
LAST_SWEEP: list[tuple[float, float]] = []  # each trial's recorded (start, end), last sweep()
LAST_CPU = [(0.0, 0.0)]  # CPU seconds of the last sweep() (this process, its children): timed


def bare(script: Path, n: int, concurrency: int) -> float:
    start = time.perf_counter()
    # pidfd -> (process, start): the floor waits on the kernel for an exit rather than
    # polling, so it spends nothing between processes (a 1 ms poll let a sweep look cheaper
    # than bare at concurrency 4).
    running: dict[int, tuple[subprocess.Popen[bytes], float]] = {}
    LAST_LIFETIMES.clear()

    def reap_one() -> None:
        ready, _, _ = select.select(list(running), [], [])
        for fd in ready:
            process, began = running.pop(fd)
            process.wait()
            LAST_LIFETIMES.append(time.perf_counter() - began)
            os.close(fd)

    for i in range(n):
        while len(running) >= concurrency:
            reap_one()
        # The same process a trial runs: logging to its own journal, as in a sweep (outside
        # one, Run.get_context() is an offline run that prints, and costs a trivial script
        # about a fifth more CPU: no fair baseline).
        folder = Path(tempfile.mkdtemp(dir=script.parent.parent))
        env = dict(os.environ, HYPERSWEEP_TRIAL_ID=f"bare_{i}", PYTHONUNBUFFERED="1",
                   HYPERSWEEP_JOURNAL=str(folder / "metrics.jsonl"),
                   HYPERSWEEP_OUTPUTS=str(folder))
        began = time.perf_counter()
        # In a session of its own, as a trial is (its supervisor leads one): with the kernel's
        # autogroup scheduling each session gets its own share of a busy machine, and bare
        # processes left in this one shared a single share, so under load the floor ran
        # slower than the sweep (wall ratios of 0.5-0.9).
        process = subprocess.Popen(
            [sys.executable, str(script), "--x", str(i / n)],
            cwd=script.parent,
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        running[os.pidfd_open(process.pid)] = (process, began)
    while running:
        reap_one()
    return time.perf_counter() - start


def sweep_config(source: Path, n: int, concurrency: int,
                 resources: dict[str, float] | None = None) -> HyperDriveConfig:
    """A sweep of ``n`` trials of ``source/train.py`` (SCRIPT), ``concurrency`` at a time."""
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=0),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=n,
        max_concurrent_runs=concurrency,
        resources_per_trial=resources,
    )


def sweep(source: Path, workspace: Path, n: int, concurrency: int,
          resources: dict[str, float] | None = None) -> float:
    """Seconds a sweep of ``n`` trials of ``source/train.py`` takes (``resources``: what each
    trial holds, for bench_placement.py)."""
    config = sweep_config(source, n, concurrency, resources)
    ws = Workspace(workspace)
    ws.store  # noqa: B018 - a new workspace's schema is made once, not per sweep: not timed
    cpu = _cpu()
    start = time.perf_counter()
    run = Experiment(ws, "bench").submit(config)
    # The controller's thread ends with the sweep (and reaps the launcher: its CPU is then
    # counted): joined rather than polled, so the bench's own polling costs the sweep nothing.
    for thread in threading.enumerate():
        if thread.name == f"hypersweep-{run.id}":
            thread.join()
    elapsed = time.perf_counter() - start
    LAST_CPU[0] = _since(cpu)
    run.wait_for_completion()
    children = run.get_children()
    assert len(children) == n, f"{len(children)} trials of {n}"
    LAST_SWEEP[:] = [(t.start_time.timestamp(), t.end_time.timestamp())
                     for t in run.experiment.workspace.store.list_trials(run.id)
                     if t.start_time is not None and t.end_time is not None]
    # Not a timing check: that the sweep really placed its trials (else it measures nothing).
    placed = children[0].get_details().get("placement")
    assert bool(placed) == (resources is not None), f"{resources}: placement {placed}"
    return elapsed


def _cpu() -> tuple[float, float]:
    """CPU seconds used so far by this process, and by its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def _since(before: tuple[float, float]) -> tuple[float, float]:
    now = _cpu()
    return now[0] - before[0], now[1] - before[1]


def _total(runs: list[tuple[float, tuple[float, float]]]) -> float:
    """CPU seconds of ``runs`` (wall, (this process's CPU, its children's)), all parts."""
    return sum(own + kids for _, (own, kids) in runs)


def file_creation_ms(folder: Path, count: int = 300) -> float:
    """CPU milliseconds a new folder with one file in it costs in ``folder``, on average."""
    probe = Path(tempfile.mkdtemp(dir=folder))
    start = time.process_time()
    for i in range(count):
        made = probe / str(i)
        made.mkdir()
        os.close(os.open(made / "f", os.O_CREAT | os.O_WRONLY, 0o600))
    return 1000 * (time.process_time() - start) / (2 * count)


def _use_launcher(on: bool) -> None:
    from hypersweep.execution import LocalProcessExecutor

    LocalProcessExecutor.use_launcher = on


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--rounds", type=int, default=1,
                        help="bare and sweep runs, alternated, per concurrency")
    parser.add_argument("--fresh-supervisors", action="store_true",
                        help="also time sweeps without the launcher (a fresh supervisor each)")
    args = parser.parse_args()
    n = args.trials
    kinds = ["sweep"] + (["fresh"] if args.fresh_supervisors else [])
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        script = source / "train.py"
        script.write_text(SCRIPT)
        use_compiled_bytecode(Path(tmp) / "pycache")  # filled by the warm-up below
        creation = file_creation_ms(Path(tmp))
        print(f"file creation: {creation:.3f} ms of CPU a file or folder"
              + (" (slow: files were deleted here recently, see the notes above)"
                 if creation > 0.15 else ""))
        bare(script, 4, 2)  # warm the file cache
        sweep(source, Path(tmp) / "ws-warm-up", 4, 2)  # the first sweep's imports: untimed
        for concurrency in args.concurrency:
            # per run: (wall, (this process's CPU, its children's CPU))
            times: dict[str, list[tuple[float, tuple[float, float]]]] = {
                k: [] for k in ["bare", *kinds]}
            inside: dict[str, list[float]] = {k: [] for k in kinds}
            lifetimes: list[float] = []
            for r in range(args.rounds):
                before = _cpu()
                wall = bare(script, n, concurrency)
                times["bare"].append((wall, _since(before)))
                lifetimes += LAST_LIFETIMES
                for kind in kinds:
                    _use_launcher(kind == "sweep")
                    ws = Path(tmp) / f"ws-{concurrency}-{r}-{kind}"
                    times[kind].append((sweep(source, ws, n, concurrency), LAST_CPU[0]))
                    inside[kind] += [end - start for start, end in LAST_SWEEP]
            _use_launcher(True)
            t_bare = sum(w for w, _ in times["bare"])
            life = statistics.mean(lifetimes)
            print(f"{n} trials at concurrency {concurrency}, {args.rounds} round(s)")
            for kind in ["bare", *kinds]:
                wall = sum(w for w, _ in times[kind])
                runs = len(times[kind])
                own = sum(o for _, (o, _) in times[kind])
                each = 1000 / runs / n  # seconds of all runs -> ms a trial
                label = {"bare": "bare python processes", "sweep": "hypersweep sweep",
                         "fresh": "sweep, fresh supervisors"}[kind]
                print(f"  {label:26}: {wall / runs:7.2f} s ({wall * each:6.1f} ms each, CPU "
                      f"{_total(times[kind]) * each:6.1f} ms each: this process "
                      f"{own * each:4.2f}, children {(_total(times[kind]) - own) * each:6.1f})")
                if kind == "bare":
                    continue
                extra = 1000 * (wall - t_bare) * concurrency / runs / n
                in_trial = 1000 * (statistics.mean(inside[kind]) - life)
                print(f"    ratio to bare: wall {wall / t_bare:5.2f}  CPU "
                      f"{_total(times[kind]) / _total(times['bare']):5.2f}; extra slot time a "
                      f"trial {extra:5.1f} ms = inside {in_trial:5.1f} + between "
                      f"{extra - in_trial:5.1f}")
                if runs > 1:
                    pairs = list(zip(times[kind], times["bare"], strict=True))
                    walls = [w / b for (w, _), (b, _) in pairs]
                    cpus = [_total([ours]) / _total([base]) for ours, base in pairs]
                    print(f"    rounds: wall {' '.join(f'{r:.2f}' for r in walls)} (median "
                          f"{statistics.median(walls):.2f}); CPU "
                          f"{' '.join(f'{r:.2f}' for r in cpus)} (median "
                          f"{statistics.median(cpus):.2f})")


if __name__ == "__main__":
    main()
