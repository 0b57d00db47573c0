"""Two `resume`s of one sweep at the same instant: exactly one drives, the other says who does.

Real processes race (forked workers released together by a barrier, and `hypersweep resume`
commands released together by a file), on SQLite and on PostgreSQL; a controller that lost
its claim stops before it writes a trial or ends the sweep, whatever the interleaving.
"""

from __future__ import annotations

import json
import multiprocessing
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.sweep.conftest import wait_until

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    HyperDriveRun,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)
from hypersweep.store import Status, TrialRecord

FORK = multiprocessing.get_context("fork")

PAIRS = 20
TRIALS = 2

TRIAL = """
import os, time
from hypersweep import Run
with open(os.environ["LAUNCH_LOG"], "a") as f:
    f.write(os.environ["HYPERSWEEP_TRIAL_ID"] + "\\n")
gate = os.environ.get("TRIAL_GATE")
while gate and not os.path.exists(gate):  # a test holds the trial here until it is ready
    time.sleep(0.02)
time.sleep(float(os.environ.get("TRIAL_PAUSE", "0")))
Run.get_context().log("score", 1.0)
"""


def _config(source: Path, total: int = TRIALS, concurrent: int = TRIALS) -> HyperDriveConfig:
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=3),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_total_runs=total, max_concurrent_runs=concurrent)


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "train.py").write_text(TRIAL)
    return source


def _dead_owner_token() -> str:
    """The owner token of a controller process that has ended (as after a kill -9)."""
    done = subprocess.run(
        [sys.executable, "-c",
         "from hypersweep.engine.lease import new_owner_token; print(new_owner_token())"],
        capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


def _race_worker(name: str, ws_path: str, store_url: str | None, sweep_ids: list[str],
                 dead_owner: str, barrier: Any, out: Any) -> None:
    """Resume each sweep at the barrier's release; report whether this process drove it."""
    from hypersweep.store import utcnow

    workspace = Workspace(ws_path, store=store_url)
    experiment = Experiment(workspace, "race")
    for number, sweep_id in enumerate(sweep_ids):
        if name == "a" and number % 2:
            # Odd rounds: the sweep's last controller was killed a moment ago; its heartbeat
            # is still fresh, and only its pid tells that it is dead.
            workspace.store.update_sweep(sweep_id, status=Status.RUNNING, start_time=utcnow(),
                                         controller=dead_owner, heartbeat_time=utcnow())
        barrier.wait(timeout=120)
        run = HyperDriveRun(experiment, sweep_id)
        try:
            run.resume()
        except Exception as err:  # the report says what it was
            out.put((sweep_id, name, "refused", f"{type(err).__name__}: {err}"))
            continue
        try:
            status = run.wait_for_completion(raise_on_error=False)["status"]
        except Exception as err:  # a controller that stopped mid-sweep
            status = f"{type(err).__name__}: {err}"
        out.put((sweep_id, name, "drove", status))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """None for the workspace's SQLite file, else a fresh PostgreSQL database."""
    return request.getfixturevalue("postgres_url") if request.param == "postgres" else None


def _check_sweep_ran_once(workspace: Workspace, sweep_id: str, launches: Counter[str]) -> None:
    sweep = workspace.store.get_sweep(sweep_id)
    trials = workspace.store.list_trials(sweep_id)
    assert sweep.status == Status.COMPLETED, (sweep_id, sweep.status, sweep.warnings)
    assert sweep.controller is None
    assert [t.index for t in trials] == list(range(TRIALS))
    assert all(t.status == Status.COMPLETED and t.end_time is not None for t in trials), trials
    assert {t.id: launches[t.id] for t in trials} == {t.id: 1 for t in trials}


@pytest.mark.slow
def test_simultaneous_resumes_exactly_one_drives(tmp_path: Path, store_url: str | None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    source = _source(tmp_path)
    workspace = Workspace(tmp_path / "ws", store=store_url)
    experiment = Experiment(workspace, "race")
    sweep_ids = [experiment.submit(_config(source), start=False).id for _ in range(PAIRS)]
    launch_log = tmp_path / "launches.txt"
    monkeypatch.setenv("LAUNCH_LOG", str(launch_log))
    dead_owner = _dead_owner_token()
    barrier, out = FORK.Barrier(2), FORK.Queue()
    workers = {
        name: FORK.Process(target=_race_worker, args=(
            name, str(tmp_path / "ws"), store_url, sweep_ids, dead_owner, barrier, out))
        for name in ("a", "b")
    }
    for worker in workers.values():
        worker.start()
    outcomes: dict[str, dict[str, tuple[str, str]]] = {sid: {} for sid in sweep_ids}
    try:
        for _ in range(2 * PAIRS):
            sweep_id, name, outcome, detail = out.get(timeout=180)
            outcomes[sweep_id][name] = (outcome, detail)
    finally:
        for worker in workers.values():
            worker.join(timeout=60)
            if worker.exitcode is None:
                worker.kill()
    pids = {name: worker.pid for name, worker in workers.items()}
    assert all(worker.exitcode == 0 for worker in workers.values())
    host = socket.gethostname()
    launches = Counter(launch_log.read_text().split())
    # every round that went wrong, so that a failure shows how often and how
    wrong = {sid: by_worker for sid, by_worker in outcomes.items()
             if sorted(outcome for outcome, _ in by_worker.values()) != ["drove", "refused"]}
    assert not wrong, f"{len(wrong)} of {PAIRS} rounds did not have one driver: {wrong}"
    for sweep_id, by_worker in outcomes.items():
        winner = next(n for n, (outcome, _) in by_worker.items() if outcome == "drove")
        loser = "b" if winner == "a" else "a"
        assert by_worker[winner][1] == "Completed", (sweep_id, by_worker)
        message = by_worker[loser][1]
        assert message == (f"SweepBusyError: sweep {sweep_id} is driven by a live controller "
                           f"({host}, pid {pids[winner]})"), (sweep_id, message)
        _check_sweep_ran_once(workspace, sweep_id, launches)
    assert sum(launches.values()) == PAIRS * TRIALS


# ---------------------------------------------------------------- the command line

RACER = """
import os, sys, time
from hypersweep.cli import cli
import hypersweep.api.sweep_run, hypersweep.controller, hypersweep.execution  # warm, not raced
go = sys.argv[1]
open(f"{go}.ready.{os.getpid()}", "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
cli.main(sys.argv[2:], prog_name="hypersweep")
"""


@pytest.mark.slow
def test_two_resume_commands_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`hypersweep resume` twice at once: one drives, the other exits 1 with one line."""
    source = _source(tmp_path)
    workspace = Workspace(tmp_path / "ws")
    experiment = Experiment(workspace, "race")
    launch_log = tmp_path / "launches.txt"
    monkeypatch.setenv("LAUNCH_LOG", str(launch_log))
    monkeypatch.setenv("TRIAL_PAUSE", "1.0")  # the sweep outlasts any lag of the loser's start
    racer = tmp_path / "racer.py"
    racer.write_text(RACER)
    host = socket.gethostname()
    for pair in range(2):  # the 20 pairs above race the same code; these check the CLI
        sweep_id = experiment.submit(_config(source), start=False).id
        go = tmp_path / f"go{pair}"
        procs = [subprocess.Popen(
            [sys.executable, str(racer), str(go), "resume", sweep_id, "--json",
             "--workspace", str(tmp_path / "ws")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        ready = f"{go.name}.ready.*"
        wait_until(lambda ready=ready: len(list(tmp_path.glob(ready))) == 2, timeout=60)
        go.touch()  # both have imported the CLI and wait for this
        results = [(p.pid, *p.communicate(timeout=120), p.returncode) for p in procs]
        winners = [r for r in results if r[3] == 0]
        losers = [r for r in results if r[3] != 0]
        assert len(winners) == 1 and len(losers) == 1, results
        assert json.loads(winners[0][1])["status"] == "Completed"
        assert losers[0][3] == 1 and losers[0][1] == ""
        assert losers[0][2] == (f"error: sweep {sweep_id} is driven by a live controller "
                                f"({host}, pid {winners[0][0]})\n")
        _check_sweep_ran_once(workspace, sweep_id, Counter(launch_log.read_text().split()))


# ---------------------------------------------------------------- liveness of the owner

def test_a_live_controller_is_refused_with_its_host_and_pid(tmp_path: Path) -> None:
    from hypersweep.errors import SweepBusyError
    from hypersweep.store import utcnow

    workspace = Workspace(tmp_path / "ws")
    run = Experiment(workspace, "race").submit(_config(_source(tmp_path)), start=False)
    live = subprocess.Popen(  # a controller's process, alive: it holds the sweep
        [sys.executable, "-c", "import time\nfrom hypersweep.engine.lease import new_owner_token"
                               "\nprint(new_owner_token(), flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert live.stdout is not None
        token = live.stdout.readline().strip()
        workspace.store.update_sweep(run.id, status=Status.RUNNING, start_time=utcnow(),
                                     controller=token, heartbeat_time=utcnow())
        with pytest.raises(SweepBusyError) as caught:
            HyperDriveRun(run.experiment, run.id).resume()
        assert str(caught.value) == (f"sweep {run.id} is driven by a live controller "
                                     f"({socket.gethostname()}, pid {live.pid})")
        assert workspace.store.get_sweep(run.id).controller == token
        done = subprocess.run(["hypersweep", "resume", run.id, "--workspace", str(tmp_path / "ws")],
                              capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", f"error: {caught.value}\n")
        # the background process of `resume --detach`, when it loses: one line in its log
        detached = subprocess.run(
            [sys.executable, "-m", "hypersweep.cli._drive", str(tmp_path / "ws"),
             workspace.store_url, run.id], capture_output=True, text=True, timeout=60)
        assert (detached.returncode, detached.stdout + detached.stderr) == (
            1, f"error: {caught.value}\n")
    finally:
        live.kill()
        live.wait()


def test_resume_takes_over_at_once_from_a_reused_pid(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The owner's pid runs, but it is another process now (pid reuse): the owner is dead."""
    from hypersweep.controller import SweepController
    from hypersweep.engine.lease import new_owner_token, parse_owner_token
    from hypersweep.store import utcnow

    monkeypatch.setenv("LAUNCH_LOG", str(tmp_path / "launches.txt"))
    workspace = Workspace(tmp_path / "ws")
    run = Experiment(workspace, "race").submit(_config(_source(tmp_path)), start=False)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        mine = parse_owner_token(new_owner_token())
        assert mine.start_ticks is not None, "needs /proc to tell processes apart"
        # The token a controller with the sleeper's pid would have written long ago.
        token = f"{socket.gethostname()}:{sleeper.pid}:{mine.start_ticks - 1}:deadbeef"
        assert not parse_owner_token(token).alive()
        workspace.store.update_sweep(run.id, status=Status.RUNNING, start_time=utcnow(),
                                     controller=token, heartbeat_time=utcnow())
        started = time.monotonic()
        run.resume()
        assert run.wait_for_completion()["status"] == "Completed"
        # no wait for the dead owner's heartbeat to go stale
        assert time.monotonic() - started < SweepController.stale_after
    finally:
        sleeper.kill()
        sleeper.wait()


# ---------------------------------------------------------------- a controller that lost it

def _drive_until_first_trial(
    tmp_path: Path, total: int,
) -> tuple[Workspace, Any, threading.Thread, list[BaseException]]:
    """A controller driving ``total`` trials one at a time; its first one is running."""
    from hypersweep.controller import SweepController
    from hypersweep.execution import LocalProcessExecutor

    workspace = Workspace(tmp_path / "ws")
    config = _config(_source(tmp_path), total=total, concurrent=1)
    run = Experiment(workspace, "lost").submit(config, start=False)
    controller = SweepController(workspace.store, LocalProcessExecutor(), run.id, workspace.path)
    controller.heartbeat_interval = 3600.0  # it beats once: only its writes can notice the loss
    errors: list[BaseException] = []

    def drive() -> None:
        try:
            controller.run()
        except BaseException as err:  # the test asserts there is none
            errors.append(err)
        finally:
            controller.executor.shutdown(stop_trials=False)

    thread = threading.Thread(target=drive)
    thread.start()
    wait_until(lambda: [t.status for t in workspace.store.list_trials(run.id)] == [Status.RUNNING]
               and workspace.store.list_trials(run.id)[0].handle is not None)
    return workspace, controller, thread, errors


@pytest.mark.parametrize("case", ["next index taken", "next index free", "last trial"])
def test_a_controller_that_lost_its_claim_stops_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str,
) -> None:
    """Taken over while its trial ran: it neither writes the next trial nor ends the sweep."""
    from hypersweep.store import utcnow

    monkeypatch.setenv("LAUNCH_LOG", str(tmp_path / "launches.txt"))
    gate = tmp_path / "gate"
    monkeypatch.setenv("TRIAL_GATE", str(gate))
    total = 1 if case == "last trial" else 3
    workspace, controller, thread, errors = _drive_until_first_trial(tmp_path, total)
    store, sweep_id = workspace.store, controller.sweep_id
    thief = f"elsewhere:4242:1:{'ab' * 4}"
    store.update_sweep(sweep_id, controller=thief, heartbeat_time=utcnow())
    thief_created_next = case == "next index taken"
    if thief_created_next:  # the new controller already wrote the next trial
        store.create_trial(TrialRecord(f"{sweep_id}_1", sweep_id, 1, {"x": 0.5},
                                       Status.QUEUED, utcnow()))
    gate.touch()  # trial 0 ends; the old controller wants to start trial 1, or end the sweep
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert errors == []
    sweep = store.get_sweep(sweep_id)
    assert not any("controller error" in w for w in sweep.warnings), sweep.warnings
    assert sweep.controller == thief and sweep.status == Status.RUNNING
    assert sweep.end_time is None
    trials = store.list_trials(sweep_id)
    assert [t.index for t in trials] == ([0, 1] if thief_created_next else [0])
    assert trials[0].status == Status.COMPLETED
    if thief_created_next:
        assert trials[1].status == Status.QUEUED and trials[1].handle is None
    assert (tmp_path / "launches.txt").read_text().split() == [f"{sweep_id}_0"]


# ---------------------------------------------------------------- an ended sweep

def test_resume_of_an_ended_sweep_points_to_resume_from(tmp_path: Path) -> None:
    from hypersweep.errors import SweepEndedError

    workspace = Workspace(tmp_path / "ws")
    run = Experiment(workspace, "ended").submit(_config(_source(tmp_path)), start=False)
    run.cancel()
    run.resume()  # a cancel before the start: the controller ends it Canceled at once
    assert run.wait_for_completion(raise_on_error=False)["status"] == "Canceled"
    with pytest.raises(SweepEndedError) as caught:
        run.resume()
    message = str(caught.value)
    assert message.startswith(f"sweep {run.id} has already ended (Canceled)")
    assert f"resume_from=[{run.id!r}]" in message and "\n" not in message
    done = subprocess.run(
        ["hypersweep", "resume", run.id, "--workspace", str(tmp_path / "ws")],
        capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"error: {message}\n"
