"""Supervisors forked from the executor's launcher: the same supervisor, and nothing lost when
the launcher, or a supervisor, dies."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from hypersweep.execution import LocalProcessExecutor, TrialSpec
from hypersweep.execution.launcher import Launcher

pytestmark = pytest.mark.skipif(not Launcher.available(), reason="no launcher on this system")

WAITS_FOR_GO = (
    "import os, time\n"
    "while not os.path.exists('go'):\n"
    "    time.sleep(0.01)\n"
    "raise SystemExit(3)\n"
)


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    return int(data[data.rindex(b")") + 2 :].split()[1])


def _children(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if _parent(int(name)) == pid:
                    found.append(int(name))
            except OSError:
                continue
    return found


def test_a_forked_supervisor_leads_its_session_records_itself_and_the_exit(
        executor: LocalProcessExecutor, make_spec: Callable[..., TrialSpec], h: Any) -> None:
    spec = make_spec(WAITS_FOR_GO)
    handle = executor.launch(spec)
    pid = handle["pid"]
    record = json.loads(h.wait_for_file(spec.trial_dir / "supervisor.json"))
    assert (record["pid"], record["pgid"], record["start_ticks"]) == \
        (pid, pid, handle["start_ticks"])
    assert os.getsid(pid) == pid and os.getpgid(pid) == pid
    launcher = _parent(pid)
    assert launcher != os.getpid()  # forked by the launcher, not started by this process
    deadline = time.monotonic() + 20
    while not (script := _children(pid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert script and os.getpgid(script[0]) == pid  # the command runs in the trial's group
    (spec.workdir / "go").touch()
    assert h.wait_exit(executor, spec.trial_id).exits[spec.trial_id].exit_code == 3
    assert json.loads((spec.trial_dir / "exit_status").read_text())["exit_code"] == 3


def test_a_dead_launcher_loses_no_exit_and_later_trials_start_afresh(
        executor: LocalProcessExecutor, make_spec: Callable[..., TrialSpec], h: Any) -> None:
    spec = make_spec(WAITS_FOR_GO)
    pid = executor.launch(spec)["pid"]
    h.wait_for_file(spec.trial_dir / "supervisor.json")
    os.kill(_parent(pid), signal.SIGKILL)
    (spec.workdir / "go").touch()
    assert h.wait_exit(executor, spec.trial_id).exits[spec.trial_id].exit_code == 3
    later = make_spec("raise SystemExit(4)\n")
    executor.launch(later)
    assert h.wait_exit(executor, later.trial_id).exits[later.trial_id].exit_code == 4


def test_a_supervisor_killed_outright_is_reported_killed(
        executor: LocalProcessExecutor, make_spec: Callable[..., TrialSpec], h: Any) -> None:
    spec = make_spec(WAITS_FOR_GO)
    pid = executor.launch(spec)["pid"]
    h.wait_for_file(spec.trial_dir / "supervisor.json")
    try:
        os.kill(pid, signal.SIGKILL)
        ended = h.wait_exit(executor, spec.trial_id).exits[spec.trial_id]
        assert ended.exit_code == -signal.SIGKILL
        assert json.loads((spec.trial_dir / "exit_status").read_text())["exit_code"] == -9
    finally:
        (spec.workdir / "go").touch()  # the orphaned script ends


@pytest.mark.parametrize("launcher", [True, False], ids=["forked", "fresh"])
def test_a_stop_right_after_the_launch_reaches_the_command(
        make_spec: Callable[..., TrialSpec], h: Any, launcher: bool) -> None:
    ex = LocalProcessExecutor(default_grace=60.0)
    ex.use_launcher = launcher
    try:
        spec = make_spec(WAITS_FOR_GO)
        ex.launch(spec)
        ex.stop(spec.trial_id)  # long before the command can have started
        ended = h.wait_exit(ex, spec.trial_id, timeout=40).exits[spec.trial_id]
        assert ended.exit_code == -signal.SIGTERM  # the SIGTERM, not the SIGKILL a minute on
    finally:
        ex.shutdown(stop_trials=True)


def test_the_launcher_imports_no_python_half_of_signal_or_socket() -> None:
    """The launcher is forked once a trial: every module it holds makes each fork dearer
    (page tables copied, pages copied on write). Run as the executor runs it, it imports
    only the built-in ``_signal`` and ``_socket``, so neither ``enum`` nor ``selectors``."""
    import socket
    import subprocess
    import sys

    from hypersweep.execution.launcher import LAUNCHER

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours:
        ours.close()  # the launcher reads end-of-file at once and exits
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-X", "importtime", LAUNCHER, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], capture_output=True, text=True, timeout=60,
            check=True)
    theirs.close()
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert {"_supervise", "_signal", "_socket", "marshal", "select"} <= imported
    assert not imported & {"signal", "socket", "enum", "selectors", "functools"}


def _started(tmp_path: Any) -> Launcher:
    import sys

    launcher = Launcher(sys.executable)
    quiet = os.open(os.devnull, os.O_WRONLY)
    try:
        launcher.start(str(tmp_path), {}, [str(tmp_path), "--", "true"], quiet, quiet)
    finally:
        os.close(quiet)
    return launcher


def test_closing_reaps_the_launcher_at_once_and_twice_is_harmless(tmp_path: Any) -> None:
    launcher = _started(tmp_path)
    launcher.close()
    # reaped by the close itself (woken by its pidfd), with the status of a clean exit
    assert launcher._process.returncode == 0
    launcher.close()  # its pid is no longer ours to wait on: nothing happens
    assert launcher._process.returncode == 0


def test_a_launcher_that_does_not_exit_is_left_after_the_timeout(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from hypersweep.execution import launcher as module

    monkeypatch.setattr(module, "CLOSE_TIMEOUT", 0.3)
    launcher = _started(tmp_path)
    os.kill(launcher._process.pid, signal.SIGSTOP)  # cannot read its end-of-file
    try:
        began = time.monotonic()
        launcher.close()
        assert time.monotonic() - began >= 0.3
        assert launcher._process.returncode is None  # not waited on for ever
    finally:
        os.kill(launcher._process.pid, signal.SIGKILL)
        launcher._process.wait(timeout=30)
