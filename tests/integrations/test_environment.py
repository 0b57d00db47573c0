"""trial_environment(): what a trial gets, and that the user's own environment stays as it was."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from setuptools import find_packages

from hypersweep.tracking import integrations
from hypersweep.tracking.integrations import SHIM_DIR, TRACKING_URI, trial_environment

HAVE_MLFLOW = importlib.util.find_spec("mlflow") is not None
needs_mlflow = pytest.mark.skipif(
    not HAVE_MLFLOW, reason="mlflow is not installed (pip install mlflow-skinny)"
)

SRC = Path(__file__).resolve().parents[2] / "src"


def test_shim_is_not_importable_outside_a_trial() -> None:
    # Nothing named azureml was installed: only a trial's PYTHONPATH can reach the shim.
    assert importlib.util.find_spec("azureml") is None
    assert SHIM_DIR not in sys.path
    assert not integrations.azureml_core_installed()


def test_pythonpath_gets_the_shim_appended_and_keeps_the_users() -> None:
    env = trial_environment({"PYTHONPATH": os.pathsep.join(["/mine", "/theirs"])})
    assert env["PYTHONPATH"].split(os.pathsep) == ["/mine", "/theirs", SHIM_DIR]
    # called again on its own output: the shim is not added twice
    assert trial_environment(env)["PYTHONPATH"] == env["PYTHONPATH"]


def test_pythonpath_falls_back_to_the_controllers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/from/shell")
    assert trial_environment({})["PYTHONPATH"].split(os.pathsep) == ["/from/shell", SHIM_DIR]
    monkeypatch.delenv("PYTHONPATH")
    assert trial_environment({})["PYTHONPATH"] == SHIM_DIR


def test_no_shim_when_the_real_azureml_core_is_installed(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setattr(integrations, "azureml_core_installed", lambda: True)
    assert "PYTHONPATH" not in trial_environment({})
    # nor is its archive written for a sweep
    assert integrations.shim_path(tmp_path / "shims") == SHIM_DIR
    assert not (tmp_path / "shims").exists()


def test_checks_are_made_once_per_process() -> None:
    integrations.mlflow_plugin_available()
    integrations.azureml_core_installed()
    before = (integrations.mlflow_plugin_available.cache_info().hits,
              integrations.azureml_core_installed.cache_info().hits)
    for _ in range(3):
        trial_environment({"HYPERSWEEP_TRIAL_ID": "HD_x_0"})
    after = (integrations.mlflow_plugin_available.cache_info().hits,
             integrations.azureml_core_installed.cache_info().hits)
    assert after == (before[0] + 3, before[1] + 3)


@needs_mlflow
def test_mlflow_variables_in_a_trial() -> None:
    env = trial_environment({"HYPERSWEEP_TRIAL_ID": "HD_x_3", "HYPERSWEEP_EXPERIMENT": "exp"})
    assert env["MLFLOW_TRACKING_URI"] == TRACKING_URI
    assert env["MLFLOW_RUN_ID"] == "HD_x_3"
    assert env["MLFLOW_EXPERIMENT_NAME"] == "exp"


@needs_mlflow
def test_outside_a_sweep_only_the_tracking_uri() -> None:
    env = trial_environment({})
    assert env["MLFLOW_TRACKING_URI"] == TRACKING_URI
    assert "MLFLOW_RUN_ID" not in env and "MLFLOW_EXPERIMENT_NAME" not in env


def test_users_tracking_uri_turns_the_mlflow_part_off() -> None:
    env = trial_environment({"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
                             "HYPERSWEEP_TRIAL_ID": "HD_x_0"})
    assert not any(k.startswith("MLFLOW_") for k in env)


def test_users_run_id_and_experiment_are_kept() -> None:
    env = trial_environment({"HYPERSWEEP_TRIAL_ID": "HD_x_0", "MLFLOW_RUN_ID": "mine",
                             "MLFLOW_EXPERIMENT_NAME": "mine", "HYPERSWEEP_EXPERIMENT": "e"})
    assert "MLFLOW_RUN_ID" not in env and "MLFLOW_EXPERIMENT_NAME" not in env


def test_without_mlflow_no_mlflow_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(integrations, "mlflow_plugin_available", lambda: False)
    assert not any(k.startswith("MLFLOW_") for k in trial_environment({}))


@needs_mlflow
def test_the_plugin_is_registered_for_its_scheme() -> None:
    assert integrations.mlflow_plugin_available()
    code = ("from mlflow.tracking._tracking_service.utils import _get_store\n"
            "print(type(_get_store('hypersweep:')).__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "HypersweepStore"


def test_shim_packages_ship_in_the_wheel() -> None:
    # setuptools' package discovery, as pyproject's [tool.setuptools.packages.find] runs it.
    packages = set(find_packages(str(SRC)))
    assert {"hypersweep.shims", "hypersweep.shims.azureml",
            "hypersweep.shims.azureml.core"} <= packages
    assert Path(SHIM_DIR, "azureml", "core", "run.py").is_file()
