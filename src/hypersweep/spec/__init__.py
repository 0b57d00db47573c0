"""The sweep spec: one frozen, typed, versioned description of a sweep (floor 2).

It sits above ``space``, ``sampling`` and ``policies`` and below everything that runs or shows
sweeps. See `SweepSpec`; `hypersweep.spec.checks` holds the checks of counts, durations,
goals and metric names that every face applies under its own key names.

Names load their module on first use: a running sweep never reads the outcomes
(`hypersweep.spec.outcomes`, and with them `hypersweep.pareto`), which the faces that show
results do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypersweep.lazy import lazy_exports
from hypersweep.spec import checks

if TYPE_CHECKING:
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
    from hypersweep.spec.sweep_spec import Limits, Metadata, Resources, SweepSpec, WarmStart
    from hypersweep.spec.trials import (
        CommandTrial,
        FunctionTrial,
        ScriptTrial,
        TrialDefinition,
        trial_from_dict,
    )

# Name -> the module that defines it, imported on first use (PEP 562): the outcomes (and with
# them ``hypersweep.pareto``) are read by the faces that show results, never by a running sweep.
_LAZY = {
    "Constraint": ".objectives",
    "Objective": ".objectives",
    "constraints_from": ".objectives",
    "last_logged": ".objectives",
    "objectives_from": ".objectives",
    "objectives_given": ".objectives",
    "TrialOutcome": ".outcomes",
    "default_reference": ".outcomes",
    "hypervolume_by_trial": ".outcomes",
    "outcomes_of": ".outcomes",
    "sweep_outcomes": ".outcomes",
    "Limits": ".sweep_spec",
    "Metadata": ".sweep_spec",
    "Resources": ".sweep_spec",
    "SweepSpec": ".sweep_spec",
    "WarmStart": ".sweep_spec",
    "CommandTrial": ".trials",
    "FunctionTrial": ".trials",
    "ScriptTrial": ".trials",
    "TrialDefinition": ".trials",
    "trial_from_dict": ".trials",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


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
