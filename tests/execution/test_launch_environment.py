"""A launch's environment: the copy of the process's own follows every change to it, what
Popen refuses is refused alike, with the first offending item's reason, and the trial gets its
machine's environment under the sweep's variables."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hypersweep.execution.environment import process_environment
from hypersweep.execution.launcher import check_exec_arguments
from hypersweep.execution.local import _environment
from hypersweep.tracking.integrations import (
    TRACKING_URI,
    azureml_core_installed,
    mlflow_plugin_available,
    shim_archive,
)


def test_the_copy_follows_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _environment() == dict(os.environ)
    monkeypatch.setenv("HS_TEST_ENV", "one")
    assert _environment()["HS_TEST_ENV"] == "one"
    monkeypatch.setenv("HS_TEST_ENV", "two")
    copy = _environment()
    assert copy == dict(os.environ) and copy["HS_TEST_ENV"] == "two"
    copy["HS_TEST_ENV"] = "changed by a caller"
    copy["HS_OTHER"] = "added by a caller"
    again = _environment()  # a fresh copy: a caller's changes stay its own
    assert again["HS_TEST_ENV"] == "two" and "HS_OTHER" not in again
    monkeypatch.delenv("HS_TEST_ENV")
    assert "HS_TEST_ENV" not in _environment()
    assert _environment() == dict(os.environ)


@pytest.mark.parametrize(("env", "argv", "reason"), [
    ({"A": "1", "B": ""}, ["ls", ""], None),
    ({"": "1"}, ["ls"], "illegal environment variable name"),
    ({"A=B": "1"}, ["ls"], "illegal environment variable name"),
    ({"A\0": "1"}, ["ls"], "embedded null byte"),
    ({"A": "1\0"}, ["ls"], "embedded null byte"),
    ({"A": "1\0", "B=C": "1"}, ["ls"], "embedded null byte"),  # the first item's reason
    ({"B=C": "1", "A": "1\0"}, ["ls"], "illegal environment variable name"),
    ({"A": "1"}, ["l\0s"], "embedded null byte"),
])
def test_refused_as_popen_refuses(env: dict[str, str], argv: list[str],
                                  reason: str | None) -> None:
    if reason is None:
        check_exec_arguments(argv, env)
        return
    with pytest.raises(ValueError, match=reason):
        check_exec_arguments(argv, env)


def test_a_trial_environment_is_its_machine_s_under_the_sweep_s(tmp_path: Path) -> None:
    """What the sweep sets wins; PATH, PYTHONPATH and the plugins come from the machine that
    runs the trial (the controller's environment never travels with the trial)."""
    machine = {"HOME": "/home/worker", "PATH": "/worker/bin", "PYTHONPATH": "/worker/lib",
               "MLFLOW_TRACKING_URI": "http://worker:5000"}
    sweep = {"HYPERSWEEP_TRIAL_ID": "HD_1_0", "LR": "0.1", "HOME": "/home/sweep"}
    shim = shim_archive(tmp_path)
    env = process_environment(machine, sweep, shim)
    assert env["LR"] == "0.1" and env["HOME"] == "/home/sweep"  # the sweep's win
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].split(os.pathsep) == [os.path.dirname(sys.executable), "/worker/bin"]
    if not azureml_core_installed():
        assert env["PYTHONPATH"].split(os.pathsep) == ["/worker/lib", shim]
    if mlflow_plugin_available():  # the plugin's URI over the machine's own, as before
        assert env["MLFLOW_TRACKING_URI"] == TRACKING_URI and env["MLFLOW_RUN_ID"] == "HD_1_0"
    # a PATH or PYTHONPATH the sweep sets replaces the machine's; no shim: none on the path
    mine = process_environment(machine, {"PATH": "/mine/bin", "PYTHONPATH": "/mine/lib"}, None)
    assert mine["PATH"].split(os.pathsep) == [os.path.dirname(sys.executable), "/mine/bin"]
    assert mine["PYTHONPATH"] == "/mine/lib"
    assert machine["PATH"] == "/worker/bin"  # the caller's mapping is left as it was
