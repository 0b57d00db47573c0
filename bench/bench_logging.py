"""Benchmark the child side of logging and the cost of launching trials through the executor.

Prints:

1. ``run.log`` calls per second inside a real trial launched by ``LocalProcessExecutor``
   (N=200k), next to a bare ``os.write`` of the same lines in the same process, and how fast
   the controller side ingests them through ``poll()``.
2. The executor's overhead per trial: 50 trivial trials through ``LocalProcessExecutor``
   (sequentially, then 2 at a time) against 50 bare ``subprocess.run([python, script])``, and
   for comparison the ``/bin/sh`` wrapper alternative and a bare supervisor start.
3. ``prepare_workdir`` on a source tree of a few hundred files.

Run: ``python bench/bench_logging.py [--n 200000] [--trials 50]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hypersweep.execution import (  # noqa: E402
    LocalProcessExecutor,
    TrialSpec,
    prepare_workdir,
    snapshot_source,
)
from hypersweep.execution.local import SUPERVISOR  # noqa: E402

CHILD = r"""
import json, os, sys, time
from hypersweep.tracking import get_context
n = int(sys.argv[1])
run = get_context()
assert type(run).__name__ == "TrialRun"
t0 = time.perf_counter()
for i in range(n):
    run.log("loss", 1.0 / (i + 1))
t_log = time.perf_counter() - t0

# The same lines, pre-encoded, written one os.write each: the floor for one syscall per record.
lines = [
    (json.dumps({"t": time.time(), "k": "metric", "n": "loss", "v": 1.0 / (i + 1), "s": i},
                separators=(",", ":")) + "\n").encode()
    for i in range(n)
]
fd = os.open("bare.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
t0 = time.perf_counter()
for line in lines:
    os.write(fd, line)
t_bare = time.perf_counter() - t0
os.close(fd)
os.unlink("bare.jsonl")
print(json.dumps({"log_s": t_log, "bare_s": t_bare, "n": n}))
"""


def _env() -> dict[str, str]:
    return {"PYTHONPATH": str(ROOT / "src")}


def _wait(ex: LocalProcessExecutor, n_exits: int) -> tuple[int, list[object]]:
    records = 0
    exits: list[object] = []
    while len(exits) < n_exits:
        recs, ends = ex.poll()
        records += sum(len(v) for v in recs.values())
        exits += ends
        if not ends:
            time.sleep(0.001)
    return records, exits


def bench_logging(tmp: Path, n: int) -> None:
    work = tmp / "log_work"
    (work / "outputs").mkdir(parents=True)
    (work / "child.py").write_text(CHILD)
    ex = LocalProcessExecutor()
    spec = TrialSpec("bench_log", [sys.executable, "child.py", str(n)], _env(), work, tmp / "log")
    ex.launch(spec)
    # Ingest while it runs, as a controller would, timing only the poll() calls.
    ingested, t_poll, done = 0, 0.0, False
    while not done:
        t0 = time.perf_counter()
        recs, exits = ex.poll()
        t_poll += time.perf_counter() - t0
        ingested += sum(len(v) for v in recs.values())
        done = bool(exits)
        if not done:
            time.sleep(0.05)
    assert exits[0].exit_code == 0, exits[0].stderr_tail
    res = json.loads((tmp / "log" / "stdout.log").read_text())
    size = (tmp / "log" / "metrics.jsonl").stat().st_size
    print(f"== logging, N={n} inside a trial process")
    print(
        f"run.log():          {n / res['log_s']:>12,.0f} calls/s  "
        f"({res['log_s'] / n * 1e6:.2f} µs/call)"
    )
    print(
        f"bare os.write:      {n / res['bare_s']:>12,.0f} lines/s  "
        f"({res['bare_s'] / n * 1e6:.2f} µs/line)"
    )
    print(f"ratio log/bare:     {res['log_s'] / res['bare_s']:>12.2f} x")
    print(
        f"controller poll():  {ingested / t_poll:>12,.0f} records/s ingested "
        f"({ingested} records, {size / 1e6:.1f} MB journal)"
    )


def bench_launch(tmp: Path, k: int) -> None:
    work = tmp / "launch_work"
    (work / "outputs").mkdir(parents=True)
    script = work / "trivial.py"
    script.write_text("pass\n")
    py = sys.executable
    ex = LocalProcessExecutor()
    counter = iter(range(10**9))

    def executor_batch(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            ex.launch(TrialSpec(f"t{i}", [py, "trivial.py"], {}, work, tmp / "trials" / f"t{i}"))
        _, exits = _wait(ex, n)
        assert all(e.exit_code == 0 for e in exits)  # type: ignore[attr-defined]

    def bare_batch(n: int) -> None:
        procs = [subprocess.Popen([py, str(script)], cwd=work) for _ in range(n)]
        for p in procs:
            p.wait()

    # /bin/sh -c '..."$@"...' sh argv...: argv stays data (positional parameters), but signal
    # exits collapse into 128+N and there is no end time without another process.
    sh_wrapper = '"$@"; rc=$?; echo "$rc" > "$EXIT.tmp" && mv "$EXIT.tmp" "$EXIT"; exit $rc'
    sh_env = {**os.environ, "EXIT": str(tmp / "sh_exit")}

    def sh_batch(n: int) -> None:
        argv = ["/bin/sh", "-c", sh_wrapper, "sh", py, str(script)]
        procs = [subprocess.Popen(argv, cwd=work, env=sh_env) for _ in range(n)]
        for p in procs:
            p.wait()

    def supervisor_only(n: int) -> None:
        for _ in range(n):
            subprocess.run([py, "-I", "-S", SUPERVISOR, str(tmp), "--", "/bin/true"], check=True)

    variants = {
        "bare subprocess.run": lambda: bare_batch(1),
        "LocalProcessExecutor": lambda: executor_batch(1),
        "/bin/sh wrapper": lambda: sh_batch(1),
        "bare, 2 at a time": lambda: bare_batch(2),
        "LocalProcessExecutor, 2 at a time": lambda: executor_batch(2),
        "supervisor alone (/bin/true)": lambda: supervisor_only(1),
    }
    per_call = {"bare, 2 at a time": 2, "LocalProcessExecutor, 2 at a time": 2}
    bare_batch(3)  # warm the page cache
    # Interleaved, so load from other processes on the machine hits every variant alike.
    totals = dict.fromkeys(variants, 0.0)
    for _ in range(k):
        for name, fn in variants.items():
            if per_call.get(name, 1) == 2 and _ % 2:
                continue  # k trials in k/2 pairs
            t0 = time.perf_counter()
            fn()
            totals[name] += time.perf_counter() - t0

    base = {1: totals["bare subprocess.run"], 2: totals["bare, 2 at a time"]}
    print(f"\n== launching {k} trivial trials (a python script that does 'pass'), interleaved")
    for name, total in totals.items():
        pairs = per_call.get(name, 1)
        ratio = total / base[pairs]
        print(
            f"{name:36s} {total / k * 1000:7.1f} ms/trial  total {total:6.2f} s"
            f"  ratio vs bare {ratio:.2f}"
        )


def bench_workdir(tmp: Path, n_files: int = 300) -> None:
    src = tmp / "src"
    for i in range(n_files):
        d = src / f"pkg{i % 15}" / f"sub{i % 4}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"mod{i}.py").write_text("x = 1\n" * 200)
    t0 = time.perf_counter()
    snap = snapshot_source(src, tmp / "snap")
    t_snap = time.perf_counter() - t0
    reps = 10
    t0 = time.perf_counter()
    for r in range(reps):
        prepare_workdir(snap, tmp / "wd" / f"w{r}")
    t_link = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for r in range(reps):
        prepare_workdir(snap, tmp / "wdc" / f"w{r}", link=False)
    t_copy = (time.perf_counter() - t0) / reps
    print(f"\n== working copies of a {n_files}-file tree")
    print(f"snapshot_source (copy):        {t_snap * 1000:7.1f} ms")
    print(f"prepare_workdir (hard links):  {t_link * 1000:7.1f} ms/trial")
    print(f"prepare_workdir (link=False):  {t_copy * 1000:7.1f} ms/trial")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hs-bench-"))
    try:
        bench_logging(tmp, args.n)
        bench_launch(tmp, args.trials)
        bench_workdir(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
