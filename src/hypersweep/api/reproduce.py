"""The shell line that runs one trial again by hand (``hypersweep best``, the notebook view).

Each trial kind of `hypersweep.spec` says how one of its trials is run again
(``reproduce_command``); this is that line for a sweep's trial definition or its whole
`SweepSpec`, so that the CLI, the dashboard, ``HyperDriveRun``'s notebook view and the viz
reports print the same command.

Examples
--------
>>> from hypersweep.spec import ScriptTrial
>>> reproduce_command(ScriptTrial("/src", "train.py"), ["--lr", "0.1"])
'cd /src && python train.py --lr 0.1'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.spec import SweepSpec, TrialDefinition

__all__ = ["reproduce_command"]


def reproduce_command(
    trial: TrialDefinition | SweepSpec, arguments: Sequence[str],
    params: Mapping[str, Any] | None = None,
) -> str:
    """The shell line that runs one trial again by hand, from the trial's recorded arguments.

    ``trial`` is the sweep's trial definition (or its whole `SweepSpec`); ``params`` are the
    trial's hyperparameters (what a function trial is called with).

    Examples
    --------
    >>> from hypersweep.spec import CommandTrial, FunctionTrial
    >>> reproduce_command(FunctionTrial("f"), [], {"x": 1})
    'f({"x": 1}, run)'
    >>> reproduce_command(CommandTrial("python t.py --lr ${{search_space.lr}}", "/src"),
    ...                   ["python t.py --lr 0.5"])
    'cd /src && python t.py --lr 0.5'
    """
    definition = trial.trial if isinstance(trial, SweepSpec) else trial
    return definition.reproduce_command(arguments, params)
