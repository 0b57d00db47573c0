"""Controller overhead: a 100-trial sweep of a trivial script against bare process starts.

Prints the wall time of a sweep of N trivial trials at concurrency 2, as a ratio against
starting the same N bare ``python script.py`` processes two at a time, in the same process.

    python bench/bench_sweep.py [--trials 100]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def bare(script: Path, n: int, concurrency: int) -> float:
    start = time.perf_counter()
    running: list[subprocess.Popen[bytes]] = []
    for i in range(n):
        while len(running) >= concurrency:
            running = [p for p in running if p.poll() is None]
            if len(running) >= concurrency:
                time.sleep(0.001)
        running.append(
            subprocess.Popen(
                [sys.executable, str(script), "--x", str(i / n)],
                cwd=script.parent,
                stdout=subprocess.DEVNULL,
            )
        )
    for p in running:
        p.wait()
    return time.perf_counter() - start


def sweep(source: Path, workspace: Path, n: int, concurrency: int,
          resources: dict[str, float] | None = None) -> float:
    """Seconds a sweep of ``n`` trials of ``source/train.py`` takes (``resources``: what each
    trial holds, for bench_placement.py)."""
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=0),
        primary_metric_name="score",
        primary_metric_goal="maximize",
        max_total_runs=n,
        max_concurrent_runs=concurrency,
        resources_per_trial=resources,
    )
    start = time.perf_counter()
    run = Experiment(Workspace(workspace), "bench").submit(config)
    run.wait_for_completion(poll_interval=0.01)
    elapsed = time.perf_counter() - start
    children = run.get_children()
    assert len(children) == n, f"{len(children)} trials of {n}"
    # Not a timing check: that the sweep really placed its trials (else it measures nothing).
    placed = children[0].get_details().get("placement")
    assert bool(placed) == (resources is not None), f"{resources}: placement {placed}"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        script = source / "train.py"
        script.write_text(SCRIPT)
        bare(script, 4, args.concurrency)  # warm the file cache
        t_bare = bare(script, args.trials, args.concurrency)
        t_sweep = sweep(source, Path(tmp) / "ws", args.trials, args.concurrency)
    print(f"{args.trials} trials at concurrency {args.concurrency}")
    print(f"  bare python processes : {t_bare:7.2f} s ({1000 * t_bare / args.trials:.1f} ms each)")
    print(
        f"  hypersweep sweep      : {t_sweep:7.2f} s ({1000 * t_sweep / args.trials:.1f} ms each)"
    )
    print(f"  ratio sweep / bare    : {t_sweep / t_bare:7.2f}")


if __name__ == "__main__":
    main()
