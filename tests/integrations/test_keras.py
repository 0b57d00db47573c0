"""The Keras 3 callback with the real framework (torch backend): metrics each epoch, and the
policy's stop ending training early, in a function trial, in script trials and outside a
sweep.

Keras reads ``KERAS_BACKEND`` once, at import, so everything that imports Keras runs in a
process of its own, started with ``KERAS_BACKEND=torch``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hypersweep import (
    BanditPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    ScriptRunConfig,
    choice,
)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not all(map(importlib.util.find_spec, ("keras", "torch"))),
                                 reason="needs keras and torch")]

HERE = Path(__file__).resolve().parent
TRAINING = HERE / "keras_training.py"
EPOCHS = 5
BACKEND = {"KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "1"}


def run_python(code_or_path: str | Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run a Python file or snippet with the torch backend, outside any sweep."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPERSWEEP_", "KERAS_"))}
    env.update(BACKEND, PYTHONPATH=os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]))
    command = [str(code_or_path)] if isinstance(code_or_path, Path) else ["-c", code_or_path]
    done = subprocess.run([sys.executable, *command, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_outside_a_sweep_each_epoch_is_printed(tmp_path: Path) -> None:
    printed = run_python(TRAINING, tmp_path, "--epochs", "3").stdout
    assert "backend torch, trained 3 epochs" in printed
    values = re.findall(r"Attempted to log scalar metric val_loss:\n(\S+)", printed)
    assert len(values) == 3 and float(values[-1]) < float(values[0])


FUNCTION_SWEEP = textwrap.dedent("""
    import json
    from hypersweep import BanditPolicy, GridParameterSampling, choice, tune
    import keras_training
    result = tune(keras_training.objective, GridParameterSampling({"case": choice("good", "bad")}),
                  "val_loss", "minimize", max_total_runs=2,
                  policy=BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=1))
    metrics = result.get_metrics()
    print(json.dumps({t.get_hyperparameters()["case"]: [t.get_details(), metrics[t.id]]
                      for t in result.get_children()}, default=str))
""")


def test_in_a_function_trial_the_policy_ends_the_poor_training(tmp_path: Path) -> None:
    trials = json.loads(run_python(FUNCTION_SWEEP, tmp_path).stdout.splitlines()[-1])
    (good_details, good), (bad_details, bad) = trials["good"], trials["bad"]
    assert good_details["status"] == "Completed"
    assert len(good["val_loss"]) == EPOCHS and good["epochs_trained"] == EPOCHS
    assert good["val_loss"] == sorted(good["val_loss"], reverse=True)
    assert bad_details["status"] == "Canceled"
    assert bad_details["terminationReason"] == "early_termination"
    assert bad["epochs_trained"] == 1  # fit returned after the epoch that was judged


def test_in_script_trials_the_policy_ends_the_poor_training(sqlite_workspace,
                                                              make_source) -> None:
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=make_source(TRAINING.read_text()),
                                   script="train.py", environment_variables=BACKEND),
        hyperparameter_sampling=GridParameterSampling({"case": choice("good", "bad")}),
        policy=BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=1),
        primary_metric_name="val_loss", primary_metric_goal="minimize",
        max_total_runs=2, max_concurrent_runs=1)  # good first, one at a time
    run = Experiment(sqlite_workspace, "keras").submit(config)
    run.wait_for_completion()
    trials = {t.get_hyperparameters()["case"]: t for t in run.get_children()}
    assert trials["good"].get_status() == "Completed", trials["good"].get_details()
    good = trials["good"].get_metrics()["val_loss"]
    assert len(good) == EPOCHS and good == sorted(good, reverse=True)
    details = trials["bad"].get_details()
    assert details["status"] == "Canceled"
    assert details["terminationReason"] == "early_termination"
    bad = trials["bad"].get_metrics()["val_loss"]
    assert len([bad] if isinstance(bad, float) else bad) < EPOCHS
    # The SIGTERM was recorded, not fatal: fit returned at the end of that epoch.
    printed = Path(details["logFiles"]["stdout"]).read_text()
    assert int(re.findall(r"trained (\d+) epochs", printed)[0]) < EPOCHS


@pytest.mark.slow
def test_importing_it_loads_no_other_framework() -> None:
    others = ("pytorch_lightning", "lightning", "transformers", "lightgbm", "xgboost")
    code = ("import sys, hypersweep.integrations.keras; "
            f"print([m for m in {others!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=240, env={**os.environ, **BACKEND})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["[]"]
