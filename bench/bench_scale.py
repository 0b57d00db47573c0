"""Read faces at scale: `hypersweep ls/show/best/export` and the dashboard on 10k and 100k trials.

A SQLite workspace per size holds one finished function sweep (``hypersweep.tune``, a trivial
objective logging 5 points of ``loss`` a trial, minimised; built once and cached in
``--workspace`` because the 100,000-trial one takes minutes). Each command then runs in a
fresh subprocess (a cold start counts: interpreter, imports, opening the store), timed wall to
wall, with its peak RSS (``os.wait4``'s rusage of that child). The dashboard is started cold
in its own process (``serve``, as ``hypersweep ui`` does); we time the answers a sweep page
asks for (summary, first page of trials, charts, curves, then the complete charts) over HTTP
from the server's start, with the server's CPU seconds and peak RSS at its first screen
(summary, table, the charts' first answer and the curves) and after the complete charts, and,
with ``--browser``, the page's own *first screen* mark in headless Chromium (as
bench_dashboard.py reads it: the summary and every chart in the viewport drawn) and its
*all charts* mark. A big sweep's first charts come from the store's queries (the best-so-far
line, the parameter charts and the curves as the complete ones draw them; the importance, the
timeline and the terminations say they wait); the complete charts come after the whole sweep
is read and scikit-learn is imported for the importance chart. The server's peak RSS is read
from ``/proc/<pid>/status`` (VmHWM).

CPU seconds (user + system, from the same rusage) are printed beside wall seconds: on a shared
machine the wall time mostly measures the other load, the CPU time what the command costs.

Every process imports compiled bytecode, as an installed package does: ours (run from a source
tree) is compiled once, before anything is timed, into a cache folder in ``--workspace``
(``PYTHONPYCACHEPREFIX``), even where ``PYTHONDONTWRITEBYTECODE`` is set; otherwise each
command compiled ~100 modules from source (~0.1 s of CPU).

Run: ``OMP_NUM_THREADS=1 python bench/bench_scale.py`` (``--sizes 10000`` for the small one).
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bytecode import use_compiled_bytecode
from bench_dashboard import start_server

POINTS = 5


def _objective(params: dict[str, float], run: object) -> None:
    x, y = params["x"], params["y"]
    for step in range(POINTS):
        run.log("loss", (x - 0.3) ** 2 + (y + 0.1) ** 2 + 1.0 / (step + 1))  # type: ignore[attr-defined]


def build(workdir: Path, trials: int) -> tuple[Path, str, float]:
    """The workspace of a finished ``trials``-trial sweep (cached) and its id."""
    from hypersweep import RandomParameterSampling, Workspace, tune, uniform

    folder = workdir / f"ws_{trials}"
    marker = folder / "sweep_id"
    if marker.exists():
        from hypersweep.store import Store

        Store(f"sqlite:///{folder / 'hypersweep.db'}").close()  # a schema migration is not timed
        return folder, marker.read_text().strip(), float("nan")
    building = workdir / f"building_{trials}_{os.getpid()}"
    started = time.perf_counter()
    result = tune(_objective,
                  RandomParameterSampling({"x": uniform(-1, 1), "y": uniform(-1, 1)}, seed=1),
                  primary_metric_name="loss", primary_metric_goal="minimize",
                  max_total_runs=trials, workspace=Workspace(building), experiment_name="scale")
    elapsed = time.perf_counter() - started
    (building / "sweep_id").write_text(result.id)
    building.rename(folder)
    return folder, result.id, elapsed


# Linux keeps a process's peak RSS across fork and exec: a command started straight from
# this (big) process would report this process's peak as its own. A small parent in between
# starts it and reports its rusage (peak RSS in kB, user and system CPU seconds).
_REPORTER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(argv: list[str]) -> tuple[float, float, float, int, int]:
    """Run ``argv`` in a fresh process: wall seconds, CPU seconds (user + system), peak RSS
    (MB), exit status, stdout bytes."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as report:
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-S", "-c", _REPORTER, report.name, *argv],
                               stdout=out, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        size = out.seek(0, os.SEEK_END)
        peak, user, system = report.read().split()
    return elapsed, float(user) + float(system), int(peak) / 1024, code, size


def _vm_hwm(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dashboard_cold(workspace: Path, sweep_id: str) -> dict[str, float]:
    """Seconds from the server's start to each of the first answers a sweep page needs."""
    started = time.perf_counter()
    proc, port = start_server(workspace)
    out: dict[str, float] = {"server up": time.perf_counter() - started}
    base = f"/api/sweeps/{sweep_id}"
    try:
        for label, path in (("page HTML", f"/sweeps/{sweep_id}"), ("api summary", base),
                            ("api trials p1", base + "/trials?sort=index&desc=false&offset=0"
                                                      "&limit=50"),
                            ("api trials best", base + "/trials?offset=0&limit=50"),
                            ("api charts", base + "/charts"), ("api curves", base + "/curves"),
                            ("api charts complete", base + "/charts?complete=true")):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            conn.close()
            out[label] = time.perf_counter() - started
            out[label + " status"] = response.status
            if label == "api curves":  # the first screen: summary, table, charts in view
                out["first screen CPU s"] = _cpu_seconds(proc.pid)
                out["first screen peak MB"] = _vm_hwm(proc.pid)
        out["peak MB"] = _vm_hwm(proc.pid)
        out["CPU s"] = _cpu_seconds(proc.pid)
    finally:
        proc.terminate()
        proc.wait()
    return out


def _get(port: int, path: str, etag: str | None = None) -> tuple[int, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", path, headers={"If-None-Match": etag} if etag else {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("ETag")


def _running_copy(workspace: Path, sweep_id: str, into: Path) -> None:
    """A copy of the finished sweep's workspace in which it is still running: the sweep and
    its last four trials are ``Running`` again."""
    import sqlite3

    from hypersweep.store import Status, Store, trial_id

    into.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(workspace / "hypersweep.db") as source, \
            sqlite3.connect(into / "hypersweep.db") as target:
        source.backup(target)
    with Store(f"sqlite:///{into / 'hypersweep.db'}") as store:
        store.update_sweep(sweep_id, status=Status.RUNNING, end_time=None)
        total = store.count_trials([sweep_id])[sweep_id]
        for index in range(total - 4, total):
            store.update_trial(trial_id(sweep_id, index), status=Status.RUNNING, end_time=None)


def dashboard_polling(workspace: Path, sweep_id: str, seconds: float,
                      viewers: int = 1) -> dict[str, float]:
    """What an open sweep page costs a running sweep: the server's CPU seconds a second of
    wall time while ``viewers`` pages poll it as the page does (every 2 s, ``If-None-Match``;
    on a change the table and the charts again) and the sweep logs a point a second to its
    running trials and adds a trial every 2 s."""
    from datetime import datetime, timezone

    from hypersweep.store import MetricPoint, Status, Store, TrialRecord, trial_id

    with tempfile.TemporaryDirectory(dir=workspace.parent) as scratch:
        copy = Path(scratch)
        _running_copy(workspace, sweep_id, copy)
        proc, port = start_server(copy)
        base = f"/api/sweeps/{sweep_id}"
        store = Store(f"sqlite:///{copy / 'hypersweep.db'}")
        try:
            etags: list[str | None] = [None] * viewers
            for v in range(viewers):  # the page's first load: the cold cost is not counted
                _, etags[v] = _get(port, base)
                _get(port, base + "/charts?complete=true")
            total = store.count_trials([sweep_id])[sweep_id]
            running = [trial_id(sweep_id, i) for i in range(total - 4, total)]
            cpu0, wall0 = _cpu_seconds(proc.pid), time.perf_counter()
            tick, changed, polls = 0, 0, 0
            while time.perf_counter() - wall0 < seconds:
                now = datetime.now(timezone.utc)
                for tid in running:
                    store.add_metrics(tid, [MetricPoint(1000 + tick, 0, "loss", tick,
                                                        1.0 / (tick + 2), None, "scalar", now)])
                if tick % 2 == 0:
                    store.create_trial(TrialRecord(trial_id(sweep_id, total), sweep_id, total,
                                                   {"x": 0.1, "y": 0.2}, Status.COMPLETED,
                                                   now, start_time=now, end_time=now))
                    total += 1
                    for v in range(viewers):
                        status, etag = _get(port, base, etags[v])
                        polls += 1
                        if status == 200:
                            changed += 1
                            etags[v] = etag
                            _get(port, base + "/trials?sort=index&desc=false&offset=0&limit=50")
                            _get(port, base + "/charts")
                tick += 1
                time.sleep(max(0.0, wall0 + tick - time.perf_counter()))
            wall = time.perf_counter() - wall0
            cpu = _cpu_seconds(proc.pid) - cpu0
        finally:
            store.close()
            proc.terminate()
            proc.wait()
    return {"wall s": wall, "server CPU s": cpu, "share": cpu / wall, "polls": polls,
            "changed": changed}


def browser_first_screen(workspace: Path, sweep_id: str) -> tuple[float, float]:
    """The cold page's first-screen and all-charts marks (s from navigation), a fresh server
    and browser."""
    from bench_dashboard import first_render

    runs = first_render(workspace, sweep_id, 1)
    marks = next(r for r in runs if r["phase"] == "cold")["marks"]
    first, complete = (float(marks.get(name, float("nan"))) / 1000
                       for name in ("hs-first-screen", "hs-charts-drawn"))
    return first, complete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", default=os.path.join(tempfile.gettempdir(),
                                                            "hypersweep-bench-scale"),
                        help="folder of the cached workspaces")
    parser.add_argument("--sizes", default="10000,100000", help="trial counts, comma-separated")
    parser.add_argument("--browser", action="store_true",
                        help="also the first-screen mark in headless Chromium")
    parser.add_argument("--skip-dashboard", action="store_true")
    parser.add_argument("--poll-seconds", type=float, default=30.0,
                        help="seconds of polling a running copy of the sweep (0: skip)")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--only", default="",
                        help="the commands to time whose label contains this text (e.g. "
                             "'export'; default: all)")
    args = parser.parse_args()
    workdir = Path(args.workspace)
    workdir.mkdir(parents=True, exist_ok=True)
    exe = [sys.executable, "-c", "from hypersweep.cli import main; main()"]
    # the children (commands, servers) import compiled bytecode, compiled here once
    use_compiled_bytecode(workdir / "pycache")
    # (uvicorn imports its protocols when it serves)
    subprocess.run([sys.executable, "-c", "import hypersweep.cli, hypersweep.store.sql, "
                    "hypersweep.dashboard.app, hypersweep.dashboard.server, "
                    "hypersweep.viz.importance, uvicorn.main"],
                   check=True)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    for trials in (int(s) for s in args.sizes.split(",")):
        folder, sweep_id, built = build(workdir, trials)
        if not math.isnan(built):  # NaN: read from the cache, not built now
            print(f"built {trials} trials x {POINTS} points with hypersweep.tune in {built:.0f} s")
        ws = ["--workspace", str(folder)]
        print(f"\n{trials} trials x {POINTS} points ({folder})")
        print(f"  {'command':34s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s} {'out kB':>8s}")
        commands = {
            "ls": ["ls", *ws],
            "show": ["show", sweep_id, *ws],
            "show --json": ["show", sweep_id, "--json", *ws],
            "best": ["best", sweep_id, *ws],
            "export --format csv": ["export", sweep_id, "--format", "csv", *ws],
            "export --format json": ["export", sweep_id, "--format", "json", *ws],
            "export --format parquet -o FILE": ["export", sweep_id, "--format", "parquet",
                                                "-o", str(workdir / "export.parquet"), *ws],
        }
        commands = {label: argv for label, argv in commands.items() if args.only in label}
        for label, argv in ({} if args.skip_cli else commands).items():
            wall, cpu, peak, code, size = timed([*exe, *argv])
            flag = "" if code == 0 else f"  (exit {code})"
            print(f"  {label:34s} {wall:8.2f} {cpu:8.2f} {peak:8.0f} {size / 1000:8.0f}{flag}")
        if not args.skip_dashboard:
            cold = dashboard_cold(folder, sweep_id)
            print("  dashboard, cold server (s from its start; HTTP status):")
            for key, value in cold.items():
                if not key.endswith("status") and "MB" not in key and "CPU" not in key:
                    status = cold.get(key + " status")
                    print(f"    {key:32s} {value:8.2f}" + (f"   {status:.0f}" if status else ""))
            print(f"    {'server CPU s (start to 1st screen)':32s} "
                  f"{cold['first screen CPU s']:8.2f}")
            print(f"    {'server peak MB at 1st screen':32s} {cold['first screen peak MB']:8.0f}")
            print(f"    {'server peak MB':32s} {cold['peak MB']:8.0f}")
            print(f"    {'server CPU s (start to charts)':32s} {cold['CPU s']:8.2f}")
            if args.poll_seconds > 0:
                poll = dashboard_polling(folder, sweep_id, args.poll_seconds)
                print(f"    polling a running copy for {poll['wall s']:.0f} s "
                      f"({poll['polls']:.0f} polls, {poll['changed']:.0f} changed): server "
                      f"CPU {poll['server CPU s']:.2f} s = {100 * poll['share']:.1f}% of a core")
            if args.browser:
                first, complete = browser_first_screen(folder, sweep_id)
                print(f"    {'browser first screen (cold)':32s} {first:8.2f}")
                print(f"    {'browser all charts (cold)':32s} {complete:8.2f}")


if __name__ == "__main__":
    main()
