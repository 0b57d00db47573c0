"""`HyperDriveConfig`: a whole sweep in Azure ML's v1 names, and the `SweepSpec` it stands for.

A `HyperDriveConfig` checks what it is given at once (a `ConfigError` naming the key as the
user wrote it) with the same checks the v2 YAML reader and `SweepSpec` apply
(`hypersweep.spec.checks`, `hypersweep.config.validate`), and `HyperDriveConfig.to_spec`
turns it into the one description of a sweep every driver reads. `HyperDriveConfig.from_spec`
is the inverse.

What is stored with a sweep is its spec's stored form (`SweepSpec.to_dict`, version 2);
`HyperDriveConfig.from_dict` reads that and what the first release stored. `ScriptRunConfig`
and `CommandJob` live in `hypersweep.api.jobs` and are importable from here as before.
"""

from __future__ import annotations

import enum
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.api.jobs import CommandJob, ScriptRunConfig
from hypersweep.config import validate as check
from hypersweep.errors import ConfigError
from hypersweep.policies import EarlyTerminationPolicy, NoTerminationPolicy
from hypersweep.sampling import Sampler
from hypersweep.space.values import describe
from hypersweep.spec import (
    CommandTrial,
    Limits,
    Metadata,
    Resources,
    ScriptTrial,
    SweepSpec,
    WarmStart,
    checks,
    constraints_from,
    objectives_given,
)

__all__ = ["CommandJob", "HyperDriveConfig", "PrimaryMetricGoal", "ScriptRunConfig"]


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
        return cls(checks.goal(value, key))


class HyperDriveConfig:
    """A whole sweep: what to run, how to sample, what to optimize, which limits hold.

    Names and defaults follow Azure ML's ``azureml.train.hyperdrive.HyperDriveConfig``.

    Parameters
    ----------
    hyperparameter_sampling : RandomParameterSampling or GridParameterSampling
        The search space and how to sample it.
    primary_metric_name : str
        The metric the trials log (``run.log(name, value)``) and the sweep optimizes.
        Not needed with ``objectives``.
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
        Its ``max_run_duration_seconds`` is the per-trial timeout.
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
    objectives : list of (metric, goal), optional
        Ours: several objectives, e.g. ``[("accuracy", "maximize"), ("latency_ms",
        "minimize")]``; the first is the primary metric. A trial's outcome is then the last
        value it logged of each, and the sweep's result its Pareto front
        (`HyperDriveRun.get_pareto_front`); `get_best_run_by_primary_metric` is the best
        feasible trial on the first objective.
    constraints : list of dict, optional
        Ours: ``[{"metric": "latency_ms", "max": 20}]`` (``max``, ``min`` or both): a trial
        counts (is feasible) only when the last value it logged of each constrained metric
        meets its bound; samplers learn to avoid the rest.
    resources_per_trial : dict, optional
        Ours (YAML: a top-level ``resources_per_trial`` mapping): what each trial holds while
        it runs, ``{"gpu": 1, "cpu": 4}``. ``gpu`` is a number of devices (a fraction such as
        0.5 shares one device between two trials); each trial runs with
        ``CUDA_VISIBLE_DEVICES`` (and ``HYPERSWEEP_GPU_IDS``) naming its own. ``cpu`` whole
        cores, to which the trial is pinned (``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS``
        match). No more trials run at once than the devices and cores allow. The GPUs are
        those the machine has (``nvidia-smi``) and ``CUDA_VISIBLE_DEVICES`` leaves visible,
        or ``HYPERSWEEP_GPUS=0,1``; asking for more than exist is a `ConfigError` when the
        sweep starts. On Dask, workers declare them (``--resources GPU=4``).

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
    >>> spec = config.to_spec()
    >>> spec.limits.max_total_trials, spec.limits.timeout, spec.objective.goal
    (4, 604800.0, 'maximize')
    >>> HyperDriveConfig.from_spec(spec).to_dict() == config.to_dict()
    True
    """


    def __init__(
        self,
        hyperparameter_sampling: Sampler,
        primary_metric_name: str | None = None,
        primary_metric_goal: PrimaryMetricGoal | str | None = None,
        max_total_runs: int | None = None,
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
        resources_per_trial: Mapping[str, float] | None = None,
        objectives: Sequence[Any] | None = None,
        constraints: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        if not isinstance(hyperparameter_sampling, Sampler):
            raise ConfigError(
                "hyperparameter_sampling: expected RandomParameterSampling, "
                "GridParameterSampling or another sampler "
                f"(got {describe(hyperparameter_sampling)})"
            )
        self.objectives = objectives_given(primary_metric_name, primary_metric_goal, objectives,
                                           check.metric_name)
        metric = self.objectives[0].metric
        goal = PrimaryMetricGoal.parse(self.objectives[0].goal)
        self.constraints = constraints_from(constraints, "constraints")
        if policy is not None and not isinstance(policy, EarlyTerminationPolicy):
            raise ConfigError("policy: expected an early-termination policy "
                              f"(got {describe(policy)})")
        if not isinstance(run_config, ScriptRunConfig | CommandJob):
            raise ConfigError(
                f"run_config: expected a ScriptRunConfig or CommandJob (got {describe(run_config)})"
            )
        if isinstance(run_config, CommandJob):
            run_config.check_parameters(hyperparameter_sampling.space.names)
        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = metric
        self.primary_metric_goal = goal
        self.max_total_runs = int(checks.positive_int(max_total_runs, "max_total_runs") or 0)
        self.max_concurrent_runs = int(
            checks.positive_int(max_concurrent_runs, "max_concurrent_runs", allow_none=True)
            or self.max_total_runs
        )
        self.max_duration_minutes = float(checks.positive_duration(
            max_duration_minutes, "max_duration_minutes", unit="minutes") or 0.0)
        self.policy = policy if policy is not None else NoTerminationPolicy()
        self.run_config = run_config
        self.resume_from = [check.run_id("resume_from", r) for r in (resume_from or [])]
        self.resume_child_runs = [
            check.run_id("resume_child_runs", r) for r in (resume_child_runs or [])
        ]
        if len(self.resume_child_runs) > self.max_total_runs:
            raise ConfigError(
                f"resume_child_runs: {len(self.resume_child_runs)} trials to re-run exceed "
                f"max_total_runs={self.max_total_runs}"
            )
        self.metadata = check.metadata(name, display_name, description, tags)
        self.executor = check.executor_uri(executor)
        self.max_failed_runs = checks.positive_int(max_failed_runs, "max_failed_runs",
                                                   allow_none=True)
        self.resources_per_trial = Resources.from_mapping(resources_per_trial)
        note = self.to_spec().policy_note() if run_config is not None else None
        if note is not None:
            warnings.warn(note, stacklevel=2)

    # ------------------------------------------------------------------ the spec
    def to_spec(self) -> SweepSpec:
        """The `SweepSpec` this config describes (durations in seconds, v2 names)."""
        run = self.run_config
        assert run is not None
        return SweepSpec(
            sampling=self.hyperparameter_sampling,
            objectives=self.objectives,
            constraints=self.constraints,
            trial=run.trial(),
            policy=self.policy,
            limits=Limits(max_total_trials=self.max_total_runs,
                          max_concurrent_trials=self.max_concurrent_runs,
                          timeout=self.max_duration_minutes * 60.0,
                          trial_timeout=run.max_run_duration_seconds,
                          max_failed_trials=self.max_failed_runs),
            warm_start=WarmStart(tuple(self.resume_from), tuple(self.resume_child_runs)),
            resources=self.resources_per_trial,
            executor=self.executor,
            metadata=Metadata(**self.metadata),
        )

    @classmethod
    def from_spec(cls, spec: SweepSpec) -> HyperDriveConfig:
        """The config of ``spec``, checked again as if a user had written it (the trial's
        folders and input files must exist). Inverse of `to_spec`.

        A spec this config cannot hold (several objectives, a function trial, no trial
        budget) is a `ConfigError` naming the spec's key.
        """
        if not isinstance(spec, SweepSpec):
            raise ConfigError(f"spec: expected a SweepSpec (got {describe(spec)})")
        limits = spec.limits
        if limits.max_total_trials is None:
            raise ConfigError("limits.max_total_trials: a HyperDriveConfig sweep needs a "
                              "trial budget (max_total_runs)")
        run_config: ScriptRunConfig | CommandJob
        if isinstance(spec.trial, CommandTrial):
            run_config = CommandJob.from_trial(spec.trial, limits.trial_timeout)
        elif isinstance(spec.trial, ScriptTrial):
            run_config = ScriptRunConfig.from_trial(spec.trial, limits.trial_timeout)
        else:
            raise ConfigError("trial: a function trial runs with hypersweep.tune or Sweep, "
                              "not with HyperDriveConfig")
        meta = spec.metadata
        return cls(
            hyperparameter_sampling=spec.sampling,
            primary_metric_name=spec.objective.metric,
            primary_metric_goal=spec.objective.goal,
            max_total_runs=limits.max_total_trials,
            max_concurrent_runs=limits.max_concurrent_trials,
            max_duration_minutes=(10080 if limits.timeout is None else limits.timeout / 60.0),
            policy=spec.policy,
            run_config=run_config,
            resume_from=list(spec.warm_start.resume_from),
            resume_child_runs=list(spec.warm_start.resume_child_runs),
            name=meta.name, display_name=meta.display_name, description=meta.description,
            tags=dict(meta.tags) or None,
            executor=spec.executor,
            max_failed_runs=limits.max_failed_trials,
            resources_per_trial=None if spec.resources is None else spec.resources.to_dict(),
            objectives=None if len(spec.objectives) == 1 else list(spec.objectives),
            constraints=[c.to_dict() for c in spec.constraints] or None,
        )

    # ------------------------------------------------------------------ stored and YAML forms
    def to_dict(self) -> dict[str, Any]:
        """The JSON-serialisable form stored with the sweep, from which it can be resumed:
        its spec's (`SweepSpec.to_dict`, version 2)."""
        return self.to_spec().to_dict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HyperDriveConfig:
        """Rebuild a config from its stored form (any release's); inverse of `to_dict`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from hypersweep import RandomParameterSampling, choice
        >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "train.py").write_text("")
        >>> config = HyperDriveConfig(
        ...     RandomParameterSampling({"bs": choice(16, 32)}, seed=0), "loss", "minimize",
        ...     max_total_runs=6, run_config=ScriptRunConfig(src, "train.py"))
        >>> again = HyperDriveConfig.from_dict(config.to_dict())
        >>> again.to_dict() == config.to_dict(), again.max_total_runs
        (True, 6)
        """
        return cls.from_spec(SweepSpec.from_dict(data))

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str],
                  overrides: Sequence[str] = ()) -> HyperDriveConfig:
        """Load an Azure ML v2 ``type: sweep`` YAML file (see `hypersweep.config`).

        Warnings (ignored Azure-only keys, unused parameters) are issued with `warnings.warn`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "sweep.yml").write_text(
        ...     "trial: {command: 'python train.py --lr ${{search_space.lr}}'}\\n"
        ...     "search_space: {lr: {type: uniform, min_value: 0.01, max_value: 0.1}}\\n"
        ...     "objective: {primary_metric: accuracy, goal: maximize}\\n"
        ...     "limits: {max_total_trials: 8}\\n")
        >>> config = HyperDriveConfig.from_yaml(folder / "sweep.yml")
        >>> config.max_total_runs, config.run_config.source_directory == folder.resolve()
        (8, True)
        """
        from hypersweep.config import load_sweep

        loaded = load_sweep(path, overrides)
        for message in loaded.warnings:
            warnings.warn(message, stacklevel=2)
        with warnings.catch_warnings():
            # the file's warnings were just given, located; building the config again from
            # the checked spec would repeat them without a location
            warnings.simplefilter("ignore")
            return cls.from_spec(loaded.spec)

    def to_yaml(self) -> str:
        """This sweep as a v2 ``type: sweep`` YAML document (`from_yaml` reads it back).

        A script trial becomes the command ``python <script> <arguments> --name
        ${{search_space.name}} ...``.
        """
        from hypersweep.config import sweep_to_yaml

        return sweep_to_yaml(self.to_spec())
