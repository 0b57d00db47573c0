"""A long script sweep: does the controller's cost per trial stay flat, and its memory?

One sweep of N trivial script trials (the same ``train.py`` as bench_sweep.py: parse one
argument, log one value) in a new SQLite workspace, at a fixed concurrency. A monitor thread
reads the store's count of ended trials every ``--every`` seconds and notes, each time, this
process's CPU time (the controller is a thread of it; trials and their supervisors are other
processes, so their CPU is not in it) and its resident memory. Printed per thousand trials:
wall seconds and controller CPU seconds, and the ratio of the last thousand to the first
(target: at most 2x), with the RSS at the first and at the last thousand (target: flat, not
growing with the trials).

The monitor's own reads (one aggregate query every few seconds) are in the CPU it measures;
``--every`` keeps them rare.

``--trace`` also follows the Python heap with tracemalloc (slower: not for the timings): a
snapshot when a quarter of the trials have ended and another at nine tenths, and what grew
between them, per ended trial, by the line that allocated it (what a long sweep keeps).

    OMP_NUM_THREADS=1 python bench/bench_script_scale.py [--trials 20000] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sweep import SCRIPT, sweep_config

from hypersweep import (
    Experiment,
    Workspace,
)
from hypersweep.store import Status


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


Snapshots = list[tuple[int, tracemalloc.Snapshot]]


def run(trials: int, concurrency: int, every: float, folder: Path,
        snapshots: Snapshots | None = None) -> list[tuple[int, float, float, float]]:
    """Samples ``(ended trials, wall s, controller CPU s, RSS MB)`` over one sweep; with
    ``snapshots``, tracemalloc's at a quarter and nine tenths of the trials go there."""
    source = folder / "src"
    source.mkdir()
    (source / "train.py").write_text(SCRIPT)
    workspace = Workspace(folder / "ws")
    store = workspace.store  # the schema is made before the clock starts
    config = sweep_config(source, trials, concurrency)
    samples = [(0, 0.0, 0.0, _rss_mb())]
    start, cpu0 = time.perf_counter(), _own_cpu()
    sweep = Experiment(workspace, "scale").submit(config)
    done = threading.Event()

    def monitor() -> None:
        while not done.wait(every):
            counts = store.trial_counts(sweep.id, "score", True)
            ended = sum(n for status, n in counts.statuses.items()
                        if Status(status).is_terminal)
            samples.append((ended, time.perf_counter() - start, _own_cpu() - cpu0, _rss_mb()))
            marks = (trials // 4, 9 * trials // 10)
            if snapshots is not None and len(snapshots) < 2 \
                    and ended >= marks[len(snapshots)]:
                snapshots.append((ended, tracemalloc.take_snapshot()))

    watcher = threading.Thread(target=monitor, daemon=True)
    watcher.start()
    sweep.wait_for_completion()
    done.set()
    watcher.join()
    samples.append((trials, time.perf_counter() - start, _own_cpu() - cpu0, _rss_mb()))
    return samples


def at(samples: list[tuple[int, float, float, float]], n: int) -> tuple[float, float, float]:
    """Wall, CPU and RSS when ``n`` trials had ended, interpolated between samples."""
    for (n0, w0, c0, r0), (n1, w1, c1, r1) in itertools.pairwise(samples):
        if n0 <= n <= n1 and n1 > n0:
            f = (n - n0) / (n1 - n0)
            return w0 + f * (w1 - w0), c0 + f * (c1 - c0), r0 + f * (r1 - r0)
    last = samples[-1]
    return last[1], last[2], last[3]


def _where(frame: tracemalloc.Frame) -> str:
    return f"{'/'.join(Path(frame.filename).parts[-3:])}:{frame.lineno}"


def _print_growth(snapshots: Snapshots) -> None:
    """What the heap gained between the two snapshots, per trial ended between them."""
    if len(snapshots) < 2:
        print("tracemalloc: the sweep ended before both snapshots were taken")
        return
    (n0, first), (n1, last) = snapshots
    ended = max(1, n1 - n0)
    stats = last.compare_to(first, "traceback")
    total = sum(s.size_diff for s in stats)
    print(f"tracemalloc, ended trials {n0} -> {n1}: heap {total / 1024:+.0f} KiB, "
          f"{total / ended:+.0f} B a trial; what grew most (the line that allocated it, and "
          f"the innermost line of hypersweep that led there):")
    for stat in sorted(stats, key=lambda s: s.size_diff, reverse=True)[:12]:
        frames = list(reversed(stat.traceback))  # innermost first
        ours = next((f for f in frames if "/hypersweep/" in f.filename), frames[0])
        print(f"  {stat.size_diff / ended:+8.0f} B/trial  {stat.count_diff / ended:+6.2f} "
              f"blocks/trial  {_where(frames[0])}  <- {_where(ours)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--every", type=float, default=2.0, help="seconds between samples")
    parser.add_argument("--trace", action="store_true",
                        help="report what the Python heap kept per ended trial (tracemalloc)")
    args = parser.parse_args()
    step = 1000 if args.trials >= 2000 else max(1, args.trials // 4)
    snapshots: Snapshots | None = None
    if args.trace:
        tracemalloc.start(8)
        snapshots = []
    with tempfile.TemporaryDirectory() as tmp:
        samples = run(args.trials, args.concurrency, args.every, Path(tmp), snapshots)
    if snapshots is not None:
        tracemalloc.stop()
        _print_growth(snapshots)
    print(f"{args.trials} trivial script trials at concurrency {args.concurrency}, "
          f"SQLite records")
    print(f"  {'trials':>13}  {'wall s':>7}  {'ctl CPU s':>9}  {'RSS MB':>7}")
    rows = []
    for first in range(0, args.trials, step):
        w0, c0, _ = at(samples, first)
        w1, c1, r1 = at(samples, min(first + step, args.trials))
        rows.append((w1 - w0, c1 - c0, r1))
        print(f"  {first:>6}-{min(first + step, args.trials):<6}  {w1 - w0:7.2f}  "
              f"{c1 - c0:9.2f}  {r1:7.1f}")
    (w_first, c_first, r_first), (w_last, c_last, r_last) = rows[0], rows[-1]
    print(f"  last / first {step}: wall {w_last / w_first:.2f}x, controller CPU "
          f"{c_last / c_first:.2f}x (target <= 2x); RSS {r_first:.0f} -> {r_last:.0f} MB")
    total_w, total_c = samples[-1][1], samples[-1][2]
    print(f"  whole sweep: {total_w:.1f} s wall, controller CPU "
          f"{1000 * total_c / args.trials:.2f} ms a trial")


if __name__ == "__main__":
    main()
