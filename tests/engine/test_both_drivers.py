"""The same sweep through both drivers decides the same: statuses, stops, messages.

One spec (seeded random sampling, a Bandit policy, a max-duration limit, one trial at a
time) runs once as script trials (processes, the process driver) and once as a Python function
(the function driver). The objective is scripted: trial ``i`` logs the curve ``CURVES[i]``, and
the last trial logs once and then waits to be stopped. Both runs must give the same
parameters, statuses, termination reasons and evidence, sweep warnings, status and best trial.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from hypersweep import (
    BanditPolicy,
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    tune,
    uniform,
)
from hypersweep.api.sweep_run import HyperDriveRun

#: What trial i logs, one value per interval. 1 and 3 fall behind the best and are stopped;
#: the last waits until the sweep's deadline stops it.
CURVES = [[0.5, 0.6, 0.7], [0.1, 0.1, 0.1], [0.8, 0.85, 0.9], [0.3, 0.3, 0.3], [0.95]]
DEADLINE_SECONDS = 15.0  # long enough for four short trials on a loaded 2-core machine

SCRIPT = f"""
    import os, sys, time
    from hypersweep import Run
    CURVES = {CURVES!r}
    index = int(os.environ["HYPERSWEEP_TRIAL_ID"].rsplit("_", 1)[1])
    run = Run.get_context()
    for value in CURVES[index]:
        run.log("score", value)
        time.sleep(0.2)  # as the objective does: the policy decides between two intervals
    if index == len(CURVES) - 1:
        time.sleep(120)  # until the deadline stops it
"""


def objective(params: dict[str, Any], run: Any) -> None:
    index = run.index
    for value in CURVES[index]:
        run.log("score", value)  # raises TrialCanceled once the policy stopped it
        time.sleep(0.2)
    if index == len(CURVES) - 1:
        while not run.should_stop():
            time.sleep(0.05)


def sampling() -> RandomParameterSampling:
    return RandomParameterSampling({"x": uniform(0, 1)}, seed=7)


def policy() -> BanditPolicy:
    return BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=0)


def outcome(run: HyperDriveRun) -> dict[str, Any]:
    """What the sweep decided, its own id written as ``HD_sweep`` (evidence names trials)."""
    trials = sorted(run.store.list_trials(run.id), key=lambda t: t.index)
    sweep = run.store.get_sweep(run.id)
    decided = {
        "params": [t.params for t in trials],
        "statuses": [t.status.value for t in trials],
        "reasons": [t.termination_reason for t in trials],
        "evidence": [t.termination_detail for t in trials],
        "errors": [t.error for t in trials],
        "sweep": (sweep.status.value, sweep.error),
        "warnings": list(sweep.warnings),
        "best": (sweep.properties.get("best_child_run_id"),
                 sweep.properties.get("best_primary_metric")),
    }
    return json.loads(json.dumps(decided).replace(run.id, "HD_sweep"))


@pytest.mark.slow
def test_the_same_sweep_decides_the_same_through_both_drivers(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(textwrap.dedent(SCRIPT))
    workspace = Workspace(tmp_path / "ws")

    script_run = Experiment(workspace, "both").submit(HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=sampling(), policy=policy(),
        primary_metric_name="score", primary_metric_goal="maximize",
        max_total_runs=len(CURVES), max_concurrent_runs=1,
        max_duration_minutes=DEADLINE_SECONDS / 60))
    script_run.wait_for_completion()

    function_run = tune(objective, sampling(), "score", "maximize", policy=policy(),
                        max_total_runs=len(CURVES), max_concurrent_runs=1,
                        max_duration_minutes=DEADLINE_SECONDS / 60, workspace=workspace,
                        experiment_name="both")

    by_script, by_function = outcome(script_run), outcome(function_run)
    assert by_script["statuses"] == ["Completed", "Canceled", "Completed", "Canceled",
                                     "Canceled"]
    assert by_script["reasons"] == [None, "early_termination", None, "early_termination",
                                    "max_duration"]
    assert by_script["warnings"] == [
        "max_duration reached after 15 s: running trials were canceled"]
    assert by_script["best"] == ["HD_sweep_4", 0.95]  # a canceled trial ranks by what it logged
    assert by_function == by_script
