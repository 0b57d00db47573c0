"""`SweepSpec`: the one typed description of a sweep, and its stored (versioned JSON) form.

Every face builds one (``HyperDriveConfig``, the v2 YAML reader, ``tune``/``Sweep``, the
dashboard's demo); the engine and every reader read it by attribute. It is what a sweep's
record stores as its config (`SweepSpec.to_dict`, version 2), and `SweepSpec.from_dict` reads
back what any release stored (version 1 had one ``objective`` and top-level warm-start and
metadata keys). Limits are in one unit each: counts, and seconds for every duration. Values
are checked by `hypersweep.spec.checks`, the checks every face applies under its own key names.

Where each field comes from (``objective`` is ``objectives[0]``, the primary one):

============================  ================================  ================================
SweepSpec field               HyperDriveConfig (v1)             v2 YAML key
============================  ================================  ================================
sampling                      hyperparameter_sampling           sampling_algorithm, search_space
objective.metric              primary_metric_name               objective.primary_metric
objective.goal                primary_metric_goal               objective.goal
policy                        policy                            early_termination
limits.max_total_trials       max_total_runs                    limits.max_total_trials
limits.max_concurrent_trials  max_concurrent_runs               limits.max_concurrent_trials
limits.timeout (seconds)      max_duration_minutes (minutes)    limits.timeout
limits.trial_timeout          max_run_duration_seconds (of      limits.trial_timeout
                              the run_config)
limits.max_failed_trials      max_failed_runs                   limits.max_failed_trials
trial                         run_config                        trial, inputs, outputs
warm_start                    resume_from, resume_child_runs    (none)
resources                     resources_per_trial               resources_per_trial
executor                      executor                          executor
metadata                      name, display_name,               name, display_name,
                              description, tags                 description, tags
============================  ================================  ================================

A stored version 1 config keeps the YAML keys above, with ``resume_from``,
``resume_child_runs``, ``name``, ``display_name``, ``description`` and ``tags`` at its top
level; version 2 stores each field under its own name (`SweepSpec.to_dict`).

Examples
--------
>>> from hypersweep.space import uniform
>>> from hypersweep.sampling import RandomParameterSampling
>>> from hypersweep.spec import FunctionTrial
>>> spec = SweepSpec(
...     sampling=RandomParameterSampling({"lr": uniform(0, 1)}, seed=1),
...     objectives=(Objective("loss", "minimize"),),
...     trial=FunctionTrial("objective"),
...     limits=Limits(max_total_trials=20, timeout=600.0))
>>> spec.objective.metric, spec.objective.maximize, spec.limits.concurrency
('loss', False, 20)
>>> again = SweepSpec.from_dict(spec.to_dict())
>>> again.to_dict() == spec.to_dict(), spec.to_dict()["version"]
(True, 2)
>>> Limits(max_total_trials=0)
Traceback (most recent call last):
...
hypersweep.errors.ConfigError: limits.max_total_trials: expected a positive integer (got 0)

A config the first release stored (version 1) reads back as the same kind of spec:

>>> v1 = {"version": 1, "search_space": {"lr": {"type": "choice", "values": [0.01, 0.1]}},
...       "sampling_algorithm": {"type": "grid"}, "early_termination": {"type": "none"},
...       "objective": {"primary_metric": "accuracy", "goal": "maximize"},
...       "limits": {"max_total_trials": 2, "max_concurrent_trials": 1, "timeout": 600.0,
...                  "trial_timeout": 60.0},
...       "trial": {"kind": "script", "source_directory": "src", "script": "train.py"},
...       "resume_from": ["HD_earlier"], "resume_child_runs": [], "tags": {"team": "ml"}}
>>> old = SweepSpec.from_dict(v1)
>>> old.objective, old.limits.trial_timeout, old.warm_start.resume_from, dict(old.metadata.tags)
(Objective(metric='accuracy', goal='maximize'), 60.0, ('HD_earlier',), {'team': 'ml'})
>>> stored = old.to_dict()   # what this release would store for it
>>> stored["objectives"], SweepSpec.from_dict(stored).to_dict() == stored
([{'metric': 'accuracy', 'goal': 'maximize'}], True)
"""


from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any, ClassVar

from hypersweep.errors import ConfigError
from hypersweep.frozen import FrozenRecord
from hypersweep.spec import checks
from hypersweep.spec.objectives import Constraint, Objective
from hypersweep.spec.trials import TrialDefinition, trial_from_dict

# The sampler, the policy and the space (and numpy with them) are imported where a spec is
# built or used, not with this module: a face that reads a stored sweep's records (an export)
# imports SweepSpec's module without building one.
if TYPE_CHECKING:
    from hypersweep.policies import EarlyTerminationPolicy
    from hypersweep.sampling import Sampler
    from hypersweep.space import SearchSpace

__all__ = ["Limits", "Metadata", "Objective", "Resources", "SweepSpec", "WarmStart",
           "stored_metadata", "stored_objectives"]


def _policies() -> Any:
    """``hypersweep.policies``, imported when a spec first needs it."""
    import hypersweep.policies

    return hypersweep.policies


def _no_policy() -> EarlyTerminationPolicy:
    """A spec's default policy (a factory: the class is not imported with this module)."""
    from hypersweep.policies import NoTerminationPolicy

    return NoTerminationPolicy()


class Limits(FrozenRecord):
    """How much a sweep may run. ``None`` is no limit; durations are seconds.

    ``max_failed_trials`` None applies the fail-fast rule instead of a cap
    (see `hypersweep.engine.failures`).
    """

    max_total_trials: int | None = None
    max_concurrent_trials: int | None = None
    timeout: float | None = None
    trial_timeout: float | None = None
    max_failed_trials: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_total_trials", "max_concurrent_trials", "max_failed_trials"):
            checks.positive_int(getattr(self, name), f"limits.{name}", allow_none=True)
        for name in ("timeout", "trial_timeout"):
            object.__setattr__(self, name, checks.positive_seconds(
                getattr(self, name), f"limits.{name}", allow_none=True))

    @property
    def concurrency(self) -> int | None:
        """Trials at once: the concurrency limit, else the budget (None: unbounded)."""
        return self.max_concurrent_trials or self.max_total_trials

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class WarmStart(FrozenRecord):
    """Earlier sweeps whose trials inform this one (``resume_from``), and trials to continue
    from their outputs (``resume_child_runs``), by id."""

    resume_from: tuple[str, ...] = ()
    resume_child_runs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "resume_from", tuple(self.resume_from))
        object.__setattr__(self, "resume_child_runs", tuple(self.resume_child_runs))

    def to_dict(self) -> dict[str, Any]:
        return {"resume_from": list(self.resume_from),
                "resume_child_runs": list(self.resume_child_runs)}


class Resources(FrozenRecord):
    """What each trial holds while it runs: ``gpu`` devices and ``cpu`` cores.

    ``gpu`` is a fraction of one device (0.5: two trials share it) or a whole number of
    devices; ``cpu`` whole cores, to which the trial is pinned. Every face calls this
    ``resources_per_trial``.

    >>> Resources(gpu=0.5, cpu=2)
    Resources(gpu=0.5, cpu=2)
    >>> Resources(gpu=1.5)
    Traceback (most recent call last):
    ...
    hypersweep.errors.ConfigError: resources_per_trial.gpu: a trial takes a fraction of one \
GPU or whole GPUs (got 1.5)
    """

    gpu: float = 0.0
    cpu: int | None = None

    def __post_init__(self) -> None:
        gpu, cpu = self.gpu, self.cpu
        if isinstance(gpu, bool) or not isinstance(gpu, int | float) \
                or not math.isfinite(gpu) or gpu < 0:
            raise ConfigError(f"resources_per_trial.gpu: expected a number >= 0 (got {gpu!r})")
        if gpu > 1 and not float(gpu).is_integer():
            raise ConfigError(f"resources_per_trial.gpu: a trial takes a fraction of one GPU "
                              f"or whole GPUs (got {gpu!r})")
        if cpu is not None and (isinstance(cpu, bool) or not isinstance(cpu, int | float)
                                or not float(cpu).is_integer() or cpu < 1):
            raise ConfigError(f"resources_per_trial.cpu: expected a whole number of cores "
                              f">= 1 (got {cpu!r})")
        object.__setattr__(self, "gpu", int(gpu) if float(gpu).is_integer() else float(gpu))
        if cpu is not None:
            object.__setattr__(self, "cpu", int(cpu))

    @classmethod
    def from_mapping(cls, value: Any) -> Resources | None:
        """The ``resources_per_trial`` a face was given (a mapping, or None), checked.

        >>> Resources.from_mapping({"gpu": 1, "cpu": 4})
        Resources(gpu=1, cpu=4)
        >>> Resources.from_mapping({"gpus": 1})
        Traceback (most recent call last):
        ...
        hypersweep.errors.ConfigError: resources_per_trial: unknown key 'gpus' (known: cpu, gpu)
        """
        if value is None or isinstance(value, Resources):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"resources_per_trial: expected a mapping such as "
                              f"{{'gpu': 1, 'cpu': 4}} (got {value!r})")
        unknown = sorted(str(key) for key in value if key not in ("gpu", "cpu"))
        if unknown:
            raise ConfigError(f"resources_per_trial: unknown key {unknown[0]!r} (known: cpu, "
                              f"gpu)")
        resources = cls(**value)
        return resources if resources.gpu or resources.cpu else None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Metadata(FrozenRecord):
    """The v2 job's descriptive keys (shown by the CLI and the dashboard)."""

    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in dataclasses.asdict(self).items() if v}
        return out


class SweepSpec(FrozenRecord):
    """One sweep: what to search, how, for what, under which limits, running what.

    Attributes
    ----------
    sampling : Sampler
        The sampling method; its ``space`` is the search space. Engines call
        `new_sampler` for a fresh one, so this one is only read.
    objectives : tuple of Objective
        The first is the primary metric (the one "best" and the one-objective policies use);
        with several, the sweep's result is their Pareto front.
    constraints : tuple of Constraint
        Bounds a trial's metrics must meet for it to count (feasible).
    trial : ScriptTrial, CommandTrial or FunctionTrial
    policy : EarlyTerminationPolicy
    limits : Limits
    warm_start : WarmStart
    resources : Resources or None
        Per-trial resources (None: a slot is all a trial needs).
    executor : str or None
        ``"local"`` or ``"dask://HOST:PORT"`` (None: local).
    metadata : Metadata
    """

    sampling: Sampler
    objectives: tuple[Objective, ...]
    trial: TrialDefinition
    policy: EarlyTerminationPolicy = field(default_factory=_no_policy)
    limits: Limits = field(default_factory=Limits)
    warm_start: WarmStart = field(default_factory=WarmStart)
    resources: Resources | None = None
    executor: str | None = None
    metadata: Metadata = field(default_factory=Metadata)
    constraints: tuple[Constraint, ...] = ()

    #: The stored form this release writes.
    version: ClassVar[int] = 2

    def __post_init__(self) -> None:
        from hypersweep.sampling import Sampler

        if not isinstance(self.sampling, Sampler):
            raise ConfigError(f"sampling: expected a sampler such as RandomParameterSampling "
                              f"(got {self.sampling!r})")
        objectives = tuple(self.objectives)
        if not objectives or not all(isinstance(o, Objective) for o in objectives):
            raise ConfigError(f"objectives: expected one or more Objective (got {objectives!r})")
        object.__setattr__(self, "objectives", objectives)
        names = [o.metric for o in objectives]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ConfigError(f"objectives[{i}].metric: {name!r} is named twice")
        constraints = tuple(self.constraints)
        if not all(isinstance(c, Constraint) for c in constraints):
            raise ConfigError(f"constraints: expected Constraint (got {constraints!r})")
        object.__setattr__(self, "constraints", constraints)
        policies = _policies()
        if not isinstance(self.policy, policies.EarlyTerminationPolicy):
            object.__setattr__(self, "policy", policies.policy_from_dict(self.policy))

    @property
    def search_space(self) -> SearchSpace:
        return self.sampling.space

    @property
    def objective(self) -> Objective:
        """The primary objective."""
        return self.objectives[0]

    @property
    def pareto(self) -> bool:
        """Whether its result is a Pareto front of feasible trials (several objectives, or
        any constraint); with one objective and none it reads as it always did."""
        return len(self.objectives) > 1 or bool(self.constraints)

    @property
    def tracked_metrics(self) -> tuple[str, ...]:
        """The metrics whose last logged values a trial's outcome is judged on: every
        objective's when there are several, and every constrained one (none for one
        objective and no constraint).

        >>> from hypersweep.sampling import RandomParameterSampling
        >>> from hypersweep.space import uniform
        >>> from hypersweep.spec import Constraint, FunctionTrial, Objective
        >>> spec = SweepSpec(RandomParameterSampling({"x": uniform(0, 1)}),
        ...                  (Objective("acc"), Objective("ms", "minimize")), FunctionTrial(),
        ...                  constraints=(Constraint("mem", max=80), Constraint("ms", max=20)))
        >>> spec.tracked_metrics, spec.replace(objectives=(Objective("acc"),),
        ...                                    constraints=()).tracked_metrics
        (('acc', 'ms', 'mem'), ())
        """
        names = [o.metric for o in self.objectives] if len(self.objectives) > 1 else []
        return tuple(dict.fromkeys([*names, *(c.metric for c in self.constraints)]))

    def policy_note(self) -> str | None:
        """The warning a face gives when the early-termination policy judges less than every
        objective and constraint (None: it judges all, or there is one objective and no
        constraint)."""
        return _policies().policy_note(self.policy, [o.metric for o in self.objectives],
                           [c.label for c in self.constraints])

    def new_sampler(self) -> Sampler:
        """A fresh sampler with this spec's settings (samplers keep per-sweep state)."""
        from hypersweep.sampling import sampler_from_dict

        return sampler_from_dict(self.sampling.to_dict(), self.search_space)

    def replace(self, **changes: Any) -> SweepSpec:
        """A copy with some fields changed (``limits=…``, ``warm_start=…``)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ stored form
    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON form stored as the sweep record's config."""
        return {
            "version": self.version,
            "search_space": self.search_space.to_dict(),
            "sampling_algorithm": self.sampling.to_dict(),
            "early_termination": self.policy.to_dict(),
            "objectives": [o.to_dict() for o in self.objectives],
            "constraints": [c.to_dict() for c in self.constraints],
            "limits": self.limits.to_dict(),
            "trial": self.trial.to_dict(),
            "warm_start": self.warm_start.to_dict(),
            "resources": None if self.resources is None else self.resources.to_dict(),
            "executor": self.executor,
            "metadata": self.metadata.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepSpec:
        """Read a stored config: this release's form, or version 1 (the first release's)."""
        from hypersweep.sampling import sampler_from_dict
        from hypersweep.space import SearchSpace

        version = _stored_version(data)
        try:
            space = SearchSpace.from_dict(data["search_space"])
            limits = dict(data.get("limits") or {})
            objectives = _stored_objectives(data, version)
            metadata = _stored_metadata(data, version)
            if version == 1:
                warm = WarmStart(tuple(data.get("resume_from") or ()),
                                 tuple(data.get("resume_child_runs") or ()))
                resources = None
            else:
                warm = WarmStart(**(data.get("warm_start") or {}))
                resources = Resources(**data["resources"]) if data.get("resources") else None
            return cls(
                sampling=sampler_from_dict(data["sampling_algorithm"], space),
                objectives=objectives,
                trial=trial_from_dict(data["trial"]),
                policy=_policies().policy_from_dict(data.get("early_termination")),
                limits=Limits(**{k: limits.get(k) for k in (
                    "max_total_trials", "max_concurrent_trials", "timeout", "trial_timeout",
                    "max_failed_trials")}),
                warm_start=warm,
                resources=resources,
                executor=data.get("executor"),
                metadata=metadata,
                constraints=_stored_constraints(data),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ConfigError(f"stored sweep config is incomplete or invalid: {err!r}") from err


def stored_objectives(data: Mapping[str, Any]) -> tuple[tuple[Objective, ...],
                                                       tuple[Constraint, ...]]:
    """The objectives and constraints of a stored config (any release's form), read as
    `SweepSpec.from_dict` reads them, without building the rest (its space, sampler and
    policy): what a face that reads a sweep's records by its metrics needs.

    >>> stored_objectives({"version": 1, "objective": {"primary_metric": "acc",
    ...                                                "goal": "maximize"}})
    ((Objective(metric='acc', goal='maximize'),), ())
    """
    version = _stored_version(data)
    try:
        return _stored_objectives(data, version), _stored_constraints(data)
    except (KeyError, TypeError, AttributeError) as err:
        raise ConfigError(f"stored sweep config is incomplete or invalid: {err!r}") from err


def stored_metadata(data: Mapping[str, Any]) -> Metadata:
    """The name, display name, description and tags of a stored config (any release's form),
    without building the rest: what a face that lists sweeps needs.

    >>> stored_metadata({"version": 1, "display_name": "lr sweep"}).display_name
    'lr sweep'
    """
    try:
        return _stored_metadata(data, _stored_version(data))
    except (KeyError, TypeError, AttributeError) as err:
        raise ConfigError(f"stored sweep config is incomplete or invalid: {err!r}") from err


def _stored_metadata(data: Mapping[str, Any], version: int) -> Metadata:
    if version == 1:
        return Metadata(**{k: data.get(k) for k in ("name", "display_name", "description")},
                        tags=dict(data.get("tags") or {}))
    return Metadata(**(data.get("metadata") or {}))


def _stored_version(data: Any) -> int:
    if not isinstance(data, Mapping):
        raise ConfigError(f"stored sweep config: expected a mapping (got {data!r})")
    version = data.get("version", 1)
    if version not in (1, 2):
        raise ConfigError(f"stored sweep config: version {version!r} is newer than this "
                          f"release reads (1 or 2); upgrade hypersweep")
    return int(version)


def _stored_objectives(data: Mapping[str, Any], version: int) -> tuple[Objective, ...]:
    if version == 1:
        objective = data["objective"]
        return (Objective(objective["primary_metric"], objective["goal"]),)
    return tuple(Objective(o["metric"], o["goal"]) for o in data["objectives"])


def _stored_constraints(data: Mapping[str, Any]) -> tuple[Constraint, ...]:
    return tuple(Constraint(**c) for c in data.get("constraints") or ())
