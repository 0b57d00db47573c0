"""The CLI as users run it: real processes for --detach, cancel, resume, logs --follow, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.cli.project import Project

from hypersweep.cli import cli

ROOT = Path(__file__).resolve().parents[2]

SLOW_SWEEP = """\
trial:
  command: python train.py --x ${{search_space.x}} --sleep ${{search_space.nap}}
search_space:
  x: {type: choice, values: [0.1, 0.3, 0.5, 0.7]}
  nap: {type: choice, values: [NAP]}
sampling_algorithm: grid
objective: {primary_metric: score, goal: maximize}
limits: {max_concurrent_trials: 2}
"""


def hs(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the installed ``hypersweep`` console command in the current folder."""
    done = subprocess.run(["hypersweep", *args], capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def show(sweep_id: str) -> dict[str, Any]:
    """The sweep as ``hypersweep show --json`` prints it (in-process: polls stay cheap)."""
    result = CliRunner().invoke(cli, ["show", sweep_id, "--json"], catch_exceptions=False)
    return json.loads(result.stdout)


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _running(sweep_id: str) -> bool:
    data = show(sweep_id)
    return any(t["status"] == "Running" for t in data["trials"])


def _pid_gone(pid: int) -> bool:
    """Whether ``pid`` has ended. A zombie has: a detached controller's parent is init (or
    a container's first process), which may reap it late or, without an init, never."""
    from hypersweep.execution.local import same_process_alive

    return not same_process_alive(pid, None)


def test_detach_then_cancel(project: Project) -> None:
    project.write(SLOW_SWEEP.replace("NAP", "2"))
    started = json.loads(hs("run", "sweep.yml", "--detach", "--json").stdout)
    sweep_id, pid = started["sweep_id"], started["pid"]
    other = hs("run", "sweep.yml", "--detach").stdout  # the plain form prints just the id
    assert other.startswith("HD_") and other.endswith("\n")
    hs("cancel", other.strip())
    wait_for(lambda: _running(sweep_id))
    done = json.loads(hs("cancel", sweep_id, "--wait", "--json").stdout)
    assert done == {"sweep_id": sweep_id, "status": "Canceled", "driven": True}
    trials = show(sweep_id)["trials"]
    canceled = [t for t in trials if t["status"] == "Canceled"]
    assert canceled and {t["termination_reason"] for t in canceled} == {"user_cancel"}
    assert all(t["status"] == "Completed" for t in trials if t not in canceled)
    wait_for(lambda: _pid_gone(pid) or _reap(pid), timeout=20)
    assert "Canceled" in Path(started["log"]).read_text()
    again = hs("cancel", sweep_id)
    assert again.stdout == f"sweep {sweep_id} had already ended (Canceled)\n"


def _reap(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return _pid_gone(pid)


@pytest.mark.slow
def test_killed_driver_then_resume(project: Project) -> None:
    project.write(SLOW_SWEEP.replace("NAP", "0.7"))
    started = json.loads(hs("run", "sweep.yml", "--detach", "--json").stdout)
    sweep_id, pid = started["sweep_id"], started["pid"]
    wait_for(lambda: _running(sweep_id))
    os.kill(pid, signal.SIGKILL)  # the driver dies mid-sweep; its trials run on
    wait_for(lambda: _pid_gone(pid) or _reap(pid), timeout=20)
    refused = hs("run", "sweep.yml", "--set", "limits.max_total_trials=0", check=False)
    assert refused.returncode == 1
    resumed = hs("resume", sweep_id, "--json")
    outcome = json.loads(resumed.stdout)
    assert outcome["status"] == "Completed"
    trials = show(sweep_id)["trials"]
    assert sorted(t["index"] for t in trials) == [0, 1, 2, 3]  # none lost, none twice
    assert sorted(t["hyperparameters"]["x"] for t in trials) == [0.1, 0.3, 0.5, 0.7]
    assert outcome["best"]["hyperparameters"]["x"] == 0.3
    ended = hs("resume", sweep_id, check=False)
    assert (ended.returncode, ended.stderr) == (
        1, f"error: sweep {sweep_id} has already ended (Completed); to search on from its "
           f"trials, start a new sweep warm-started from it: resume_from=[{sweep_id!r}] "
           "(HyperDriveConfig or tune)\n")


@pytest.mark.slow
def test_resume_detached(project: Project) -> None:
    project.write(SLOW_SWEEP.replace("NAP", "0.3"))
    started = json.loads(hs("run", "sweep.yml", "--detach", "--json").stdout)
    sweep_id, pid = started["sweep_id"], started["pid"]
    wait_for(lambda: _running(sweep_id))
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: _pid_gone(pid) or _reap(pid), timeout=20)
    again = json.loads(hs("resume", sweep_id, "--detach", "--json").stdout)
    wait_for(lambda: show(sweep_id)["status"] == "Completed")
    assert len(show(sweep_id)["trials"]) == 4
    wait_for(lambda: _pid_gone(again["pid"]) or _reap(again["pid"]), timeout=20)


def test_logs_follow(project: Project) -> None:
    project.write(SLOW_SWEEP.replace("NAP", "0.5").replace("max_concurrent_trials: 2",
                                                            "max_total_trials: 1"))
    sweep_id = json.loads(hs("run", "sweep.yml", "--detach", "--json").stdout)["sweep_id"]
    wait_for(lambda: bool(show(sweep_id)["trials"]))
    followed = hs("logs", f"{sweep_id}_0", "--follow")  # returns when the trial ends
    assert followed.stdout == "trained 0.1 \n"
    assert show(sweep_id)["trials"][0]["status"] == "Completed"
    assert hs("logs", f"{sweep_id}_0", "--stderr").stdout == "to stderr\n"


def test_ctrl_c_cancels_and_exits_130(project: Project) -> None:
    project.write(SLOW_SWEEP.replace("NAP", "3"))
    # SIGINT as a terminal delivers it: a test run started in the background by a shell
    # without job control inherits SIGINT ignored, and so would the command (it then ran to
    # the end and exited 0).
    process = subprocess.Popen(["hypersweep", "run", "sweep.yml"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        sweep_id = ""

        def started() -> bool:
            nonlocal sweep_id
            listed = json.loads(CliRunner().invoke(cli, ["ls", "--json"]).stdout)
            sweep_id = listed[0]["sweep_id"] if listed else ""
            return bool(sweep_id) and _running(sweep_id)

        wait_for(started)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert f"interrupted: canceling sweep {sweep_id} ..." in err
    data = show(sweep_id)
    assert data["status"] == "Canceled"
    assert all(t["status"] == "Canceled" for t in data["trials"])


@pytest.mark.slow
def test_quickstart_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    example = ROOT / "examples" / "sklearn_digits" / "sweep.yml"
    done = hs("run", str(example), "--set", "limits.max_total_trials=2")
    assert "best trial HD_" in done.stdout and "reproduce: cd " in done.stdout
    assert done.stderr.startswith("warning: ")  # the Azure-only keys, reported once
    assert hs("validate", str(ROOT / "examples" / "pytorch_cnn" / "sweep.yml")).returncode == 0
    assert hs("validate", str(ROOT / "examples" / "pytorch_cnn" / "sweep_gpu.yml")).returncode == 0
