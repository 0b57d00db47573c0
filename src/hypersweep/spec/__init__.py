"""The sweep spec: one frozen, typed, versioned description of a sweep (floor 2).

It sits above ``space``, ``sampling`` and ``policies`` and below everything that runs or shows
sweeps. See `SweepSpec`; `hypersweep.spec.checks` holds the checks of counts, durations,
goals and metric names that every face applies under its own key names.
"""

from hypersweep.spec import checks
from hypersweep.spec.objectives import (
    Constraint,
    Objective,
    constraints_from,
    last_logged,
    objectives_from,
    objectives_given,
)
from hypersweep.spec.sweep_spec import (
    Limits,
    Metadata,
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
    "Constraint",
    "FunctionTrial",
    "Limits",
    "Metadata",
    "Objective",
    "Resources",
    "ScriptTrial",
    "SweepSpec",
    "TrialDefinition",
    "WarmStart",
    "checks",
    "constraints_from",
    "last_logged",
    "objectives_from",
    "objectives_given",
    "trial_from_dict",
]
