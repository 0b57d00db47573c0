"""A v2 ``trial.command`` with its job's ``inputs`` and ``outputs``, checked into a `CommandTrial`.

The YAML reader and the Python ``CommandJob`` both build a command trial here, so the two
refuse the same mistakes with the same words: an undefined ``${{inputs.x}}``, a missing
input file, an output of an unknown type. ``${{search_space.x}}``, ``${{inputs.x}}`` and
``${{outputs.x}}`` stay in the command; the controller substitutes shell-quoted values.

Examples
--------
>>> import tempfile
>>> trial = command_trial("python train.py --out ${{outputs.model}}", tempfile.mkdtemp(),
...                       outputs={"model": None})
>>> trial.command
'mkdir -p -- outputs/model; python train.py --out ${{outputs.model}}'
>>> trial.outputs, trial.command_as_written
({'model': 'outputs/model'}, 'python train.py --out ${{outputs.model}}')
"""

from __future__ import annotations

import difflib
import math
import os
import re
import shlex
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hypersweep.config.validate import environment, folder, path_is
from hypersweep.errors import ConfigError
from hypersweep.space.values import check_text, describe
from hypersweep.spec import CommandTrial

__all__ = ["check_parameters", "command_trial", "modernize_command"]

_LEGACY_REFERENCE = re.compile(
    r"(?<![{$])\{(search_space|inputs|outputs)\.([A-Za-z0-9_.\-]+)\}(?!\})"
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_PATH_TYPES = ("uri_file", "uri_folder")


def did_you_mean(name: str, known: Sequence[str], what: str) -> str:
    """The closest known name as a hint, else the list of what is declared."""
    close = difflib.get_close_matches(name, list(known), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"declared: {', '.join(known)}" if known else f"no {what}s are declared"


def modernize_command(command: Any, *, stacklevel: int = 2) -> str:
    """``command`` checked, with the deprecated ``{inputs.x}`` form rewritten as ``${{inputs.x}}``
    (with a warning).

    ``stacklevel`` here and below is as for `warnings.warn` called in this function: 2 blames
    its caller, one more for each wrapper in between.
    """
    if not isinstance(command, str) or not command.strip():
        raise ConfigError(f"trial.command: expected a command line (got {describe(command)})")
    check_text(command, "trial.command", argument=True)
    legacy = sorted({f"{{{s}.{n}}}" for s, n in _LEGACY_REFERENCE.findall(command)})
    if legacy:
        warnings.warn(f"trial.command: the single-brace form {', '.join(legacy)} is "
                      "deprecated; write ${{...}} instead", stacklevel=stacklevel)
        command = _LEGACY_REFERENCE.sub(r"${{\1.\2}}", command)
    return command


def command_trial(command: Any, code: Any = ".", inputs: Mapping[str, Any] | None = None,
                  outputs: Mapping[str, Any] | None = None,
                  environment_variables: Mapping[str, Any] | None = None, *,
                  stacklevel: int = 2) -> CommandTrial:
    """The checked `CommandTrial` of a v2 trial (``code`` resolved, input paths absolute).

    Relative input paths resolve against the current folder (the YAML reader resolves them
    against the file's folder first). Output folders are created by the command itself
    (``mkdir -p``) before the user's command runs, as Azure creates them.
    """
    written = modernize_command(command, stacklevel=stacklevel + 1)
    if not isinstance(code, str | os.PathLike):
        raise ConfigError(f"trial.code: expected a local folder (got {describe(code)})")
    source = folder("trial.code", code)
    if not path_is(source, "dir", "trial.code"):
        raise ConfigError(f"trial.code: not a directory ({str(source)!r})")
    declared_inputs = {name: _input(name, value) for name, value in (inputs or {}).items()}
    declared_outputs = {name: _output(name, value) for name, value in (outputs or {}).items()}
    env = environment("trial.environment_variables", environment_variables)
    from hypersweep.controller.commands import REFERENCE, check_references

    check_references(written)
    for section, name in REFERENCE.findall(written):
        table = {"inputs": declared_inputs, "outputs": declared_outputs}.get(section)
        if table is not None and name not in table:
            what = section[:-1]
            raise ConfigError(
                f"trial.command: ${{{{{section}.{name}}}}} refers to an undefined {what} "
                f"({did_you_mean(name, list(table), what)})")
    paths = {name: f"outputs/{name}" for name in declared_outputs}
    folders = [p for n, p in paths.items() if declared_outputs[n]["type"] == "uri_folder"]
    # A separate shell command, so any user syntax (&, ||, comments) is unaffected.
    prefix = f"mkdir -p -- {shlex.join(folders)}; " if folders else ""
    return CommandTrial(
        command=prefix + written, code=str(source), command_as_written=written,
        inputs={n: v["path"] if isinstance(v, dict) else v for n, v in declared_inputs.items()},
        outputs=paths, declared_inputs=declared_inputs, declared_outputs=declared_outputs,
        environment_variables=env)


def check_parameters(command: str, names: Sequence[str], *, stacklevel: int = 2) -> None:
    """Refuse references to parameters the space lacks; warn about unused parameters.

    ``names`` are the space's flat (dotted) names. A parameter counts as used when the
    command references it (or a nested name under it) or reads ``$AZUREML_SWEEP_<name>``.
    """
    from hypersweep.controller.commands import REFERENCE

    used = [n for s, n in REFERENCE.findall(command) if s == "search_space"]
    for name in used:
        if name not in names:
            raise ConfigError(
                f"trial.command: ${{{{search_space.{name}}}}} refers to an undefined "
                f"parameter ({did_you_mean(name, list(names), 'parameter')})")
    tops = dict.fromkeys(n.split(".", 1)[0] for n in names)
    for top in tops:
        if any(u == top or u.startswith(top + ".") for u in used):
            continue
        if f"AZUREML_SWEEP_{top}" in command:
            continue
        warnings.warn(
            f"search_space.{top} is not used in trial.command; trials receive it only "
            f"as $AZUREML_SWEEP_{top}", stacklevel=stacklevel)


def _input(name: Any, value: Any) -> Any:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"inputs: invalid input name {describe(name)}")
    if isinstance(value, str):
        return check_text(value, f"inputs.{name}", argument=True)
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"inputs.{name}: expected a finite number (got {value})")
    if value is None or isinstance(value, bool | int | float):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"inputs.{name}: expected a literal or a mapping with 'type' and "
                          f"'path' (got {describe(value)})")
    for key in value:
        if key not in ("type", "path", "mode", "description"):
            raise ConfigError(f"inputs.{name}: unknown key {describe(key)} "
                              "(expected type, path, mode)")
    kind = value.get("type", "uri_folder")
    if kind not in _PATH_TYPES:
        raise ConfigError(f"inputs.{name}.type: expected 'uri_file' or 'uri_folder' "
                          f"(got {describe(kind)})")
    raw = value.get("path")
    if not isinstance(raw, str | os.PathLike) or not str(raw):
        raise ConfigError(f"inputs.{name}.path: expected a local path (got {describe(raw)})")
    if str(raw).startswith(("azureml:", "https:", "http:", "wasbs:", "abfss:")):
        raise ConfigError(f"inputs.{name}.path: only local paths are available here "
                          f"(got {describe(str(raw))})")
    check_text(str(raw), f"inputs.{name}.path")
    try:
        path = Path(raw).expanduser().resolve()
    except (OSError, RuntimeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise ConfigError(f"inputs.{name}.path: cannot be used as a path ({reason})") from None
    if kind == "uri_file" and not path_is(path, "file", f"inputs.{name}.path"):
        raise ConfigError(f"inputs.{name}.path: no such file ({str(path)!r})")
    if kind == "uri_folder" and not path_is(path, "dir", f"inputs.{name}.path"):
        raise ConfigError(f"inputs.{name}.path: no such folder ({str(path)!r})")
    return {"type": kind, "path": str(path)}


def _output(name: Any, value: Any) -> dict[str, str]:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"outputs: invalid output name {describe(name)}")
    if value is None:
        return {"type": "uri_folder"}
    if not isinstance(value, Mapping):
        raise ConfigError(f"outputs.{name}: expected a mapping such as {{type: uri_folder}} "
                          f"(got {describe(value)})")
    for key in value:
        if key not in ("type", "mode", "path", "description"):
            raise ConfigError(f"outputs.{name}: unknown key {describe(key)} (expected type, mode)")
    kind = value.get("type", "uri_folder")
    if kind not in _PATH_TYPES:
        raise ConfigError(f"outputs.{name}.type: expected 'uri_file' or 'uri_folder' "
                          f"(got {describe(kind)})")
    return {"type": kind}
