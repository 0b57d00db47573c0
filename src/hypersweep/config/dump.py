"""A `SweepSpec` written out as a v2 ``type: sweep`` YAML document.

`load_sweep` reads the result back into an equal spec, so a Python sweep and its YAML twin
are interchangeable. A ``HyperDriveConfig`` (anything with ``to_spec()``) is written as its
spec.

Examples
--------
>>> import tempfile
>>> from hypersweep.config.command import command_trial
>>> from hypersweep.sampling import RandomParameterSampling
>>> from hypersweep.space import choice
>>> from hypersweep.spec import Limits, Objective, SweepSpec
>>> spec = SweepSpec(RandomParameterSampling({"bs": choice(16, 32)}, seed=0),
...                  (Objective("acc", "maximize"),),
...                  command_trial("python t.py --bs ${{search_space.bs}}", tempfile.mkdtemp()),
...                  limits=Limits(max_total_trials=4))
>>> out = sweep_to_dict(spec)
>>> out["sampling_algorithm"]["seed"], out["limits"]
(0, {'max_total_trials': 4})
"""

from __future__ import annotations

import shlex
from typing import Any

import yaml

from hypersweep.errors import ConfigError
from hypersweep.spec import CommandTrial, ScriptTrial, SweepSpec

__all__ = ["sweep_to_dict", "sweep_to_yaml"]


def sweep_to_dict(spec: SweepSpec | Any) -> dict[str, Any]:
    """The v2 sweep job mapping of ``spec`` (plain data, ready for ``yaml.safe_dump``)."""
    if not isinstance(spec, SweepSpec):
        spec = spec.to_spec()  # a HyperDriveConfig; config never imports the api above it
    trial = spec.trial
    out: dict[str, Any] = {"type": "sweep", **spec.metadata.to_dict()}
    inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    if isinstance(trial, CommandTrial):
        out["trial"] = {"command": trial.command_as_written or trial.command, "code": trial.code}
        inputs = {n: dict(v) if isinstance(v, dict) else v
                  for n, v in (trial.declared_inputs or trial.inputs).items()}
        outputs = {n: dict(v) for n, v in trial.declared_outputs.items()}
    elif isinstance(trial, ScriptTrial):
        # A script trial is the command Azure would run: arguments, then --name value.
        words = ["python", trial.script, *trial.arguments]
        line = shlex.join(words) + "".join(
            f" --{n} ${{{{search_space.{n}}}}}" for n in spec.search_space.names)
        out["trial"] = {"command": line, "code": trial.source_directory}
    else:
        raise ConfigError("trial: a function trial has no v2 YAML form (it runs in Python)")
    if trial.environment_variables:
        out["trial"]["environment_variables"] = dict(trial.environment_variables)
    if inputs:
        out["inputs"] = inputs
    if outputs:
        out["outputs"] = outputs
    out["search_space"] = spec.search_space.to_dict()
    out["sampling_algorithm"] = spec.sampling.to_dict()
    objectives = [{"primary_metric": o.metric, "goal": o.goal} for o in spec.objectives]
    out["objective"] = objectives[0] if len(objectives) == 1 else objectives
    if spec.constraints:
        out["constraints"] = [c.to_dict() for c in spec.constraints]
    policy = spec.policy.to_dict()
    if policy.get("type") != "none":
        out["early_termination"] = policy
    out["limits"] = {k: v for k, v in spec.limits.to_dict().items() if v is not None}
    if spec.executor is not None:
        out["executor"] = spec.executor
    if spec.resources is not None:
        out["resources_per_trial"] = {k: v for k, v in spec.resources.to_dict().items()
                                      if v is not None}
    return out


def sweep_to_yaml(spec: SweepSpec | Any) -> str:
    """YAML text of `sweep_to_dict`, keys in Azure's documented order."""
    return yaml.safe_dump(sweep_to_dict(spec), sort_keys=False, allow_unicode=True,
                          width=100)
