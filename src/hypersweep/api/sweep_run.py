"""`HyperDriveRun`: a sweep as the user holds it — status, waiting, cancel, resume, results."""

from __future__ import annotations

import functools
import math
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from hypersweep.api.run import Run, TrialWorkspace, iso_utc, metrics_dict
from hypersweep.engine.lease import claim_sweep, controller_alive, register_driver, sweep_busy
from hypersweep.errors import ConfigError, SweepEndedError
from hypersweep.spec import SweepSpec

if TYPE_CHECKING:
    import pandas as pd

    from hypersweep.controller import SweepController
    from hypersweep.policies import ReplayReport
    from hypersweep.spec import TrialOutcome
    from hypersweep.store import Store, SweepRecord

#: Controllers driving sweeps in this process, by sweep id.
_DRIVERS: dict[str, tuple[threading.Thread, SweepController]] = {}
_DRIVERS_LOCK = threading.Lock()


class SweepExperiment(Protocol):
    """What a sweep reads of its experiment: a name and a workspace (an `Experiment` is one).

    `Experiment.submit` returns a `HyperDriveRun`; the run does not name the class back, so
    the two modules do not import each other.
    """

    @property
    def name(self) -> str: ...

    @property
    def workspace(self) -> TrialWorkspace: ...


class HyperDriveRun:
    """One sweep: its trials, their results, and the controls to wait, cancel or resume.

    `Experiment.submit` returns one; ``HyperDriveRun(experiment, run_id)`` reopens a stored
    sweep (e.g. from another process, or to ``resume()`` one whose controller was killed).

    Examples
    --------
    A finished sweep, reopened by id (here one run by ``tune`` in a temporary workspace):

    >>> import tempfile
    >>> from hypersweep import Experiment, HyperDriveRun, Workspace, tune, uniform
    >>> from hypersweep import RandomParameterSampling
    >>> workspace = Workspace(tempfile.mkdtemp())
    >>> result = tune(lambda params, run: (params["x"] - 0.3) ** 2,
    ...               RandomParameterSampling({"x": uniform(0, 1)}, seed=0), "loss", "minimize",
    ...               max_total_runs=4, workspace=workspace, experiment_name="demo")
    >>> run = HyperDriveRun(Experiment(workspace, "demo"), result.id)
    >>> run.get_status(), run.primary_metric_name, len(run.get_children())
    ('Completed', 'loss', 4)
    >>> best = run.get_best_run_by_primary_metric()
    >>> best.id == run.get_children_sorted_by_primary_metric(top=1)[0]["run_id"]
    True
    """

    def __init__(self, experiment: SweepExperiment, run_id: str) -> None:
        self.experiment = experiment
        self.id = run_id
        experiment.workspace.store.get_sweep(run_id)  # KeyError names an unknown id

    # ---------------------------------------------------------------- records
    @property
    def store(self) -> Store:
        """The store holding this sweep's records (what `hypersweep.viz` reads)."""
        return self.experiment.workspace.store

    @property
    def _store(self) -> Any:
        return self.store

    @functools.cached_property
    def spec(self) -> SweepSpec:
        """The sweep's `SweepSpec`, read from its stored config (any release's form).

        Written once at submit, so read once.
        """
        return SweepSpec.from_dict(self._sweep().config)

    def _sweep(self) -> SweepRecord:
        return self._store.get_sweep(self.id)

    @property
    def primary_metric_name(self) -> str:
        return self.spec.objective.metric

    @property
    def _maximize(self) -> bool:
        return self.spec.objective.maximize

    @property
    def properties(self) -> dict[str, Any]:
        """Sweep properties; ``best_child_run_id`` once the sweep has ended (v2 name)."""
        return dict(self._sweep().properties)

    @property
    def warnings(self) -> list[str]:
        """Loud messages the controller raised (e.g. a primary metric no trial logs)."""
        return list(self._sweep().warnings)

    def get_status(self) -> str:
        """``Queued``, ``Running``, ``CancelRequested``, ``Completed``, ``Failed``, ``Canceled``."""
        return str(self._sweep().status.value)

    def get_details(self) -> dict[str, Any]:
        """Azure's details mapping for the sweep.

        ``runDefinition`` keeps Azure's key and holds what the sweep's record stores: its
        `SweepSpec`'s stored form (``spec.to_dict()``, ``"version": 2``; a sweep stored by the
        first release shows its version 1 form). Read `spec` for the typed spec.
        """
        sweep = self._sweep()
        details: dict[str, Any] = {
            "runId": sweep.id,
            "experiment": sweep.experiment,
            "status": sweep.status.value,
            "startTimeUtc": iso_utc(sweep.start_time),
            "endTimeUtc": iso_utc(sweep.end_time),
            "properties": dict(sweep.properties),
            "runDefinition": sweep.config,
            "warnings": list(sweep.warnings),
        }
        if sweep.error:
            details["error"] = sweep.error
        return details

    # ---------------------------------------------------------------- children
    def get_children(self) -> list[Run]:
        """Every trial of the sweep, in the order they were created."""
        return [self._trial_run(t.id) for t in self._store.list_trials(self.id)]

    def _trial_run(self, trial_id: str) -> Run:
        return Run(self.experiment.workspace, trial_id)

    def _best_values(self) -> dict[str, float]:
        values = self._store.best_values([self.id], self.primary_metric_name, self._maximize)
        return {k: v for k, v in values.items() if not math.isnan(v)}

    def get_children_sorted_by_primary_metric(
        self, top: int = 0, reverse: bool = False, discard_no_metric: bool = False
    ) -> list[dict[str, Any]]:
        """Trials best first: ``{"run_id", "hyperparameters", "best_primary_metric", "status"}``.

        Trials that never logged the primary metric come last (or are dropped with
        ``discard_no_metric``); ``reverse`` puts the worst scored trial first; ``top`` keeps
        that many (0: all).
        """
        if not reverse:  # the store ranks them and reads only the ``top``
            page = self._store.trial_page(self.id, self.primary_metric_name, self._maximize,
                                          limit=top or None)
            return [{"run_id": s.trial.id, "hyperparameters": dict(s.trial.params),
                     "best_primary_metric": s.best, "status": s.trial.status.value}
                    for s in page if s.best is not None or not discard_no_metric]
        best = self._best_values()
        rows = [
            {"run_id": t.id, "hyperparameters": dict(t.params),
             "best_primary_metric": best.get(t.id), "status": t.status.value}
            for t in self._store.list_trials(self.id)
        ]
        scored = [r for r in rows if r["best_primary_metric"] is not None]
        scored.sort(key=lambda r: r["best_primary_metric"], reverse=self._maximize != reverse)
        unscored = [] if discard_no_metric else [
            r for r in rows if r["best_primary_metric"] is None]
        ordered = scored + unscored
        return ordered[:top] if top > 0 else ordered

    def get_best_run_by_primary_metric(
        self, include_failed: bool = True, include_canceled: bool = True
    ) -> Run | None:
        """The trial with the best primary metric, or None when no trial logged it.

        With constraints, only a feasible trial counts (the last value it logged of each
        constrained metric meets its bound); with several objectives this is the best
        feasible trial on the first one; the trade-offs are `get_pareto_front`.
        """
        excluded = set()
        if not include_failed:
            excluded.add("Failed")
        if not include_canceled:
            excluded.add("Canceled")
        if not self.spec.constraints:  # the store ranks them: one row read
            from hypersweep.store import Status

            allowed = [status for status in Status if status.value not in excluded]
            page = self._store.trial_page(self.id, self.primary_metric_name, self._maximize,
                                          limit=1, statuses=allowed)
            return self._trial_run(page[0].trial.id) if page and page[0].best is not None \
                else None
        feasible = {o.trial_id for o in self.outcomes() if o.feasible}
        for row in self.get_children_sorted_by_primary_metric(discard_no_metric=True):
            if row["status"] not in excluded and row["run_id"] in feasible:
                return self._trial_run(row["run_id"])
        return None

    def outcomes(self) -> list[TrialOutcome]:
        """Each trial's objective values, feasibility and Pareto-front membership (see
        `hypersweep.spec.outcomes`), in trial order."""
        from hypersweep.spec import sweep_outcomes  # with hypersweep.pareto: when first asked

        return sweep_outcomes(self._store, self.id, self.spec)

    def get_pareto_front(self) -> list[Run]:
        """The best trade-offs: the completed, feasible trials that no other such trial beats
        on every objective (a trial's values are the last it logged of each objective), best
        on the first objective first. With one objective: the best feasible trials (ties
        included).

        Examples
        --------
        >>> from hypersweep import Sweep, RandomParameterSampling, uniform
        >>> sweep = Sweep(RandomParameterSampling({"x": uniform(0, 1)}, seed=0),
        ...               objectives=[("a", "maximize"), ("b", "maximize")],
        ...               max_total_runs=20)
        >>> while (trial := sweep.ask()) is not None:
        ...     sweep.tell(trial, {"a": trial.params["x"], "b": 1 - trial.params["x"]})
        >>> len(sweep.finish().get_pareto_front())   # x trades a for b: every trial
        20
        """
        first = self.spec.objective
        front = [o for o in self.outcomes() if o.on_front]
        front.sort(key=lambda o: first.oriented(o.values[first.metric] or 0.0), reverse=True)
        return [self._trial_run(o.trial_id) for o in front]

    def get_hyperparameters(self) -> dict[str, dict[str, Any]]:
        """``{trial_id: hyperparameters}``."""
        return {t.id: dict(t.params) for t in self._store.list_trials(self.id)}

    def get_metrics(self) -> dict[str, dict[str, Any]]:
        """``{trial_id: {metric: value or list}}``."""
        return {
            t.id: metrics_dict(self._store.get_metrics(t.id))
            for t in self._store.list_trials(self.id)
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per trial: id, status, hyperparameters, best primary metric, duration (s)."""
        import pandas as pd

        best = self._best_values()
        rows = []
        for t in self._store.list_trials(self.id):
            duration = None
            if t.start_time is not None and t.end_time is not None:
                duration = (t.end_time - t.start_time).total_seconds()
            rows.append({
                "run_id": t.id, "status": t.status.value, **t.params,
                "best_primary_metric": best.get(t.id), "duration_s": duration,
                "termination_reason": t.termination_reason,
            })
        frame = pd.DataFrame(rows)
        frame.attrs["primary_metric"] = self.primary_metric_name
        return frame

    def replay(self, policy: Any, workers: int | None = None) -> ReplayReport:
        """Re-simulate this sweep's recorded learning curves under another policy.

        Reports are replayed in the order the trials logged them. The report says which trials
        the policy would have stopped and at which interval, the compute it would have saved,
        and whether the best trial would have survived.

        Parameters
        ----------
        policy : EarlyTerminationPolicy, mapping or str
            A policy object or its v2 ``early_termination`` form
            (``{"type": "bandit", "slack_factor": 0.1}``).
        workers : int, optional
            Replay as if this many trials ran at once (default: in recorded time order).

        Examples
        --------
        >>> import tempfile
        >>> from hypersweep import RandomParameterSampling, Workspace, tune, uniform
        >>> def objective(params, run):
        ...     for step in range(1, 6):
        ...         run.log("accuracy", params["x"] * step / 5)
        >>> result = tune(objective, RandomParameterSampling({"x": uniform(0, 1)}, seed=1),
        ...               "accuracy", "maximize", max_total_runs=6,
        ...               workspace=Workspace(tempfile.mkdtemp()))
        >>> report = result.replay({"type": "truncation_selection",
        ...                         "truncation_percentage": 50})
        >>> report.best_survived
        True
        """
        from hypersweep.policies import policy_from_dict, replay

        store = self._store
        metric = self.primary_metric_name
        curves: dict[str, list[tuple[float, float]]] = {}
        for trial in store.list_trials(self.id):
            points = store.get_metrics(trial.id, metric)
            curves[trial.id] = [
                (p.time.timestamp(), p.value) for p in points
                if p.value is not None and not math.isnan(p.value)
            ]
        return replay({k: v for k, v in curves.items() if v}, policy_from_dict(policy),
                      maximize=self._maximize, metric=metric, workers=workers)

    # ---------------------------------------------------------------- control
    def cancel(self) -> None:
        """Cancel the sweep: running trials are stopped and marked ``Canceled``.

        Works from any process: the request is recorded and the controller acts on it.
        """
        from hypersweep.store import Status

        sweep = self._sweep()
        if sweep.status.is_terminal:
            return
        self._store.update_sweep(self.id, status=Status.CANCEL_REQUESTED)

    def wait_for_completion(
        self, show_output: bool = False, wait_post_processing: bool = False,
        raise_on_error: bool = True, poll_interval: float = 0.25,
    ) -> dict[str, Any]:
        """Block until the sweep ends; return its details.

        With ``show_output`` a live view shows the trials and the best so far. If the
        controller driving the sweep died (its process was killed), this raises instead of
        waiting forever: call `resume` to continue.
        """
        from hypersweep.api.progress import SweepProgress

        progress = SweepProgress(self) if show_output else None
        try:
            while True:
                ended = self._sweep().status.is_terminal
                if progress is not None:
                    progress.update()
                if ended:
                    break
                self._raise_if_orphaned()
                time.sleep(poll_interval)
        finally:
            if progress is not None:
                progress.close()
        details = self.get_details()
        if raise_on_error and details["status"] == "Failed":
            raise RuntimeError(f"sweep {self.id} failed: {details.get('error')}")
        return details

    def _raise_if_orphaned(self) -> None:
        """Raise when no controller drives this unfinished sweep any more."""
        with _DRIVERS_LOCK:
            driver = _DRIVERS.get(self.id)
        if driver is not None and driver[0].is_alive():
            return
        sweep = self._sweep()  # read after the liveness check: a controller may just have ended
        if sweep.status.is_terminal:
            return
        if driver is not None:
            raise RuntimeError(
                f"the controller of sweep {self.id} stopped before the sweep ended; "
                "see run.warnings, then call run.resume()"
            )
        if sweep.controller is None and sweep.status.value == "Queued":
            return
        if not controller_alive(sweep):
            raise RuntimeError(
                f"no controller is driving sweep {self.id} (its process ended); "
                "call run.resume() to continue it"
            )

    def resume(self) -> HyperDriveRun:
        """Continue a sweep whose controller stopped (crashed, killed, or its process ended).

        Trials still running are adopted, trials that ended meanwhile are recorded with
        their exit status, and the sweep goes on to its limits. Nothing runs twice. A
        controller killed a moment ago is taken over at once when it ran on this host (its
        process is gone); elsewhere, once its heartbeat is ``stale_after`` seconds old.

        Raises
        ------
        SweepBusyError
            A live controller drives the sweep (the message names its host and pid). Of
            several resumes at the same instant exactly one drives; the others raise this.
        SweepEndedError
            The sweep has ended: a new sweep can warm-start from it (``resume_from``).
        RuntimeError
            The sweep runs a Python function (resume it with ``tune(..., resume=id)``).
        """
        with _DRIVERS_LOCK:
            driver = _DRIVERS.get(self.id)
            if driver is not None and driver[0].is_alive():
                return self  # this process drives it already
        check_resumable(self._sweep())
        self._start_controller()
        return self

    def _start_controller(self) -> None:
        from hypersweep.controller import SweepController
        from hypersweep.execution import executor_from_uri

        workspace = self.experiment.workspace
        # The stored config names where trials run ("local" unless a dask:// URI was given).
        executor = executor_from_uri(self.spec.executor)
        try:
            controller = SweepController(workspace.store, executor, self.id, workspace.path)
            claim_sweep(workspace.store, self.id, controller.owner)
        except ConfigError as err:  # e.g. more GPUs per trial than this machine has
            executor.shutdown(stop_trials=False)
            from hypersweep.store import Status, utcnow

            if not self._sweep().status.is_terminal:  # a sweep that never ran says why
                workspace.store.update_sweep(self.id, status=Status.FAILED, end_time=utcnow(),
                                             error=str(err))
            raise
        except BaseException:
            executor.shutdown(stop_trials=False)
            raise
        sweep = self._sweep()
        if sweep.status.is_terminal:  # another controller drove it to its end meanwhile
            workspace.store.release_sweep(self.id, controller.owner)
            executor.shutdown(stop_trials=False)
            raise _ended(sweep)
        # Not a daemon: a script that submits and returns still finishes its sweep.
        thread = threading.Thread(
            target=_drive, args=(controller,), name=f"hypersweep-{self.id}", daemon=False
        )
        with _DRIVERS_LOCK:
            _DRIVERS[self.id] = (thread, controller)
        register_driver(self.id, controller.owner, thread.is_alive)
        thread.start()

    def __repr__(self) -> str:
        return f"HyperDriveRun(id={self.id!r}, experiment={self.experiment.name!r})"

    def _repr_html_(self) -> str:
        """Jupyter: the sweep's status and its best trials (charts:
        ``hypersweep.viz.RunDetails(run).show()``)."""
        from hypersweep.api.progress import summary_html

        return summary_html(self)


def _drive(controller: SweepController) -> None:
    try:
        controller.run()
    finally:
        controller.executor.shutdown(stop_trials=False)


def check_resumable(sweep: SweepRecord) -> None:
    """Raise, with the reason, unless `HyperDriveRun.resume` may take the sweep over now.

    Raises
    ------
    RuntimeError
        The sweep runs a Python function (only ``tune(..., resume=id)`` can resume it).
    SweepEndedError
        The sweep has ended.
    SweepBusyError
        A live controller drives it.
    """
    if SweepSpec.from_dict(sweep.config).trial.kind == "function":  # no script to launch
        raise RuntimeError(
            f"sweep {sweep.id} runs a Python function; resume it where the function lives: "
            f"hypersweep.tune(objective, resume={sweep.id!r}, workspace=...)"
        )
    if sweep.status.is_terminal:
        raise _ended(sweep)
    if controller_alive(sweep):
        raise sweep_busy(sweep.id, sweep.controller)


def _ended(sweep: SweepRecord) -> SweepEndedError:
    return SweepEndedError(
        f"sweep {sweep.id} has already ended ({sweep.status.value}); to search on from its "
        f"trials, start a new sweep warm-started from it: resume_from=[{sweep.id!r}] "
        "(HyperDriveConfig or tune)"
    )
