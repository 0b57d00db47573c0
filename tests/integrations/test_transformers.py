"""The Hugging Face Transformers callback with the real framework (a tiny BERT built from its
config; nothing downloaded): metrics at each evaluation, and the policy's stop ending
training early, in a function trial, in script trials and outside a sweep."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("accelerate")

import transformers_training
from transformers_training import EPOCHS

from hypersweep import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    choice,
    tune,
)

TRAINING = Path(transformers_training.__file__)
# Stops the bad case at its first evaluation: its loss (0.69, chance) is far above the good's.
POLICY = BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=1)
CASES = GridParameterSampling({"case": choice("good", "bad")})  # good first: one at a time
OFFLINE = {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # the trainer's output_dir


def test_outside_a_sweep_each_evaluation_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert transformers_training.train("good", epochs=2) == 2
    values = re.findall(r"Attempted to log scalar metric eval_loss:\n(\S+)",
                        capsys.readouterr().out)
    assert len(values) == 2 and float(values[-1]) < float(values[0])


def test_in_a_function_trial_the_policy_ends_the_poor_training() -> None:
    result = tune(transformers_training.objective, CASES, "eval_loss", "minimize",
                  max_total_runs=2, policy=POLICY)
    trials = {t.get_hyperparameters()["case"]: t for t in result.get_children()}
    metrics = result.get_metrics()
    good, bad = metrics[trials["good"].id], metrics[trials["bad"].id]
    assert trials["good"].get_status() == "Completed"
    assert len(good["eval_loss"]) == EPOCHS and good["epochs_trained"] == EPOCHS
    assert good["eval_loss"][-1] < good["eval_loss"][0]
    details = trials["bad"].get_details()
    assert details["status"] == "Canceled"
    assert details["terminationReason"] == "early_termination"
    assert bad["epochs_trained"] == 1  # the trainer stopped after the evaluation judged


@pytest.mark.slow
def test_in_script_trials_the_policy_ends_the_poor_training(sqlite_workspace,
                                                              make_source) -> None:
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=make_source(TRAINING.read_text()),
                                   script="train.py", environment_variables=OFFLINE),
        hyperparameter_sampling=CASES, policy=POLICY,
        primary_metric_name="eval_loss", primary_metric_goal="minimize",
        max_total_runs=2, max_concurrent_runs=1)
    run = Experiment(sqlite_workspace, "transformers").submit(config)
    run.wait_for_completion()
    trials = {t.get_hyperparameters()["case"]: t for t in run.get_children()}
    assert trials["good"].get_status() == "Completed", trials["good"].get_details()
    assert len(trials["good"].get_metrics()["eval_loss"]) == EPOCHS
    details = trials["bad"].get_details()
    assert details["status"] == "Canceled"
    assert details["terminationReason"] == "early_termination"
    # The SIGTERM was recorded, not fatal: training ended at the next evaluation.
    printed = Path(details["logFiles"]["stdout"]).read_text()
    assert int(re.findall(r"trained (\d+) epochs", printed)[0]) < EPOCHS


@pytest.mark.slow
def test_importing_it_loads_no_other_framework() -> None:
    others = ("keras", "pytorch_lightning", "lightning", "lightgbm", "xgboost")
    code = ("import sys, hypersweep.integrations.transformers; "
            f"print([m for m in {others!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=240, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["[]"]
