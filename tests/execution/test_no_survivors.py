"""A stopped or finished trial leaves no process behind: SIGTERM-ignoring shells, children and
grandchildren, and grandchildren that left the trial's process group with ``setsid``.

Every process a trial starts carries a unique marker in its environment; after the trial's exit
is reported (or after the whole sweep ends) ``/proc`` is scanned for the marker. Real processes,
real signals, the real CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from hypersweep.execution import LocalProcessExecutor, TrialSpec

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

#: Each tagged process notes its pid in $STRAY_PIDLOG, then misbehaves as its mode says.
STRAY = """\
import os, signal, sys, time

mode = sys.argv[1]
then_exit = sys.argv[2:] == ["exit"]


def note(who):
    with open(os.environ["STRAY_PIDLOG"], "a") as f:
        f.write(f"{os.getpid()} {who}\\n")
    open(f"ready-{who}", "w").close()  # in the trial's folder: its shell may wait for it


if os.environ.get("HYPERSWEEP_JOURNAL"):
    from hypersweep import Run
    Run.get_context().log("score", 1.0)  # the sweep has a primary metric to rank by
if mode == "ignore":  # SIGTERM means nothing to this one
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
elif mode in ("setsid", "setsid-ignore", "daemon"):
    # The child leaves the trial's process group (and session): a group signal misses it.
    if os.fork() == 0:
        os.setsid()
        if mode == "daemon" and os.fork() > 0:  # the classic double fork: orphan the worker
            os._exit(0)
        if mode != "setsid":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        note(mode + "-child")
        time.sleep(1000)
        os._exit(0)
    while not os.path.exists(f"ready-{mode}-child"):
        time.sleep(0.01)
note(mode)
if mode == "log" or then_exit:
    sys.exit(0)
time.sleep(1000)
"""

#: The shell side of each kind of trial; ``(script, tagged processes it starts)``.
KINDS = {
    # The shell itself ignores SIGTERM (and so does what it runs).
    "trap": ("trap '' TERM; python stray.py sleep; true", 1),
    # The shell dies on SIGTERM, its foreground child ignores it.
    "fg-ignore": ("python stray.py ignore; true", 1),
    # A background grandchild ignores SIGTERM.
    "bg-ignore": ("python stray.py ignore & python stray.py sleep; true", 2),
    # A grandchild in its own session, which would die of SIGTERM if it ever got one.
    "setsid": ("python stray.py setsid; true", 2),
    # A grandchild in its own session that ignores SIGTERM too.
    "setsid-ignore": ("python stray.py setsid-ignore; true", 2),
    # A double-forked daemon: orphaned at once, in its own session, deaf to SIGTERM.
    "daemon": ("python stray.py daemon; true", 2),
}


def tagged_pids(marker: str) -> list[int]:
    """Live processes whose environment carries ``marker`` (zombies have no environment)."""
    needle = f"STRAY_MARK={marker}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if needle in env:
            found.append(int(name))
    return found


def describe(pids: list[int]) -> list[str]:
    out = []
    for pid in pids:
        with contextlib.suppress(OSError):
            out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
    return out


def noted(pidlog: Path) -> list[str]:
    return pidlog.read_text().splitlines() if pidlog.exists() else []


def wait_noted(pidlog: Path, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(noted(pidlog)) < count:
        assert time.monotonic() < deadline, f"only {noted(pidlog)} started"
        time.sleep(0.02)


class Trials:
    """Shell-command trials tagged with a marker, on a LocalProcessExecutor."""

    def __init__(self, tmp_path: Path, grace: float) -> None:
        self.tmp = tmp_path
        self.marker = uuid.uuid4().hex
        self.pidlog = tmp_path / "pids.txt"
        self.ex = LocalProcessExecutor(default_grace=grace)
        self.count = 0

    def launch(self, script: str) -> TrialSpec:
        self.count += 1
        workdir = self.tmp / f"work{self.count}"
        workdir.mkdir()
        (workdir / "stray.py").write_text(STRAY)
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        spec = TrialSpec(f"HD_stray_{self.count}", ["/bin/sh", "-c", script],
                         {"STRAY_MARK": self.marker, "STRAY_PIDLOG": str(self.pidlog),
                          "PATH": path},
                         workdir, self.tmp / f"trial{self.count}")
        self.ex.launch(spec)
        return spec

    def wait_exit(self, trial_id: str, timeout: float = 30.0) -> tuple[int | None, float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, exits = self.ex.poll()
            for e in exits:
                if e.trial_id == trial_id:
                    return e.exit_code, time.monotonic()
            self.ex.wait(0.05)
        raise AssertionError(f"{trial_id} did not end")


@pytest.fixture
def trials(tmp_path: Path):  # type: ignore[no-untyped-def]
    t = Trials(tmp_path, grace=0.5)
    yield t
    t.ex.shutdown(stop_trials=True)
    for pid in tagged_pids(t.marker):  # never leave strays on the machine, pass or fail
        os.kill(pid, 9)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_stop_leaves_no_process_behind(trials: Trials, kind: str) -> None:
    script, count = KINDS[kind]
    spec = trials.launch(script)
    wait_noted(trials.pidlog, count)
    assert len(tagged_pids(trials.marker)) >= count + 1  # the supervisor carries it too
    stopped = time.monotonic()
    trials.ex.stop(spec.trial_id, grace=0.5)
    code, ended = trials.wait_exit(spec.trial_id)
    left = tagged_pids(trials.marker)
    assert left == [], f"{kind}: still running after the exit was reported: {describe(left)}"
    # The recorded exit is the shell's own: SIGKILLed if it ignored SIGTERM, else SIGTERMed.
    assert code == (-9 if kind == "trap" else -15)
    record = json.loads((spec.trial_dir / "exit_status").read_text())
    assert record["exit_code"] == code
    assert ended - stopped < 10


#: Trials whose command ends by itself (status 3) but leaves processes running.
FINISHED = {
    "bg-ignore": "python stray.py ignore & while [ ! -e ready-ignore ]; do sleep 0.01; done",
    "setsid-ignore": "python stray.py setsid-ignore exit",
    "daemon": "python stray.py daemon exit",
}


@pytest.mark.parametrize("kind", sorted(FINISHED))
def test_a_finished_trial_leaves_no_process_behind(trials: Trials, kind: str) -> None:
    """The trial is over when its command ends: what it left running is ended too (SIGTERM,
    then SIGKILL after the grace) before its exit is recorded, with the command's own status."""
    spec = trials.launch(FINISHED[kind] + "; exit 3")
    code, _ = trials.wait_exit(spec.trial_id)
    assert len(noted(trials.pidlog)) >= 1
    left = tagged_pids(trials.marker)
    assert left == [], f"{kind}: still running after the exit was reported: {describe(left)}"
    assert code == 3
    record = json.loads((spec.trial_dir / "exit_status").read_text())
    assert record["exit_code"] == 3


def test_leftovers_get_sigterm_before_sigkill(trials: Trials) -> None:
    """A leftover that handles SIGTERM gets the chance to (a group signal never reaches a
    process in its own session)."""
    handler = (
        "import os, signal, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    def bye(*_):\n"
        "        open('said-goodbye', 'w').write('1')\n"
        "        os._exit(0)\n"
        "    signal.signal(signal.SIGTERM, bye)\n"
        "    open('ready', 'w').write('1')\n"
        "    time.sleep(1000)\n"
        "while not os.path.exists('ready'):\n"
        "    time.sleep(0.01)\n"
    )
    spec = trials.launch(f"python -c {shlex.quote(handler)}")
    assert trials.wait_exit(spec.trial_id)[0] == 0
    assert (spec.workdir / "said-goodbye").exists()
    assert tagged_pids(trials.marker) == []


# ----------------------------------------------------------------------- whole sweeps (CLI)
KINDS_SH = """\
case "$1" in
  trap) trap '' TERM; python stray.py sleep ;;
  fg-ignore) python stray.py ignore ;;
  bg-ignore) python stray.py ignore & python stray.py sleep ;;
  setsid) python stray.py setsid ;;
  setsid-ignore) python stray.py setsid-ignore ;;
  daemon) python stray.py daemon ;;
  leftover) python stray.py ignore & while [ ! -e ready-ignore ]; do sleep 0.01; done ;;
esac
true
"""

SWEEP = """\
trial:
  command: sh kinds.sh ${{{{search_space.kind}}}}
search_space:
  kind: {{type: choice, values: {kinds}}}
sampling_algorithm: grid
objective: {{primary_metric: score, goal: maximize}}
limits: {{max_concurrent_trials: {n}{limits}}}
"""


def _project(tmp_path: Path, kinds: list[str], limits: str = "") -> tuple[Path, dict[str, str]]:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "stray.py").write_text(STRAY)
    (root / "kinds.sh").write_text(KINDS_SH)
    (root / "sweep.yml").write_text(SWEEP.format(kinds=json.dumps(kinds), n=len(kinds),
                                                 limits=limits))
    env = dict(os.environ, STRAY_MARK=uuid.uuid4().hex, STRAY_PIDLOG=str(tmp_path / "pids.txt"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for name in ("HYPERSWEEP_WORKSPACE", "HYPERSWEEP_STORE"):
        env.pop(name, None)
    return root, env


def _hs(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["hypersweep", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)


def _trials(root: Path, env: dict[str, str], sweep_id: str) -> dict[str, tuple[str, str]]:
    shown = json.loads(_hs(root, env, "show", sweep_id, "--json").stdout)
    return {t["hyperparameters"]["kind"]: (t["status"], t["termination_reason"])
            for t in shown["trials"]}


def _assert_no_survivors(env: dict[str, str], controller_pid: int | None = None) -> None:
    if controller_pid is not None:  # the controller carries the marker too: let it finish
        deadline = time.monotonic() + 30
        while os.path.exists(f"/proc/{controller_pid}") and time.monotonic() < deadline:
            time.sleep(0.05)
    left = tagged_pids(env["STRAY_MARK"])
    for pid in left:
        os.kill(pid, 9)
    assert left == [], f"still running after the sweep ended: {describe(left)}"


@pytest.mark.slow
def test_sweep_stopped_by_trial_timeout_leaves_no_process(tmp_path: Path) -> None:
    kinds = ["trap", "fg-ignore", "bg-ignore", "setsid", "setsid-ignore", "daemon"]
    root, env = _project(tmp_path, kinds, ", trial_timeout: 6")
    try:
        done = _hs(root, env, "run", "sweep.yml", "--json")
        sweep_id = json.loads(done.stdout)["sweep_id"]
        assert len(noted(Path(env["STRAY_PIDLOG"]))) == sum(KINDS[k][1] for k in kinds)
        assert _trials(root, env, sweep_id) == {k: ("Canceled", "trial_timeout") for k in kinds}
    finally:
        _assert_no_survivors(env)


@pytest.mark.slow
def test_canceled_sweep_leaves_no_process(tmp_path: Path) -> None:
    kinds = ["trap", "fg-ignore", "bg-ignore", "setsid", "setsid-ignore", "daemon", "leftover"]
    root, env = _project(tmp_path, kinds)
    pid = None
    try:
        started = json.loads(_hs(root, env, "run", "sweep.yml", "--detach", "--json").stdout)
        sweep_id, pid = started["sweep_id"], started["pid"]
        wait_noted(Path(env["STRAY_PIDLOG"]), sum(KINDS[k][1] for k in kinds[:-1]) + 1, 60)
        canceled = _hs(root, env, "cancel", sweep_id, "--wait", "--json")
        assert json.loads(canceled.stdout)["status"] == "Canceled", canceled
        trials = _trials(root, env, sweep_id)
        assert trials.pop("leftover")[0] in ("Completed", "Canceled")  # it may end first
        assert trials == {k: ("Canceled", "user_cancel") for k in kinds[:-1]}
    finally:
        _assert_no_survivors(env, pid)


def test_dask_supervisor_kills_everything_when_its_worker_dies(tmp_path: Path) -> None:
    """The Dask-side supervisor, whose worker vanished (its lifeline pipe closed), ends every
    process of the trial at once, including one that left the group and ignores SIGTERM."""
    from hypersweep.execution._dask_worker import SUPERVISOR as DASK_SUPERVISOR

    marker, pidlog = uuid.uuid4().hex, tmp_path / "pids.txt"
    (tmp_path / "stray.py").write_text(STRAY)
    read_end, write_end = os.pipe()
    env = dict(os.environ, STRAY_MARK=marker, STRAY_PIDLOG=str(pidlog),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("HYPERSWEEP_JOURNAL", None)
    supervisor = subprocess.Popen(
        [sys.executable, "-I", "-S", DASK_SUPERVISOR, str(tmp_path), str(read_end), "--",
         "/bin/sh", "-c", KINDS["setsid-ignore"][0]],
        cwd=tmp_path, env=env, pass_fds=(read_end,), start_new_session=True)
    os.close(read_end)
    try:
        wait_noted(pidlog, 2)
        os.close(write_end)  # the worker dies
        status = supervisor.wait(timeout=10)
        left = tagged_pids(marker)
        assert left == [], f"still running after the worker died: {describe(left)}"
        assert status == 128 + 9  # the supervisor itself lived to record the end
        assert json.loads((tmp_path / "exit_status").read_text())["exit_code"] == -9
    finally:
        for pid in tagged_pids(marker):
            os.kill(pid, 9)
