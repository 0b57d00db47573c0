"""Early termination across 4 Dask workers: the condemned trial is stopped on its worker."""

from __future__ import annotations

import pytest

from hypersweep import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    Workspace,
    choice,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

# As tests/sweep/test_early_termination.py: the condemned curve reports slowly, so the verdict
# does not depend on timing; "bad2" sleeps long after its second value, so only a stop that
# reaches its process group on the worker ends it early. A trial that reaches its own end logs
# "ended", so a condemned trial without it was stopped before its end.
SCRIPT = """
import argparse, time
from hypersweep import Run
CURVES = {
    "good": ([0.5, 0.6, 0.7, 0.8, 0.9], 0.1),
    "mid": ([0.45, 0.55, 0.65, 0.75, 0.85], 0.15),
    "bad": ([0.1, 0.1, 0.12, 0.15, 0.2], 1.0),
    "bad2": ([0.05, 0.05, 0.05, 0.05, 0.05], 1.5),
}
p = argparse.ArgumentParser(); p.add_argument("--curve"); a = p.parse_args()
values, pause = CURVES[a.curve]
run = Run.get_context()
for v in values:
    run.log("accuracy", v)
    time.sleep(pause)
run.log("ended", 1)
"""


def test_bandit_stops_condemned_trials_on_their_workers(address, make_source, postgres_url,
                                                        tmp_path):
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=make_source(SCRIPT), script="train.py"),
        hyperparameter_sampling=GridParameterSampling(
            {"curve": choice("good", "mid", "bad", "bad2")}),
        primary_metric_name="accuracy", primary_metric_goal="maximize",
        policy=BanditPolicy(slack_factor=0.2, evaluation_interval=1, delay_evaluation=2),
        max_total_runs=4, max_concurrent_runs=4, executor=address,
    )
    run = Experiment(Workspace(tmp_path / "ws", store=postgres_url), "et").submit(config)
    run.wait_for_completion()
    trials = {c.get_hyperparameters()["curve"]: c for c in run.get_children()}
    for name in ("good", "mid"):
        assert trials[name].get_status() == "Completed"
        assert trials[name].get_metrics()["ended"] == 1
    for name in ("bad", "bad2"):
        details = trials[name].get_details()
        assert details["status"] == "Canceled", details
        assert details["terminationReason"] == "early_termination"
        assert details["terminationDetail"]["interval"] == 2
    assert trials["bad"].get_metrics()["accuracy"] == [0.1, 0.1]  # nothing after interval 2
    assert trials["bad2"].get_metrics()["accuracy"] == [0.05, 0.05]
    store = Workspace(tmp_path / "ws", store=postgres_url).store
    for name in ("bad", "bad2"):
        record = store.get_trial(trials[name].id)
        assert record.exit_code == -15  # SIGTERM reached the process group on its worker
        assert "ended" not in trials[name].get_metrics()  # ... before the trial's own end
