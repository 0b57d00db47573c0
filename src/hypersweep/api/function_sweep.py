"""`Sweep` (ask/tell over Python function trials) and its result, `FunctionSweepRun`.

The v1-style face of the function driver (`hypersweep.functions.FunctionDriver`): it takes a
`Workspace` and v1 names (``max_total_runs``, ``max_duration_minutes``), builds the sweep's
`SweepSpec`, and answers with a `FunctionSweepRun`, a `HyperDriveRun` of the sweep's records.
`hypersweep.tune` is a loop over it.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.api.sweep_run import HyperDriveRun
from hypersweep.api.workspace import Experiment, Workspace
from hypersweep.config import validate
from hypersweep.engine.lease import controller_alive, sweep_busy
from hypersweep.errors import ConfigError
from hypersweep.functions.driver import FunctionDriver
from hypersweep.policies import policy_from_dict
from hypersweep.sampling import Sampler
from hypersweep.spec import (
    FunctionTrial,
    Limits,
    Resources,
    SweepSpec,
    WarmStart,
    checks,
    constraints_from,
    objectives_given,
)
from hypersweep.store import MEMORY_URL, Store

__all__ = ["FunctionSweepRun", "Sweep"]


class FunctionSweepRun(HyperDriveRun):
    """The result of a function sweep: a :class:`~hypersweep.HyperDriveRun` plus the best.

    Everything ``HyperDriveRun`` offers works (``get_best_run_by_primary_metric``,
    ``get_children_sorted_by_primary_metric``, ``to_dataframe``, ``get_metrics``...), read from
    the sweep's store.

    Examples
    --------
    >>> from hypersweep import tune, RandomParameterSampling, uniform
    >>> result = tune(lambda params, run: (params["x"] - 0.5) ** 2,
    ...               RandomParameterSampling({"x": uniform(0, 1)}, seed=1), "loss",
    ...               "minimize", max_total_runs=30)
    >>> round(result.best_params["x"], 1), result.best_value < 0.01
    (0.5, True)
    """

    def _best_row(self) -> dict[str, Any] | None:
        rows = self.get_children_sorted_by_primary_metric(top=1, discard_no_metric=True)
        return rows[0] if rows else None

    @property
    def best_params(self) -> dict[str, Any] | None:
        """Hyperparameters of the trial with the best primary metric (None: no trial has one)."""
        row = self._best_row()
        return None if row is None else dict(row["hyperparameters"])

    @property
    def best_value(self) -> float | None:
        """The best primary-metric value any trial logged (None: no trial logged one)."""
        row = self._best_row()
        return None if row is None else float(row["best_primary_metric"])

    @property
    def best_trial_id(self) -> str | None:
        """Id of the trial with the best primary metric."""
        row = self._best_row()
        return None if row is None else str(row["run_id"])

    def resume(self) -> HyperDriveRun:
        """Not for function sweeps: only the process that has the function can run it on.

        The one way to continue a function sweep is ``tune(objective, resume=run.id,
        workspace=...)`` (or `Sweep.load` for an ask/tell loop); this says so.
        """
        raise RuntimeError(
            f"sweep {self.id} runs a Python function; resume it where the function lives: "
            f"hypersweep.tune(objective, resume={self.id!r}, workspace=...)")


class Sweep(FunctionDriver):
    """A sweep of function trials driven by ask/tell.

    Parameters
    ----------
    sampling : Sampler
        ``RandomParameterSampling``, ``GridParameterSampling``, ``BayesianParameterSampling``...
    primary_metric_name : str
        The metric to optimize; a trial's score is the best value it logged.
    primary_metric_goal : {"maximize", "minimize"} or PrimaryMetricGoal
    policy : EarlyTerminationPolicy, optional
        Applied at every logging of the primary metric (default: none).
    workspace : Workspace, optional
        Where records go. Default: in this process's memory only (fastest).
    experiment_name : str, optional
        Default ``"functions"``.
    max_total_runs : int, optional
        `ask` returns None once this many trials were asked (default: no limit).
    max_duration_minutes : float, optional
        After this, `ask` returns None and running trials are asked to stop.
    trial_timeout : float, optional
        Seconds a trial may run, counted from when it begins (in worker processes: when its
        worker starts it); then it is asked to stop and ends ``Canceled`` (reason
        ``trial_timeout``). Asking is cooperative: the trial's next ``run.log`` raises
        :class:`~hypersweep.TrialCanceled` (``tune(executor="process")`` also ends a worker
        that does not react in time).
    resume_from : list of sweep runs or their ids, optional
        Warm start: the trials of these earlier sweeps (function or script sweeps, any search
        space) are evidence for the sampler and the policy. A run object (such as an earlier
        ``tune`` result) is read from its own records; an id must name a sweep in
        ``workspace``.
    max_failed_runs : int, optional
        Once this many trials have failed, `ask` returns None, running trials are asked to
        stop and the sweep ends ``Failed``. Without it, the first 3 trials failing with the
        same error do that; setting it replaces that rule.
    objectives, constraints : list, optional
        Several objectives (``[("accuracy", "maximize"), ("latency_ms", "minimize")]``, in
        place of ``primary_metric_name``/``primary_metric_goal``) and bounds a trial must
        meet (``[{"metric": "latency_ms", "max": 20}]``), as in `HyperDriveConfig`; `tell`
        takes a dict of metric values.
    resources_per_trial : dict, optional
        ``{"gpu": 1, "cpu": 4}``: the devices and cores each trial holds on this machine (a
        fraction of a GPU shares one device). `ask` returns None while none are free, and
        each trial's ``placement`` says which it got; ``tune(executor="process")`` gives them
        to the trial's worker process (``CUDA_VISIBLE_DEVICES``, core affinity).

    Examples
    --------
    >>> from hypersweep import Sweep, RandomParameterSampling, uniform
    >>> sweep = Sweep(RandomParameterSampling({"x": uniform(-1, 1)}, seed=0), "loss",
    ...               "minimize", max_total_runs=20)
    >>> while (trial := sweep.ask()) is not None:
    ...     sweep.tell(trial, (trial.params["x"] - 0.5) ** 2)
    >>> sweep.finish().get_status()
    'Completed'
    >>> round(sweep.result.best_params["x"], 1)
    0.5
    """

    def __init__(
        self,
        sampling: Sampler,
        primary_metric_name: str | None = None,
        primary_metric_goal: Any = None,
        policy: Any = None,
        workspace: Workspace | None = None,
        experiment_name: str | None = None,
        max_total_runs: int | None = None,
        max_duration_minutes: float | None = None,
        trial_timeout: float | None = None,
        resume_from: Sequence[Any] | None = None,
        *,
        function: str | None = None,
        max_failed_runs: int | None = None,
        resources_per_trial: Mapping[str, float] | None = None,
        objectives: Sequence[Any] | None = None,
        constraints: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        if not isinstance(sampling, Sampler):
            raise ConfigError(f"sampling: expected a sampler such as RandomParameterSampling "
                              f"(got {sampling!r})")
        minutes = checks.positive_duration(max_duration_minutes, "max_duration_minutes",
                                           unit="minutes", allow_none=True)
        spec = SweepSpec(
            sampling=sampling,
            objectives=objectives_given(primary_metric_name, primary_metric_goal, objectives,
                                        validate.metric_name),
            constraints=constraints_from(constraints, "constraints"),
            trial=FunctionTrial(function),
            policy=policy_from_dict(policy),
            limits=Limits(
                max_total_trials=checks.positive_int(max_total_runs, "max_total_runs",
                                                     allow_none=True),
                timeout=None if minutes is None else minutes * 60.0,
                trial_timeout=checks.positive_seconds(trial_timeout, "trial_timeout",
                                                      allow_none=True),
                max_failed_trials=checks.positive_int(max_failed_runs, "max_failed_runs",
                                                      allow_none=True)),
            resources=Resources.from_mapping(resources_per_trial),
        )
        note = spec.policy_note()
        if note is not None:
            warnings.warn(note, stacklevel=2)
        workspace = workspace or Workspace(store=MEMORY_URL)
        earlier = [_earlier_sweep(run, workspace) for run in (resume_from or [])]
        spec = spec.replace(warm_start=WarmStart(tuple(sweep_id for _, sweep_id in earlier)))
        self.experiment = Experiment(workspace, experiment_name or "functions")
        super().__init__(workspace.store, spec, self.experiment.name, _outputs(workspace),
                         earlier)

    @classmethod
    def load(cls, workspace: Workspace, sweep_id: str,
             max_total_runs: int | None = None, max_failed_runs: int | None = None) -> Sweep:
        """Reopen a stored function sweep to continue it.

        Ended trials are kept and inform the sampler and the policy; a trial the store still
        shows ``Running`` lost its process and is recorded ``Failed`` (reason ``orphaned``).

        Parameters
        ----------
        workspace : Workspace
            The workspace holding the sweep.
        sweep_id : str
            Its id.
        max_total_runs : int, optional
            A new budget (e.g. to run more trials after the sweep ended).
        max_failed_runs : int, optional
            A new cap on failed trials (see the class).

        Raises
        ------
        KeyError
            No such sweep.
        ConfigError
            The sweep runs a script, not a function.
        SweepBusyError
            Another live process drives it.
        """
        store = workspace.store
        record = store.get_sweep(sweep_id)
        spec = SweepSpec.from_dict(record.config)
        if spec.trial.kind != "function":
            raise ConfigError(f"sweep {sweep_id} runs a script, not a function: resume it with "
                              f"`hypersweep resume {sweep_id}`")
        if not record.status.is_terminal and controller_alive(record):
            raise sweep_busy(sweep_id, record.controller)
        changes = {}  # a new budget, a new cap on failures
        if max_total_runs is not None:
            changes["max_total_trials"] = checks.positive_int(max_total_runs, "max_total_runs")
        if max_failed_runs is not None:
            changes["max_failed_trials"] = checks.positive_int(max_failed_runs, "max_failed_runs")
        limits = dataclasses.replace(spec.limits, **changes)
        self = cls.reopen(store, sweep_id, _outputs(workspace), spec.replace(limits=limits))
        self.experiment = Experiment(workspace, record.experiment)
        return self

    @property
    def config(self) -> dict[str, Any]:
        """The sweep's stored form (`SweepSpec.to_dict`)."""
        return self.spec.to_dict()

    def finish(self) -> FunctionSweepRun:  # type: ignore[override]
        """End the sweep: trials still running end ``Canceled``; records are all written.

        Idempotent. Returns :attr:`result`.
        """
        super().finish()
        return self.result

    def __enter__(self) -> Sweep:
        return self

    def __exit__(self, exc_type: Any, *_: object) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.cancel()
        self.finish()

    @property
    def result(self) -> FunctionSweepRun:
        """The sweep as a :class:`FunctionSweepRun` (a ``HyperDriveRun``), records flushed."""
        self.flush()
        return FunctionSweepRun(self.experiment, self.id)

    @property
    def run(self) -> FunctionSweepRun:
        """Deprecated: the same as :attr:`result`."""
        warnings.warn("Sweep.run is deprecated; use Sweep.result", DeprecationWarning,
                      stacklevel=2)
        return self.result


def _outputs(workspace: Workspace) -> Any:
    return lambda trial_id: str(workspace.outputs_dir(trial_id))


def _earlier_sweep(run: Any, workspace: Workspace) -> tuple[Store, str]:
    """Where to read a ``resume_from`` sweep: a run object's own store, or the workspace's."""
    sweep_id = getattr(run, "id", run)
    if not isinstance(sweep_id, str) or not sweep_id.startswith("HD_"):
        raise ConfigError(f"resume_from: expected sweep runs or their 'HD_…' ids (got {run!r})")
    store = run.store if isinstance(run, HyperDriveRun) else workspace.store
    try:
        store.get_sweep(sweep_id)
    except KeyError:
        raise ConfigError(f"resume_from: no sweep {sweep_id!r} in this workspace") from None
    return store, sweep_id
