"""Benchmark the calls that must never wait: their latency, as ratios against baselines.

The tests check that these calls do not wait (by the order of events); this measures how long
they take, each against a baseline measured in the same run on the same machine:

1. ``LocalProcessExecutor.launch()`` against a bare ``subprocess.Popen`` of the same command.
2. ``poll()`` with 8 running trials (median and worst of 200) against ``poll()`` with one.
3. ``stop()`` (SIGTERM, escalation left to a background thread) against a bare ``os.killpg``.
4. ``shutdown(stop_trials=True)`` of 4 trials against the grace it is given (they obey
   SIGTERM, so the ratio shows the stops run together, not one grace after another).
5. SQLite store reads while another client holds a write transaction, against the same reads
   without it; and a write that meets the lock, against how long the lock is held.

Run: ``python bench/bench_latency.py``
"""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hypersweep.execution import LocalProcessExecutor, TrialSpec  # noqa: E402
from hypersweep.store import (  # noqa: E402
    MetricPoint,
    Status,
    Store,
    SweepRecord,
    TrialRecord,
    new_sweep_id,
)

SLEEPER = "import time\ntime.sleep(60)\n"


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _spec(folder: Path, number: int) -> TrialSpec:
    workdir = folder / f"work{number}"
    (workdir / "outputs").mkdir(parents=True)
    (workdir / "train.py").write_text(SLEEPER)
    return TrialSpec(
        trial_id=f"HD_bench_{number}",
        argv=[sys.executable, "train.py"],
        env={"PYTHONPATH": str(ROOT / "src"), "HYPERSWEEP_SWEEP_ID": "HD_bench"},
        workdir=workdir,
        trial_dir=folder / f"trial{number}",
    )


def _row(label: str, measured: float, baseline: float, baseline_label: str) -> None:
    print(
        f"{label:<44} {measured * 1e3:9.2f} ms  {baseline_label:<28} {baseline * 1e3:9.2f} ms"
        f"  ratio {measured / baseline:8.2f}x"
    )


def bench_executor(folder: Path) -> None:
    bare: list[subprocess.Popen[bytes]] = []
    popen = []
    for _ in range(8):
        popen.append(
            _seconds(lambda: bare.append(subprocess.Popen([sys.executable, "-c", SLEEPER])))
        )
    for process in bare:
        process.kill()
        process.wait()

    one = LocalProcessExecutor(default_grace=1.0)
    one.launch(_spec(folder, 99))
    time.sleep(1.0)  # the trial is up and sleeping
    one_polls = sorted(_seconds(one.poll) for _ in range(200))
    one.shutdown(stop_trials=True)

    executor = LocalProcessExecutor(default_grace=1.0)
    specs = [_spec(folder, number) for number in range(8)]
    launches = [_seconds(functools.partial(executor.launch, spec)) for spec in specs]
    time.sleep(1.0)  # the trials are up and sleeping
    polls = sorted(_seconds(executor.poll) for _ in range(200))
    _row("launch(), median of 8", statistics.median(launches), statistics.median(popen),
         "subprocess.Popen, median")
    _row("poll(), 8 running trials, median of 200", statistics.median(polls),
         statistics.median(one_polls), "poll(), 1 running trial")
    _row("poll(), 8 running trials, worst of 200", polls[-1], one_polls[-1],
         "poll(), 1 running trial")

    victim = subprocess.Popen([sys.executable, "-c", SLEEPER], start_new_session=True)
    killpg = _seconds(lambda: os.killpg(victim.pid, signal.SIGTERM))
    victim.wait()
    stop = _seconds(lambda: executor.stop(specs[0].trial_id, grace=5.0))
    _row("stop(grace=5)", stop, killpg, "os.killpg")
    executor.shutdown(stop_trials=True)

    grace = 2.0
    four = LocalProcessExecutor(default_grace=grace)
    for number in range(8, 12):
        four.launch(_spec(folder, number))
    time.sleep(1.0)
    _row("shutdown(stop_trials=True), 4 trials", _seconds(lambda: four.shutdown(stop_trials=True)),
         grace, "the grace (2 s)")


def bench_store(folder: Path) -> None:
    path = folder / "store.db"
    url = f"sqlite:///{path}"
    with Store(url) as store:
        sweep = SweepRecord(id=new_sweep_id(), experiment="bench", status=Status.QUEUED,
                            config={}, created_time=_now())
        store.create_sweep(sweep)
        trial = TrialRecord(id=f"{sweep.id}_0", sweep_id=sweep.id, index=0, params={},
                            status=Status.QUEUED, created_time=_now())
        store.create_trial(trial)
        store.add_metrics(trial.id, [MetricPoint(s, 0, "acc", s, float(s), None, "scalar",
                                                 _now()) for s in range(100)])

        def reads() -> None:
            store.get_sweep(sweep.id)
            store.metric_series(sweep.id, "acc")

        free = statistics.median(_seconds(reads) for _ in range(50))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE sweeps SET status = 'Failed' WHERE id = ?", (sweep.id,))
        locked = statistics.median(_seconds(reads) for _ in range(50))
        other.execute("ROLLBACK")
        _row("reads during another's write transaction", locked, free, "the same reads, no writer")

        held = 0.5
        locked_now = threading.Event()

        def hold() -> None:
            holder_connection = sqlite3.connect(path, isolation_level=None)
            holder_connection.execute("BEGIN IMMEDIATE")
            locked_now.set()
            time.sleep(held)
            holder_connection.execute("COMMIT")
            holder_connection.close()

        other.close()
        holder = threading.Thread(target=hold)
        holder.start()
        locked_now.wait()
        wait = _seconds(lambda: store.update_sweep(sweep.id, status=Status.RUNNING))
        holder.join()
        _row("a write that meets the lock", wait, held, "how long the lock is held")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        bench_executor(Path(folder))
        bench_store(Path(folder))


if __name__ == "__main__":
    main()
