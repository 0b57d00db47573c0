"""The v1-style sweep configuration objects: `ScriptRunConfig`, `HyperDriveConfig`.

Everything is validated here, at the edge, so a bad sweep is refused with a `ConfigError`
naming the key before any trial starts.
"""

from __future__ import annotations

import difflib
import enum
import math
import os
import re
import shlex
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersweep.errors import ConfigError
from hypersweep.space._values import check_text, describe

if TYPE_CHECKING:
    from hypersweep.policies import EarlyTerminationPolicy
    from hypersweep.sampling import Sampler


class PrimaryMetricGoal(str, enum.Enum):
    """Whether the primary metric should be maximized or minimized.

    Examples
    --------
    >>> PrimaryMetricGoal.parse("MAXIMIZE") is PrimaryMetricGoal.MAXIMIZE
    True
    """

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    @classmethod
    def parse(cls, value: Any, key: str = "primary_metric_goal") -> PrimaryMetricGoal:
        """Accept the enum or its name in any case; anything else is a `ConfigError`."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value.strip().lower() in ("maximize", "minimize"):
            return cls(value.strip().lower())
        raise ConfigError(f"{key}: expected 'maximize' or 'minimize' (got {describe(value)})")


def _positive_int(key: str, value: Any, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key}: expected a positive integer (got {describe(value)})")
    return value


def _positive_number(key: str, value: Any, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    ok = not isinstance(value, bool) and isinstance(value, (int, float))
    if ok:
        try:
            ok = math.isfinite(float(value)) and value > 0
        except OverflowError:  # an int beyond the float range (400 digits in YAML)
            ok = False
    if not ok:
        raise ConfigError(f"{key}: expected a positive number (got {describe(value)})")
    return float(value)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


def _environment(key: str, given: Mapping[str, Any] | None) -> dict[str, str]:
    """Environment variables every trial gets: POSIX names, values a process can take."""
    if given is not None and not isinstance(given, Mapping):
        raise ConfigError(f"{key}: expected a mapping (got {describe(given)})")
    env = dict(given or {})
    for name, value in env.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ConfigError(f"{key}: invalid name {describe(name)} (expected up to 255 "
                              "letters, digits and '_', not starting with a digit)")
        if not isinstance(value, str):
            raise ConfigError(f"{key}.{name}: expected a string (got {describe(value)})")
        check_text(value, f"{key}.{name}", argument=True)
    return env


def _folder(key: str, path: str | os.PathLike[str]) -> Path:
    """``path`` resolved, or a `ConfigError` naming ``key`` when no path can be made of it."""
    check_text(str(path), key)
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as err:  # too long, a symlink loop
        reason = getattr(err, "strerror", None) or str(err)
        raise ConfigError(f"{key}: cannot be used as a folder ({reason})") from None


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
        source = _folder("source_directory", source_directory)
        if not _is(source, "dir", "source_directory"):
            raise ConfigError(f"source_directory: not a directory ({str(source)!r})")
        try:
            script_path = (source / script).resolve()
        except (OSError, RuntimeError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            raise ConfigError(f"script: cannot be used as a path ({reason})") from None
        if not _is(script_path, "file", "script"):
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
        env = _environment("environment_variables", environment_variables)
        for key, given in (("compute_target", compute_target), ("environment", environment)):
            if given is not None:
                warnings.warn(
                    f"{key} is ignored: hypersweep runs trials on this machine", stacklevel=2
                )
        self.source_directory = source
        self.script = str(script_path.relative_to(source))
        self.arguments = texts
        self.max_run_duration_seconds = _positive_number(
            "max_run_duration_seconds", max_run_duration_seconds, allow_none=True
        )
        self.environment_variables = env

    def __repr__(self) -> str:
        return (
            f"ScriptRunConfig(source_directory={str(self.source_directory)!r}, "
            f"script={self.script!r}, arguments={self.arguments!r})"
        )


_LEGACY_REFERENCE = re.compile(
    r"(?<![{$])\{(search_space|inputs|outputs)\.([A-Za-z0-9_.\-]+)\}(?!\})"
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_PATH_TYPES = ("uri_file", "uri_folder")


def _did_you_mean(name: str, known: Sequence[str], what: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"declared: {', '.join(known)}" if known else f"no {what}s are declared"


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
        if not isinstance(command, str) or not command.strip():
            raise ConfigError(f"trial.command: expected a command line "
                              f"(got {describe(command)})")
        check_text(command, "trial.command", argument=True)
        legacy = sorted({f"{{{s}.{n}}}" for s, n in _LEGACY_REFERENCE.findall(command)})
        if legacy:
            warnings.warn(
                f"trial.command: the single-brace form {', '.join(legacy)} is deprecated; "
                "write ${{...}} instead", stacklevel=2)
            command = _LEGACY_REFERENCE.sub(r"${{\1.\2}}", command)
        if not isinstance(code, (str, os.PathLike)):
            raise ConfigError(f"trial.code: expected a local folder (got {describe(code)})")
        source = _folder("trial.code", code)
        if not _is(source, "dir", "trial.code"):
            raise ConfigError(f"trial.code: not a directory ({str(source)!r})")
        self.command = command
        self.source_directory = source
        self.inputs = {name: _input(name, value) for name, value in (inputs or {}).items()}
        self.outputs = {name: _output(name, value) for name, value in (outputs or {}).items()}
        self.environment_variables = _environment("trial.environment_variables",
                                                  environment_variables)
        self.max_run_duration_seconds = _positive_number(
            "limits.trial_timeout", max_run_duration_seconds, allow_none=True)
        for key, given in (("compute", compute), ("environment", environment)):
            if given is not None:
                warnings.warn(f"{key} is ignored: hypersweep runs trials on this machine",
                              stacklevel=2)
        from hypersweep.controller.commands import REFERENCE, check_references

        check_references(command)
        for section, name in REFERENCE.findall(command):
            table = {"inputs": self.inputs, "outputs": self.outputs}.get(section)
            if table is not None and name not in table:
                what = section[:-1]
                raise ConfigError(
                    f"trial.command: ${{{{{section}.{name}}}}} refers to an undefined {what} "
                    f"({_did_you_mean(name, list(table), what)})")

    def check_parameters(self, names: Sequence[str]) -> None:
        """Refuse references to parameters the space lacks; warn about unused parameters.

        ``names`` are the space's flat (dotted) names. A parameter counts as used when the
        command references it (or a nested name under it) or reads ``$AZUREML_SWEEP_<name>``.
        """
        from hypersweep.controller.commands import REFERENCE

        used = [n for s, n in REFERENCE.findall(self.command) if s == "search_space"]
        for name in used:
            if name not in names:
                raise ConfigError(
                    f"trial.command: ${{{{search_space.{name}}}}} refers to an undefined "
                    f"parameter ({_did_you_mean(name, list(names), 'parameter')})")
        tops = dict.fromkeys(n.split(".", 1)[0] for n in names)
        for top in tops:
            if any(u == top or u.startswith(top + ".") for u in used):
                continue
            if f"AZUREML_SWEEP_{top}" in self.command:
                continue
            warnings.warn(
                f"search_space.{top} is not used in trial.command; trials receive it only "
                f"as $AZUREML_SWEEP_{top}", stacklevel=3)

    def resolved_inputs(self) -> dict[str, Any]:
        """``{name: value}`` as substituted: literals as given, paths as absolute paths."""
        return {n: v["path"] if isinstance(v, dict) else v for n, v in self.inputs.items()}

    def output_paths(self) -> dict[str, str]:
        """``{name: "outputs/<name>"}``, relative to the trial's working folder."""
        return {name: f"outputs/{name}" for name in self.outputs}

    def trial_dict(self) -> dict[str, Any]:
        """The stored ``trial`` mapping (kind ``command``) the controller runs."""
        folders = [p for n, p in self.output_paths().items()
                   if self.outputs[n]["type"] == "uri_folder"]
        # Azure creates each output folder before the command starts; so do we, with a
        # separate shell command so any user syntax (&, ||, comments) is unaffected.
        prefix = f"mkdir -p -- {shlex.join(folders)}; " if folders else ""
        return {
            "kind": "command",
            "command": prefix + self.command,
            "command_as_written": self.command,
            "code": str(self.source_directory),
            "inputs": self.resolved_inputs(),
            "declared_inputs": {n: dict(v) if isinstance(v, dict) else v
                                for n, v in self.inputs.items()},
            "outputs": self.output_paths(),
            "declared_outputs": {n: dict(v) for n, v in self.outputs.items()},
            "environment_variables": dict(self.environment_variables),
        }

    def __repr__(self) -> str:
        return f"CommandJob(command={self.command!r}, code={str(self.source_directory)!r})"


def _is(path: Path, kind: str, key: str) -> bool:
    """``path.is_dir()`` / ``is_file()``; a path the OS refuses to look at (a name too long)
    is a `ConfigError` naming ``key``."""
    try:
        return path.is_dir() if kind == "dir" else path.is_file()
    except OSError as err:
        what = "a folder" if kind == "dir" and not key.endswith(".path") else "a path"
        raise ConfigError(f"{key}: cannot be used as {what} ({err.strerror})") from None


def _input(name: Any, value: Any) -> Any:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"inputs: invalid input name {describe(name)}")
    if isinstance(value, str):
        return check_text(value, f"inputs.{name}", argument=True)
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"inputs.{name}: expected a finite number (got {value})")
    if value is None or isinstance(value, (bool, int, float)):
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
    if not isinstance(raw, (str, os.PathLike)) or not str(raw):
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
    if kind == "uri_file" and not _is(path, "file", f"inputs.{name}.path"):
        raise ConfigError(f"inputs.{name}.path: no such file ({str(path)!r})")
    if kind == "uri_folder" and not _is(path, "dir", f"inputs.{name}.path"):
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


class HyperDriveConfig:
    """A whole sweep: what to run, how to sample, what to optimize, which limits hold.

    Names and defaults follow Azure ML's ``azureml.train.hyperdrive.HyperDriveConfig``.

    Parameters
    ----------
    hyperparameter_sampling : RandomParameterSampling or GridParameterSampling
        The search space and how to sample it.
    primary_metric_name : str
        The metric the trials log (``run.log(name, value)``) and the sweep optimizes.
    primary_metric_goal : PrimaryMetricGoal or str
        ``maximize`` or ``minimize`` (any case).
    max_total_runs : int
        Exactly this many trials run (fewer when a grid runs out).
    max_concurrent_runs : int, optional
        At most this many at once (default: all).
    max_duration_minutes : float, default 10080
        When reached, running trials are canceled and the sweep ends.
    policy : EarlyTerminationPolicy, optional
        Stops poor trials early (default: none).
    run_config : ScriptRunConfig or CommandJob
        What each trial runs: a script (v1) or a command line (v2 ``trial.command``).
    resume_from : list of HyperDriveRun or sweep ids, optional
        Earlier sweeps whose trials inform the sampler and the policy.
    resume_child_runs : list of Run or trial ids, optional
        Earlier trials to run again with the same hyperparameters and
        ``--resume-from <their outputs folder>``; they count toward ``max_total_runs``.
    name, display_name, description, tags : optional
        The v2 job's descriptive keys; stored with the sweep and shown by the CLI.
    executor : str, optional
        Where trials run: ``"local"`` (default) or ``"dask://HOST:8786"`` (a Dask cluster; see
        ``docs/cluster.md``). Stored with the sweep, so a resumed sweep runs there too.
    max_failed_runs : int, optional
        Ours, not Azure's (YAML ``limits.max_failed_trials``): once this many trials have
        failed, the sweep stops launching, cancels its running trials and ends ``Failed``.
        Without it, a sweep whose first 3 trials all fail with the same error ends ``Failed``
        there (a typo in the script path should not run the whole budget); setting it
        replaces that rule.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from hypersweep import RandomParameterSampling, choice
    >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "train.py").write_text("print(1)")
    >>> config = HyperDriveConfig(
    ...     run_config=ScriptRunConfig(source_directory=src, script="train.py"),
    ...     hyperparameter_sampling=RandomParameterSampling({"bs": choice(16, 32)}, seed=0),
    ...     primary_metric_name="accuracy", primary_metric_goal="maximize", max_total_runs=4)
    >>> config.max_concurrent_runs
    4
    """

    def __init__(
        self,
        hyperparameter_sampling: Sampler,
        primary_metric_name: str,
        primary_metric_goal: PrimaryMetricGoal | str,
        max_total_runs: int,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: float = 10080,
        policy: EarlyTerminationPolicy | None = None,
        run_config: ScriptRunConfig | CommandJob | None = None,
        resume_from: Sequence[Any] | None = None,
        resume_child_runs: Sequence[Any] | None = None,
        *,
        name: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        executor: str | None = None,
        max_failed_runs: int | None = None,
    ) -> None:
        from hypersweep.policies import EarlyTerminationPolicy, NoTerminationPolicy
        from hypersweep.sampling import Sampler

        if not isinstance(hyperparameter_sampling, Sampler):
            raise ConfigError(
                "hyperparameter_sampling: expected RandomParameterSampling, "
                "GridParameterSampling or another sampler "
                f"(got {describe(hyperparameter_sampling)})"
            )
        if not isinstance(primary_metric_name, str) or not primary_metric_name.strip():
            raise ConfigError(f"primary_metric_name: expected a non-empty string "
                              f"(got {describe(primary_metric_name)})")
        check_text(primary_metric_name, "primary_metric_name")
        if policy is not None and not isinstance(policy, EarlyTerminationPolicy):
            raise ConfigError("policy: expected an early-termination policy "
                              f"(got {describe(policy)})")
        if not isinstance(run_config, (ScriptRunConfig, CommandJob)):
            raise ConfigError(
                f"run_config: expected a ScriptRunConfig or CommandJob (got {describe(run_config)})"
            )
        if isinstance(run_config, CommandJob):
            run_config.check_parameters(hyperparameter_sampling.space.names)
        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = primary_metric_name.strip()
        self.primary_metric_goal = PrimaryMetricGoal.parse(primary_metric_goal)
        self.max_total_runs = int(_positive_int("max_total_runs", max_total_runs) or 0)
        self.max_concurrent_runs = int(
            _positive_int("max_concurrent_runs", max_concurrent_runs, allow_none=True)
            or self.max_total_runs
        )
        self.max_duration_minutes = float(
            _positive_number("max_duration_minutes", max_duration_minutes) or 0.0
        )
        self.policy = policy if policy is not None else NoTerminationPolicy()
        self.run_config = run_config
        self.resume_from = [_run_id("resume_from", r) for r in (resume_from or [])]
        self.resume_child_runs = [
            _run_id("resume_child_runs", r) for r in (resume_child_runs or [])
        ]
        if len(self.resume_child_runs) > self.max_total_runs:
            raise ConfigError(
                f"resume_child_runs: {len(self.resume_child_runs)} trials to re-run exceed "
                f"max_total_runs={self.max_total_runs}"
            )
        self.metadata = _metadata(name, display_name, description, tags)
        self.executor = _executor_uri(executor)
        self.max_failed_runs = _positive_int("max_failed_runs", max_failed_runs, allow_none=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-serialisable form stored with the sweep, from which it can be resumed."""
        sampler = self.hyperparameter_sampling
        run = self.run_config
        assert run is not None
        return {
            "version": 1,
            "search_space": sampler.space.to_dict(),
            "sampling_algorithm": sampler.to_dict(),
            "early_termination": self.policy.to_dict(),
            "objective": {
                "primary_metric": self.primary_metric_name,
                "goal": self.primary_metric_goal.value,
            },
            "limits": {
                "max_total_trials": self.max_total_runs,
                "max_concurrent_trials": self.max_concurrent_runs,
                "timeout": self.max_duration_minutes * 60.0,
                "trial_timeout": run.max_run_duration_seconds,
                # Only when set: stored configs without a cap stay as they were.
                **({"max_failed_trials": self.max_failed_runs}
                   if self.max_failed_runs is not None else {}),
            },
            "trial": run.trial_dict() if isinstance(run, CommandJob) else {
                "kind": "script",
                "source_directory": str(run.source_directory),
                "script": run.script,
                "arguments": list(run.arguments),
                "environment_variables": dict(run.environment_variables),
            },
            "resume_from": list(self.resume_from),
            "resume_child_runs": list(self.resume_child_runs),
            **self.metadata,
            # Only when set: stored configs of local sweeps stay as they were.
            **({"executor": self.executor} if self.executor is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HyperDriveConfig:
        """Rebuild a config from its stored form (`to_dict`); inverse of `to_dict`.

        Examples
        --------
        >>> # again = HyperDriveConfig.from_dict(config.to_dict())
        """
        from hypersweep.policies import policy_from_dict
        from hypersweep.sampling import sampler_from_dict
        from hypersweep.space import SearchSpace

        try:
            limits = data["limits"]
            trial = data["trial"]
            run_config: ScriptRunConfig | CommandJob
            if trial.get("kind", "script") == "command":
                run_config = CommandJob(
                    trial.get("command_as_written", trial["command"]), code=trial["code"],
                    inputs=trial.get("declared_inputs", trial.get("inputs")),
                    outputs=trial.get("declared_outputs"),
                    environment_variables=trial.get("environment_variables"),
                    max_run_duration_seconds=limits.get("trial_timeout"),
                )
            else:
                run_config = ScriptRunConfig(
                    trial["source_directory"], trial["script"], trial.get("arguments"),
                    max_run_duration_seconds=limits.get("trial_timeout"),
                    environment_variables=trial.get("environment_variables"),
                )
            space = SearchSpace.from_dict(data["search_space"])
            timeout = limits.get("timeout")
            return cls(
                hyperparameter_sampling=sampler_from_dict(data["sampling_algorithm"], space),
                primary_metric_name=data["objective"]["primary_metric"],
                primary_metric_goal=data["objective"]["goal"],
                max_total_runs=limits["max_total_trials"],
                max_concurrent_runs=limits.get("max_concurrent_trials"),
                max_duration_minutes=10080 if timeout is None else timeout / 60.0,
                policy=policy_from_dict(data.get("early_termination")),
                run_config=run_config,
                resume_from=data.get("resume_from"),
                resume_child_runs=data.get("resume_child_runs"),
                **{k: data.get(k) for k in _METADATA_KEYS},
                executor=data.get("executor"),
                max_failed_runs=limits.get("max_failed_trials"),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ConfigError(f"stored sweep config is incomplete or invalid: {err!r}") from err

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str],
                  overrides: Sequence[str] = ()) -> HyperDriveConfig:
        """Load an Azure ML v2 ``type: sweep`` YAML file (see `hypersweep.config`).

        Warnings (ignored Azure-only keys, unused parameters) are issued with `warnings.warn`.

        Examples
        --------
        >>> # config = HyperDriveConfig.from_yaml("examples/sklearn_digits/sweep.yml")
        """
        from hypersweep.config import load_sweep

        loaded = load_sweep(path, overrides)
        for message in loaded.warnings:
            warnings.warn(message, stacklevel=2)
        return loaded.config

    def to_yaml(self) -> str:
        """This sweep as a v2 ``type: sweep`` YAML document (`from_yaml` reads it back).

        A script trial becomes the command ``python <script> <arguments> --name
        ${{search_space.name}} ...``.
        """
        from hypersweep.config import sweep_to_yaml

        return sweep_to_yaml(self)


_METADATA_KEYS = ("name", "display_name", "description", "tags")


def _metadata(name: Any, display_name: Any, description: Any, tags: Any) -> dict[str, Any]:
    """The v2 job's descriptive keys that are set (stored with the sweep, shown by the CLI)."""
    out: dict[str, Any] = {}
    for key, value in (("name", name), ("display_name", display_name),
                       ("description", description)):
        if value is not None:
            if not isinstance(value, str):
                raise ConfigError(f"{key}: expected a string (got {describe(value)})")
            out[key] = check_text(value, key)
    if tags:
        if not isinstance(tags, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        ):
            raise ConfigError(f"tags: expected a mapping of strings to strings "
                              f"(got {describe(tags)})")
        for k, v in tags.items():
            check_text(k, f"tags: key {describe(k)}")
            check_text(v, f"tags.{k}")
        out["tags"] = dict(tags)
    return out


def _executor_uri(uri: Any) -> str | None:
    """Check an ``executor`` URI (``"local"`` or ``"dask://HOST:PORT"``) without connecting."""
    if uri is None or uri == "local":
        return uri
    if not isinstance(uri, str):
        raise ConfigError(f"executor: expected 'local' or 'dask://HOST:PORT' (got {describe(uri)})")
    from hypersweep.execution.factory import parse_dask_uri

    try:
        parse_dask_uri(uri)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    return uri


def _run_id(key: str, run: Any) -> str:
    """Accept a run object (anything with ``.id``) or its id string."""
    run_id = getattr(run, "id", run)
    if not isinstance(run_id, str) or not run_id.startswith("HD_"):
        raise ConfigError(f"{key}: expected a sweep or trial run or its 'HD_…' id "
                          f"(got {describe(run)})")
    return run_id
