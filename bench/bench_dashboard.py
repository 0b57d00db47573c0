"""Dashboard speed: first render of a 10,000-trial sweep page, and what polling costs a sweep.

1. **First render.** A SQLite store with one finished sweep of 10,000 trials and 500,000 metric
   points (synthesised through `Store`, cached in ``--workdir`` because writing it takes a
   minute) is served by a dashboard in its own process (``serve``, as ``hypersweep ui`` runs
   it); headless Chromium opens the sweep page and we read the page's own marks, in seconds
   from navigation start:

   - *first screen*: the summary and every chart in the 1400x1000 viewport drawn (the target);
   - *table*: the first page of the trials table shown;
   - *svg charts*: every SVG chart drawn (history, curves, scatter, importance, timeline,
     terminations);
   - *all charts*: adding the WebGL ones (parallel coordinates and 3-D: slow here, software
     GL without a GPU; they draw last, below the first screen).

   Cold = the first visitor, right after the server starts (its cache still filling) with a
   fresh browser profile; warm = a second visitor (server cache filled, fresh profile);
   revisit = the same browser again (static files from its HTTP cache). ``--breakdown``
   adds where the time goes: the HTML, each API answer (server time to first byte), plotly.js
   ready, and each chart's draw.
2. **Polling cost.** A real sweep (CPU-bound trials logging every interval, 2 at a time on
   this 2-core machine) runs alone, then while five dashboard processes are each polled the
   way an open sweep page polls (every 2 s, ``If-None-Match``; on a change the table, charts
   and curves are fetched). Runs are paired (alone, polled) in alternating order (ABBA), all
   in this process; the slowdown is the median of the pairs' ratios of wall time, shown with
   its spread, because other work on the machine moves single runs by more than the effect.

Run: ``python bench/bench_dashboard.py`` (``--quick`` for a smaller store and fewer pairs).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workspace: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    code = ("from hypersweep.dashboard import serve; import sys; "
            f"serve(workspace=sys.argv[1], port={port})")
    proc = subprocess.Popen([sys.executable, "-c", code, str(workspace)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("dashboard did not start")


def build_store(workdir: Path, trials: int, points: int) -> tuple[Path, str]:
    from hypersweep.dashboard.demo import synthesize_sweep
    from hypersweep.store import Store

    workspace = workdir / f"ws_{trials}x{points}"
    marker = workspace / "sweep_id"
    if marker.exists():
        return workspace, marker.read_text().strip()
    building = workdir / f"building_{os.getpid()}"
    started = time.time()
    with Store(f"sqlite:///{building / 'hypersweep.db'}") as store:
        sweep_id = synthesize_sweep(store, "bench-10k", n_trials=trials,
                                    points_per_trial=points, seed=1)
    (building / "sweep_id").write_text(sweep_id)
    building.rename(workspace)
    print(f"synthesised {trials} trials x {points} points in {time.time() - started:.0f} s")
    return workspace, sweep_id


MARKS = {"first screen": "hs-first-screen", "table": "hs-table-shown",
         "svg charts": "hs-svg-charts-drawn", "all charts": "hs-charts-drawn"}
PHASES = ("cold", "warm", "revisit")

# what the page did, from its own performance entries (milliseconds from navigation start)
_TIMINGS = """() => {
  const out = {marks: {}, draws: {}, api: {}, bytes: 0};
  for (const m of performance.getEntriesByType('mark')) out.marks[m.name] = m.startTime;
  for (const m of performance.getEntriesByType('measure'))
    if (m.name.startsWith('hs-draw ')) out.draws[m.name.slice(14)] = m.duration;
  const nav = performance.getEntriesByType('navigation')[0];
  out.html = nav.responseEnd; out.bytes += nav.transferSize;
  for (const r of performance.getEntriesByType('resource')) {
    out.bytes += r.transferSize;
    const path = new URL(r.name).pathname;
    const key = path.startsWith('/api/') ? 'api ' + (path.split('/')[4] || 'summary')
              : path.includes('/vendor/') ? 'plotly.js ' + path.split('/').pop().split('-')[0]
              : null;
    if (key) out.api[key] = {server: r.responseStart - r.requestStart, end: r.responseEnd,
                             cached: r.transferSize === 0};
  }
  return out;
}"""


def first_render(workspace: Path, sweep_id: str, repeats: int) -> list[dict[str, Any]]:
    """One record per (repeat, phase): the page's marks and timings, in milliseconds."""
    from playwright.sync_api import sync_playwright

    runs: list[dict[str, Any]] = []
    url = f"/sweeps/{sweep_id}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(repeats):
            proc, port = start_server(workspace)
            try:
                context = None
                for phase in PHASES:
                    if phase != "revisit":
                        if context is not None:
                            context.close()
                        context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    assert context is not None
                    page = context.new_page()
                    page.goto(f"http://127.0.0.1:{port}{url}", timeout=120_000)
                    page.wait_for_function("window.hsStats && window.hsStats.chartsDrawn",
                                           timeout=120_000)
                    runs.append({"phase": phase, **page.evaluate(_TIMINGS)})
                    page.close()
                if context is not None:
                    context.close()
            finally:
                proc.terminate()
                proc.wait()
        browser.close()
    return runs


def _median(values: list[float]) -> str:
    return f"{statistics.median(values) / 1000:6.2f}" if values else "     -"


def report_render(runs: list[dict[str, Any]], breakdown: bool) -> None:
    print(f"  {'':16s}" + "".join(f"{p:>9s}" for p in PHASES) + "   (median s; cold runs)")
    for label, mark in MARKS.items():   # (a mark the page does not set shows as "-")
        cells = [_median([r["marks"][mark] for r in runs if r["phase"] == p and mark in r["marks"]])
                 for p in PHASES]
        cold = ", ".join(f"{r['marks'][mark] / 1000:.2f}" for r in runs
                         if r["phase"] == "cold" and mark in r["marks"])
        print(f"  {label:16s}" + "".join(f"{c:>9s}" for c in cells) + f"   ({cold})")
    if not breakdown:
        return
    print("  where the time goes (median ms from navigation start; server = time to first byte):")
    rows: dict[str, dict[str, list[float]]] = {}

    def add(name: str, phase: str, value: float) -> None:
        rows.setdefault(name, {p: [] for p in PHASES})[phase].append(value)

    for r in runs:
        add("HTML received", r["phase"], r["html"])
        for key, t in sorted(r["api"].items()):
            add(f"{key} received", r["phase"], t["end"])
            if not key.startswith("plotly"):
                add(f"{key} server", r["phase"], t["server"])
        for name in ("hs-plotly-ready", "hs-plotly-gl-ready"):
            if name in r["marks"]:
                add(name[3:].replace("-", " "), r["phase"], r["marks"][name])
        for chart, ms in r["draws"].items():
            add(f"draw {chart}", r["phase"], ms)
        add("kB transferred", r["phase"], r["bytes"] / 1000)
    for name, by_phase in rows.items():
        cells = [f"{statistics.median(v):9.0f}" if v else "        -" for v in by_phase.values()]
        print(f"    {name:32s}" + "".join(cells))


TRAIN = textwrap.dedent("""
    import argparse
    import numpy as np
    from hypersweep import Run
    p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
    run = Run.get_context(); rng = np.random.default_rng(0); m = rng.random((256, 256))
    for i in range(40):
        for _ in range(40):
            m = np.tanh(m @ m / 256)      # fixed CPU work per interval (~0.1 s, one thread)
        run.log("score", a.x * (1 - 1 / (i + 1)))
""")
# one BLAS thread per trial: two trials on two cores, no oversubscription noise
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def poll(port: int, sweep_id: str, stop: threading.Event, cpu: list[float]) -> None:
    """What an open sweep page does: a conditional summary poll, then refetch on a change.
    Appends the CPU time this thread used to ``cpu``."""
    started = time.thread_time()
    tags: dict[str, str] = {}

    def get(path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"If-None-Match": tags[path]} if path in tags else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.getheader("ETag"):
            tags[path] = response.getheader("ETag")  # type: ignore[assignment]
        conn.close()
        return response.status

    base = f"/api/sweeps/{sweep_id}"
    while not stop.is_set():
        try:
            if get(base) == 200:
                for part in ("/trials?sort=index&desc=false&offset=0&limit=50", "/charts",
                             "/curves"):
                    get(base + part)
        except (OSError, http.client.HTTPException):
            pass
        stop.wait(2.0)
    cpu.append(time.thread_time() - started)


def sweep_time(workdir: Path, dashboards: int, trials: int) -> tuple[float, float, float, float]:
    """Run one sweep with ``dashboards`` polled dashboards: its wall time, its trials' summed
    run time (start to end), and the CPU time the dashboard servers and (apart) their
    pollers used while it ran, in seconds."""
    from hypersweep import (
        Experiment,
        HyperDriveConfig,
        PrimaryMetricGoal,
        RandomParameterSampling,
        ScriptRunConfig,
        Workspace,
        uniform,
    )

    run_dir = Path(tempfile.mkdtemp(dir=workdir))
    source = run_dir / "src"
    source.mkdir()
    (source / "train.py").write_text(TRAIN)
    workspace = Workspace(run_dir / "ws")
    workspace.store  # noqa: B018  (create the database before the servers open it)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=1),
        primary_metric_name="score", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=trials, max_concurrent_runs=2)
    servers = [start_server(workspace.path) for _ in range(dashboards)]
    time.sleep(1.0 if servers else 0.0)  # their start-up (imports, warm-up) is not the sweep's
    stop = threading.Event()
    poll_cpu: list[float] = []
    pollers: list[threading.Thread] = []
    try:
        server_cpu = -sum(_cpu_seconds(proc.pid) for proc, _ in servers)
        started = time.perf_counter()
        run = Experiment(workspace, "poll").submit(config)
        pollers = [threading.Thread(target=poll, args=(port, run.id, stop, poll_cpu),
                                    daemon=True) for _, port in servers]
        for thread in pollers:
            thread.start()
        run.wait_for_completion()
        elapsed = time.perf_counter() - started
        server_cpu += sum(_cpu_seconds(proc.pid) for proc, _ in servers)
    finally:
        stop.set()
        for thread in pollers:
            thread.join(timeout=70)
        for proc, _ in servers:
            proc.terminate()
            proc.wait()
    busy = sum((t.end_time - t.start_time).total_seconds()
               for t in workspace.store.list_trials(run.id) if t.start_time and t.end_time)
    workspace.store.close()
    shutil.rmtree(run_dir, ignore_errors=True)
    return elapsed, busy, server_cpu, sum(poll_cpu)


def polling_cost(workdir: Path, pairs: int, trials: int = 8) -> dict[str, list[float]]:
    """Paired runs, alone and with five polled dashboards, the order alternating (ABBA)."""
    os.environ.update(_ONE_THREAD)
    out: dict[str, list[float]] = {"alone": [], "polled": [], "alone_busy": [],
                                   "polled_busy": [], "server_cpu": [], "poller_cpu": []}
    for pair in range(pairs):
        order = (0, 5) if pair % 2 == 0 else (5, 0)
        for dashboards in order:
            wall, busy, server_cpu, poller_cpu = sweep_time(workdir, dashboards, trials)
            key = "polled" if dashboards else "alone"
            out[key].append(wall)
            out[key + "_busy"].append(busy)
            if dashboards:
                out["server_cpu"].append(server_cpu)
                out["poller_cpu"].append(poller_cpu)
    return out


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(),
                                                          "hypersweep-bench-dashboard"))
    parser.add_argument("--quick", action="store_true",
                        help="1,000 trials; 2 page loads; 2 pairs of sweeps")
    parser.add_argument("--repeats", type=int, default=None,
                        help="page loads per phase (default 5; --quick 2)")
    parser.add_argument("--pairs", type=int, default=None,
                        help="(alone, polled) sweep pairs (default 5; --quick 2)")
    parser.add_argument("--breakdown", action="store_true",
                        help="where the page's time goes (HTML, API, plotly.js, each chart)")
    parser.add_argument("--skip-render", action="store_true")
    parser.add_argument("--skip-polling", action="store_true")
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    pairs = args.pairs or (2 if args.quick else 5)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    trials = 1000 if args.quick else 10_000
    workspace, sweep_id = build_store(workdir, trials, 50)
    print(f"machine: {os.cpu_count()} cores, {_load()}")
    result: dict[str, Any] = {}
    if not args.skip_render:
        print(f"sweep page, {trials} trials, {trials * 50} metric points "
              f"({repeats} page loads per phase, seconds from navigation start):")
        result["render"] = first_render(workspace, sweep_id, repeats)
        report_render(result["render"], args.breakdown)
    if not args.skip_polling:
        cost = polling_cost(workdir, pairs)
        ratios = [p / a for p, a in zip(cost["polled"], cost["alone"], strict=True)]
        busy = [p / a for p, a in zip(cost["polled_busy"], cost["alone_busy"], strict=True)]
        med = statistics.median(ratios)
        print(f"running sweep (8 trials of ~4 s CPU, 2 at a time), {pairs} pairs: "
              f"alone {statistics.median(cost['alone']):.2f} s, with 5 polling dashboards "
              f"{statistics.median(cost['polled']):.2f} s (medians)")
        print(f"  slowdown (median of pair ratios): {(med - 1) * 100:+.1f}% wall, "
              f"{(statistics.median(busy) - 1) * 100:+.1f}% trial run time; pair ratios "
              f"{', '.join(f'{r:.3f}' for r in ratios)}")
        # the cost itself, far less noisy than wall times: the CPU the five dashboard servers
        # used, as a share of the machine while the sweep ran (the trials keep every core
        # busy, so this is about what they lose); the pollers stand in for five browsers
        share = [cpu / (wall * (os.cpu_count() or 1))
                 for cpu, wall in zip(cost["server_cpu"], cost["polled"], strict=True)]
        print(f"  CPU used by the 5 dashboard servers: "
              f"{statistics.median(cost['server_cpu']):.2f} s per sweep = "
              f"{statistics.median(share) * 100:.1f}% of the machine "
              f"({', '.join(f'{x * 100:.1f}' for x in share)}); their pollers (the "
              f"browsers' part) {statistics.median(cost['poller_cpu']):.2f} s")
        result["polling"] = cost
    print(f"machine after: {_load()}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
