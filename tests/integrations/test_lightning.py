"""The PyTorch Lightning callback with the real framework: metrics each epoch, and the policy's
stop ending training early, in a function trial, in script trials, outside a sweep, and under
DDP (two CPU processes, gloo)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytorch_lightning")

import lightning_training
from lightning_training import EPOCHS

from hypersweep import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    choice,
    tune,
)

TRAINING = Path(lightning_training.__file__)
# Stops the bad case at its first epoch: its loss is far above the good case's (1.0 vs 18).
POLICY = BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=1)
CASES = GridParameterSampling({"case": choice("good", "bad")})  # good first: one at a time


def test_outside_a_sweep_each_epoch_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert lightning_training.train("good", epochs=3) == 3
    printed = capsys.readouterr().out
    values = re.findall(r"Attempted to log scalar metric val_loss:\n(\S+)", printed)
    assert len(values) == 3  # once an epoch, none for the sanity check
    assert float(values[-1]) < float(values[0])


def test_without_validation_each_epoch_logs_the_training_metrics(
        capsys: pytest.CaptureFixture[str]) -> None:
    import pytorch_lightning as pl
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from hypersweep.integrations.lightning import LightningCallback

    data = DataLoader(TensorDataset(torch.randn(32, 4), torch.randn(32, 1)), batch_size=16)
    trainer = pl.Trainer(max_epochs=2, callbacks=[LightningCallback()], logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(lightning_training.Regression(0.1), data)  # no validation data
    assert capsys.readouterr().out.count("Attempted to log scalar metric train_loss") == 2


def test_in_a_function_trial_the_policy_ends_the_poor_training() -> None:
    result = tune(lightning_training.objective, CASES, "val_loss", "minimize",
                  max_total_runs=2, policy=POLICY)
    trials = {t.get_hyperparameters()["case"]: t for t in result.get_children()}
    metrics = result.get_metrics()
    good, bad = metrics[trials["good"].id], metrics[trials["bad"].id]
    assert trials["good"].get_status() == "Completed"
    assert len(good["val_loss"]) == EPOCHS and good["epochs_trained"] == EPOCHS
    assert good["val_loss"] == sorted(good["val_loss"], reverse=True)
    details = trials["bad"].get_details()
    assert details["status"] == "Canceled"
    assert details["terminationReason"] == "early_termination"
    assert bad["epochs_trained"] == 1  # the trainer stopped after the epoch that was judged


def script_sweep(workspace, make_source, arguments=()):  # type: ignore[no-untyped-def]
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=make_source(TRAINING.read_text()),
                                   script="train.py", arguments=list(arguments)),
        hyperparameter_sampling=CASES, policy=POLICY,
        primary_metric_name="val_loss", primary_metric_goal="minimize",
        max_total_runs=2, max_concurrent_runs=1)
    run = Experiment(workspace, "lightning").submit(config)
    run.wait_for_completion()
    return {t.get_hyperparameters()["case"]: t for t in run.get_children()}


@pytest.mark.slow
def test_in_script_trials_the_policy_ends_the_poor_training(sqlite_workspace,
                                                              make_source) -> None:
    trials = script_sweep(sqlite_workspace, make_source)
    assert trials["good"].get_status() == "Completed", trials["good"].get_details()
    good = trials["good"].get_metrics()["val_loss"]
    assert len(good) == EPOCHS and good == sorted(good, reverse=True)
    details = trials["bad"].get_details()
    assert details["status"] == "Canceled"
    assert details["terminationReason"] == "early_termination"
    bad = trials["bad"].get_metrics()["val_loss"]
    assert len([bad] if isinstance(bad, float) else bad) < EPOCHS


@pytest.mark.slow
def test_under_ddp_rank_zero_logs_and_every_rank_stops(tmp_path: Path) -> None:
    # Two CPU processes (gloo); rank 0's run asks to stop after 2 epochs, rank 1's is never
    # asked: it stops only because the decision is broadcast.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERSWEEP_")}
    done = subprocess.run(
        [sys.executable, str(TRAINING), "--devices", "2", "--stop-after", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("Attempted to log scalar metric val_loss") == 2  # rank 0 alone
    assert sorted(re.findall(r"rank (\d) trained (\d+) epochs", done.stdout)) == [
        ("0", "2"), ("1", "2")]


@pytest.mark.slow
def test_importing_it_loads_no_other_framework() -> None:
    # not transformers: Lightning's torchmetrics imports it when installed
    others = ("keras", "lightgbm", "xgboost")
    code = ("import sys, hypersweep.integrations.lightning; "
            f"print([m for m in {others!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=240, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["[]"]
