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
from hypersweep.spec.outcomes import (
    TrialOutcome,
    default_reference,
    hypervolume_by_trial,
    outcomes_of,
    sweep_outcomes,
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
    "TrialOutcome",
    "WarmStart",
    "checks",
    "constraints_from",
    "default_reference",
    "hypervolume_by_trial",
    "last_logged",
    "objectives_from",
    "objectives_given",
    "outcomes_of",
    "sweep_outcomes",
    "trial_from_dict",
]
