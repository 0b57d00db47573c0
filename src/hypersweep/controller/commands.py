"""How a trial's hyperparameters become its command line and environment.

Two kinds of trial, as Azure has:

- a **script** (v1 ``ScriptRunConfig``): ``python script.py <arguments> --name value ...``, an
  argv list that never passes through a shell;
- a **command** (v2 ``trial.command``): a shell command line with ``${{search_space.x}}`` and
  ``${{inputs.x}}`` references. Users write ``&&`` and pipes, so it runs under ``/bin/sh -c``,
  but no value ever becomes shell syntax, and each is exactly one argument whatever quotes
  the user wrote around its reference (see `ShellCommand`).
"""

from __future__ import annotations

import re
import shlex
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.controller.shell_references import REFERENCE, Reference, find_references
from hypersweep.errors import ConfigError
from hypersweep.spec import CommandTrial, ScriptTrial, TrialDefinition

__all__ = ["REFERENCE", "ScriptCommand", "ShellCommand", "TrialCommand", "check_references",
           "format_value", "option_name", "script_arguments", "sweep_environment",
           "trial_command"]


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
    """A v2 command line run by ``/bin/sh -c``, its references bound to shell variables.

    The values are assigned to variables in a prologue, each shell-quoted
    (``__hs_lr=0.1;``), and each reference becomes a reference to its variable, written for
    the quotes around it: ``"${__hs_lr}"`` unquoted, ``${__hs_lr}`` inside double quotes,
    ``'"${__hs_lr}"'`` inside single quotes (close, expand, reopen). So a value is always
    exactly one argument, whatever quotes the user wrote.

    Why variables rather than splicing each value, quoted for its context, into the
    command: the prologue is the one place value text enters shell code, and there
    `shlex.quote` is exact. In the user's command only fixed ``${__hs_...}`` text is written,
    and the shell never parses the result of an expansion as code — so even where the
    quoting context is misread (shell syntax has corners: ``case`` inside ``$(...)``,
    backquotes in double quotes) a value can at worst be split into words, never run.
    The recorded line stays self-contained: pasted into a shell, it runs the same trial.

    A value made only of characters no shell treats specially (letters, digits and
    ``@%+:,./_-``: most numbers and choice names) means the same in every quoting context,
    so it is written in place, and the recorded line reads as the user wrote it.

    A value is substituted once, at the level of this shell: inside a nested shell's script
    (``bash -c '... ${{search_space.x}} ...'``) it becomes text of that script. Nested
    shells should read ``"$AZUREML_SWEEP_x"`` instead, which every trial has.

    Examples
    --------
    >>> cmd = ShellCommand("python train.py --lr ${{search_space.lr}} && echo done")
    >>> print(cmd.arguments({"lr": "0.1; reboot"})[0])
    __hs_lr='0.1; reboot'; python train.py --lr "${__hs_lr}" && echo done
    >>> print(cmd.arguments({"lr": 0.001})[0])
    python train.py --lr 0.001 && echo done
    """

    def __init__(
        self, command: str, inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, str] | None = None,
    ) -> None:
        self.command = command
        self.inputs = dict(inputs or {})
        self.outputs = dict(outputs or {})
        self.references = check_references(command)

    def arguments(self, params: Mapping[str, Any], resume_from: str | None = None) -> list[str]:
        tables: dict[str, Mapping[str, Any]] = {
            "search_space": params, "inputs": self.inputs, "outputs": self.outputs,
        }
        names: dict[tuple[str, str], str] = {}  # a reference -> its variable, or its value
        inline: set[tuple[str, str]] = set()
        prologue: list[str] = []
        parts: list[str] = []
        done = 0
        for ref in self.references:
            if ref.context == "comment":
                continue
            key = (ref.section, ref.name)
            if key not in names:
                table = tables[ref.section]
                if ref.name in table:
                    value = format_value(table[ref.name])
                elif ref.section == "search_space":
                    value = ""  # a parameter of a nested option not chosen this time
                else:
                    raise ConfigError(
                        f"trial.command: ${{{{{ref.section}.{ref.name}}}}} is not defined")
                if _INERT.fullmatch(value):
                    names[key] = value
                    inline.add(key)
                else:
                    names[key] = _variable(ref, set(names.values()))
                    prologue.append(f"{names[key]}={shlex.quote(value)}")
            written = names[key] if key in inline else _expansion(names[key], ref.context)
            parts += [self.command[done:ref.start], written]
            done = ref.end
        parts.append(self.command[done:])
        line = "".join(parts)
        if prologue:
            line = " ".join(prologue) + "; " + line
        if resume_from is not None:
            line += " --resume-from " + shlex.quote(resume_from)
        return [line]

    def argv(self, arguments: Sequence[str]) -> list[str]:
        return ["/bin/sh", "-c", arguments[0]]


def check_references(command: str) -> list[Reference]:
    """The references of ``command``; a `ConfigError` for one that cannot be substituted.

    In a here-document with a quoted delimiter (``<<'EOF'``) nothing expands, so a value
    could only be pasted in as text, and a value holding the delimiter line would end the
    document early and run what follows: such references are refused.
    """
    refs = find_references(command)
    for ref in refs:
        if ref.context == "literal":
            raise ConfigError(
                f"trial.command: ${{{{{ref.section}.{ref.name}}}}} is inside a quoted "
                f"here-document (<<{ref.heredoc}), where no value can be substituted safely; "
                "write the delimiter unquoted (<<EOF)")
    return refs


#: A value no shell reads specially in any quoting context: one word as it stands. (``=``
#: is left out: as a command's first word it would make an assignment.)
_INERT = re.compile(r"[A-Za-z0-9@%+:,./_-]+")


def _variable(ref: Reference, taken: set[str]) -> str:
    """A shell variable name for a reference: readable, and unlike any other one."""
    stem = {"search_space": "", "inputs": "input_", "outputs": "output_"}[ref.section]
    base = "__hs_" + stem + re.sub(r"[^A-Za-z0-9_]", "_", ref.name)
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base}_{count}"
    return name


def _expansion(variable: str, context: str) -> str:
    """``$variable`` written so that it is exactly one word in ``context``."""
    if context == "double":
        return f"${{{variable}}}"
    if context == "single":
        return f"'\"${{{variable}}}\"'"
    return f"\"${{{variable}}}\""


def trial_command(trial: TrialDefinition) -> TrialCommand:
    """The command a sweep's script or command trial runs."""
    if isinstance(trial, ScriptTrial):
        return ScriptCommand(trial.script, trial.arguments)
    if isinstance(trial, CommandTrial):
        return ShellCommand(trial.command, dict(trial.inputs), dict(trial.outputs))
    raise ConfigError(f"trial.kind: a {trial.kind} trial has no command")
