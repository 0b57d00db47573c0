"""Module-level objectives: process workers import them by name."""

from __future__ import annotations

import time
from typing import Any

#: Learning curves by name: "good" climbs high, "bad" stays low.
CURVES = {
    "good": [0.5 + 0.01 * i for i in range(40)],
    "bad": [0.1 + 0.001 * i for i in range(40)],
    "bad2": [0.2 + 0.001 * i for i in range(40)],
}


def quadratic(params: dict[str, Any], run: Any) -> float:
    return (params["x"] - 0.3) ** 2 + (0.0 if params["kind"] == "a" else 0.1)


def curve(params: dict[str, Any], run: Any) -> None:
    """Log the named curve; bad curves log slowly so the policy's stop reaches them."""
    for value in CURVES[params["curve"]]:
        run.log("accuracy", value)
        if params["curve"].startswith("bad"):
            time.sleep(0.01)


def fails_on_b(params: dict[str, Any], run: Any) -> float:
    run.log("seen", 1)
    if params["kind"] == "b":
        raise ZeroDivisionError("b is not allowed")
    return 1.0


def interrupts(params: dict[str, Any], run: Any) -> float:
    if params["i"] == 3:
        raise KeyboardInterrupt
    return float(params["i"])


def busy(params: dict[str, Any], run: Any) -> float:
    """CPU-bound for a moment; returns the worker's pid as a metric."""
    import os

    total = 0
    for k in range(20_000):
        total += k * k
    run.log("pid", os.getpid())
    return float(params["x"])


def dies_on_3(params: dict[str, Any], run: Any) -> float:
    """Trial 3's worker process is killed outright (as the out-of-memory killer would)."""
    import os
    import signal

    run.log("pid", os.getpid())
    if params["i"] == 3:
        time.sleep(0.3)  # the logged pid reaches the parent before the process dies
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return float(params["i"])


def slow_on_1(params: dict[str, Any], run: Any) -> float:
    """Trial 1 logs for 5 s (a timeout stops it at a run.log); the others end at once."""
    if params["i"] == 1:
        for step in range(100):
            run.log("step", step)
            time.sleep(0.05)
    return float(params["i"])


def hangs_on_1(params: dict[str, Any], run: Any) -> float:
    """Trial 1 sleeps without logging: only ending its worker process stops it."""
    if params["i"] == 1:
        time.sleep(30)
        run.log("woke", 1)
    return float(params["i"])


def writes_outputs(params: dict[str, Any], run: Any) -> float:
    """Each trial writes its parameter into its own outputs folder."""
    import os

    with open(os.path.join(run.outputs_dir, "model.txt"), "w") as f:
        f.write(str(params["i"]))
    return float(params["i"])


def logs_ten_and_returns(params: dict[str, Any], run: Any) -> float:
    """Log ``score`` = scale * step for steps 1..10, then return ``returns`` (or the last)."""
    for step in range(1, 11):
        run.log("score", params["scale"] * step)
    return float(params.get("returns", params["scale"] * 10))


def fails_on_listed(params: dict[str, Any], run: Any) -> float:
    """Fail the trials whose ``i`` is listed in ``fail_on`` ("1,3") with one same error."""
    if str(params["i"]) in params["fail_on"].split(","):
        raise RuntimeError("the data folder is missing")
    return float(params["i"])


def records_its_devices(params: dict[str, Any], run: Any) -> float:
    """Writes what its worker process was given and when it ran; waits (up to 10 s) until
    ``params["gather"]`` trials have started, so that as many run at once as allowed."""
    import json
    import os

    def record(event: str) -> None:
        line = {"event": event, "trial": run.id, "time": time.time(),
                "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
                "omp": os.environ.get("OMP_NUM_THREADS"),
                "cores": sorted(os.sched_getaffinity(0)), "pid": os.getpid()}
        with open(params["log"], "a") as f:
            f.write(json.dumps(line) + "\n")

    record("start")
    deadline = time.time() + 10
    while time.time() < deadline:
        with open(params["log"]) as f:
            if sum('"start"' in line for line in f) >= params["gather"]:
                break
        time.sleep(0.05)
    time.sleep(0.2)
    record("end")
    if params.get("oom") == params["x"]:
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB")
    return float(params["x"])
