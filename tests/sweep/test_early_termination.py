"""Early termination on real processes: known curves, known verdicts, recorded evidence."""

from __future__ import annotations

import pytest

from hypersweep import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    MedianStoppingPolicy,
    ScriptRunConfig,
    choice,
)

pytestmark = pytest.mark.slow

# Each trial logs its curve, one value per interval. The condemned ones report slowly, so by
# the time they reach an interval the fast good trial has long reached it: the verdict does
# not depend on timing.
SCRIPT = """
import argparse, time
from hypersweep import Run
CURVES = {
    "good": ([0.5, 0.6, 0.7, 0.8, 0.9], 0.1),
    "mid": ([0.45, 0.55, 0.65, 0.75, 0.85], 0.15),
    "bad": ([0.1, 0.1, 0.12, 0.15, 0.2], 1.0),
}
p = argparse.ArgumentParser(); p.add_argument("--curve"); a = p.parse_args()
values, pause = CURVES[a.curve]
run = Run.get_context()
for v in values:
    run.log("accuracy", v)
    time.sleep(pause)
"""


def sweep(workspace, make_source, policy, goal="maximize", flip=False):
    script = SCRIPT if not flip else SCRIPT.replace('run.log("accuracy", v)',
                                                    'run.log("accuracy", -v)')
    source = make_source(script)
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"curve": choice("good", "mid", "bad")}),
        primary_metric_name="accuracy", primary_metric_goal=goal, policy=policy,
        max_total_runs=3, max_concurrent_runs=3,
    )
    run = Experiment(workspace, "et").submit(config)
    run.wait_for_completion()
    return {c.get_hyperparameters()["curve"]: c for c in run.get_children()}


def test_bandit_cancels_the_condemned_trial_at_the_right_interval(workspace, make_source):
    trials = sweep(workspace, make_source,
                   BanditPolicy(slack_factor=0.2, evaluation_interval=1, delay_evaluation=2))
    assert trials["good"].get_status() == "Completed"
    assert trials["mid"].get_status() == "Completed"
    bad = trials["bad"].get_details()
    assert bad["status"] == "Canceled"
    assert bad["terminationReason"] == "early_termination"
    evidence = bad["terminationDetail"]
    assert evidence["policy"] == "bandit" and evidence["interval"] == 2
    assert evidence["value"] == pytest.approx(0.1)
    assert evidence["threshold"] == pytest.approx(0.6 / 1.2)
    assert trials["bad"].get_metrics()["accuracy"] == [0.1, 0.1]  # nothing after interval 2


def test_minimize_with_negative_values_and_median_stopping(sqlite_workspace, make_source):
    # the curves negated and minimized: the same trial is condemned at the same interval
    trials = sweep(sqlite_workspace, make_source, MedianStoppingPolicy(delay_evaluation=2),
                   goal="minimize", flip=True)
    assert trials["good"].get_status() == "Completed"
    assert trials["mid"].get_status() == "Completed"
    bad = trials["bad"].get_details()
    assert bad["status"] == "Canceled" and bad["terminationReason"] == "early_termination"
    evidence = bad["terminationDetail"]
    assert evidence["policy"] == "median_stopping" and evidence["interval"] == 2
    assert evidence["value"] == pytest.approx(-0.1)  # in the user's orientation
    assert evidence["threshold"] == pytest.approx(-0.5)  # median of -0.55, -0.5, -0.1


def test_replay_a_finished_sweep_under_another_policy(sqlite_workspace, make_source):
    trials = sweep(sqlite_workspace, make_source, None)
    run = Experiment(sqlite_workspace, "et").get_runs()[0]
    assert {t.get_status() for t in trials.values()} == {"Completed"}
    report = run.replay({"type": "bandit", "slack_factor": 0.2, "delay_evaluation": 2})
    assert report.stopped_at == {trials["bad"].id: 2}
    assert report.best_survived and report.best_trial == trials["good"].id
    assert report.intervals_total == 15 and report.intervals_run == 12
    assert trials["bad"].id in str(report)  # the human table names the stopped trial
