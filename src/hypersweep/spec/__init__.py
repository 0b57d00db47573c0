"""The sweep spec: one frozen, typed, versioned description of a sweep (floor 2).

It sits above ``space``, ``sampling`` and ``policies`` and below everything that runs or shows
sweeps. See `SweepSpec`.
"""

from hypersweep.spec.sweep_spec import (
    Limits,
    Metadata,
    Objective,
    Resources,
    SweepSpec,
    WarmStart,
)
from hypersweep.spec.trials import (
    CommandTrial,
    FunctionTrial,
    ScriptTrial,
    TrialDefinition,
    trial_from_dict,
)

__all__ = [
    "CommandTrial",
    "FunctionTrial",
    "Limits",
    "Metadata",
    "Objective",
    "Resources",
    "ScriptTrial",
    "SweepSpec",
    "TrialDefinition",
    "WarmStart",
    "trial_from_dict",
]
