"""Script sweeps that go wrong: launch errors, failing trials, a primary metric never logged.

Real trial processes and real stores throughout: what is checked is what a user would see in
``hypersweep show`` (the trial's error line, the sweep's status and error).
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from hypersweep import (
    ConfigError,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    ScriptRunConfig,
    Workspace,
    choice,
)
from hypersweep.api.config import CommandJob
from hypersweep.controller import SweepController
from hypersweep.execution import LocalProcessExecutor, TrialSpec
from hypersweep.spec import SweepSpec
from hypersweep.store import Status, TrialRecord

pytestmark = pytest.mark.slow

OK_SCRIPT = """
    import argparse
    from hypersweep import Run
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=int)
    a, _ = p.parse_known_args()
    Run.get_context().log("score", float(a.x))
"""

# Fails for the x values listed in FAIL_ON (an environment variable), with one stderr line.
SOMETIMES_FAILS = """
    import argparse, os, sys
    from hypersweep import Run
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=int)
    a, _ = p.parse_known_args()
    if str(a.x) in os.environ["FAIL_ON"].split(","):
        print("warming up", file=sys.stderr)
        sys.exit(f"RuntimeError: x={a.x} diverged")
    Run.get_context().log("score", float(a.x))
"""


def grid_config(source: Path, n: int, *, command: str | None = None, concurrent: int = 1,
                env: dict[str, str] | None = None, **kwargs: Any) -> HyperDriveConfig:
    """A grid over x = 0..n-1 running ``train.py`` (or ``command``, a v2 command line)."""
    run_config: ScriptRunConfig | CommandJob = ScriptRunConfig(
        source_directory=source, script="train.py", environment_variables=env)
    if command is not None:
        run_config = CommandJob(command, code=source, environment_variables=env)
    return HyperDriveConfig(
        run_config=run_config,
        hyperparameter_sampling=GridParameterSampling({"x": choice(*range(n))}),
        primary_metric_name=kwargs.pop("primary_metric_name", "score"),
        primary_metric_goal="maximize", max_total_runs=n, max_concurrent_runs=concurrent,
        **kwargs,
    )


def trials_of(run: HyperDriveRun) -> list[TrialRecord]:
    return run.experiment.workspace.store.list_trials(run.id)


def finish(run: HyperDriveRun) -> dict[str, Any]:
    return run.wait_for_completion(raise_on_error=False)


# ---------------------------------------------------------------------------- launch errors
def test_an_unlaunchable_trial_folder_fails_that_trial_and_the_sweep_goes_on(
        sqlite_workspace: Workspace, make_source, caplog: pytest.LogCaptureFixture) -> None:
    experiment = Experiment(sqlite_workspace, "launch")
    run = experiment.submit(grid_config(make_source(OK_SCRIPT), 4), start=False)
    # Something (a stray file, a full disk, a permission) is where trial 1's folder must go.
    (sqlite_workspace.path / "runs").mkdir(parents=True, exist_ok=True)
    (sqlite_workspace.path / "runs" / f"{run.id}_1").write_text("in the way")
    run.resume()
    details = finish(run)
    trials = {t.index: t for t in trials_of(run)}
    assert sorted(trials) == [0, 1, 2, 3]
    assert trials[1].status == Status.FAILED and trials[1].end_time is not None
    assert (trials[1].error or "").startswith("launch failed: ")
    assert "File exists" in (trials[1].error or "") and "\n" not in (trials[1].error or "")
    assert all(trials[i].status == Status.COMPLETED for i in (0, 2, 3))
    assert details["status"] == "Completed"
    # Said in one line: a logged traceback is what the CLI takes for the controller's death.
    said = [r for r in caplog.records if r.name.startswith("hypersweep")
            and r.levelno >= logging.WARNING]
    assert any("launch failed" in r.getMessage() for r in said)
    assert not [r for r in said if r.exc_info]


class NulInTheEnvironment(LocalProcessExecutor):
    """A real executor whose environment for trial 2 holds a NUL byte, as a value only known
    at launch (a secret fetched then, a path computed then) may."""

    def launch(self, spec: TrialSpec) -> dict[str, Any]:
        if spec.trial_id.endswith("_2"):
            spec.env["TOKEN"] = "ab\0cd"
        return super().launch(spec)


def test_an_error_raised_by_popen_fails_one_trial_and_resume_does_not_crash_on_it(
        sqlite_workspace: Workspace, make_source) -> None:
    store = sqlite_workspace.store
    run = Experiment(sqlite_workspace, "nul").submit(
        grid_config(make_source(OK_SCRIPT), 4), start=False)
    # A controller killed between recording trial 2 Running and starting its process.
    store.update_sweep(run.id, status=Status.RUNNING)
    now = datetime.now(timezone.utc)
    record = TrialRecord(id=f"{run.id}_2", sweep_id=run.id, index=2, params={"x": 2},
                         status=Status.RUNNING, created_time=now, start_time=now,
                         arguments=["--x", "2"])
    for index in range(2):
        store.create_trial(TrialRecord(id=f"{run.id}_{index}", sweep_id=run.id, index=index,
                                       params={"x": index}, status=Status.QUEUED,
                                       created_time=now, arguments=["--x", str(index)]))
    store.create_trial(record)
    controller = SweepController(store, NulInTheEnvironment(), run.id, sqlite_workspace.path)
    try:
        controller.run()  # raised "embedded null byte" before the fix, on every resume
    finally:
        controller.executor.shutdown()
    trials = {t.index: t for t in trials_of(run)}
    assert trials[2].status == Status.FAILED
    assert trials[2].error == "launch failed: embedded null byte in environment value 'TOKEN'"
    assert all(trials[i].status == Status.COMPLETED for i in (0, 1, 3))
    assert store.get_sweep(run.id).status == Status.COMPLETED


# ---------------------------------------------------------------------------- failing trials
def test_a_failed_trial_error_is_its_exit_and_last_stderr_line(
        sqlite_workspace: Workspace, make_source) -> None:
    source = make_source(SOMETIMES_FAILS)
    run = Experiment(sqlite_workspace, "err").submit(
        grid_config(source, 2, env={"FAIL_ON": "1"}))
    finish(run)
    trials = {t.index: t for t in trials_of(run)}
    assert trials[1].error == "exit code 1: RuntimeError: x=1 diverged"


def test_a_script_path_typo_ends_the_sweep_after_the_first_three_failures(
        sqlite_workspace: Workspace, make_source) -> None:
    source = make_source(OK_SCRIPT)
    run = Experiment(sqlite_workspace, "typo").submit(
        grid_config(source, 60, command="python trian.py --x ${{search_space.x}}",
                    concurrent=4))
    details = finish(run)
    trials = trials_of(run)
    assert details["status"] == "Failed"
    assert len(trials) < 10  # not 60
    assert all(t.status in (Status.FAILED, Status.CANCELED) for t in trials)
    assert sum(t.status == Status.FAILED for t in trials) >= 3
    first = min((t for t in trials if t.status == Status.FAILED), key=lambda t: t.index)
    assert (first.error or "").startswith("exit code 2: ")
    assert "can't open file" in (first.error or "") and "trian.py" in (first.error or "")
    error = details["error"]
    assert error.startswith("the first 3 trials failed with the same error: ")
    assert "can't open file" in error and "max_failed_runs" in error
    assert all(t.end_time is not None for t in trials)


def test_a_resumed_sweep_keeps_the_verdict_of_its_first_failures(
        sqlite_workspace: Workspace, make_source) -> None:
    """A controller killed right after its third alike failure: the next one stops too."""
    store = sqlite_workspace.store
    run = Experiment(sqlite_workspace, "replay").submit(
        grid_config(make_source(OK_SCRIPT), 10), start=False)
    store.update_sweep(run.id, status=Status.RUNNING)
    now = datetime.now(timezone.utc)
    for index in range(3):
        trial_id = f"{run.id}_{index}"
        store.create_trial(TrialRecord(
            id=trial_id, sweep_id=run.id, index=index, params={"x": index},
            status=Status.FAILED, created_time=now, start_time=now, end_time=now, exit_code=1,
            error=f"exit code 1: FileNotFoundError: /data/{trial_id}/train.csv"))
    controller = SweepController(store, LocalProcessExecutor(), run.id, sqlite_workspace.path)
    try:
        controller.run()
    finally:
        controller.executor.shutdown()
    sweep = store.get_sweep(run.id)
    assert sweep.status == Status.FAILED and len(trials_of(run)) == 3
    assert sweep.error is not None and sweep.error.startswith("the first 3 trials failed")


def test_max_failed_runs_caps_failures_and_replaces_the_first_three_rule(
        sqlite_workspace: Workspace, make_source) -> None:
    source = make_source(SOMETIMES_FAILS)
    # The first three fail alike (the default rule would stop there); the cap of 5 lets the
    # sweep go on until trial 7, the fifth failure.
    run = Experiment(sqlite_workspace, "cap").submit(
        grid_config(source, 10, env={"FAIL_ON": "0,1,2,5,7"}, max_failed_runs=5))
    details = finish(run)
    trials = {t.index: t for t in trials_of(run)}
    assert sorted(trials) == list(range(8))
    assert [i for i, t in trials.items() if t.status == Status.FAILED] == [0, 1, 2, 5, 7]
    assert details["status"] == "Failed"
    assert details["error"].startswith("5 trials failed (max_failed_runs = 5)")
    assert "x=7 diverged" in details["error"]


def test_max_failed_runs_two_on_a_sweep_where_some_trials_fail(
        sqlite_workspace: Workspace, make_source) -> None:
    run = Experiment(sqlite_workspace, "cap2").submit(
        grid_config(make_source(SOMETIMES_FAILS), 6, env={"FAIL_ON": "1,3"},
                    max_failed_runs=2))
    details = finish(run)
    assert len(trials_of(run)) == 4 and details["status"] == "Failed"
    assert "max_failed_runs = 2" in details["error"]
    assert run.get_best_run_by_primary_metric().id == f"{run.id}_2"


def test_failures_below_the_rules_leave_the_sweep_completed(
        sqlite_workspace: Workspace, make_source) -> None:
    run = Experiment(sqlite_workspace, "some").submit(
        grid_config(make_source(SOMETIMES_FAILS), 5, env={"FAIL_ON": "0,1"}))
    details = finish(run)
    assert details["status"] == "Completed" and "error" not in details
    assert len(trials_of(run)) == 5


def test_max_failed_trials_in_yaml(tmp_path: Path, make_source) -> None:
    source = make_source(OK_SCRIPT)
    text = f"""
        type: sweep
        trial:
          command: python train.py --x ${{{{search_space.x}}}}
          code: {source}
        search_space:
          x: {{type: choice, values: [1, 2]}}
        sampling_algorithm: grid
        objective: {{primary_metric: score, goal: maximize}}
        limits: {{max_total_trials: 2, max_failed_trials: LIMIT}}
    """
    path = tmp_path / "sweep.yml"
    path.write_text(text.replace("LIMIT", "3"))
    config = HyperDriveConfig.from_yaml(path)
    assert config.max_failed_runs == 3
    assert SweepSpec.from_dict(config.to_dict()).limits.max_failed_trials == 3
    assert HyperDriveConfig.from_dict(config.to_dict()).max_failed_runs == 3
    for bad in ("0", "-2", "1.5", "lots"):
        path.write_text(text.replace("LIMIT", bad))
        with pytest.raises(ConfigError, match="max_failed_trials"):
            HyperDriveConfig.from_yaml(path)
    with pytest.raises(ConfigError, match="max_failed_runs"):
        grid_config(source, 2, max_failed_runs=0)


# ---------------------------------------------------------------------------- the metric
@pytest.mark.parametrize(("logged", "expected"), [
    ('run.log("scor", 0.5)', "Did you mean 'scor'?"),
    ('run.log("score", "0.086")', "'score' was logged as a string ('0.086')"),
    ('run.log("score", float("nan"))', "'score' was logged as NaN"),
])
def test_a_sweep_that_never_logs_the_primary_metric_fails_with_one_message(
        sqlite_workspace: Workspace, make_source, logged: str, expected: str) -> None:
    source = make_source(f"""
        from hypersweep import Run
        run = Run.get_context()
        {logged}
    """)
    run = Experiment(sqlite_workspace, "metric").submit(grid_config(source, 2))
    details = finish(run)
    assert details["status"] == "Failed"
    assert "'score'" in details["error"] and expected in details["error"]
    assert all(t.status == Status.COMPLETED for t in trials_of(run))
    if "Did you" not in expected:
        assert "Did you mean" not in details["error"] and "not logged" not in details["error"]
        assert any(expected in w for w in details["warnings"])


def test_launch_errors_name_what_popen_refused() -> None:
    from hypersweep.engine.failures import launch_error

    spec = TrialSpec("HD_x_0", [sys.executable, "a\0b"], {"GOOD": "1", "BAD=NAME": "2"},
                     Path("/tmp"), Path("/tmp"))
    assert launch_error(ValueError("embedded null byte"), spec) == \
        "launch failed: embedded null byte in argument 1 ('a\\x00b')"
    assert launch_error(ValueError("illegal environment variable name"), spec) == \
        "launch failed: illegal environment variable name 'BAD=NAME'"
    assert launch_error(RuntimeError("boom\nmore"), spec) == "launch failed: RuntimeError: more"
