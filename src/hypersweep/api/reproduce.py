"""The shell line that runs one trial again by hand (``hypersweep best``, the HTML report).

Lives below the faces so that the CLI and the notebook/report views (both floor 5, which do
not import each other) print the same command.

Examples
--------
>>> reproduce_command({"trial": {"kind": "script", "source_directory": "/src",
...                              "script": "train.py"}}, ["--lr", "0.1"])
'cd /src && python train.py --lr 0.1'
"""

from __future__ import annotations

import json
import shlex
from typing import Any

__all__ = ["reproduce_command"]


def reproduce_command(
    config: dict[str, Any], arguments: list[str], params: dict[str, Any] | None = None
) -> str:
    """The shell line that runs one trial again by hand, from the trial's recorded arguments.

    Examples
    --------
    >>> reproduce_command({"trial": {"kind": "function", "function": "f"}}, [], {"x": 1})
    'f({"x": 1}, run)'
    """
    trial = config["trial"]
    if trial.get("kind") == "function":  # a Python objective: there is no command line
        name = trial.get("function") or "objective"
        return f"{name}({json.dumps(params or {}, sort_keys=True)}, run)"
    if trial.get("kind") == "command":
        return f"cd {shlex.quote(trial['code'])} && {arguments[0] if arguments else ''}"
    line = shlex.join(["python", trial["script"], *arguments])
    return f"cd {shlex.quote(trial['source_directory'])} && {line}"
