"""A trial that ends while its folder cannot be written (disk full, folder read-only) keeps its
true end: the supervisor retries the exit record until it can write it, and a controller that
comes back later (adopt, as ``resume`` does) reads the real exit code and end time.

Real processes and a real full file system: a small tmpfs mounted for the test (root), or
a folder made read-only (``chattr +i`` for root, who ignores permission bits; ``chmod``
otherwise).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hypersweep.execution import LocalProcessExecutor, TrialExit, TrialSpec
from hypersweep.execution.processes import same_process_alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

ROOT = os.geteuid() == 0

WAIT_THEN_EXIT = (
    "import os, sys, time\n"
    "while not os.path.exists('go'):\n"
    "    time.sleep(0.01)\n"
    "open('ended.tmp', 'w').write(repr(time.time()))\n"
    "os.replace('ended.tmp', 'ended')\n"
    "sys.exit(7)\n"
)


@contextlib.contextmanager
def full_disk(folder: Path) -> Iterator[Callable[[], Callable[[], None]]]:
    """Mount a 1 MiB tmpfs on ``folder``; yield ``fill()``, which uses up every byte of it and
    returns the undo."""
    if not ROOT:
        pytest.skip("mounting a small file system needs root")
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")

    def fill() -> Callable[[], None]:
        # Unbuffered: a buffered file's close would write again what did not fit, and fail
        # (or not) depending on how much room the trial's files happened to leave.
        fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            for chunk in (65536, 1):  # then the last crumbs, smaller than a chunk
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError as err:
                    assert err.errno == errno.ENOSPC
        finally:
            os.close(fd)

        def free() -> None:
            os.unlink(folder / "filler")

        return free

    try:
        yield fill
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def make_read_only(folder: Path) -> Callable[[], None]:
    """Make ``folder`` refuse new files, even to root; return the undo."""
    if ROOT:
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        if done.returncode:
            pytest.skip(f"chattr +i does not work here: {done.stderr.decode().strip()}")

        def undo() -> None:
            subprocess.run(["chattr", "-i", str(folder)], check=True)

        return undo
    folder.chmod(0o555)
    return lambda: folder.chmod(0o755)


def _spec(tmp_path: Path, trial_dir: Path) -> TrialSpec:
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "train.py").write_text(WAIT_THEN_EXIT)
    return TrialSpec("HD_full_0", [sys.executable, "train.py"], {}, workdir, trial_dir)


def _wait_for(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


@pytest.mark.parametrize("trouble", ["disk-full", "read-only"])
def test_exit_is_recorded_once_the_folder_can_be_written(tmp_path: Path, trouble: str) -> None:
    with contextlib.ExitStack() as stack:
        trial_dir = tmp_path / "mnt" / "trial"
        if trouble == "disk-full":
            block = stack.enter_context(full_disk(tmp_path / "mnt"))
        else:
            def block() -> Callable[[], None]:
                return make_read_only(trial_dir)
        spec = _spec(tmp_path, trial_dir)
        first = LocalProcessExecutor()
        handle = first.launch(spec)
        _wait_for(trial_dir / "supervisor.json")
        first.shutdown()  # the controller goes away (as it does when the disk fills up)

        undo = block()
        try:
            (spec.workdir / "go").write_text("")
            _wait_for(spec.workdir / "ended")
            ended_at = float((spec.workdir / "ended").read_text())
            time.sleep(1.0)
            assert not (trial_dir / "exit_status").exists()
            # The supervisor is still there, waiting for room to record the exit.
            assert same_process_alive(handle["pid"], handle["start_ticks"])
        finally:
            undo()

        second = LocalProcessExecutor()  # a resumed controller finds the trial
        assert second.adopt(spec, handle)
        deadline = time.monotonic() + 30
        exits: list[TrialExit] = []
        while not exits:
            assert time.monotonic() < deadline, "the exit was never recorded"
            _, exits = second.poll()
            second.wait(0.1)
        assert exits[0].exit_code == 7
        assert ended_at <= exits[0].end_time < ended_at + 1.0  # when it ended, not when recorded
        assert not same_process_alive(handle["pid"], handle["start_ticks"])
        if trouble == "read-only":  # stderr.log could still grow: it says what happened
            assert "cannot record the exit" in (trial_dir / "stderr.log").read_text()


def test_a_stop_is_not_held_up_by_an_exit_that_cannot_be_recorded(tmp_path: Path) -> None:
    """While the controller lives, a stopped trial still ends on time: once its processes are
    killed, a supervisor stuck retrying the record is given ``supervisor_patience`` and then
    killed too, and the trial is reported as killed."""
    trial_dir = tmp_path / "trial"
    spec = _spec(tmp_path, trial_dir)
    executor = LocalProcessExecutor(default_grace=0.3)
    executor.supervisor_patience = 1.0
    handle = executor.launch(spec)
    _wait_for(trial_dir / "supervisor.json")
    undo = make_read_only(trial_dir)
    try:
        started = time.monotonic()
        executor.stop(spec.trial_id)
        exits: list[TrialExit] = []
        while not exits:
            assert time.monotonic() - started < 15, "the stopped trial never ended"
            _, exits = executor.poll()
            executor.wait(0.05)
        assert time.monotonic() - started >= 1.3
        assert exits[0].exit_code == -9
        assert not same_process_alive(handle["pid"], handle["start_ticks"])
        assert not (trial_dir / "exit_status").exists()
    finally:
        undo()
        executor.shutdown(stop_trials=True)


WAIT_LOG_EXIT = """\
import os, time
from hypersweep import Run
run = Run.get_context()
run.log("score", 0.5)
while not os.path.exists(os.environ["GO"]):
    time.sleep(0.01)
open(os.environ["GO"] + ".ended", "w").close()
"""


@pytest.mark.slow
def test_resume_records_the_true_end_of_a_trial_whose_folder_was_read_only(
    tmp_path: Path,
) -> None:
    """The whole story with the CLI: the controller dies, the trial's folder cannot be written
    when the trial ends, then it can again, and ``resume`` stores the trial Completed (not
    Failed/orphaned)."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "train.py").write_text(WAIT_LOG_EXIT)
    (root / "sweep.yml").write_text(
        "trial: {command: 'python train.py --x ${{search_space.x}}'}\n"
        "search_space: {x: {type: choice, values: [1]}}\n"
        "sampling_algorithm: grid\n"
        "objective: {primary_metric: score, goal: maximize}\n")
    go = tmp_path / "go"
    env = dict(os.environ, GO=str(go),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for name in ("HYPERSWEEP_WORKSPACE", "HYPERSWEEP_STORE"):
        env.pop(name, None)

    def hs(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["hypersweep", *args], cwd=root, env=env, capture_output=True,
                              text=True, timeout=120)

    started = json.loads(hs("run", "sweep.yml", "--detach", "--json").stdout)
    sweep_id, controller = started["sweep_id"], started["pid"]
    deadline = time.monotonic() + 60
    while not (found := list(root.glob(".hypersweep/**/metrics.jsonl"))) or not (
        found[0].stat().st_size  # it logged: every file it writes to is there
    ):
        assert time.monotonic() < deadline, "the trial never started"
        time.sleep(0.05)
    trial_dir = found[0].parent
    os.kill(controller, signal.SIGKILL)
    undo = make_read_only(trial_dir)
    try:
        go.write_text("")
        _wait_for(go.with_name("go.ended"))
        time.sleep(1.0)
        assert not (trial_dir / "exit_status").exists()
    finally:
        undo()
    resumed = hs("resume", sweep_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    shown = json.loads(hs("show", sweep_id, "--json").stdout)
    [trial] = shown["trials"]
    assert (trial["status"], shown["status"]) == ("Completed", "Completed"), trial


def test_no_retrying_for_a_trial_folder_that_was_removed(tmp_path: Path) -> None:
    """A folder deleted under a running trial will never hold its record: the supervisor
    exits with the command's status at once rather than retry for minutes."""
    from hypersweep.execution.local import SUPERVISOR

    trial_dir = tmp_path / "trial"
    trial_dir.mkdir()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-I", "-S", SUPERVISOR, str(trial_dir), "--",
         "/bin/sh", "-c", f"rm -r '{trial_dir}'; exit 4"],
        capture_output=True, timeout=60)
    assert done.returncode == 4, done.stderr
    assert time.monotonic() - started < 5
