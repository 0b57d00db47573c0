"""A trial that replaces the files of its own folder costs that trial alone.

A trial may swap ``stderr.log``, ``metrics.jsonl``, ``exit_status``, ``supervisor.json`` or
``handle.json`` for a FIFO (which would block a reader forever), a link to ``/dev/zero`` (which
never ends), a link to a file outside its folder (whose contents must not leak into the store,
the dashboard or the CLI), a folder, or garbage. Real trial processes, real executors, a real
sweep: the controller's side must neither block, nor read without bound, nor crash, nor show
another file's contents.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from hypersweep import (
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    Workspace,
    choice,
)
from hypersweep.execution import LocalProcessExecutor, TrialSpec

SECRET = "TOP-SECRET-do-not-show"

# Prepended to every trial: where its folder is, and a secret file outside it.
PRELUDE = """\
import json, os, sys, time
TRIAL = os.path.dirname(os.environ["HYPERSWEEP_JOURNAL"])
SECRET_FILE = os.environ["SECRET_FILE"]
def swap(name, how):
    path = os.path.join(TRIAL, name)
    if os.path.lexists(path):
        os.unlink(path)
    if how == "fifo":
        os.mkfifo(path)
    elif how == "dir":
        os.mkdir(path)
    elif how.startswith("link:"):
        os.symlink(how[5:], path)
    elif how == "secret":
        os.symlink(SECRET_FILE, path)
    elif how == "sparse":  # a terabyte of zeros, without a newline, taking no disk
        with open(path, "wb") as f:
            f.truncate(1 << 40)
    elif how == "huge":
        with open(path, "wb") as f:
            f.write(b'{"pid": ' + b"1" * 300_000 + b"}")
    else:
        with open(path, "wb") as f:
            f.write(how.encode())
"""


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A file outside every trial folder, holding a valid journal line and a secret."""
    path = tmp_path / "secret.txt"
    line = {"t": 1.0, "k": "metric", "n": "leaked", "v": 1.0, "s": 0}
    path.write_text(f"{json.dumps(line)}\n{SECRET}\n")
    return path


def spec_for(tmp_path: Path, secret_file: Path, body: str, name: str) -> TrialSpec:
    workdir = tmp_path / f"work-{name}"
    (workdir / "outputs").mkdir(parents=True)
    (workdir / "train.py").write_text(PRELUDE + textwrap.dedent(body))
    env = {"SECRET_FILE": str(secret_file), "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    return TrialSpec(f"HD_hostile_{name}", [sys.executable, "train.py"], env, workdir,
                     tmp_path / f"trial-{name}")


def run_to_exit(ex: LocalProcessExecutor, trial_id: str, timeout: float = 15.0) -> tuple[
        list, object, float]:
    """Poll until the trial's exit; return its records, its exit and the slowest poll (s).

    Each poll runs in a helper thread so a poll that blocks fails the test instead of
    hanging it.
    """
    records: list = []
    slowest = 0.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        recs, exits = in_thread(ex.poll, max(0.1, deadline - started))
        slowest = max(slowest, time.monotonic() - started)
        records += recs.get(trial_id, [])
        for e in exits:
            if e.trial_id == trial_id:
                return records, e, slowest
        time.sleep(0.02)
    raise AssertionError(f"{trial_id} never ended")


def launch_then_lose_the_controller(spec: TrialSpec) -> dict:
    """Launch the trial, wait until it has swapped its files (it touches ``swapped``), then
    let the controller "die" (its executor shuts down, the trial runs on); return the handle."""
    first = LocalProcessExecutor(default_grace=0.5)
    handle = first.launch(spec)
    swapped = Path(spec.trial_dir) / "swapped"
    deadline = time.monotonic() + 20
    while not swapped.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.shutdown(stop_trials=False)
    return handle


def in_thread(call, timeout: float = 10.0):
    """``call()`` in a helper thread; fail (rather than hang) if it does not return in time."""
    result: list = []
    errors: list = []

    def target() -> None:
        try:
            result.append(call())
        except BaseException as err:
            errors.append(err)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"{call} blocked"
    if errors:
        raise errors[0]
    return result[0]


@pytest.fixture
def executor():
    ex = LocalProcessExecutor(default_grace=0.5)
    yield ex
    ex.shutdown(stop_trials=True)


# -- stderr.log ----------------------------------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["fifo", "secret", "link:/dev/zero", "dir"])
def test_a_replaced_stderr_log_neither_blocks_nor_leaks(
    tmp_path: Path, secret_file: Path, executor: LocalProcessExecutor, how: str,
) -> None:
    spec = spec_for(tmp_path, secret_file, f"""
        print("the real error", file=sys.stderr)
        swap("stderr.log", {how!r})
        sys.exit(1)
    """, "stderr")
    executor.launch(spec)
    _, ended, slowest = run_to_exit(executor, spec.trial_id)
    assert ended.exit_code == 1
    assert SECRET not in ended.stderr_tail and "leaked" not in ended.stderr_tail
    assert "\0" not in ended.stderr_tail
    assert "stderr.log" in ended.stderr_tail  # says why there is no tail
    assert slowest < 5


# -- metrics.jsonl -------------------------------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["fifo", "secret", "link:/dev/zero", "link:/dev/urandom", "dir",
                                 "sparse"])
def test_a_replaced_journal_neither_blocks_nor_leaks_nor_floods(
    tmp_path: Path, secret_file: Path, executor: LocalProcessExecutor, how: str,
) -> None:
    spec = spec_for(tmp_path, secret_file, f"""
        swap("metrics.jsonl", {how!r})
        time.sleep(0.5)
    """, "journal")
    executor.launch(spec)
    records, ended, slowest = run_to_exit(executor, spec.trial_id)
    assert ended.exit_code == 0
    assert [r.name for r in records if r.kind == "metric"] == []
    skipped = [r for r in records if r.kind == "skipped"]
    assert len(skipped) <= 1  # said once, not once a poll
    assert all(SECRET not in str(r.value) for r in records)
    if skipped:
        assert "metrics.jsonl" in skipped[0].value
    assert slowest < 5


@pytest.mark.timeout(60)
def test_a_journal_swapped_after_the_first_read_keeps_its_records(
    tmp_path: Path, secret_file: Path, executor: LocalProcessExecutor,
) -> None:
    spec = spec_for(tmp_path, secret_file, """
        from hypersweep.tracking import JournalWriter
        JournalWriter(os.environ["HYPERSWEEP_JOURNAL"]).write("metric", "score", 1.0, step=0)
        time.sleep(0.6)
        swap("metrics.jsonl", "secret")
    """, "swapped")
    executor.launch(spec)
    records, ended, _ = run_to_exit(executor, spec.trial_id)
    assert ended.exit_code == 0
    assert [(r.name, r.value) for r in records if r.kind == "metric"] == [("score", 1.0)]


@pytest.mark.timeout(120)
def test_a_flood_of_journal_lines_is_read_in_bounded_slices(
    tmp_path: Path, secret_file: Path, executor: LocalProcessExecutor,
) -> None:
    lines = 300_000
    spec = spec_for(tmp_path, secret_file, f"""
        line = b'{{"t":1.0,"k":"metric","n":"m","v":1.5}}\\n'
        with open(os.environ["HYPERSWEEP_JOURNAL"], "ab") as f:
            f.write(line * {lines})
        open(os.path.join(TRIAL, "flooded"), "w").close()
        time.sleep(1.0)
    """, "flood")
    executor.launch(spec)
    flooded = Path(spec.trial_dir) / "flooded"
    deadline = time.monotonic() + 30
    while not flooded.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first, _ = executor.poll()
    first_batch = len(first.get(spec.trial_id, []))
    assert 0 < first_batch < lines  # one poll takes a slice, not the whole backlog
    records, ended, _ = run_to_exit(executor, spec.trial_id, timeout=60)
    assert ended.exit_code == 0
    assert first_batch + len(records) == lines  # nothing lost when the trial ends meanwhile


# -- exit_status, supervisor.json, handle.json ----------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["fifo", "link:/dev/zero", "secret"])
def test_a_trial_racing_the_supervisors_temporary_file_neither_hangs_nor_redirects_it(
    tmp_path: Path, secret_file: Path, executor: LocalProcessExecutor, how: str,
) -> None:
    before = secret_file.read_text()
    spec = spec_for(tmp_path, secret_file, f"""
        swap("exit_status.tmp", {how!r})
        sys.exit(3)
    """, "tmp")
    executor.launch(spec)
    _, ended, _ = run_to_exit(executor, spec.trial_id)
    assert ended.exit_code == 3  # the supervisor's record, not a guess
    assert secret_file.read_text() == before  # the write did not follow the link
    record = json.loads((Path(spec.trial_dir) / "exit_status").read_text())
    assert record["exit_code"] == 3


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["fifo", "link:/dev/zero", "secret", "[1, 2]",
                                 '{"pid": "abc"}', "huge"])
def test_replaced_records_do_not_stop_a_restarted_controller(
    tmp_path: Path, secret_file: Path, how: str,
) -> None:
    spec = spec_for(tmp_path, secret_file, f"""
        for name in ("supervisor.json", "handle.json"):
            swap(name, {how!r})
        open(os.path.join(TRIAL, "swapped"), "w").close()
        time.sleep(30)
    """, "records")
    handle = launch_then_lose_the_controller(spec)
    second = LocalProcessExecutor(default_grace=0.5)
    try:
        # a restarted controller that lost the handle asks the trial folder
        assert isinstance(in_thread(lambda: second.launched(spec)), bool)
        found = in_thread(lambda: second.adopt(spec, {}))
        assert found is None or isinstance(found, dict)
    finally:
        second.shutdown(stop_trials=True)
        # a trial whose records name no process cannot be adopted: end it here
        with contextlib.suppress(ProcessLookupError):
            os.killpg(handle["pgid"], signal.SIGKILL)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["fifo", "link:/dev/zero", "secret", "dir", "[1]"])
def test_a_replaced_exit_status_does_not_stop_an_adopting_controller(
    tmp_path: Path, secret_file: Path, how: str,
) -> None:
    spec = spec_for(tmp_path, secret_file, f"""
        swap("exit_status", {how!r})
        open(os.path.join(TRIAL, "swapped"), "w").close()
        time.sleep(1.5)
        sys.exit(4)
    """, "exit")
    # Before the launch, not the handle's launched_at: that is taken once the supervisor is
    # off, and on a loaded machine the trial had run 0.1 s by then.
    before_launch = time.time()
    handle = launch_then_lose_the_controller(spec)
    second = LocalProcessExecutor(default_grace=0.5)
    try:
        assert in_thread(lambda: second.adopt(spec, handle))
        _, ended, slowest = run_to_exit(second, spec.trial_id)
        # the trial's own garbage is no exit: it ran on until its real end, recorded by its
        # supervisor (which cannot replace a folder: the code is then unknown)
        assert ended.exit_code == (None if how == "dir" else 4)
        assert ended.end_time >= before_launch + 1.5
        assert slowest < 5
    finally:
        second.shutdown(stop_trials=True)


# -- a whole sweep --------------------------------------------------------------------------

SWEEP_TRIAL = PRELUDE + """
import argparse
from hypersweep import Run
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=int)
x = parser.parse_args().x
run = Run.get_context()
run.log("score", float(x))
if x == 1:
    swap("metrics.jsonl", "fifo"); swap("stderr.log", "fifo")
elif x == 2:
    swap("metrics.jsonl", "link:/dev/zero"); swap("stderr.log", "secret")
    print("fail", file=sys.stderr); sys.exit(1)
elif x == 3:
    swap("metrics.jsonl", "secret"); swap("exit_status.tmp", "fifo")
elif x == 4:
    swap("supervisor.json", "link:/dev/urandom"); swap("handle.json", "fifo")
    swap("exit_status", "link:/dev/zero")
time.sleep(0.3)
"""


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_sweep_of_hostile_trials_ends_promptly_with_the_others_completed(
    tmp_path: Path, secret_file: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_FILE", str(secret_file))
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(SWEEP_TRIAL)
    ws = Workspace(tmp_path / "ws")
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"x": choice(0, 1, 2, 3, 4, 5)}),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_total_runs=6, max_concurrent_runs=6,
    )
    started = time.monotonic()
    run = Experiment(ws, "hostile").submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    assert time.monotonic() - started < 60
    trials = {t.params["x"]: t for t in ws.store.list_trials(run.id)}
    assert {x: t.status.value for x, t in trials.items()} == {
        0: "Completed", 1: "Completed", 2: "Failed", 3: "Completed", 4: "Completed",
        5: "Completed"}
    assert "stderr.log is not a regular file" in (trials[2].error or "")
    for x in (1, 2, 3):  # each says why its metrics are missing
        warning = ws.store.get_tags(trials[x].id)["hypersweep.journal_warning"]
        assert warning.startswith("the journal metrics.jsonl is not read")
    for x in (0, 4, 5):
        assert [p.value for p in ws.store.get_metrics(trials[x].id, "score")] == [float(x)]
    for trial in trials.values():
        assert SECRET not in (trial.error or "")
        assert not [p for p in ws.store.get_metrics(trial.id) if p.name == "leaked"]
        assert SECRET not in json.dumps(ws.store.get_tags(trial.id))
    assert details["status"] == "Completed"
    assert not [w for w in details.get("warnings", []) if "controller error" in w]


DASK_TRIAL = PRELUDE + """
import argparse
from hypersweep import Run
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=int)
x = parser.parse_args().x
Run.get_context().log("score", float(x))
if x == 1:
    swap("metrics.jsonl", "secret"); swap("stderr.log", "fifo")
    time.sleep(0.6)  # the executor probes the journal meanwhile
    sys.exit(1)
elif x == 2:
    outputs = os.environ["HYPERSWEEP_OUTPUTS"]
    with open(os.path.join(outputs, "model.txt"), "w") as f:
        f.write("weights")
    os.symlink(SECRET_FILE, os.path.join(outputs, "leak.txt"))
    os.mkfifo(os.path.join(outputs, "pipe"))
    swap("stdout.log", "link:/dev/zero")
"""


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_dask_sweep_of_hostile_trials_ends_promptly_and_leaks_nothing(
    tmp_path: Path, secret_file: Path,
) -> None:
    distributed = pytest.importorskip("distributed")
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(DASK_TRIAL)
    ws = Workspace(tmp_path / "ws")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  host="127.0.0.1", dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        config = HyperDriveConfig(
            run_config=ScriptRunConfig(source_directory=source, script="train.py",
                                       environment_variables={"SECRET_FILE": str(secret_file)}),
            hyperparameter_sampling=GridParameterSampling({"x": choice(0, 1, 2)}),
            primary_metric_name="score", primary_metric_goal="maximize",
            max_total_runs=3, max_concurrent_runs=3, executor=cluster.scheduler_address,
        )
        started = time.monotonic()
        run = Experiment(ws, "hostile-dask").submit(config)
        run.wait_for_completion(raise_on_error=False)
        assert time.monotonic() - started < 90
    trials = {t.params["x"]: t for t in ws.store.list_trials(run.id)}
    assert {x: t.status.value for x, t in trials.items()} == {
        0: "Completed", 1: "Failed", 2: "Completed"}
    for trial in trials.values():
        assert SECRET not in (trial.error or "")
        assert not [p for p in ws.store.get_metrics(trial.id) if p.name == "leaked"]
        assert SECRET not in json.dumps(ws.store.get_tags(trial.id))
    outputs = ws.trial_dir(trials[2].id) / "work" / "outputs"
    assert sorted(p.name for p in outputs.iterdir()) == ["model.txt"]
