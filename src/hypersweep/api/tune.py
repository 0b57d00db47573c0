"""``tune``: optimize a Python function's hyperparameters, trials in this process.

A thin loop over :class:`~hypersweep.Sweep` (ask, run the objective, tell) with the
execution chosen by ``executor`` and ``max_concurrent_runs`` (see `hypersweep.functions.pool`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.api.function_sweep import FunctionSweepRun, Sweep
from hypersweep.api.workspace import Workspace
from hypersweep.errors import ConfigError
from hypersweep.functions.pool import Objective, run_processes, run_serial, run_threads
from hypersweep.spec import Resources

__all__ = ["tune"]

log = logging.getLogger("hypersweep.functions")

_EXECUTORS = ("thread", "process")


def tune(
    objective: Objective,
    sampling: Any = None,
    primary_metric_name: str | None = None,
    primary_metric_goal: Any = None,
    max_total_runs: int | None = None,
    max_concurrent_runs: int = 1,
    max_duration_minutes: float | None = None,
    trial_timeout: float | None = None,
    policy: Any = None,
    workspace: Workspace | None = None,
    experiment_name: str | None = None,
    executor: str = "thread",
    resume: str | None = None,
    resume_from: Sequence[Any] | None = None,
    max_failed_runs: int | None = None,
    resources_per_trial: Mapping[str, float] | None = None,
    objectives: Sequence[Any] | None = None,
    constraints: Sequence[Mapping[str, Any]] | None = None,
) -> FunctionSweepRun:
    """Tune the hyperparameters of ``objective(params, run)``.

    The objective receives a flat configuration (``{"lr": 0.01, "model.C": 3}``) and a run with
    the script API (``run.log``, ``log_list``, ``log_row``, ``tag``, ``should_stop``). It may
    return its result: a number (the primary metric) or a dict of metrics.

    - **Logged and returned values.** Each ``run.log`` of the primary metric is one interval
      for the policy and one point of the curve. A returned value is the trial's result, not
      one more interval: it is recorded only when the objective logged no number for that
      metric (then as the trial's single point). A trial's score, the one ``best_value`` and
      the sampler use, is the best value recorded, as for script trials on Azure: an
      objective that logs 10 epochs and returns the last stores 10 points, ranked by their
      best. A returned number that differs from the last one logged is kept as the tag
      ``hypersweep.returned.<metric>``, with a warning.
    - An exception in the objective marks the trial ``Failed`` with the traceback; the sweep
      goes on, unless the first 3 trials fail with the same error (a bug, not bad luck): the
      sweep then stops and ends ``Failed`` with that error. ``max_failed_runs`` replaces that
      rule with a cap.
    - A sweep whose completed trials never logged the primary metric as a number (a typo in
      its name, a string, NaN) ends ``Failed``, its error saying what was logged instead.
    - When the early-termination policy stops a trial, its next ``run.log`` raises
      :class:`~hypersweep.TrialCanceled`, which ``tune`` catches: the trial ends ``Canceled``
      (reason ``early_termination``, the decision as evidence). No code needed.
    - Ctrl-C (``KeyboardInterrupt``, in the objective or while waiting) stops the sweep
      cleanly: finished trials are kept, running ones end ``Canceled`` (``user_cancel``), the
      sweep ends ``Canceled``, and ``tune`` returns the result so far.

    Parameters
    ----------
    objective : callable
        ``objective(params, run) -> float | dict | None``.
    sampling : Sampler
        E.g. ``RandomParameterSampling({...}, seed=0)``. Not needed with ``resume``.
    primary_metric_name : str
        Metric to optimize. Not needed with ``resume``.
    primary_metric_goal : {"maximize", "minimize"} or PrimaryMetricGoal
        Not needed with ``resume``.
    max_total_runs : int
        Number of trials (with ``resume``: the new total, trials so far included).
    max_concurrent_runs : int, default 1
        Trials at once.
    max_duration_minutes : float, optional
        Time limit of the sweep; running trials are then asked to stop (``max_duration``).
    trial_timeout : float, optional
        Seconds one trial may run; it is then asked to stop and ends ``Canceled``
        (``trial_timeout``). Threads stop at their next ``run.log`` (Python cannot end a
        thread); with ``executor="process"`` a trial that does not stop within 5 s has its
        worker process ended and replaced.
    policy : EarlyTerminationPolicy, optional
        ``BanditPolicy``, ``MedianStoppingPolicy``, ...
    workspace : Workspace, optional
        Keep records in this workspace (SQLite or PostgreSQL: ``hypersweep ls/show`` list the
        sweep). Default: in memory only (fastest).
    experiment_name : str, optional
        Default: the objective's name.
    executor : {"thread", "process"}
        ``"process"`` runs trials in worker processes (CPU-bound objectives, no GIL); the
        objective must be picklable (a module-level function).
    resume : str, optional
        Id of a function sweep in ``workspace`` to continue (see :meth:`Sweep.load`).
    resume_from : list of sweep runs or their ids, optional
        Warm start from earlier sweeps: their trials are evidence for the sampler and the
        policy (e.g. ``tune(..., resume_from=[earlier_result])``; see `Sweep`).
    max_failed_runs : int, optional
        Ours: once this many trials have failed, the sweep stops (running trials are asked
        to stop) and ends ``Failed``. Replaces the "first 3 trials failed alike" rule. With
        ``resume``: a new cap.
    objectives : list of (metric, goal), optional
        Several objectives instead of ``primary_metric_name``/``primary_metric_goal``, e.g.
        ``[("accuracy", "maximize"), ("latency_ms", "minimize")]``; the objective returns a
        dict of them (or logs them). The result's `get_pareto_front` lists the best
        trade-offs; ``best_params`` is the best feasible trial on the first objective.
    constraints : list of dict, optional
        ``[{"metric": "latency_ms", "max": 20}]``: bounds a trial must meet to count.
    resources_per_trial : dict, optional
        ``{"gpu": 1, "cpu": 4}``, with ``executor="process"``: each trial's worker process
        gets its own GPUs (``CUDA_VISIBLE_DEVICES``; a fraction such as 0.5 shares a device)
        and is pinned to its own cores (``OMP_NUM_THREADS`` to match), and no more trials run
        at once than the machine's devices and cores allow. Each trial then runs in a fresh
        worker process, so that its libraries see only its devices. Threads share one
        process and cannot be given devices of their own: ``executor="thread"`` refuses it.

    Returns
    -------
    FunctionSweepRun
        A ``HyperDriveRun`` with ``best_params`` and ``best_value``.

    Examples
    --------
    >>> from hypersweep import tune, RandomParameterSampling, uniform, choice
    >>> def objective(params, run):
    ...     return (params["x"] - 0.3) ** 2 + (params["kind"] == "b")
    >>> sampling = RandomParameterSampling({"x": uniform(0, 1), "kind": choice("a", "b")},
    ...                                    seed=0)
    >>> result = tune(objective, sampling, "loss", "minimize", max_total_runs=100)
    >>> result.best_params["kind"], round(result.best_params["x"], 1)
    ('a', 0.3)
    """
    if executor not in _EXECUTORS:
        raise ConfigError(f"executor: expected 'thread' or 'process' (got {executor!r})")
    if isinstance(max_concurrent_runs, bool) or not isinstance(max_concurrent_runs, int) \
            or max_concurrent_runs < 1:
        raise ConfigError(f"max_concurrent_runs: expected an int >= 1 "
                          f"(got {max_concurrent_runs!r})")
    if not callable(objective):
        raise ConfigError(f"objective: expected a function objective(params, run) "
                          f"(got {objective!r})")
    if resources_per_trial is not None and executor != "process":
        raise ConfigError("resources_per_trial: trials in threads share one process, its "
                          "GPUs and its cores; use executor='process' to give each trial "
                          "its own")
    if executor == "process":
        from hypersweep.functions.pool import check_picklable

        check_picklable(objective)  # before any record is written
    if resume is not None:
        if workspace is None:
            raise ConfigError("resume: give the workspace that holds the sweep")
        sweep = Sweep.load(workspace, resume, max_total_runs=max_total_runs,
                           max_failed_runs=max_failed_runs)
        stored = sweep.spec.sampling.to_dict()
        if sampling is not None and sampling.to_dict() != stored:
            sweep.finish()
            raise ConfigError(f"sampling: sweep {resume} samples with {stored}, not "
                              f"{sampling.to_dict()}; leave sampling out to continue it")
        held = sweep.spec.resources
        if held is not None and executor != "process":
            sweep.finish()
            raise ConfigError(f"executor: sweep {resume} gives each trial its own devices or "
                              f"cores (resources_per_trial), which threads cannot have; "
                              f"continue it with executor='process'")
        if resources_per_trial is not None and Resources.from_mapping(resources_per_trial) != held:
            sweep.finish()
            raise ConfigError(f"resources_per_trial: sweep {resume} gives each trial "
                              f"{None if held is None else held.to_dict()}, not "
                              f"{resources_per_trial}; leave resources_per_trial out to "
                              f"continue it")
    else:
        named = () if objectives is not None else (("primary_metric_name", primary_metric_name),
                                                    ("primary_metric_goal", primary_metric_goal))
        missing = [name for name, value in (("sampling", sampling), *named,
                                            ("max_total_runs", max_total_runs))
                   if value is None]
        if missing:
            raise ConfigError(f"tune() needs {', '.join(missing)} (or resume=<sweep id>)")
        name = getattr(objective, "__name__", "")
        sweep = Sweep(sampling, primary_metric_name, primary_metric_goal, policy=policy,
                      workspace=workspace,
                      experiment_name=experiment_name or _experiment_name(name),
                      max_total_runs=max_total_runs, max_duration_minutes=max_duration_minutes,
                      trial_timeout=trial_timeout, resume_from=resume_from,
                      function=_qualified_name(objective), max_failed_runs=max_failed_runs,
                      resources_per_trial=resources_per_trial, objectives=objectives,
                      constraints=constraints)
    try:
        if executor == "process":
            run_processes(sweep, objective, max_concurrent_runs)
        elif max_concurrent_runs == 1:
            run_serial(sweep, objective)
        else:
            run_threads(sweep, objective, max_concurrent_runs)
    except KeyboardInterrupt:
        sweep.cancel()
        log.warning("sweep %s interrupted: finished trials are kept; continue it with "
                    "tune(objective, resume=%r, workspace=...)", sweep.id, sweep.id)
    finally:
        result = sweep.finish()
    return result


def _experiment_name(name: str) -> str:
    import re

    if re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$", name):
        return name
    return "functions"


def _qualified_name(objective: Any) -> str:
    module = getattr(objective, "__module__", None) or "?"
    return f"{module}:{getattr(objective, '__qualname__', type(objective).__name__)}"
