"""How a trial's hyperparameters become its command line and environment.

Two kinds of trial, as Azure has:

- a **script** (v1 ``ScriptRunConfig``): ``python script.py <arguments> --name value ...``, an
  argv list that never passes through a shell;
- a **command** (v2 ``trial.command``): a shell command line with ``${{search_space.x}}`` and
  ``${{inputs.x}}`` references. Users write ``&&`` and pipes, so it runs under ``/bin/sh -c``,
  but every substituted value is shell-quoted: a value is always one literal word and never
  becomes shell syntax.
"""

from __future__ import annotations

import re
import shlex
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.errors import ConfigError


def format_value(value: Any) -> str:
    """The text a script receives for a hyperparameter value.

    Floats keep their shortest exact form (``repr``), so ``0.1`` arrives as ``"0.1"``.

    Examples
    --------
    >>> [format_value(v) for v in (3, 0.1, True, "a b", None)]
    ['3', '0.1', 'True', 'a b', 'None']
    """
    if isinstance(value, float):
        return repr(value)
    return str(value)


def option_name(name: str) -> str:
    """``--name`` for a parameter; a key already starting with ``-`` is used as written."""
    return name if name.startswith("-") else f"--{name}"


def script_arguments(
    arguments: Sequence[str], params: Mapping[str, Any], resume_from: str | None = None
) -> list[str]:
    """The script's arguments: the configured ones, then ``--name value`` per hyperparameter.

    A hyperparameter overrides the same option given in ``arguments`` (that option and its
    value are dropped), as Azure does.

    Examples
    --------
    >>> script_arguments(["--epochs", "3", "--lr", "0.5"], {"lr": 0.01})
    ['--epochs', '3', '--lr', '0.01']
    """
    overridden = {option_name(name) for name in params}
    kept: list[str] = []
    skip_value = False
    for arg in arguments:
        if skip_value:
            skip_value = False
            if not arg.startswith("--"):
                continue
        flag = arg.split("=", 1)[0]
        if flag in overridden:
            skip_value = "=" not in arg
            continue
        kept.append(arg)
    for name, value in params.items():
        kept += [option_name(name), format_value(value)]
    if resume_from is not None:
        kept += ["--resume-from", resume_from]
    return kept


def sweep_environment(params: Mapping[str, Any]) -> dict[str, str]:
    """``AZUREML_SWEEP_<name>`` variables, as Azure sets for every trial."""
    return {f"AZUREML_SWEEP_{name.lstrip('-')}": format_value(v) for name, v in params.items()}


#: ``${{search_space.x}}`` / ``${{inputs.x}}`` / ``${{outputs.x}}`` (dotted names allowed).
REFERENCE = re.compile(r"\$\{\{\s*(search_space|inputs|outputs)\.([A-Za-z0-9_.\-]+)\s*\}\}")


class TrialCommand(ABC):
    """Turns a configuration into what a trial runs; built from the stored ``trial`` mapping."""

    @abstractmethod
    def arguments(self, params: Mapping[str, Any], resume_from: str | None = None) -> list[str]:
        """What is recorded as the trial's ``runDefinition.arguments``."""

    @abstractmethod
    def argv(self, arguments: Sequence[str]) -> list[str]:
        """The process to start, from the recorded arguments."""


class ScriptCommand(TrialCommand):
    """``python script.py <arguments> --name value ...`` with this interpreter, no shell."""

    def __init__(self, script: str, arguments: Sequence[str] = ()) -> None:
        self.script = script
        self.base_arguments = [str(a) for a in arguments]

    def arguments(self, params: Mapping[str, Any], resume_from: str | None = None) -> list[str]:
        return script_arguments(self.base_arguments, params, resume_from)

    def argv(self, arguments: Sequence[str]) -> list[str]:
        return [sys.executable, self.script, *arguments]


class ShellCommand(TrialCommand):
    """A v2 command line, references replaced by shell-quoted values, run by ``/bin/sh -c``.

    Examples
    --------
    >>> cmd = ShellCommand("python train.py --lr ${{search_space.lr}} && echo done")
    >>> cmd.arguments({"lr": "0.1; reboot"})
    ["python train.py --lr '0.1; reboot' && echo done"]
    """

    def __init__(
        self, command: str, inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, str] | None = None,
    ) -> None:
        self.command = command
        self.inputs = dict(inputs or {})
        self.outputs = dict(outputs or {})

    def arguments(self, params: Mapping[str, Any], resume_from: str | None = None) -> list[str]:
        def substitute(match: re.Match[str]) -> str:
            section, name = match.group(1), match.group(2)
            table: Mapping[str, Any] = {
                "search_space": params, "inputs": self.inputs, "outputs": self.outputs,
            }[section]
            if name not in table:
                if section == "search_space":
                    return "''"  # a parameter of a nested option not chosen this time
                raise ConfigError(f"trial.command: ${{{{{section}.{name}}}}} is not defined")
            return shlex.quote(format_value(table[name]))

        line = REFERENCE.sub(substitute, self.command)
        if resume_from is not None:
            line += " --resume-from " + shlex.quote(resume_from)
        return [line]

    def argv(self, arguments: Sequence[str]) -> list[str]:
        return ["/bin/sh", "-c", arguments[0]]


def trial_command(trial: Mapping[str, Any]) -> TrialCommand:
    """The command of a stored ``trial`` mapping (``kind`` ``script`` or ``command``)."""
    kind = trial.get("kind", "script")
    if kind == "script":
        return ScriptCommand(str(trial["script"]), trial.get("arguments", []))
    if kind == "command":
        return ShellCommand(str(trial["command"]), trial.get("inputs"), trial.get("outputs"))
    raise ConfigError(f"trial.kind: unknown trial kind {kind!r}")
