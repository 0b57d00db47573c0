"""No value a trial logs, and nothing it writes into its journal, can crash the controller.

Real sweeps of real scripts: a trial that logs values the store cannot hold gets a clear
``MetricValueError``; a trial that writes garbage straight into its journal file gets its good
metrics stored and a warning tag, and the sweep ends. `resume` re-reads such a journal without
crashing, and `cancel` then ends the sweep (it stayed ``CancelRequested`` forever before).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.sweep.conftest import wait_until

from hypersweep import (
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    ScriptRunConfig,
    Sweep,
    Workspace,
    choice,
)

pytestmark = pytest.mark.slow

JOURNAL_WARNING_TAG = "hypersweep.journal_warning"

# Lines a script could write into its own journal; none of them can be stored.
GARBAGE = [
    b'{"t":1,"k":"metric","n":"score","v":1' + b"0" * 400 + b"}",  # an int beyond float range
    b'{"t":1,"k":"list","n":"l","v":[1' + b"0" * 400 + b"]}",
    b'{"t":1,"k":"metric","n":"score","v":1,"s":18446744073709551616}',  # step 2**64
    b'{"t":1e999,"k":"metric","n":"score","v":1}',
    b'{"t":NaN,"k":"metric","n":"score","v":1}',
    b'{"t":-1e12,"k":"metric","n":"score","v":1}',
    b'{"t":1,"k":"metric","n":"\\ud800","v":1}',  # a lone surrogate, escaped
    b'{"t":1,"k":"metric","n":"score","v":"\\udfff"}',
    b'{"t":1,"k":"metric","n":"\xed\xa0\x80","v":1}',  # ... and as raw bytes
    b'{"t":1,"k":"metric","n":"a\\u0000b","v":1}',  # NUL: PostgreSQL keeps no such text
    b'{"t":1,"k":"tag","n":"' + b"k" * 300 + b'","v":"x"}',
    b'{"t":1,"k":"metric","n":"score","v":' + b"[" * 100_000,  # nesting past any limit
    b"\xff\xfe not even UTF-8",
    b"{not json",
    b'{"t":1,"k":"list","n":"l","v":[' + b"1," * 100_000 + b"1]}",  # more values than a list takes
    b'{"t":1,"k":"list","n":"big","v":[' + b"1," * (9 << 20) + b"1]}",  # 18 MB: over the limit
]

TRIAL = """
import argparse, math, os, time
from hypersweep import Run
from hypersweep.tracking.storable import MetricValueError
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
p.add_argument("--ticks", type=int, default=0)
a = p.parse_args()
run = Run.get_context()
refused = []
for call in (lambda: run.log("m", 10**400), lambda: run.log_list("l", [10**400]),
             lambda: run.log("m", 1.0, step=2**64), lambda: run.log("\\ud800", 1.0),
             lambda: run.log_row("r", v=-10**400), lambda: run.tag("t", "\\x00")):
    try:
        call()
    except MetricValueError as err:
        refused.append(str(err).split(":")[0])
run.tag("refused", "|".join(refused))
with open(os.environ["HYPERSWEEP_JOURNAL"], "ab") as journal:
    journal.write(open(os.environ["GARBAGE"], "rb").read())
for step in range(3):
    run.log("score", a.x + step)
run.log("loss", math.nan)
run.log("loss", math.inf)
for tick in range(a.ticks):  # a long trial: a controller may be killed and resumed meanwhile
    run.log("tick", tick)
    time.sleep(0.1)
"""


@pytest.fixture
def garbage_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "garbage.bin"
    path.write_bytes(b"".join(line + b"\n" for line in GARBAGE))
    monkeypatch.setenv("GARBAGE", str(path))
    return path


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    """Exceptions that end any thread (the controller runs in one) during the test."""
    errors: list[BaseException] = []

    def hook(args: threading.ExceptHookArgs) -> None:
        errors.append(args.exc_value or RuntimeError("thread died"))

    monkeypatch.setattr(threading, "excepthook", hook)
    yield errors


def trial_config(source: Path, xs: list[float], ticks: int = 0) -> HyperDriveConfig:
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py",
                                   arguments=["--ticks", ticks]),
        hyperparameter_sampling=GridParameterSampling({"x": choice(*xs)}),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_total_runs=len(xs), max_concurrent_runs=len(xs),
    )


def check_trial(store, trial_id: str, x: float) -> None:
    """The trial's good metrics are stored once each, and its skipped lines are reported."""
    assert [p.value for p in store.get_metrics(trial_id, "score")] == [x, x + 1, x + 2]
    loss = [p.value for p in store.get_metrics(trial_id, "loss")]
    assert len(loss) == 2 and math.isnan(loss[0]) and loss[1] == math.inf
    names = {p.name for p in store.get_metrics(trial_id)}
    assert names <= {"score", "loss", "tick"}, names
    tags = store.get_tags(trial_id)
    assert tags["refused"] == "|".join(
        ["metric 'm'", "metric 'l'", "metric 'm'", "metric name '\\ud800' is not valid text",
         "metric 'r'", "tag 't'"])
    warning = tags[JOURNAL_WARNING_TAG]
    assert warning.startswith(f"{len(GARBAGE)} journal lines skipped, the last at byte ")
    assert "more than the" in warning  # the last garbage line is the enormous one


def test_trial_logging_unstorable_values_and_garbage_completes(
    experiment: Experiment, make_source, garbage_file: Path,
    thread_errors: list[BaseException],
) -> None:
    source = make_source(TRIAL)
    run = experiment.submit(trial_config(source, [0.25, 0.5]))
    details = run.wait_for_completion()
    assert details["status"] == "Completed"
    assert not [w for w in details["warnings"] if "controller error" in w]
    assert thread_errors == []
    store = experiment.workspace.store
    trials = store.list_trials(run.id)
    assert [t.status.value for t in trials] == ["Completed", "Completed"]
    for trial in trials:
        check_trial(store, trial.id, trial.params["x"])
    assert run.get_details()["properties"]["best_primary_metric"] == 2.5


def test_an_unstorable_value_fails_the_trial_with_a_clear_error(
    sqlite_workspace: Workspace, make_source, thread_errors: list[BaseException],
) -> None:
    source = make_source("""
        from hypersweep import Run
        run = Run.get_context()
        run.log("score", 1.0)
        run.log("m", 10**400)
    """)
    run = Experiment(sqlite_workspace, "t").submit(trial_config(source, [1.0]))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"  # its only trial failed, and the sweep says so
    assert thread_errors == []
    (trial,) = sqlite_workspace.store.list_trials(run.id)
    assert trial.status.value == "Failed"
    assert "MetricValueError: metric 'm': 10000000000... (an integer of 401 digits) is " \
           "beyond the range of a 64-bit float" in (trial.error or ""), trial.error
    assert [p.value for p in sqlite_workspace.store.get_metrics(trial.id)] == [1.0]


DRIVER = """
import sys
from hypersweep import Experiment, Workspace
from tests.sweep.test_unstorable_values import trial_config
from pathlib import Path
ws_path, source, store = sys.argv[1:4]
run = Experiment(Workspace(ws_path, store=store or None), "crash").submit(
    trial_config(Path(source), [0.5], ticks=600))
print(run.id, flush=True)
run.wait_for_completion()
"""


def test_resume_and_cancel_a_sweep_whose_journal_has_garbage(
    workspace: Workspace, make_source, garbage_file: Path, tmp_path: Path,
    thread_errors: list[BaseException],
) -> None:
    """kill -9 the controller once it got past the garbage; resume reads it all again."""
    source = make_source(TRIAL)
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(DRIVER))
    store_url = "" if workspace.store_url.startswith("sqlite") else workspace.store_url
    repo = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen(
        [sys.executable, str(driver), str(workspace.path), str(source), store_url],
        stdout=subprocess.PIPE, text=True, cwd=repo,
        env=dict(os.environ, PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", "")),
    )
    try:
        assert proc.stdout is not None
        sweep_id = proc.stdout.readline().strip()
        assert sweep_id.startswith("HD_"), sweep_id
        trial_id = f"{sweep_id}_0"
        store = workspace.store

        def ticks() -> int:
            return len(store.get_metrics(trial_id, "tick"))

        wait_until(lambda: ticks() >= 2, timeout=60)  # ingested past the garbage
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    run = HyperDriveRun(Experiment(workspace, "crash"), sweep_id)
    run.resume()
    seen = ticks()
    wait_until(lambda: ticks() >= seen + 3, timeout=60)  # the resumed controller ingests on
    run.cancel()
    wait_until(lambda: store.get_sweep(sweep_id).status.is_terminal, timeout=60)
    assert store.get_sweep(sweep_id).status.value == "Canceled"
    (trial,) = store.list_trials(sweep_id)
    assert (trial.status.value, trial.termination_reason) == ("Canceled", "user_cancel")
    assert trial.end_time is not None
    pid = (trial.handle or {}).get("pid")
    assert pid and not _alive(pid)
    check_trial(store, trial_id, 0.5)
    tick_values = [p.value for p in store.get_metrics(trial_id, "tick")]
    assert tick_values == list(range(len(tick_values)))  # none lost, none doubled
    assert not [w for w in run.warnings if "controller error" in w]
    assert thread_errors == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); its state says it is gone.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_function_trial_refuses_the_same_values(tmp_path: Path) -> None:
    from hypersweep.tracking.storable import MetricValueError

    with Sweep(GridParameterSampling({"x": choice(1.0)}), "score", "maximize",
               workspace=Workspace(tmp_path / "ws")) as sweep:
        trial = sweep.ask()
        assert trial is not None
        for call in (lambda: trial.log("score", 10**400),
                     lambda: trial.log("score", 1.0, step=2**64),
                     lambda: trial.log_list("l", [10**400]),
                     lambda: trial.log("\ud800", 1.0),
                     lambda: trial.tag("k", "a\x00")):
            with pytest.raises(MetricValueError):
                call()
        trial.log("score", math.inf)
        trial.log("score", 2.0, step=-5)
        sweep.tell(trial)
    points = Workspace(tmp_path / "ws").store.get_metrics(trial.id, "score")
    assert [(p.value, p.step) for p in points] == [(math.inf, 0), (2.0, -5)]
    json.dumps([p.value for p in points])  # nothing stored that the export could not write
