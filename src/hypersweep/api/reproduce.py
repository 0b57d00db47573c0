"""The shell line that runs one trial again by hand (``hypersweep best``, the notebook view).

Lives below the faces so that the CLI, the dashboard and ``HyperDriveRun``'s notebook view
print the same command.

Examples
--------
>>> from hypersweep.spec import ScriptTrial
>>> reproduce_command(ScriptTrial("/src", "train.py"), ["--lr", "0.1"])
'cd /src && python train.py --lr 0.1'
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.spec import CommandTrial, FunctionTrial, SweepSpec, TrialDefinition

__all__ = ["reproduce_command"]


def reproduce_command(
    trial: TrialDefinition | SweepSpec, arguments: Sequence[str],
    params: Mapping[str, Any] | None = None,
) -> str:
    """The shell line that runs one trial again by hand, from the trial's recorded arguments.

    ``trial`` is the sweep's trial definition (or its whole `SweepSpec`).

    Examples
    --------
    >>> from hypersweep.spec import CommandTrial, FunctionTrial
    >>> reproduce_command(FunctionTrial("f"), [], {"x": 1})
    'f({"x": 1}, run)'
    >>> reproduce_command(CommandTrial("python t.py --lr ${{search_space.lr}}", "/src"),
    ...                   ["python t.py --lr 0.5"])
    'cd /src && python t.py --lr 0.5'
    """
    if isinstance(trial, SweepSpec):
        trial = trial.trial
    if isinstance(trial, FunctionTrial):  # a Python objective: there is no command line
        name = trial.function or "objective"
        return f"{name}({json.dumps(dict(params or {}), sort_keys=True)}, run)"
    if isinstance(trial, CommandTrial):  # the recorded argument is the whole shell line
        return f"cd {shlex.quote(trial.code)} && {arguments[0] if arguments else ''}"
    line = shlex.join(["python", trial.script, *arguments])
    return f"cd {shlex.quote(trial.source_directory)} && {line}"
