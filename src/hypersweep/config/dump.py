"""A `HyperDriveConfig` written out as a v2 ``type: sweep`` YAML document.

`load_sweep` reads the result back into an equal config (same stored ``to_dict()``), so a
Python sweep and its YAML twin are interchangeable.

Examples
--------
>>> import tempfile
>>> from hypersweep.api.config import CommandJob, HyperDriveConfig
>>> from hypersweep.sampling import RandomParameterSampling
>>> from hypersweep.space import choice
>>> config = HyperDriveConfig(
...     RandomParameterSampling({"bs": choice(16, 32)}, seed=0), "acc", "maximize", 4,
...     run_config=CommandJob("python t.py --bs ${{search_space.bs}}", code=tempfile.mkdtemp()))
>>> sweep_to_dict(config)["sampling_algorithm"]["seed"]
0
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from hypersweep.api.config import HyperDriveConfig


def sweep_to_dict(config: HyperDriveConfig) -> dict[str, Any]:
    """The v2 sweep job mapping of ``config`` (plain data, ready for ``yaml.safe_dump``)."""
    from hypersweep.api.config import CommandJob

    run = config.run_config
    assert run is not None
    sampler = config.hyperparameter_sampling
    out: dict[str, Any] = {"type": "sweep", **config.metadata}
    if isinstance(run, CommandJob):
        out["trial"] = {"command": run.command, "code": str(run.source_directory)}
        inputs = {n: dict(v) if isinstance(v, dict) else v for n, v in run.inputs.items()}
        outputs = {n: dict(v) for n, v in run.outputs.items()}
    else:
        # A script trial is the command Azure would run: arguments, then --name value.
        words = ["python", run.script, *run.arguments]
        line = shlex.join(words) + "".join(
            f" --{n} ${{{{search_space.{n}}}}}" for n in sampler.space.names)
        out["trial"] = {"command": line, "code": str(run.source_directory)}
        inputs, outputs = {}, {}
    if run.environment_variables:
        out["trial"]["environment_variables"] = dict(run.environment_variables)
    if inputs:
        out["inputs"] = inputs
    if outputs:
        out["outputs"] = outputs
    out["search_space"] = sampler.space.to_dict()
    out["sampling_algorithm"] = sampler.to_dict()
    out["objective"] = {"primary_metric": config.primary_metric_name,
                        "goal": config.primary_metric_goal.value}
    policy = config.policy.to_dict()
    if policy.get("type") != "none":
        out["early_termination"] = policy
    limits: dict[str, Any] = {"max_total_trials": config.max_total_runs,
                              "max_concurrent_trials": config.max_concurrent_runs,
                              "timeout": config.max_duration_minutes * 60}
    if run.max_run_duration_seconds is not None:
        limits["trial_timeout"] = run.max_run_duration_seconds
    if config.max_failed_runs is not None:
        limits["max_failed_trials"] = config.max_failed_runs
    out["limits"] = limits
    if config.executor is not None:
        out["executor"] = config.executor
    return out


def sweep_to_yaml(config: HyperDriveConfig) -> str:
    """YAML text of `sweep_to_dict`, keys in Azure's documented order."""
    return yaml.safe_dump(sweep_to_dict(config), sort_keys=False, allow_unicode=True,
                          width=100)
