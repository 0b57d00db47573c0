"""What one trial of a sweep runs: a script, a shell command, or a Python function.

Each kind is a frozen record with its stored mapping form (``to_dict``; `trial_from_dict` is
the inverse) and the shell line that runs one of its trials again by hand
(``reproduce_command``: what ``hypersweep best``, the dashboard, the notebook views and the
reports print). Validation of what a user wrote (paths exist, ``${{…}}`` references resolve)
happens where the user wrote it, before one of these is built; these hold checked values.

Examples
--------
>>> trial = trial_from_dict({"kind": "script", "source_directory": "src",
...                          "script": "train.py", "arguments": ["--epochs", "3"]})
>>> trial
ScriptTrial(source_directory='src', script='train.py', arguments=('--epochs', '3'), \
environment_variables={})
>>> trial_from_dict(trial.to_dict()) == trial
True
>>> trial.reproduce_command(["--epochs", "3", "--lr", "0.1"], {"lr": 0.1})
'cd src && python train.py --epochs 3 --lr 0.1'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import Any

from hypersweep.errors import ConfigError
from hypersweep.frozen import FrozenRecord

__all__ = ["CommandTrial", "FunctionTrial", "ScriptTrial", "TrialDefinition", "trial_from_dict"]


class ScriptTrial(FrozenRecord):
    """``python <script> <arguments> --<name> <value>…`` in a snapshot of a source folder."""

    source_directory: str
    script: str
    arguments: tuple[str, ...] = ()
    environment_variables: Mapping[str, str] = field(default_factory=dict)

    kind = "script"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source_directory": self.source_directory,
                "script": self.script, "arguments": list(self.arguments),
                "environment_variables": dict(self.environment_variables)}

    def reproduce_command(self, arguments: Sequence[str],
                          params: Mapping[str, Any] | None = None) -> str:
        """The shell line that runs one trial again: ``arguments`` as the trial recorded them
        (its script arguments and hyperparameter flags); ``params`` is not needed.

        >>> ScriptTrial("/my src", "train.py").reproduce_command(["--lr", "0.1"])
        "cd '/my src' && python train.py --lr 0.1"
        """
        import shlex  # only to show a command

        line = shlex.join(["python", self.script, *arguments])
        return f"cd {shlex.quote(self.source_directory)} && {line}"


class CommandTrial(FrozenRecord):
    """An Azure v2 ``trial.command`` run under ``/bin/sh -c`` in a snapshot of ``code``.

    ``command`` is what runs (output folders created first); ``command_as_written`` is the
    user's text. ``inputs``/``outputs`` are resolved (paths); ``declared_*`` as written.
    """

    command: str
    code: str
    command_as_written: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    declared_inputs: Mapping[str, Any] = field(default_factory=dict)
    declared_outputs: Mapping[str, Any] = field(default_factory=dict)
    environment_variables: Mapping[str, str] = field(default_factory=dict)

    kind = "command"

    @property
    def source_directory(self) -> str:
        """The folder snapshotted for each trial (``code``), as script trials name it."""
        return self.code

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "command": self.command,
                "command_as_written": self.command_as_written or self.command,
                "code": self.code, "inputs": dict(self.inputs),
                "declared_inputs": dict(self.declared_inputs), "outputs": dict(self.outputs),
                "declared_outputs": dict(self.declared_outputs),
                "environment_variables": dict(self.environment_variables)}

    def reproduce_command(self, arguments: Sequence[str],
                          params: Mapping[str, Any] | None = None) -> str:
        """The shell line that runs one trial again: the trial recorded its whole substituted
        command (each value quoted) as its one argument.

        >>> CommandTrial("python t.py --lr ${{search_space.lr}}", "/src").reproduce_command(
        ...     ["python t.py --lr 0.5"])
        'cd /src && python t.py --lr 0.5'
        """
        import shlex

        return f"cd {shlex.quote(self.code)} && {arguments[0] if arguments else ''}"


class FunctionTrial(FrozenRecord):
    """A Python function called in this process (or its worker pool); ``function`` names it."""

    function: str | None = None

    kind = "function"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "function": self.function}

    def reproduce_command(self, arguments: Sequence[str],
                          params: Mapping[str, Any] | None = None) -> str:
        """The call that runs one trial again: a Python objective has no command line, so
        this is the function called with the trial's ``params`` (``arguments`` is empty).

        >>> FunctionTrial("f").reproduce_command([], {"x": 1})
        'f({"x": 1}, run)'
        """
        values = json.dumps(dict(params or {}), sort_keys=True)
        return f"{self.function or 'objective'}({values}, run)"


TrialDefinition = ScriptTrial | CommandTrial | FunctionTrial


def trial_from_dict(data: Any) -> TrialDefinition:
    """The trial definition stored as ``data`` (any release's form)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"trial: expected a mapping (got {type(data).__name__})")
    kind = data.get("kind", "script")
    env = {str(k): str(v) for k, v in (data.get("environment_variables") or {}).items()}
    try:
        if kind == "script":
            return ScriptTrial(str(data["source_directory"]), str(data["script"]),
                               tuple(str(a) for a in data.get("arguments") or ()), env)
        if kind == "command":
            return CommandTrial(
                command=str(data["command"]), code=str(data["code"]),
                command_as_written=data.get("command_as_written"),
                inputs=dict(data.get("inputs") or {}), outputs=dict(data.get("outputs") or {}),
                declared_inputs=dict(data.get("declared_inputs") or data.get("inputs") or {}),
                declared_outputs=dict(data.get("declared_outputs") or {}),
                environment_variables=env)
    except KeyError as err:
        raise ConfigError(f"trial.{err.args[0]}: missing from the stored {kind} trial") from None
    if kind == "function":
        return FunctionTrial(data.get("function"))
    raise ConfigError(f"trial.kind: unknown trial kind {kind!r}")
