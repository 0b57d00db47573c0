"""Choosing the executor from a URI; Dask stays out of ``import hypersweep``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hypersweep.errors import ConfigError
from hypersweep.execution import LocalProcessExecutor, executor_from_uri
from hypersweep.execution.factory import parse_dask_uri


def test_local_and_dask_uris():
    assert isinstance(executor_from_uri("local"), LocalProcessExecutor)
    assert isinstance(executor_from_uri(None), LocalProcessExecutor)
    assert parse_dask_uri("dask://h:8786") == ("tcp://h:8786", {})
    assert parse_dask_uri("tcp://10.0.0.1:8786?retries=0&shared_dir=/mnt/x") == (
        "tcp://10.0.0.1:8786", {"retries": 0, "shared_dir": "/mnt/x"})
    assert parse_dask_uri("dask+tls://h:1?resources=GPU:1,MEM:2e9")[1] == {
        "resources": {"GPU": 1.0, "MEM": 2e9}}
    for bad in ("slurm://x", "dask://", "dask://h:1?gpus=2", "dask://h:1?resources=GPU"):
        with pytest.raises(ValueError):
            parse_dask_uri(bad)


def test_config_refuses_a_bad_executor(tmp_path):
    from hypersweep import HyperDriveConfig, RandomParameterSampling, ScriptRunConfig, choice

    (tmp_path / "train.py").write_text("print(1)")
    with pytest.raises(ConfigError, match="executor"):
        HyperDriveConfig(
            run_config=ScriptRunConfig(source_directory=tmp_path, script="train.py"),
            hyperparameter_sampling=RandomParameterSampling({"a": choice(1, 2)}),
            primary_metric_name="m", primary_metric_goal="maximize", max_total_runs=1,
            executor="dask://h:1?nope=1",
        )


def test_import_hypersweep_does_not_import_dask():
    code = ("import sys, hypersweep, hypersweep.execution, hypersweep.api.sweep_run; "
            "print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
