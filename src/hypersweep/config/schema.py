"""The Azure ML v2 ``type: sweep`` YAML schema, loaded into a `SweepSpec`.

The file is checked key by key here so every problem names its file, line and dotted key;
the search space, sampling algorithm and early-termination policy are parsed by their own
layers (`SearchSpace.from_dict`, `sampler_from_dict`, `policy_from_dict`), limits, goals and
the trial by the checks a Python ``HyperDriveConfig`` uses (`hypersweep.spec.checks`,
`hypersweep.config.validate`, `hypersweep.config.command`), and their errors are located in
the file afterwards. The result is the spec a Python user's config stands for, so a YAML sweep
and its Python twin give equal specs.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "sweep.yml").write_text('''
... trial: {command: "python train.py --lr ${{search_space.lr}}"}
... search_space: {lr: {type: uniform, min_value: 0.01, max_value: 0.1}}
... objective: {primary_metric: accuracy, goal: maximize}
... ''')
>>> loaded = load_sweep(folder / "sweep.yml")
>>> loaded.experiment_name, loaded.spec.limits.max_total_trials, loaded.spec.objective.metric
('sweep', 1000, 'accuracy')
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypersweep.config import validate as check
from hypersweep.config.command import check_parameters, command_trial
from hypersweep.config.yamlfile import (
    SweepFileError,
    YamlDocument,
    apply_overrides,
    dotted,
    parse_yaml,
)
from hypersweep.errors import ConfigError
from hypersweep.space.values import describe, text_problem
from hypersweep.spec import (
    CommandTrial,
    Constraint,
    Limits,
    Metadata,
    Objective,
    Resources,
    SweepSpec,
    checks,
    constraints_from,
)

#: Keys of a sweep job, in the order Azure documents them.
TOP_KEYS = ("$schema", "type", "name", "display_name", "experiment_name", "description",
            "tags", "trial", "inputs", "outputs", "search_space", "sampling_algorithm",
            "objective", "constraints", "early_termination", "limits", "executor",
            "resources_per_trial")
#: Accepted so Azure files load unchanged, reported once as ignored.
AZURE_ONLY = ("$schema", "compute", "identity", "resources", "queue_settings", "services",
              "properties")
TRIAL_KEYS = ("command", "code", "environment", "environment_variables")
TRIAL_AZURE_ONLY = ("environment", "resources", "distribution", "type")
OBJECTIVE_KEYS = ("primary_metric", "goal")
RESOURCE_KEYS = ("gpu", "cpu")
CONSTRAINT_KEYS = ("metric", "max", "min")
LIMIT_KEYS = ("max_total_trials", "max_concurrent_trials", "timeout", "trial_timeout",
              "max_failed_trials")
EXPRESSION_TYPES = ("choice", "randint", "uniform", "quniform", "loguniform", "qloguniform",
                    "normal", "qnormal", "lognormal", "qlognormal")
#: For "did you mean" hints only: the sampling layer decides what is valid.
SAMPLING_TYPES = ("random", "grid", "bayesian", "tpe")
#: Written as a type by mistake: rules of random sampling, with what they are.
SAMPLING_RULES = {"sobol": "Sobol sequences are a rule of random sampling"}
DEFAULT_MAX_TOTAL_TRIALS = 1000  # Azure's default for v2 sweeps
#: What an unset duration means: a week, as a Python config's default.
DEFAULTS = {"timeout": check.DEFAULT_TIMEOUT_SECONDS}


@dataclass
class LoadedSweep:
    """A sweep file, checked: its spec, experiment, and the warnings to show once."""

    spec: SweepSpec
    experiment_name: str
    file: Path
    warnings: list[str] = field(default_factory=list)


def load_sweep(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> LoadedSweep:
    """Read, override (``key.path=value``) and check a sweep YAML file.

    Raises `SweepFileError` (a `ConfigError`) naming ``file:line: key``; nothing starts.
    """
    file = Path(path)
    shown = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepFileError("no such file", shown) from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as err:
        raise SweepFileError(f"cannot read the file ({err.__class__.__name__})", shown) from None
    doc = parse_yaml(text, shown)
    apply_overrides(doc, overrides)
    _check_texts(doc, doc.data, ())
    return _Reader(doc, file.resolve().parent).load()


def _check_texts(doc: YamlDocument, value: Any, path: tuple[Any, ...]) -> None:
    """Refuse any key or string a process or a record cannot take (a NUL from ``"\\0"``).

    Checked once for the whole file, so the error names the exact key wherever the text
    would have gone (argv, environment, tags, the store).
    """
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise doc.error(path, problem)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            problem = text_problem(key) if isinstance(key, str) else None
            if problem is not None:  # located at the key's own line, named by its parent
                here = (*path, key)
                line = None if doc.is_overridden(here) else doc.line(here)
                prefix = f"{dotted(path)}: " if path else ""
                raise SweepFileError(f"{prefix}key {describe(key)} {problem}", doc.file, line,
                                     dotted(path) or None, from_set=doc.is_overridden(here))
            _check_texts(doc, item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_texts(doc, item, (*path, i))


class _Reader:
    """Walks one document; ``notes`` collects warnings as located messages."""

    def __init__(self, doc: YamlDocument, folder: Path) -> None:
        self.doc = doc
        self.folder = folder
        self.notes: list[str] = []
        self.ignored: list[str] = []

    # ------------------------------------------------------------------ helpers
    def mapping(self, path: tuple[Any, ...], value: Any, keys: Sequence[str],
                ignored: Sequence[str] = ()) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.doc.error(path, f"expected a mapping (got {describe(value)})")
        for key in value:
            if key in ignored:
                self.ignored.append(dotted((*path, key)))
            elif key not in keys:
                raise self.unknown(path, key, [*keys, *ignored])
        return {k: v for k, v in value.items() if k not in ignored}

    def unknown(self, path: tuple[Any, ...], key: Any, known: Sequence[str]) -> SweepFileError:
        close = difflib.get_close_matches(str(key), list(known), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(known)}"
        where = (*path, key)
        from_set = self.doc.is_overridden(where)
        prefix = f"{dotted(path)}: " if path else ""
        return SweepFileError(f"{prefix}unknown key {describe(key)} ({hint})", self.doc.file,
                              None if from_set else self.doc.line(where), dotted(where),
                              from_set=from_set)

    def note(self, message: str, path: tuple[Any, ...] = ()) -> None:
        """Keep a warning, located at the key it names (or at ``path``)."""
        head = re.match(r"^([A-Za-z0-9_.\-$]+)", message)
        keys = tuple(head.group(1).split(".")) if head else ()
        line = self.doc.line(keys) if keys and keys[0] in self.doc.data else None
        line = line or self.doc.line(path)
        where = f"{self.doc.file}:{line}" if line else self.doc.file
        text = f"{where}: {message}"
        if text not in self.notes:
            self.notes.append(text)

    def calling(self, path: tuple[Any, ...], make: Any, *args: Any, quiet: bool = False,
                **kwargs: Any) -> Any:
        """Call a delegate; locate its `ConfigError` and keep its warnings as notes."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = make(*args, **kwargs)
            except SweepFileError:
                raise
            except ConfigError as err:
                raise self.doc.located(path, err) from None
        for w in [] if quiet else caught:
            message = str(w.message)
            if path and path[0] == "search_space" and not message.startswith("search_space"):
                message = f"{dotted(path)}: {message}"
            self.note(message, path)
        return result

    def text(self, path: tuple[Any, ...], value: Any) -> str:
        """A string; YAML numbers and booleans are accepted where Azure takes strings."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise self.doc.error(path, f"expected a string (got {describe(value)})")

    # ------------------------------------------------------------------ sections
    def load(self) -> LoadedSweep:
        data = self.mapping((), self.doc.data, TOP_KEYS, [k for k in AZURE_ONLY
                                                          if k not in TOP_KEYS])
        if "$schema" in data:
            self.ignored.insert(0, "$schema")
        kind = data.get("type", "sweep")
        if kind != "sweep":
            raise self.doc.error(("type",), f"expected 'sweep' (got {describe(kind)})")
        for key in ("trial", "search_space", "objective"):
            if data.get(key) is None:
                raise self.doc.error((), f"missing required key {key!r}")

        objectives = self.objectives(data["objective"])
        constraints = self.constraints(data.get("constraints"))
        limits = self.limits(data.get("limits"))
        sampler = self.sampler(data)
        policy = self.policy(data.get("early_termination"))
        trial = self.trial(data)
        self.calling((), check_parameters, trial.command_as_written or trial.command,
                     sampler.space.names)
        meta = self.metadata(data)
        executor = None
        if data.get("executor") is not None:  # ours: "local" or "dask://HOST:PORT"
            executor = self.calling(("executor",), check.executor_uri,
                                    self.text(("executor",), data["executor"]))
        resources = None
        if data.get("resources_per_trial") is not None:  # ours; Azure's `resources` is compute
            asked = self.mapping(("resources_per_trial",), data["resources_per_trial"],
                                 RESOURCE_KEYS)
            for key, value in asked.items():  # each checked alone: the error points at it
                self.calling(("resources_per_trial", key), Resources.from_mapping,
                             {key: value})
            resources = Resources.from_mapping(asked)
        name = data.get("experiment_name", self.doc.file and Path(self.doc.file).stem)
        where = ("experiment_name",) if "experiment_name" in data else ()
        self.calling(where, check.experiment_name, name, dotted(where))
        spec = self.calling((), SweepSpec, sampling=sampler, objectives=objectives,
                            constraints=constraints, trial=trial, policy=policy,
                            limits=limits, executor=executor, resources=resources,
                            metadata=Metadata(**meta))
        note = spec.policy_note()
        if note is not None:
            self.note(note, ("early_termination",))
        notes = list(self.notes)
        if self.ignored:
            notes.insert(0, f"{self.doc.file}: ignored (Azure-only; trials run on this "
                            f"machine): {', '.join(self.ignored)}")
        return LoadedSweep(spec, name, Path(self.doc.file), notes)

    def objectives(self, value: Any) -> tuple[Objective, ...]:
        """Azure's one ``objective`` mapping, or (ours) a list of them: several objectives."""
        several = isinstance(value, list)
        if several and not value:
            raise self.doc.error(("objective",), "expected at least one objective")
        out: list[Objective] = []
        for i, item in enumerate(value if several else [value]):
            path: tuple[Any, ...] = ("objective", i) if several else ("objective",)
            where = dotted(path)
            objective = self.mapping(path, item, OBJECTIVE_KEYS)
            for key in OBJECTIVE_KEYS:
                if key not in objective:
                    raise self.doc.error(path, f"missing required key {key!r}")
            metric = self.calling((*path, "primary_metric"), check.metric_name,
                                  objective["primary_metric"], f"{where}.primary_metric")
            goal = self.calling((*path, "goal"), checks.goal, objective["goal"],
                                f"{where}.goal")
            if any(o.metric == metric for o in out):
                raise self.doc.error((*path, "primary_metric"), f"{metric!r} is named twice")
            out.append(Objective(metric, goal))
        return tuple(out)

    def constraints(self, value: Any) -> tuple[Constraint, ...]:
        """Ours: ``constraints:``, a list of ``{metric, max}`` / ``{metric, min}`` mappings."""
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.doc.error(("constraints",), f"expected a list of mappings such as "
                                                   f"{{metric: latency_ms, max: 20}} (got "
                                                   f"{describe(value)})")
        out = []
        for i, item in enumerate(value):
            path = ("constraints", i)
            bound = self.mapping(path, item, CONSTRAINT_KEYS)
            if "metric" not in bound:
                raise self.doc.error(path, "missing required key 'metric'")
            out.append(self.calling(path, _constraint, bound, dotted(path)))
        return tuple(out)

    def limits(self, value: Any) -> Limits:
        """``limits``: counts and seconds, checked as a Python config's are; a budget and a
        timeout as Azure's defaults, and every trial at once unless capped."""
        limits = self.mapping(("limits",), value, LIMIT_KEYS)
        checked: dict[str, Any] = {}
        for key in LIMIT_KEYS:
            path = ("limits", key)
            if key == "max_total_trials":  # a budget is required: `null` is a mistake
                checked[key] = self.calling(path, checks.positive_int,
                                            limits.get(key, DEFAULT_MAX_TOTAL_TRIALS),
                                            dotted(path))
            elif key in ("timeout", "trial_timeout"):
                given = limits.get(key)
                checked[key] = self.calling(path, checks.positive_seconds,
                                            DEFAULTS.get(key) if given is None else given,
                                            dotted(path), allow_none=True)
            else:
                checked[key] = self.calling(path, checks.positive_int, limits.get(key),
                                            dotted(path), allow_none=True)
        checked["max_concurrent_trials"] = (checked["max_concurrent_trials"]
                                            or checked["max_total_trials"])
        return Limits(**checked)

    def sampler(self, data: Mapping[str, Any]) -> Any:
        from hypersweep.sampling import sampler_from_dict
        from hypersweep.space import SearchSpace

        space = data["search_space"]
        if not isinstance(space, Mapping) or not space:
            raise self.doc.error(("search_space",), "expected a mapping of parameter names to "
                                 f"expressions (got {describe(space)})")
        for name, expr in space.items():
            kind = expr.get("type") if isinstance(expr, Mapping) else None
            if isinstance(kind, str) and kind.lower() not in EXPRESSION_TYPES:
                close = difflib.get_close_matches(kind.lower(), EXPRESSION_TYPES, n=1)
                hint = (f"did you mean {close[0]!r}?" if close
                        else f"expected one of: {', '.join(EXPRESSION_TYPES)}")
                raise self.doc.error(("search_space", name, "type"),
                                     f"unknown expression type {describe(kind)} ({hint})")
            self.calling(("search_space", name), SearchSpace.from_dict, {name: expr})
        # Parsed once more whole (each parameter already warned above).
        parsed = self.calling(("search_space",), SearchSpace.from_dict, space, quiet=True)
        algorithm = data.get("sampling_algorithm", "random")
        try:
            return self.calling(("sampling_algorithm",), sampler_from_dict, algorithm, parsed)
        except SweepFileError as err:
            kind = algorithm.get("type") if isinstance(algorithm, Mapping) else algorithm
            if any(str(err).startswith(f"{self.doc.file}:{line}: sampling_algorithm.{name}:")
                   for name in parsed for line in [self.doc.line(("sampling_algorithm",))]):
                # e.g. grid over a uniform: the parameter is what to change
                cause = err.__cause__ or err.__context__
                raise self.doc.located(("search_space",), ConfigError(
                    str(err).split("sampling_algorithm.", 1)[1])) from cause
            if "unknown type" not in str(err) or not isinstance(kind, str):
                raise
            close = difflib.get_close_matches(kind.lower(), SAMPLING_TYPES, n=1)
            hint = (f"did you mean {close[0]!r}?" if close
                    else f"expected one of: {', '.join(SAMPLING_TYPES)}")
            if kind.strip().lower() in SAMPLING_RULES:
                hint = (f"{SAMPLING_RULES[kind.strip().lower()]}: write {{type: random, "
                        f"rule: {kind.strip().lower()}}}")
            where = ("sampling_algorithm", "type") if isinstance(algorithm, Mapping) else (
                "sampling_algorithm",)
            raise self.doc.error(where,
                                 f"unknown sampling type {describe(kind)} ({hint})") from None

    def policy(self, value: Any) -> Any:
        from hypersweep.policies import policy_from_dict

        return self.calling(("early_termination",), policy_from_dict, value)

    def trial(self, data: Mapping[str, Any]) -> CommandTrial:
        trial = self.mapping(("trial",), data["trial"], TRIAL_KEYS, TRIAL_AZURE_ONLY)
        if "command" not in trial:
            raise self.doc.error(("trial",), "missing required key 'command'")
        command = trial["command"]
        if not isinstance(command, str) or not command.strip():
            raise self.doc.error(("trial", "command"),
                                 f"expected a command line (got {describe(command)})")
        code = trial.get("code", ".")
        if not isinstance(code, str) or code.startswith("azureml:"):
            raise self.doc.error(("trial", "code"),
                                 f"expected a local folder (got {describe(code)})")
        env_raw = trial.get("environment_variables") or {}
        if not isinstance(env_raw, Mapping):
            raise self.doc.error(("trial", "environment_variables"),
                                 f"expected a mapping (got {describe(env_raw)})")
        env = {str(k): self.text(("trial", "environment_variables", k), v)
               for k, v in env_raw.items()}
        inputs = data.get("inputs") or {}
        if not isinstance(inputs, Mapping):
            raise self.doc.error(("inputs",), f"expected a mapping (got {describe(inputs)})")
        outputs = data.get("outputs") or {}
        if not isinstance(outputs, Mapping):
            raise self.doc.error(("outputs",), f"expected a mapping (got {describe(outputs)})")
        built: CommandTrial = self.calling(
            (), command_trial, command, str(self.folder / code),
            {k: self.resolve_input(v) for k, v in inputs.items()}, outputs, env)
        return built

    def resolve_input(self, value: Any) -> Any:
        """Local input paths resolve against the YAML file's folder, as the Azure CLI does."""
        if isinstance(value, Mapping) and isinstance(value.get("path"), str):
            path = value["path"]
            if ":" not in path.split("/", 1)[0]:
                return {**value, "path": str(self.folder / os.path.expanduser(path))}
        return value

    def metadata(self, data: Mapping[str, Any]) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for key in ("name", "display_name", "description"):
            if data.get(key) is not None:
                meta[key] = self.text((key,), data[key])
        tags = data.get("tags")
        if tags is not None:
            if not isinstance(tags, Mapping):
                raise self.doc.error(("tags",), f"expected a mapping (got {describe(tags)})")
            meta["tags"] = {str(k): self.text(("tags", k), v) for k, v in tags.items()}
        return self.calling((), check.metadata, **meta)


def _constraint(bound: Mapping[str, Any], where: str) -> Constraint:
    """One constraint of a sweep file, its errors named ``constraints[i].key``."""
    try:
        return constraints_from([bound])[0]
    except ConfigError as err:
        raise ConfigError(str(err).replace("constraints[0]", where, 1)) from None
