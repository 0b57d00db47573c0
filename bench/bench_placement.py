"""What placing a trial on GPUs and cores adds to its launch, as ratios and milliseconds.

Every number is set against a baseline measured in the same run on the same machine (GPUs are
faked with ``HYPERSWEEP_GPUS=0,1,2,3``, which this file sets):

1. A whole script sweep (``--trials`` trivial trials at concurrency 2) with no
   ``resources_per_trial``, against the same sweep with ``{"gpu": 0.5}`` (two trials share a
   fake device; each gets ``CUDA_VISIBLE_DEVICES``) and with ``{"cpu": 1}`` (each trial is
   pinned to its own core through the supervisor's ``--cpus``). The three run in turn,
   ``--rounds`` times, the order rotated every round; each placed sweep is compared with the
   unplaced one of its own round. Printed: the median ratio of sweep times and the median
   difference per trial in ms, with the spread (lowest to highest) over the rounds. The
   machine's noise is several per cent of a sweep, i.e. a few ms per trial, so this part
   bounds placement's cost from above; parts 2 and 3 resolve it.
2. The bookkeeping alone, in this process: ``Placement.place`` + ``Slot.environment`` +
   ``release`` per trial, and the whole chain the engine and controller run per trial
   (``room``, ``place``, ``to_dict`` into the record, ``Slot.from_dict``, ``environment``,
   ``release``), in microseconds, against a bare ``subprocess.Popen`` of ``true``.
3. The supervisor's start with ``--cpus 0`` (it pins itself with ``sched_setaffinity``
   before it spawns the command) against the same start without it, and both against the
   bare ``true`` they run: ``python -I -S _supervise.py [--cpus 0] <dir> -- true``, the three
   interleaved, median of ``--starts`` each.

The claim it checks: placement adds under 1 ms to a trial's launch (the verdict is printed;
nothing asserts on wall time). About 2 minutes on 2 cores with the defaults.

Run: ``python bench/bench_placement.py`` (``--trials 40 --rounds 7 --starts 200``).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Before hypersweep is imported: GPU discovery reads it when a sweep asks for GPUs.
os.environ["HYPERSWEEP_GPUS"] = "0,1,2,3"

from bench_sweep import sweep  # the same sweep, with resources_per_trial

from hypersweep.execution import placement as placement_mod
from hypersweep.execution.placement import Placement, Slot

SUPERVISOR = Path(placement_mod.__file__).resolve().with_name("_supervise.py")
TRUE = "/bin/true" if os.path.exists("/bin/true") else "true"

SCRIPT = """
import argparse
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
Run.get_context().log("score", a.x)
"""

#: The sweeps part 1 compares: a label and the ``resources_per_trial`` it passes.
VARIANTS: list[tuple[str, dict[str, float] | None]] = [
    ("none", None),
    ("gpu 0.5", {"gpu": 0.5}),
    ("cpu 1", {"cpu": 1}),
]


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# ---------------------------------------------------------------------- 1. whole sweeps
def bench_sweeps(folder: Path, trials: int, rounds: int, concurrency: int) -> None:
    source = folder / "src"
    source.mkdir()
    (source / "train.py").write_text(SCRIPT)
    sweep(source, folder / "warm", 4, concurrency, None)  # warm imports and the file cache
    times: dict[str, list[float]] = {label: [] for label, _ in VARIANTS}
    for r in range(rounds):
        order = VARIANTS[r % len(VARIANTS):] + VARIANTS[:r % len(VARIANTS)]
        for label, resources in order:
            ws = folder / f"ws-{r}-{label.replace(' ', '')}"
            times[label].append(sweep(source, ws, trials, concurrency, resources))
        print(f"  round {r + 1}/{rounds}: " + "  ".join(
            f"{label} {times[label][-1]:5.2f} s" for label, _ in VARIANTS), flush=True)
    base = times["none"]
    print(f"{trials} trials at concurrency {concurrency}, {rounds} rounds, order rotated")
    print(f"  {'no resources_per_trial':<26} median {statistics.median(base):6.2f} s "
          f"({1e3 * statistics.median(base) / trials:5.1f} ms a trial)  spread "
          f"{min(base):.2f}-{max(base):.2f} s")
    print(f"  {'':<26} (this part resolves no better than the unplaced sweeps' own spread: "
          f"{1e3 * (max(base) - min(base)) / trials:.1f} ms a trial)")
    for label, resources in VARIANTS[1:]:
        ratios = [t / b for t, b in zip(times[label], base, strict=True)]
        per_trial = [1e3 * (t - b) / trials for t, b in zip(times[label], base, strict=True)]
        print(f"  {resources!s:<26} ratio to none: median {statistics.median(ratios):5.3f}"
              f" (spread {min(ratios):.3f}-{max(ratios):.3f});  per trial: median "
              f"{statistics.median(per_trial):+6.2f} ms (spread {min(per_trial):+.2f} to "
              f"{max(per_trial):+.2f});  least disturbed (ratio of minimums) "
              f"{min(times[label]) / min(base):5.3f}")


# ---------------------------------------------------------------------- 2. bookkeeping
def _per_call(run: Callable[[int], None], n: int, repeat: int = 5) -> float:
    """Seconds per trial: best of ``repeat`` runs of ``n`` trials (best: least disturbed)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(n)
        best = min(best, (time.perf_counter() - start) / n)
    return best


def bench_bookkeeping() -> float:
    ids = [f"HD_bench_{i}" for i in range(20_000)]

    def narrow(gpu: float, cpu: int | None) -> Callable[[int], None]:
        def run(n: int) -> None:
            placement = Placement(gpus=[0, 1, 2, 3], cores=[0, 1])
            for trial in ids[:n]:
                slot = placement.place(trial, gpu, cpu)
                assert slot is not None
                slot.environment()
                placement.release(trial)
        return run

    def chain(gpu: float, cpu: int | None) -> Callable[[int], None]:
        # What the engine (room, place, to_dict into the record, release) and the controller's
        # _spec (from_dict, environment) do for each trial.
        def run(n: int) -> None:
            placement = Placement(gpus=[0, 1, 2, 3], cores=[0, 1])
            for trial in ids[:n]:
                placement.room(gpu, cpu)
                slot = placement.place(trial, gpu, cpu)
                assert slot is not None
                stored: dict[str, Any] = slot.to_dict()
                Slot.from_dict(stored).environment()
                placement.release(trial)
        return run

    popen = statistics.median(_seconds(lambda: subprocess.Popen([TRUE]).wait())
                              for _ in range(50))
    rows = [(f"place + environment + release, {label}", narrow(*ask))
            for label, ask in (("gpu 0.5", (0.5, None)), ("cpu 1", (0.0, 1)))]
    rows += [(f"the engine's and controller's whole chain, {label}", chain(*ask))
             for label, ask in (("gpu 0.5", (0.5, None)), ("cpu 1", (0.0, 1)),
                                ("gpu 1 + cpu 1", (1.0, 1)))]
    print(f"bookkeeping per trial, in this process (best of 5 x {len(ids)}), against a bare "
          f"Popen of true ({1e3 * popen:.2f} ms, median of 50)")
    worst = 0.0
    for label, run in rows:
        seconds = _per_call(run, len(ids))
        worst = max(worst, seconds)
        print(f"  {label:<56} {1e6 * seconds:7.2f} us   ratio to Popen {seconds / popen:8.5f}")
    return worst


# ---------------------------------------------------------------------- 3. supervisor start
def bench_supervisor(folder: Path, starts: int) -> float:
    trial_dir = folder / "trial"
    trial_dir.mkdir()
    base = [sys.executable, "-I", "-S", str(SUPERVISOR)]
    commands: dict[str, Sequence[str]] = {
        "bare true": [TRUE],
        "supervisor -- true": [*base, str(trial_dir), "--", TRUE],
        "supervisor --cpus 0 -- true": [*base, "--cpus", "0", str(trial_dir), "--", TRUE],
    }
    for argv in commands.values():  # warm the file cache; and each one must work
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    times: dict[str, list[float]] = {label: [] for label in commands}
    for i in range(starts):
        labels = list(commands)
        if i % 2:
            labels.reverse()
        for label in labels:
            times[label].append(_seconds(functools.partial(
                subprocess.run, commands[label], check=True, stdout=subprocess.DEVNULL)))
    median = {label: statistics.median(t) for label, t in times.items()}

    def quartiles(values: list[float]) -> str:
        q = statistics.quantiles(values, n=4)
        return f"{1e3 * q[0]:.2f}-{1e3 * q[2]:.2f}"

    print(f"start to exit, interleaved, median of {starts} each (interquartile range)")
    for label, values in times.items():
        print(f"  {label:<30} {1e3 * median[label]:7.2f} ms  ({quartiles(values)} ms)  ratio "
              f"to bare true {median[label] / median['bare true']:6.2f}")
    pinned, unpinned = times["supervisor --cpus 0 -- true"], times["supervisor -- true"]
    # Each pinned start ran next to an unpinned one: their difference cancels the machine's
    # slower swings in load, which the two medians alone do not.
    paired = [a - b for a, b in zip(pinned, unpinned, strict=True)]
    print(f"  --cpus 0 against none: ratio of medians "
          f"{statistics.median(pinned) / statistics.median(unpinned):5.3f}; difference of "
          f"medians {1e3 * (statistics.median(pinned) - statistics.median(unpinned)):+.3f} ms, "
          f"of minimums {1e3 * (min(pinned) - min(unpinned)):+.3f} ms; median paired "
          f"difference {1e3 * statistics.median(paired):+.3f} ms ({quartiles(paired)} ms)")
    syscall = _affinity_cost()
    print(f"  the pinning itself, os.sched_setaffinity in this process: {1e6 * syscall:.2f} us")
    return statistics.median(paired)


def _affinity_cost(n: int = 2000) -> float:
    """Seconds one ``os.sched_setaffinity`` takes (what ``--cpus`` adds to the supervisor's
    own work), measured as pin-and-restore pairs and halved; this process ends as it began."""
    allowed = os.sched_getaffinity(0)
    one = {min(allowed)}
    start = time.perf_counter()
    for _ in range(n):
        os.sched_setaffinity(0, one)
        os.sched_setaffinity(0, allowed)
    return (time.perf_counter() - start) / (2 * n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--starts", type=int, default=200, help="supervisor starts of each kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("load average (1, 5, 15 min) at the start: "
              + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        print("1. whole script sweeps")
        bench_sweeps(folder, args.trials, args.rounds, args.concurrency)
        print("\n2. placement bookkeeping")
        bookkeeping = bench_bookkeeping()
        print("\n3. supervisor start, pinned or not")
        pinning = bench_supervisor(folder, args.starts)
    total = bookkeeping + max(pinning, 0.0)
    print(f"\nplacement's own cost per launch: {1e3 * bookkeeping:.3f} ms bookkeeping (worst "
          f"case above) + {1e3 * max(pinning, 0.0):.3f} ms pinning (median paired difference) "
          f"= {1e3 * total:.3f} ms: {'under' if total < 1e-3 else 'NOT under'} 1 ms")
    print("load average (1, 5, 15 min) at the end: "
          + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
