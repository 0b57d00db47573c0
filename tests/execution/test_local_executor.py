"""LocalProcessExecutor with real processes: argv, env, cwd, logs, exit codes, stop, adopt."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hypersweep.execution import LocalProcessExecutor, TrialSpec

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

Make = Callable[..., TrialSpec]

NASTY_ARGS = [
    "--lr",
    "0.1",
    "a value with spaces",
    'it\'s "quoted"',
    "; rm -rf ~",
    "$(rm -rf ~)",
    "`id`",
    "ünïcødé ✓ 模型",
    "",
    "--",
    "-x",
    "--name=--weird",
    "*",
    "\\n not a newline",
    "line\nbreak",
]


def test_argv_env_cwd_and_outputs_arrive_intact(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    spec = make_spec(
        "import json, os, sys\n"
        "print(json.dumps({'argv': sys.argv[1:], 'cwd': os.getcwd(),\n"
        "    'outputs': os.path.isdir('outputs'), 'env': dict(os.environ)}))\n",
        *NASTY_ARGS,
        env={"MY_VAR": "$HOME and `x`", "HYPERSWEEP_SWEEP_ID": "HD_s"},
    )
    executor.launch(spec)
    exit_ = h.wait_exit(executor, spec.trial_id).exits[spec.trial_id]
    assert exit_.exit_code == 0, exit_.stderr_tail
    seen = json.loads((spec.trial_dir / "stdout.log").read_text())
    assert seen["argv"] == NASTY_ARGS
    assert seen["cwd"] == str(spec.workdir.resolve())
    assert seen["outputs"] is True
    env = seen["env"]
    assert env["MY_VAR"] == "$HOME and `x`"
    assert env["PYTHONUNBUFFERED"] == "1"
    # merged over the controller's environment, its python first (execution.environment)
    assert env["PATH"] == os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])
    assert env["HYPERSWEEP_TRIAL_ID"] == spec.trial_id
    assert env["HYPERSWEEP_SWEEP_ID"] == "HD_s"
    assert env["HYPERSWEEP_JOURNAL"] == str(spec.trial_dir.resolve() / "metrics.jsonl")
    assert env["HYPERSWEEP_OUTPUTS"] == str(spec.workdir.resolve() / "outputs")


def test_stdout_stderr_and_exit_codes(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    ok = make_spec("import sys\nprint('to out')\nprint('to err', file=sys.stderr)\n")
    three = make_spec("import sys\nsys.exit(3)\n")
    boom = make_spec("def f():\n    raise ValueError('diverged at step 7')\nf()\n")
    killed = make_spec("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    missing = TrialSpec(
        "HD_missing", ["/no/such/program", "x"], {}, ok.workdir, ok.trial_dir.parent / "tm"
    )
    specs = [ok, three, boom, killed, missing]
    for s in specs:
        executor.launch(s)
    got = h.drain(executor, lambda g: len(g.exits) == len(specs)).exits
    assert got[ok.trial_id].exit_code == 0
    assert (ok.trial_dir / "stdout.log").read_text() == "to out\n"
    assert (ok.trial_dir / "stderr.log").read_text() == "to err\n"
    assert got[three.trial_id].exit_code == 3
    assert got[boom.trial_id].exit_code == 1
    tail = got[boom.trial_id].stderr_tail
    assert tail.splitlines()[-1] == "ValueError: diverged at step 7"
    assert "Traceback" in tail
    assert got[killed.trial_id].exit_code == -signal.SIGKILL
    assert got[missing.trial_id].exit_code == 127
    assert "/no/such/program" in got[missing.trial_id].stderr_tail
    for s in specs:  # the supervisor left its record
        assert json.loads((s.trial_dir / "exit_status").read_text())["exit_code"] == (
            got[s.trial_id].exit_code
        )
    assert executor.running() == set()


def test_stderr_tail_is_bounded(executor: LocalProcessExecutor, make_spec: Make, h: Any) -> None:
    spec = make_spec(
        "import sys\nfor i in range(5000):\n    print('line', i, 'x' * 50, file=sys.stderr)\n"
        "raise SystemExit('the end')\n"
    )
    executor.launch(spec)
    tail = h.wait_exit(executor, spec.trial_id).exits[spec.trial_id].stderr_tail
    assert len(tail.encode()) <= 4096 and len(tail.splitlines()) <= 40
    assert tail.splitlines()[-1] == "the end"
    assert tail.splitlines()[0].startswith("line ")  # no cut-off first line


# A trial that ends with 0 once the test writes 'go', or with 7 on its own after 60 s.
WAITS_FOR_GO = (
    "import os, time\n"
    "for _ in range(6000):\n"
    "    if os.path.exists('go'):\n"
    "        raise SystemExit(0)\n"
    "    time.sleep(0.01)\n"
    "raise SystemExit(7)\n"
)


def test_launch_and_poll_never_wait_for_the_trial(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    # The trial only ends early when told to after the polls: had launch() or poll() waited
    # for it, it would have ended on its own (exit 7) before 'go' was written. How fast they
    # return is measured by bench/bench_executor.py.
    spec = make_spec(WAITS_FOR_GO)
    executor.launch(spec)
    for _ in range(20):
        _records, exits = executor.poll()
        assert exits == []
    assert executor.running() == {spec.trial_id}
    (spec.workdir / "go").write_text("")
    assert h.wait_exit(executor, spec.trial_id).exits[spec.trial_id].exit_code == 0


def test_journal_records_arrive_in_order_with_the_last_ones(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    spec = make_spec(
        "import time\n"
        "from hypersweep.tracking import get_context\n"
        "run = get_context()\n"
        "assert type(run).__name__ == 'TrialRun', run\n"
        "for i in range(300):\n"
        "    run.log('loss', 1 / (i + 1))\n"
        "    if i % 3 == 0:\n"
        "        run.log('acc', i / 300)\n"
        "    if i == 150:\n"
        "        time.sleep(0.2)  # let a poll see a first batch\n"
        "run.log_row('final', acc=0.99, loss=float('nan'))\n"
        "run.complete()\n"
        "run.log('last', 42)\n"
    )
    executor.launch(spec)
    got = h.wait_exit(executor, spec.trial_id)
    recs = got.records[spec.trial_id]
    assert got.order[-1] == "exit:" + spec.trial_id
    loss = [r for r in recs if r.name == "loss"]
    assert [r.step for r in loss] == list(range(300))
    assert [r.value for r in loss] == [1 / (i + 1) for i in range(300)]
    assert [r.step for r in recs if r.name == "acc"] == list(range(100))
    assert [r.kind for r in recs[-3:]] == ["row", "complete", "metric"]
    assert recs[-1].name == "last" and recs[-1].value == 42
    offsets = [r.offset for r in recs]
    assert offsets == sorted(set(offsets))


def test_stop_kills_the_whole_group(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    spec = make_spec(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        "open('pids', 'w').write(f'{child.pid}\\n')\n"
        "time.sleep(60)\n"
    )
    handle = executor.launch(spec)
    grandchild = int(h.wait_for_file(spec.workdir / "pids"))
    assert h.pid_alive(grandchild) and h.pid_alive(handle["pid"])
    executor.stop(spec.trial_id, grace=5.0)
    exit_ = h.wait_exit(executor, spec.trial_id, timeout=4.0).exits[spec.trial_id]
    assert exit_.exit_code == -signal.SIGTERM
    deadline = time.monotonic() + 2
    while h.pid_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not h.pid_alive(grandchild)
    assert not h.pid_alive(handle["pid"])


def test_stop_escalates_to_sigkill(executor: LocalProcessExecutor, make_spec: Make, h: Any) -> None:
    # The trial notes the SIGTERM, then waits for the test's 'go' and notes that it outlived
    # the SIGTERM; only a SIGKILL after the grace ends it.
    spec = make_spec(
        "import os, signal, time\n"
        "def note_term(*_):\n"
        "    with open('term', 'w') as f:\n"
        "        f.write('1\\n')\n"
        "signal.signal(signal.SIGTERM, note_term)\n"
        "open('ready', 'w').write('1\\n')\n"
        "while not os.path.exists('go'):\n"
        "    time.sleep(0.01)\n"
        "open('outlived-term', 'w').write('1\\n')\n"
        "time.sleep(60)\n"
    )
    handle = executor.launch(spec)
    h.wait_for_file(spec.workdir / "ready")
    executor.stop(spec.trial_id, grace=3.0)
    assert h.pid_alive(handle["pid"])  # stop() sent SIGTERM and returned: it does not wait
    h.wait_for_file(spec.workdir / "term")
    (spec.workdir / "go").write_text("")
    h.wait_for_file(spec.workdir / "outlived-term")  # no SIGKILL came with the SIGTERM
    exit_ = h.wait_exit(executor, spec.trial_id, timeout=10.0).exits[spec.trial_id]
    assert exit_.exit_code == -signal.SIGKILL
    # The SIGKILL spared the supervisor, which recorded how the script ended.
    assert json.loads((spec.trial_dir / "exit_status").read_text())["exit_code"] == -9


def test_stop_of_unknown_or_finished_trial_is_harmless(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    spec = make_spec("pass\n")
    executor.launch(spec)
    h.wait_exit(executor, spec.trial_id)
    executor.stop(spec.trial_id)
    executor.stop("nobody")
    assert executor.poll() == ({}, [])


def test_adopt_after_controller_death(make_spec: Make, h: Any) -> None:
    go_on = make_spec(
        "import os, time\n"
        "from hypersweep.tracking import get_context\n"
        "run = get_context()\n"
        "run.log('a', 1)\n"
        "while not os.path.exists('go'):\n"
        "    time.sleep(0.01)\n"
        "run.log('a', 2)\n"
        "raise SystemExit(5)\n"
    )
    quick = make_spec("import sys\nsys.exit(4)\n")
    a = LocalProcessExecutor()
    h_go = a.launch(go_on)
    h_quick = a.launch(quick)
    first = h.drain(a, lambda g: go_on.trial_id in g.records)
    offset = first.records[go_on.trial_id][-1].offset + 1  # what the old controller ingested
    # Controller A "dies": no shutdown, no stop, its state is simply gone.
    del a
    h.wait_for_file(quick.trial_dir / "exit_status")  # quick ends while nobody watches

    b = LocalProcessExecutor()
    assert b.adopt(go_on, json.loads(json.dumps(h_go)), journal_offset=offset)
    assert b.adopt(quick, h_quick)
    assert b.running() == {go_on.trial_id, quick.trial_id}
    got = h.drain(b, lambda g: quick.trial_id in g.exits)
    assert got.exits[quick.trial_id].exit_code == 4
    assert go_on.trial_id not in got.exits and b.running() == {go_on.trial_id}
    (go_on.workdir / "go").write_text("")
    got = h.drain(b, lambda g: go_on.trial_id in g.exits, into=got)
    assert got.exits[go_on.trial_id].exit_code == 5
    assert [(r.name, r.value, r.step) for r in got.records[go_on.trial_id]] == [("a", 2, 1)]
    b.shutdown()


def test_adopt_and_stop_an_orphan(make_spec: Make, h: Any) -> None:
    spec = make_spec("import time\nopen('ready', 'w').write('1\\n')\ntime.sleep(60)\n")
    a = LocalProcessExecutor()
    handle = a.launch(spec)
    h.wait_for_file(spec.workdir / "ready")
    a.shutdown()  # leaves the trial running
    b = LocalProcessExecutor()
    assert b.adopt(spec, handle) == handle
    b.stop(spec.trial_id, grace=2.0)
    assert h.wait_exit(b, spec.trial_id).exits[spec.trial_id].exit_code == -signal.SIGTERM


def test_adopt_without_a_handle_returns_the_one_found(make_spec: Make, h: Any) -> None:
    """The controller died before recording the handle: the trial's folder names its process,
    and adopt says which, for the controller to record."""
    spec = make_spec("import time\nopen('ready', 'w').write('1\\n')\ntime.sleep(60)\n")
    a = LocalProcessExecutor()
    handle = a.launch(spec)
    h.wait_for_file(spec.workdir / "ready")
    a.shutdown()
    # the supervisor's own record is all the folder holds: no handle.json, no marker left
    assert sorted(p.name for p in spec.trial_dir.iterdir() if p.is_file()) == [
        "stderr.log", "stdout.log", "supervisor.json"]
    b = LocalProcessExecutor()
    found = b.adopt(spec, {})
    assert found is not None and b.running() == {spec.trial_id}
    assert found["executor"] == "local"
    assert (found["pid"], found["start_ticks"]) == (handle["pid"], handle["start_ticks"])
    # where it runs is the supervisor's record's, as the launching executor named it
    recorded = json.loads((spec.trial_dir / "supervisor.json").read_text())
    assert (recorded["host"], recorded["boot_id"]) == (handle["host"], handle["boot_id"])
    b.stop(spec.trial_id, grace=0)
    assert h.wait_exit(b, spec.trial_id).exits[spec.trial_id].exit_code == -signal.SIGKILL


def test_adopt_refuses_dead_or_reused_pids(make_spec: Make, h: Any, tmp_path: Path) -> None:
    spec = make_spec("pass\n")
    spec.trial_dir.mkdir()
    b = LocalProcessExecutor()
    base = json.loads(json.dumps(LocalProcessExecutor().launch(make_spec("pass\n"))))
    # A pid that is alive but another process (our own: start time differs).
    reused = dict(base, pid=os.getpid(), pgid=os.getpid(), start_ticks=1)
    assert not b.adopt(spec, reused)
    # A pid that does not exist, and no exit record.
    dead = dict(base, pid=2**22 + 12345, pgid=2**22 + 12345)
    assert not b.adopt(spec, dead)
    assert b.running() == set()


def test_records_naming_init_or_the_controllers_own_line_are_never_adopted_or_signalled(
        make_spec: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    # A trial can write its folder's records. One naming pid 1 (or the controller, or a
    # process above it) with the right start time must not become a "supervisor" to kill:
    # SIGKILL to the processes under init is every process on the machine.
    from hypersweep.execution.processes import process_start_ticks, signal_trial
    from hypersweep.execution.trial_records import names_a_process

    assert not names_a_process({"pid": 1, "start_ticks": None})
    spec = make_spec("pass\n")
    spec.trial_dir.mkdir()
    executor = LocalProcessExecutor()
    for pid in (1, os.getpid(), os.getppid()):
        record = {"pid": pid, "pgid": pid, "start_ticks": process_start_ticks(pid)}
        (spec.trial_dir / "supervisor.json").write_text(json.dumps(record))
        assert executor.adopt(spec, {}) is None, pid
    assert executor.running() == set()

    def refuse(*args: object) -> None:
        raise AssertionError(f"signalled {args}")

    monkeypatch.setattr(os, "kill", refuse)
    monkeypatch.setattr(os, "killpg", refuse)
    for pid in (0, 1, os.getpid(), os.getppid()):
        signal_trial(pid, signal.SIGKILL)


def test_a_record_naming_a_live_process_that_is_not_the_trials_is_not_adopted(
        make_spec: Make, tmp_path: Path) -> None:
    # Any process outside the controller's line (a database server, say) could be named,
    # with its start time copied from /proc: adopted, a cancel would have killed it.
    import subprocess

    from hypersweep.execution.processes import process_start_ticks

    spec = make_spec("pass\n")
    spec.trial_dir.mkdir()
    with open(tmp_path / "elsewhere.log", "w") as out:
        bystander = subprocess.Popen(["sleep", "30"], stdout=out)
    try:
        pid = bystander.pid
        record = {"pid": pid, "pgid": pid, "start_ticks": process_start_ticks(pid)}
        (spec.trial_dir / "supervisor.json").write_text(json.dumps(record))
        executor = LocalProcessExecutor()
        assert executor.adopt(spec, {}) is None
        assert executor.running() == set() and bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_shutdown_with_stop_trials(make_spec: Make, h: Any) -> None:
    ex = LocalProcessExecutor(default_grace=0.5)
    specs = [make_spec(WAITS_FOR_GO) for _ in range(2)]
    handles = [ex.launch(s) for s in specs]
    ex.shutdown(stop_trials=True)
    assert all(not h.pid_alive(hd["pid"]) for hd in handles)
    _records, exits = ex.poll()  # a last poll reports how they ended
    assert sorted(e.trial_id for e in exits) == sorted(s.trial_id for s in specs)
    # Stopped, not waited for: a trial left to end on its own exits 7.
    assert {e.exit_code for e in exits} == {-signal.SIGTERM}
    with pytest.raises(RuntimeError, match="shut down"):
        ex.launch(make_spec("pass\n"))


def test_launch_errors(executor: LocalProcessExecutor, make_spec: Make, tmp_path: Path) -> None:
    spec = make_spec("import time\ntime.sleep(5)\n")
    with pytest.raises(FileNotFoundError, match="workdir"):
        executor.launch(TrialSpec("x", ["true"], {}, tmp_path / "nope", tmp_path / "t"))
    with pytest.raises(ValueError, match="argv is empty"):
        executor.launch(TrialSpec("y", [], {}, spec.workdir, tmp_path / "t"))
    executor.launch(spec)
    with pytest.raises(ValueError, match="already running"):
        executor.launch(spec)


def test_supervisor_records_itself_where_there_is_no_proc(tmp_path: Path) -> None:
    """Without /proc (macOS) the supervisor still records its pid and group, minus the start
    time that guards against pid reuse, and still runs the command and records its exit."""
    from hypersweep.execution.local import SUPERVISOR, read_exit_record

    hide_proc = (  # both ways of opening a file: open() and os.open (its /proc reads)
        "import builtins, os, runpy, sys\n"
        "def hiding(real):\n"
        "    def fake(path, *a, **k):\n"
        "        if str(path).startswith('/proc'):\n"
        "            raise FileNotFoundError(path)\n"
        "        return real(path, *a, **k)\n"
        "    return fake\n"
        "builtins.open = hiding(builtins.open)\n"
        "os.open = hiding(os.open)\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    code = os.spawnv(os.P_WAIT, sys.executable, [
        sys.executable, "-c", hide_proc, SUPERVISOR, str(tmp_path), "--",
        sys.executable, "-c", "raise SystemExit(3)"])
    assert code == 3
    recorded = json.loads((tmp_path / "supervisor.json").read_text())
    assert recorded["start_ticks"] is None and recorded["pid"] > 0 and recorded["pgid"] > 0
    exit_record = read_exit_record(tmp_path)
    assert exit_record is not None and exit_record[0] == 3
