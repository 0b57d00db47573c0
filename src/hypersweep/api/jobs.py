"""What each trial of a v1 sweep runs: a Python script (`ScriptRunConfig`) or, as a v2 sweep
job's ``trial`` does, a shell command line (`CommandJob`).

Both check what they are given at once (a `ConfigError` naming the key) with the checks the
v2 YAML reader uses (`hypersweep.spec.checks`, `hypersweep.config.validate`,
`hypersweep.config.command`), and both turn into the trial of a `SweepSpec` (``trial()``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hypersweep.config import validate as check
from hypersweep.config.command import check_parameters, command_trial
from hypersweep.errors import ConfigError
from hypersweep.space.values import check_text, describe
from hypersweep.spec import CommandTrial, ScriptTrial, checks

__all__ = ["CommandJob", "ScriptRunConfig"]


class ScriptRunConfig:
    """What each trial runs: a Python script in a source directory, with arguments.

    The script runs with the interpreter that submitted the sweep (``sys.executable``), in a
    copy of ``source_directory`` taken at submit, with the hyperparameters appended as
    ``--name value``.

    Parameters
    ----------
    source_directory : str or path
        Folder holding the script and everything it reads by relative path.
    script : str
        Path of the script, relative to ``source_directory``.
    arguments : sequence, optional
        Arguments before the hyperparameters; a search-space value overrides the same
        ``--name`` given here.
    max_run_duration_seconds : float, optional
        Per-trial timeout; a trial running longer is ``Canceled`` with reason
        ``trial_timeout``.
    environment_variables : mapping, optional
        Extra environment variables for every trial.
    compute_target, environment :
        Accepted so Azure notebooks run unchanged; ignored (trials run locally) with a warning.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "train.py").write_text("print(1)")
    >>> config = ScriptRunConfig(source_directory=src, script="train.py", arguments=["--epochs", 3])
    >>> config.arguments
    ['--epochs', '3']
    """

    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        script: str | None = None,
        arguments: Sequence[Any] | None = None,
        *,
        max_run_duration_seconds: float | None = None,
        environment_variables: Mapping[str, str] | None = None,
        compute_target: Any = None,
        environment: Any = None,
    ) -> None:
        if script is None or not isinstance(script, (str, os.PathLike)) or not str(script):
            raise ConfigError(f"script: expected the path of a Python script "
                              f"(got {describe(script)})")
        check_text(str(script), "script")
        if not isinstance(source_directory, (str, os.PathLike)):
            raise ConfigError(f"source_directory: expected a folder (got "
                              f"{describe(source_directory)})")
        source = check.folder("source_directory", source_directory)
        if not check.path_is(source, "dir", "source_directory"):
            raise ConfigError(f"source_directory: not a directory ({str(source)!r})")
        try:
            script_path = (source / script).resolve()
        except (OSError, RuntimeError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            raise ConfigError(f"script: cannot be used as a path ({reason})") from None
        if not check.path_is(script_path, "file", "script"):
            raise ConfigError(f"script: {describe(str(script))} not found in "
                              f"{str(source)!r}")
        if source not in script_path.parents:
            raise ConfigError(f"script: {describe(str(script))} lies outside source_directory")
        if arguments is not None and (isinstance(arguments, (str, bytes)) or not isinstance(
            arguments, Sequence
        )):
            raise ConfigError(f"arguments: expected a list (got {describe(arguments)})")
        texts = [str(a) for a in (arguments or [])]
        for i, text in enumerate(texts):
            check_text(text, f"arguments[{i}]", argument=True)
        env = check.environment("environment_variables", environment_variables)
        for key, given in (("compute_target", compute_target), ("environment", environment)):
            if given is not None:
                warnings.warn(
                    f"{key} is ignored: hypersweep runs trials on this machine", stacklevel=2
                )
        self.source_directory = source
        self.script = str(script_path.relative_to(source))
        self.arguments = texts
        self.max_run_duration_seconds = checks.positive_seconds(
            max_run_duration_seconds, "max_run_duration_seconds", allow_none=True
        )
        self.environment_variables = env

    def trial(self) -> ScriptTrial:
        """What each trial runs, as a sweep spec holds it."""
        return ScriptTrial(str(self.source_directory), self.script, tuple(self.arguments),
                           dict(self.environment_variables))

    @classmethod
    def from_trial(cls, trial: ScriptTrial,
                   max_run_duration_seconds: float | None = None) -> ScriptRunConfig:
        """The run config of a spec's script trial (checked again: the folder must exist)."""
        return cls(trial.source_directory, trial.script, list(trial.arguments),
                   max_run_duration_seconds=max_run_duration_seconds,
                   environment_variables=dict(trial.environment_variables))

    def __repr__(self) -> str:
        return (
            f"ScriptRunConfig(source_directory={str(self.source_directory)!r}, "
            f"script={self.script!r}, arguments={self.arguments!r})"
        )


class CommandJob:
    """What each trial of a v2 sweep job runs: a shell command line in a code folder.

    The Python twin of a ``type: sweep`` YAML's ``trial`` with its job-level ``inputs`` and
    ``outputs``. ``${{search_space.x}}``, ``${{inputs.x}}`` and ``${{outputs.x}}`` in
    ``command`` are replaced by shell-quoted values, so a value never becomes shell syntax.

    Parameters
    ----------
    command : str
        The command line, run by ``/bin/sh -c`` in a copy of ``code``.
    code : str or path, default "."
        The folder snapshotted at submit.
    inputs : mapping, optional
        Literals (``epochs: 10``) or local paths ``{"type": "uri_folder", "path": "./data"}``
        (relative paths resolve against the current folder; the YAML loader resolves them
        against the YAML file's folder first). A path arrives as its absolute path.
    outputs : mapping, optional
        Output names (value ``None`` or ``{"type": "uri_folder"}``); ``${{outputs.x}}`` is the
        folder ``outputs/x`` in the trial's working folder, created before the command runs.
    environment_variables : mapping, optional
        Extra environment variables for every trial.
    max_run_duration_seconds : float, optional
        Per-trial timeout (v2 ``limits.trial_timeout``).
    environment, compute :
        Accepted so Azure code runs unchanged; ignored with a warning.

    Examples
    --------
    >>> import tempfile
    >>> job = CommandJob("python train.py --lr ${{search_space.lr}}", code=tempfile.mkdtemp())
    >>> job.trial_dict()["kind"]
    'command'
    """

    def __init__(
        self,
        command: str,
        code: str | os.PathLike[str] = ".",
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        environment_variables: Mapping[str, str] | None = None,
        *,
        max_run_duration_seconds: float | None = None,
        environment: Any = None,
        compute: Any = None,
    ) -> None:
        # One check for both faces: the YAML reader builds the same trial the same way.
        built = command_trial(command, code, inputs, outputs, environment_variables,
                              stacklevel=3)
        self.max_run_duration_seconds = checks.positive_seconds(
            max_run_duration_seconds, "max_run_duration_seconds", allow_none=True)
        for key, given in (("compute", compute), ("environment", environment)):
            if given is not None:
                warnings.warn(f"{key} is ignored: hypersweep runs trials on this machine",
                              stacklevel=2)
        self._trial = built
        self.command = built.command_as_written or built.command
        self.source_directory = Path(built.code)
        self.inputs: dict[str, Any] = dict(built.declared_inputs)
        self.outputs: dict[str, dict[str, str]] = dict(built.declared_outputs)
        self.environment_variables = dict(built.environment_variables)

    @classmethod
    def from_trial(cls, trial: CommandTrial,
                   max_run_duration_seconds: float | None = None) -> CommandJob:
        """The job of a spec's command trial (checked again: input paths must exist)."""
        return cls(trial.command_as_written or trial.command, code=trial.code,
                   inputs=trial.declared_inputs or trial.inputs,
                   outputs=trial.declared_outputs,
                   environment_variables=dict(trial.environment_variables),
                   max_run_duration_seconds=max_run_duration_seconds)

    def check_parameters(self, names: Sequence[str]) -> None:
        """Refuse references to parameters the space lacks; warn about unused parameters.

        ``names`` are the space's flat (dotted) names. A parameter counts as used when the
        command references it (or a nested name under it) or reads ``$AZUREML_SWEEP_<name>``.
        """
        check_parameters(self.command, names, stacklevel=4)

    def resolved_inputs(self) -> dict[str, Any]:
        """``{name: value}`` as substituted: literals as given, paths as absolute paths."""
        return dict(self._trial.inputs)

    def output_paths(self) -> dict[str, str]:
        """``{name: "outputs/<name>"}``, relative to the trial's working folder."""
        return dict(self._trial.outputs)

    def trial(self) -> CommandTrial:
        """What each trial runs, as a sweep spec holds it (output folders made first)."""
        return self._trial

    def trial_dict(self) -> dict[str, Any]:
        """The stored ``trial`` mapping (kind ``command``) the controller runs."""
        return self._trial.to_dict()

    def __repr__(self) -> str:
        return f"CommandJob(command={self.command!r}, code={str(self.source_directory)!r})"
