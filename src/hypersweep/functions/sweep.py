"""Ask/tell: a sweep of Python function trials, driven by the caller.

:class:`Sweep` is the one implementation of function sweeps; :func:`~hypersweep.tune` is a thin
loop over it. It follows the controller's conventions (``controller/loop.py``) so a function
sweep reads like any other in ``hypersweep ls/show`` and ``HyperDriveRun``: trials
``HD_<uuid>_<n>`` born ``Running``; a trial's score is its best primary value; policy decisions
come from the same :class:`~hypersweep.policies.PolicyRunner`, report by report, and a stopped
trial ends ``Canceled`` with reason ``early_termination`` and the decision as
``termination_detail``; the sweep ends ``Completed`` (``Failed`` when every trial failed,
``Canceled`` when canceled) with ``best_child_run_id`` and ``best_primary_metric``. Failures
end it as they end a script sweep (`hypersweep.engine.failures`): the first 3 trials
failing with the same error, or ``max_failed_runs`` failures, stop it ``Failed``; so does a
sweep whose completed trials never logged the primary metric as a number.

An objective's return value is its *result*, not one more interval: a returned number is
recorded as the primary metric only when the trial logged no number for it (so ``tune`` with a plain
``return loss`` works), and then as a finished trial's evidence for the policy, never as a
report that could stop the trial. When the trial logged the metric, the curve and the policy
keep what was logged, the trial's score is its best logged value (as for script trials), and
a returned value that differs from the last logged one is kept as the tag
``hypersweep.returned.<name>`` (with one warning per sweep). A returned mapping follows the
same rule per metric.

Writes are batched (write-behind): a trial's row, its points and its final status go to the
store together, in one transaction per batch (:meth:`Store.save_trials`), when
:attr:`Sweep.flush_size` changes are waiting or every :attr:`Sweep.flush_interval` seconds (a
background thread, which also keeps running trials and their metrics visible to
``hypersweep show``), and always on :meth:`Sweep.finish`, on interrupt and at interpreter
exit. Nothing that was told is lost on a clean stop or an exception.

Resume (ours): :meth:`Sweep.load` reopens a stored function sweep. Ended trials are kept and
feed the sampler and the policy, so a deterministic sampler continues its sequence; a trial
still ``Running`` in the store lost its process, and is recorded ``Failed`` with reason
``orphaned`` (a function cannot be adopted). The sweep runs on to its (possibly raised)
``max_total_runs``; a sweep that ended (even ``Canceled`` by Ctrl-C) is reopened. The failure
rules count only the trials run after reopening: a sweep is reopened on purpose, usually
after a fix, and its old failures must not stop it at once.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from hypersweep.api.sweep_run import HyperDriveRun
from hypersweep.api.workspace import Experiment, Workspace
from hypersweep.controller.loop import SweepController, new_owner_token, utcnow
from hypersweep.engine import (
    REASON_EARLY_TERMINATION,
    REASON_FAILED_TRIALS,
    REASON_MAX_DURATION,
    REASON_TRIAL_TIMEOUT,
    REASON_USER_CANCEL,
    ingest,
)
from hypersweep.engine.failures import FailureRule, sweep_outcome
from hypersweep.engine.notices import missing_primary_metric, unusable_value
from hypersweep.engine.warm_start import warm_start
from hypersweep.errors import ConfigError
from hypersweep.functions.trial import Trial
from hypersweep.policies import PolicyRunner, policy_from_dict
from hypersweep.sampling import (
    FinishedTrial,
    GridParameterSampling,
    RandomParameterSampling,
    sampler_from_dict,
)
from hypersweep.sampling.base import Sampler
from hypersweep.space import SearchSpace
from hypersweep.store import MEMORY_URL, Status, SweepRecord, TrialRecord
from hypersweep.tracking import JournalRecord

if TYPE_CHECKING:
    from hypersweep.policies import Decision, EarlyTerminationPolicy
    from hypersweep.store import Store

__all__ = ["FunctionSweepRun", "Sweep"]

log = logging.getLogger("hypersweep.functions")

#: Stored as the sweep's ``trial.kind``: what tells a function sweep from a script sweep.
FUNCTION_KIND = "function"
REASON_ORPHANED = "orphaned"

# Samplers whose proposals depend only on the seed and the trial number (and the configs
# already tried), never on scores: ask may propose them in batches without changing them.
_PREFETCHABLE = (RandomParameterSampling, GridParameterSampling)
_PREFETCH = 256


def _goal(goal: Any) -> str:
    text = str(getattr(goal, "value", goal)).strip().lower()
    if text not in ("maximize", "minimize"):
        raise ConfigError(f"primary_metric_goal: expected 'maximize' or 'minimize' (got {goal!r})")
    return text


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class FunctionSweepRun(HyperDriveRun):
    """The result of a function sweep: a :class:`~hypersweep.HyperDriveRun` plus the best.

    Everything ``HyperDriveRun`` offers works (``get_best_run_by_primary_metric``,
    ``get_children_sorted_by_primary_metric``, ``to_dataframe``, ``get_metrics``...), read from
    the sweep's store.

    Examples
    --------
    >>> # result = hypersweep.tune(objective, sampling, "loss", "minimize", max_total_runs=50)
    >>> # result.best_params, result.best_value
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
        """Function sweeps resume in the process that has the function: see :meth:`Sweep.load`."""
        raise RuntimeError(
            f"sweep {self.id} runs a Python function; resume it where the function lives: "
            f"hypersweep.tune(objective, resume={self.id!r}, workspace=...)"
        )


class Sweep:
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
        :meth:`ask` returns None once this many trials were asked (default: no limit).
    max_duration_minutes : float, optional
        After this, :meth:`ask` returns None and running trials are asked to stop.
    trial_timeout : float, optional
        Seconds a trial may run, counted from when it begins (in worker processes: when its
        worker starts it, not while it waits for one); then it is asked to stop and ends
        ``Canceled`` (reason ``trial_timeout``). Asking is cooperative: the trial's next
        ``run.log`` raises :class:`~hypersweep.TrialCanceled` (``tune(executor="process")``
        also ends a worker that does not react in time).
    resume_from : list of sweep runs or their ids, optional
        Warm start: the trials of these earlier sweeps (function or script sweeps, any search
        space) are evidence for the sampler and the policy, as ``HyperDriveConfig``'s
        ``resume_from`` is. A run object (such as an earlier ``tune`` result) is read from its
        own records, in memory or not; an id must name a sweep in ``workspace``.
    max_failed_runs : int, optional
        Ours (``HyperDriveConfig``'s ``max_failed_runs``): once this many trials have failed,
        :meth:`ask` returns None and running trials are asked to stop; the sweep ends
        ``Failed``. Without it, the first 3 trials failing with the same error do that;
        setting it replaces that rule.

    Attributes
    ----------
    id : str
        The sweep's id, ``HD_<uuid>``.

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

    #: Seconds between background flushes (and cancel checks).
    flush_interval = 0.5
    #: A batch this large is written at once, by the caller's thread.
    flush_size = 256
    #: Seconds between heartbeats of a workspace sweep (``hypersweep`` tells a live one).
    heartbeat_interval = SweepController.heartbeat_interval

    def __init__(
        self,
        sampling: Sampler,
        primary_metric_name: str,
        primary_metric_goal: Any,
        policy: EarlyTerminationPolicy | None = None,
        workspace: Workspace | None = None,
        experiment_name: str | None = None,
        max_total_runs: int | None = None,
        max_duration_minutes: float | None = None,
        trial_timeout: float | None = None,
        resume_from: Sequence[Any] | None = None,
        *,
        function: str | None = None,
        max_failed_runs: int | None = None,
    ) -> None:
        if not isinstance(sampling, Sampler):
            raise ConfigError(f"sampling: expected a sampler such as RandomParameterSampling "
                              f"(got {sampling!r})")
        if not isinstance(primary_metric_name, str) or not primary_metric_name:
            raise ConfigError(f"primary_metric_name: expected a non-empty string "
                              f"(got {primary_metric_name!r})")
        if max_total_runs is not None and (
                isinstance(max_total_runs, bool) or not isinstance(max_total_runs, int)
                or max_total_runs < 1):
            raise ConfigError(f"max_total_runs: expected an int >= 1 (got {max_total_runs!r})")
        _check_max_failed(max_failed_runs)
        if max_duration_minutes is not None and not max_duration_minutes > 0:
            raise ConfigError(f"max_duration_minutes: expected a number > 0 "
                              f"(got {max_duration_minutes!r})")
        if trial_timeout is not None and (isinstance(trial_timeout, bool)
                                          or not isinstance(trial_timeout, (int, float))
                                          or not trial_timeout > 0):
            raise ConfigError(f"trial_timeout: expected a number of seconds > 0 "
                              f"(got {trial_timeout!r})")
        policy = policy_from_dict(policy)
        workspace = workspace or Workspace(store=MEMORY_URL)
        earlier = [_earlier_sweep(run, workspace) for run in (resume_from or [])]
        config: dict[str, Any] = {
            "version": 1,
            "search_space": sampling.space.to_dict(),
            "sampling_algorithm": sampling.to_dict(),
            "early_termination": policy.to_dict(),
            "objective": {"primary_metric": primary_metric_name,
                          "goal": _goal(primary_metric_goal)},
            "limits": {
                "max_total_trials": max_total_runs,
                "max_concurrent_trials": None,
                "timeout": None if max_duration_minutes is None else max_duration_minutes * 60.0,
                "trial_timeout": None if trial_timeout is None else float(trial_timeout),
                **({"max_failed_trials": max_failed_runs} if max_failed_runs else {}),
            },
            "trial": {"kind": FUNCTION_KIND, "function": function},
            "resume_from": [sweep_id for _, sweep_id in earlier],
            "resume_child_runs": [],
        }
        experiment = Experiment(workspace, experiment_name or "functions")
        sweep_id = f"HD_{uuid.uuid4()}"
        now = utcnow()
        workspace.store.create_sweep(SweepRecord(
            id=sweep_id, experiment=experiment.name, status=Status.RUNNING, config=config,
            created_time=now, start_time=now,
        ))
        self._open(experiment, sweep_id, sampling, policy, config, [], now, earlier)

    # ------------------------------------------------------------------ opening
    @classmethod
    def load(cls, workspace: Workspace, sweep_id: str,
             max_total_runs: int | None = None, max_failed_runs: int | None = None) -> Sweep:
        """Reopen a stored function sweep to continue it (see the module's *Resume*).

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
        RuntimeError
            Another live process drives it.
        """
        from hypersweep.api.sweep_run import controller_alive
        from hypersweep.store.owner import sweep_busy

        store = workspace.store
        record = store.get_sweep(sweep_id)
        config = record.config
        if config.get("trial", {}).get("kind") != FUNCTION_KIND:
            raise ConfigError(f"sweep {sweep_id} runs a script, not a function: resume it with "
                              f"`hypersweep resume {sweep_id}`")
        if not record.status.is_terminal and controller_alive(record):
            raise sweep_busy(sweep_id, record.controller)
        if max_total_runs is not None:
            config = {**config, "limits": {**config["limits"], "max_total_trials": max_total_runs}}
        if _check_max_failed(max_failed_runs) is not None:
            config = {**config,
                      "limits": {**config["limits"], "max_failed_trials": max_failed_runs}}
        space = SearchSpace.from_dict(config["search_space"])
        sampler = sampler_from_dict(config["sampling_algorithm"], space)
        policy = policy_from_dict(config.get("early_termination"))
        now = utcnow()
        fields: dict[str, Any] = {"status": Status.RUNNING, "end_time": None, "config": config,
                                  "error": None}
        if record.start_time is None:
            fields["start_time"] = now
        store.update_sweep(sweep_id, **fields)
        earlier = []
        for other in config.get("resume_from", []):
            try:
                store.get_sweep(other)
                earlier.append((store, other))
            except KeyError:  # it lived in another process's memory
                log.warning("sweep %s: its warm-start sweep %s is not in this workspace; "
                            "continuing without its trials", sweep_id, other)
        self = cls.__new__(cls)
        self._open(Experiment(workspace, record.experiment), sweep_id, sampler, policy, config,
                   store.list_trials(sweep_id), record.start_time or now, earlier)
        return self

    def _open(self, experiment: Experiment, sweep_id: str, sampler: Sampler,
              policy: EarlyTerminationPolicy, config: dict[str, Any],
              stored: list[TrialRecord], start_time: datetime,
              earlier: Sequence[tuple[Store, str]] = ()) -> None:
        self.id = sweep_id
        self.experiment = experiment
        self.store: Store = experiment.workspace.store
        self.sampler = sampler
        self.policy = policy
        self.config = config
        objective = config["objective"]
        self.primary_metric = str(objective["primary_metric"])
        self.maximize = str(objective["goal"]).lower() == "maximize"
        limits = config["limits"]
        self.max_total_runs: int | None = limits.get("max_total_trials")
        timeout = limits.get("timeout")
        elapsed = (utcnow() - start_time).total_seconds()
        self._deadline = None if timeout is None else time.monotonic() - elapsed + timeout
        self.trial_timeout: float | None = limits.get("trial_timeout")
        self._memory = self.store.url == MEMORY_URL
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._runner = PolicyRunner(policy, maximize=self.maximize, metric=self.primary_metric)
        self._trials: list[Trial] = []
        self._by_id: dict[str, Trial] = {}
        self._running: dict[str, Trial] = {}
        self._dirty: dict[str, Trial] = {}
        self._proposals: deque[dict[str, Any]] = deque()
        self._exhausted = False
        self._cancel_reason: str | None = None
        self._warned_metric = False
        self._warned_return = False
        self._failures = FailureRule(limits.get("max_failed_trials"))
        self._unusable_primary: str | None = None  # how the primary metric was mislogged
        self._ended = False
        self._owner = new_owner_token()
        self._warm = warm_start(earlier, self.primary_metric, self.maximize, self._runner)
        self._restore(stored)
        from hypersweep.api.sweep_run import claim_sweep

        claim_sweep(self.store, sweep_id, self._owner)  # SweepBusyError names the live one
        self._last_flush = time.monotonic()
        self._wake = threading.Event()
        self._flusher = threading.Thread(target=_flush_loop, args=(weakref.ref(self),),
                                         name=f"hypersweep-flush-{sweep_id}", daemon=True)
        self._flusher.start()
        self._atexit = _atexit_flush(weakref.ref(self))
        atexit.register(self._atexit)

    def _restore(self, stored: list[TrialRecord]) -> None:
        """Rebuild the history of a reopened sweep; trials that lost their process fail."""
        if not stored:
            return
        series = self.store.metric_series(self.id, self.primary_metric)
        now = utcnow()
        for record in stored:
            if not record.status.is_terminal or record.end_time is None:
                fields: dict[str, Any] = {"end_time": record.end_time or now}
                if not record.status.is_terminal:
                    fields.update(status=Status.FAILED, termination_reason=REASON_ORPHANED,
                                  error="the process running this function trial ended before "
                                        "the trial did; the sweep was resumed without it")
                self.store.update_trial(record.id, **fields)
                record = record.replace(**fields)
            trial = Trial(self, record)
            values = [v for v in series.get(record.id, []) if not math.isnan(v)]
            if values:
                trial.best = max(values) if self.maximize else min(values)
            self._runner.add_finished(record.id, [self._oriented(v) for v in values])
            trial.evidence = self._evidence(trial)
            self._trials.append(trial)
            self._by_id[record.id] = trial
        self._warned_metric = any(t.best is not None for t in self._trials)

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Trial | None:
        """Start the next trial, or return None when the sweep has nothing more to run.

        None means: the budget is spent, the sampler is exhausted (a finished grid), the
        deadline passed, or the sweep was canceled or finished.
        """
        with self._lock:
            if self._ended or self._cancel_reason is not None:
                return None
            index = len(self._trials)
            if self.max_total_runs is not None and index >= self.max_total_runs:
                return None
            if self._deadline is not None and time.monotonic() >= self._deadline:
                self._cancel(REASON_MAX_DURATION)
                return None
            params = self._next_params(index)
            if params is None:
                return None
            tid = f"{self.id}_{index}"
            now = utcnow()
            record = TrialRecord(id=tid, sweep_id=self.id, index=index, params=params,
                                 status=Status.RUNNING, created_time=now, start_time=now)
            trial = Trial(self, record)
            self._trials.append(trial)
            self._by_id[tid] = trial
            self._running[tid] = trial
            self._dirty[tid] = trial
            self._runner.start(tid)
        self._maybe_flush()
        return trial

    def _next_params(self, index: int) -> dict[str, Any] | None:
        if not self._proposals:
            if self._exhausted:
                return None
            prefetch = isinstance(self.sampler, _PREFETCHABLE)
            n = 1
            if prefetch:
                n = _PREFETCH
                if self.max_total_runs is not None:
                    n = max(1, min(n, self.max_total_runs - index))
            finished, pending = self._history()
            proposals = self.sampler.propose(n, finished, pending)
            if len(proposals) < n:
                self._exhausted = True
            self._proposals.extend(proposals)
            if not self._proposals:
                return None
        return self._proposals.popleft()

    def _history(self) -> tuple[list[FinishedTrial], list[dict[str, Any]]]:
        finished = list(self._warm)  # earlier sweeps' trials first, as the controller does
        pending: list[dict[str, Any]] = []
        for trial in self._trials:  # in index order, as the controller does
            if trial.evidence is not None:
                finished.append(trial.evidence)
            else:
                pending.append(trial.record.params)
        return finished, pending

    def outputs_of(self, trial_id: str) -> str:
        """The outputs folder of a trial, where script trials have theirs (for in-memory
        records, under ``./.hypersweep``)."""
        return str(self.experiment.workspace.outputs_dir(trial_id))

    def _evidence(self, trial: Trial) -> FinishedTrial:
        """What the sampler learns from an ended trial (made once: histories are rebuilt
        often, and a trial's best never changes after its end)."""
        score = None if trial.best is None else self._oriented(trial.best)
        return FinishedTrial(params=trial.record.params, score=score)

    def tell(self, trial: Trial, value: float | Mapping[str, Any] | None = None,
             status: str | Status = Status.COMPLETED, error: str | None = None) -> None:
        """Finish ``trial``.

        Parameters
        ----------
        trial : Trial
            A trial from :meth:`ask` of this sweep.
        value : float or mapping, optional
            Logged before the trial ends: a number as the primary metric, a mapping as one
            metric per key.
        status : {"Completed", "Failed", "Canceled"}
            How it ended. A trial the policy stopped ends ``Canceled`` (reason
            ``early_termination``) whatever is given here.
        error : str, optional
            Why it failed (e.g. the traceback); kept in the trial's ``error``.

        A value is the trial's result, not one more interval: it is recorded for a metric
        only when the trial logged none of it (see the module's notes).
        """
        status = status if isinstance(status, Status) else Status(status)
        if not status.is_terminal:
            raise ValueError(f"status: expected Completed, Failed or Canceled (got {status})")
        if trial._sweep is not self:
            raise ValueError(f"trial {trial.id} belongs to another sweep")
        if trial.ended:
            return  # ended by the sweep meanwhile (canceled on interrupt), or told twice
        if value is not None:
            returned = value if isinstance(value, Mapping) else {self.primary_metric: value}
            for name, v in returned.items():
                self._returned(trial, str(name), v)
        with self._lock:
            self._end(trial, status, error)
        self._maybe_flush()

    def _returned(self, trial: Trial, name: str, value: Any) -> None:
        """Record what the objective returned for metric ``name`` (see the module's notes).

        A returned number that can rank is recorded unless the trial logged one (a string or
        NaN logged under the name is no interval, so the returned number is then the result);
        any other returned value unless the trial logged anything under the name.
        """
        number = _number(value)
        ranks = number is not None and not math.isnan(number)
        with self._lock:
            earlier = [p for p in trial.points if p.name == name and p.kind == "scalar"
                       and (not ranks or (p.value is not None and not math.isnan(p.value)))]
            if not earlier and name == self.primary_metric:
                # Evidence from a finished trial: it informs the policy about the others,
                # and cannot be judged itself (it has ended; it is no interval).
                self._runner.finish(trial.id)
        if not earlier:
            self._ingest(trial, "metric", name, value, None, None)
            return
        last = earlier[-1]
        last_value = last.value if last.value is not None else last.text
        if ranks:
            same = number == last.value
        elif number is not None:  # NaN, after NaN
            same = last.value is not None and math.isnan(last.value)
        else:  # compared as ingest stores it: JSON text
            same = last.text == json.dumps(value, sort_keys=True, ensure_ascii=False,
                                           default=str)
        if same:
            return
        self._ingest(trial, "tag", f"hypersweep.returned.{name}", value, None, None)
        with self._lock:
            if self._warned_return:
                return
            self._warned_return = True
        message = (f"trial {trial.id} logged {name!r} and returned a different value for it "
                   f"({value!r}; last logged {last_value!r}). A returned value is the trial's "
                   f"result only when it logged none: its score is its best logged value, "
                   f"and the returned one is kept as the tag 'hypersweep.returned.{name}'. "
                   f"Return nothing, or the value logged last, to silence this.")
        log.warning(message)
        self.store.add_sweep_warning(self.id, message)

    def _end(self, trial: Trial, status: Status, error: str | None,
             reason: str | None = None) -> None:
        """Record the end of a trial (the caller holds the lock)."""
        if trial.ended:
            return
        fields: dict[str, Any] = {"end_time": utcnow()}
        if trial.record.status == Status.RUNNING:  # else the sweep already decided
            if status == Status.COMPLETED and trial.failed_by_script is not None:
                status, error = Status.FAILED, f"the objective called run.fail(): " \
                                               f"{trial.failed_by_script}"
            fields["status"] = status
            if error is not None:
                fields["error"] = error
            if status == Status.CANCELED:
                fields["termination_reason"] = reason or REASON_USER_CANCEL
                fields["termination_detail"] = {"explanation": "the trial was canceled"}
        trial.record = trial.record.replace(**fields)
        trial.evidence = self._evidence(trial)  # and so the trial has ended
        self._running.pop(trial.id, None)
        self._runner.finish(trial.id)
        self._dirty[trial.id] = trial
        if trial.record.status == Status.COMPLETED:
            self._check_primary_metric()
        if self._failures.ended(trial.record) is not None:
            self._cancel(REASON_FAILED_TRIALS)

    # ------------------------------------------------------------------ logging
    def _ingest(self, trial: Trial, kind: str, name: str, value: Any, step: int | None,
                when: float | None) -> None:
        """Record one logging call of ``trial`` and apply the policy to a primary value."""
        if when is None:
            when = time.time()
        with self._lock:
            if kind == "metric" or kind == "row":
                key = (kind, name)
                count = trial.steps.get(key, 0)
                trial.steps[key] = count + 1
                if step is None:
                    step = count
            # The journal's record and the controller's ingest: one conversion for both kinds
            # of trial (numbers rank, everything else is kept as JSON text).
            points, tags = ingest.to_points(
                (JournalRecord(trial.seq, when, kind, name, value, step),))
            trial.seq += 1
            if tags:
                trial.pending_tags.update(tags)
                trial.failed_by_script = tags.get(ingest.FAIL_TAG, trial.failed_by_script)
                self._dirty[trial.id] = trial
            if not points:
                return
            trial.points += points
            self._dirty[trial.id] = trial
            if kind != "metric" or name != self.primary_metric:
                return
            number = points[0].value
            if number is None or math.isnan(number):
                self._unusable_primary = self._unusable_primary or unusable_value(points[0])
                return
            if trial.best is None or self._oriented(number) > self._oriented(trial.best):
                trial.best = number
            for decision in self._runner.report(trial.id, self._oriented(number)):
                self._stop(decision)
        if len(self._dirty) >= self.flush_size:
            self._maybe_flush()

    def _stop(self, decision: Decision) -> None:
        """Record a policy's decision to stop a trial, then ask the trial to stop."""
        trial = self._by_id.get(decision.trial_id)
        if trial is None or trial.ended or trial.record.status != Status.RUNNING:
            return
        self._mark_stopped(trial, REASON_EARLY_TERMINATION, decision.to_dict(),
                           decision.explanation)

    def _mark_stopped(self, trial: Trial, reason: str, detail: dict[str, Any],
                      explanation: str) -> None:
        trial.record = trial.record.replace(status=Status.CANCELED, termination_reason=reason,
                                            termination_detail=detail)
        trial.stop_explanation = explanation
        self._dirty[trial.id] = trial
        if trial.on_stop is not None:
            trial.on_stop()

    def _oriented(self, value: float) -> float:
        return value if self.maximize else -value

    def _check_primary_metric(self) -> None:
        """Say loudly when completed trials never logged the primary metric (a typo, mostly)."""
        if self._warned_metric:
            return
        if any(t.best is not None for t in self._trials):
            self._warned_metric = True
            return
        self._warned_metric = True
        message = self._missing_metric_message("the first completed trial")
        log.warning(message)
        self.store.add_sweep_warning(self.id, message)

    def _missing_metric_message(self, by: str) -> str:
        return missing_primary_metric(
            self.primary_metric, {p.name for t in self._trials for p in t.points},
            "The objective logged nothing and returned no number (return the value, "
            "or use run.log).", unusable=self._unusable_primary, by=by,
        )

    # ------------------------------------------------------------------ control
    @property
    def running(self) -> list[Trial]:
        """Trials asked and not yet told."""
        with self._lock:
            return list(self._running.values())

    @property
    def trials(self) -> list[Trial]:
        """Every trial of the sweep (reopened ones included), by index."""
        with self._lock:
            return list(self._trials)

    def cancel(self) -> None:
        """Stop the sweep: :meth:`ask` returns None and running trials are asked to stop.

        They end ``Canceled`` (reason ``user_cancel``) when told, or at :meth:`finish`.
        """
        with self._lock:
            self._cancel(REASON_USER_CANCEL)

    def _cancel(self, reason: str) -> None:
        if self._cancel_reason is not None:
            return
        self._cancel_reason = reason
        if reason == REASON_MAX_DURATION:
            minutes = (self.config["limits"]["timeout"] or 0) / 60
            message = f"max_duration reached after {minutes:g} min: running trials were canceled"
            self.store.add_sweep_warning(self.id, message)
            explanation = "the sweep reached its max_duration"
        elif reason == REASON_FAILED_TRIALS:
            log.warning("sweep %s: %s", self.id, self._failures.verdict)
            explanation = f"the sweep stopped: {self._failures.verdict}"
        else:
            explanation = "the sweep was canceled"
        for trial in list(self._running.values()):
            if trial.record.status == Status.RUNNING:
                self._mark_stopped(trial, reason, {"explanation": explanation}, explanation)

    def finish(self) -> FunctionSweepRun:
        """End the sweep: trials still running end ``Canceled``; records are all written.

        Idempotent. Returns :attr:`result`.
        """
        with self._lock:
            if not self._ended:
                for trial in list(self._running.values()):
                    if trial.record.status == Status.RUNNING:
                        self._mark_stopped(trial, REASON_USER_CANCEL,
                                           {"explanation": "the sweep ended before the trial"},
                                           "the sweep ended")
                    self._end(trial, Status.CANCELED, None)
                self._ended = True
                self._wake.set()
                final = True
            else:
                final = False
        if final:
            self.flush()
            self._write_end()
            atexit.unregister(self._atexit)
            self.store.release_sweep(self.id, self._owner)
        return self.result

    def _write_end(self) -> None:
        records = [t.record for t in self._trials]
        status, error = sweep_outcome(
            records, canceled=self._cancel_reason == REASON_USER_CANCEL,
            failure_verdict=self._failures.verdict,
            scored=any(t.best is not None for t in self._trials),
            missing_metric=lambda: self._missing_metric_message("any trial"),
        )
        properties = dict(self.store.get_sweep(self.id).properties)
        scored = [t for t in self._trials if t.best is not None]
        if scored:
            best = max(scored, key=lambda t: self._oriented(t.best or 0.0))
            properties["best_child_run_id"] = best.id
            properties["best_primary_metric"] = best.best
        self.store.update_sweep(self.id, status=status, end_time=utcnow(),
                                properties=properties, error=error)

    def __enter__(self) -> Sweep:
        return self

    def __exit__(self, exc_type: Any, *_: object) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.cancel()
        self.finish()

    # ------------------------------------------------------------------ records
    @property
    def result(self) -> FunctionSweepRun:
        """The sweep as a :class:`FunctionSweepRun` (a ``HyperDriveRun``), records flushed."""
        self.flush()
        return FunctionSweepRun(self.experiment, self.id)

    run = result

    def _maybe_flush(self) -> None:
        if (len(self._dirty) >= self.flush_size
                or time.monotonic() - self._last_flush >= self.flush_interval):
            self.flush()

    def flush(self) -> None:
        """Write every change not yet in the store: one transaction per call."""
        with self._flush_lock:
            with self._lock:
                self._last_flush = time.monotonic()
                if not self._dirty:
                    return
                batch = list(self._dirty.values())
                self._dirty.clear()
                records, points, tags, marks = [], {}, {}, []
                for trial in batch:
                    records.append(trial.record)
                    end = len(trial.points)
                    if end > trial.flushed:
                        points[trial.id] = trial.points[trial.flushed:end]
                    if trial.pending_tags:
                        tags[trial.id] = trial.pending_tags
                        trial.pending_tags = {}
                    marks.append((trial, end))
            try:
                self.store.save_trials(records, points, tags)
            except BaseException:
                with self._lock:  # keep everything for the next flush
                    for trial in batch:
                        self._dirty.setdefault(trial.id, trial)
                        trial.pending_tags = {**tags.get(trial.id, {}), **trial.pending_tags}
                raise
            for trial, end in marks:
                trial.flushed = max(trial.flushed, end)

    def _background(self) -> None:
        """Flush, heartbeat and honour ``hypersweep cancel`` (run by the flusher thread)."""
        if self._dirty and time.monotonic() - self._last_flush >= self.flush_interval:
            self.flush()
        now = time.monotonic()
        # The deadline is checked here, not only in ask(): a trial still running at the
        # deadline must be asked to stop even when no slot frees to call ask().
        if self._deadline is not None and now >= self._deadline:
            with self._lock:
                self._cancel(REASON_MAX_DURATION)
        if self.trial_timeout is not None:
            self._stop_overdue(self.trial_timeout)
        if self._memory:
            return  # nobody else can see (or cancel) a sweep kept in this process
        if now - getattr(self, "_last_beat", 0.0) >= self.heartbeat_interval:
            self._last_beat = now
            self.store.heartbeat(self.id, self._owner)
        if self.store.get_sweep(self.id).status == Status.CANCEL_REQUESTED:
            self.cancel()

    def _begin(self, trial: Trial, when: float) -> None:
        """A worker process began ``trial`` at ``when`` (epoch seconds): its start time, and
        the clock of ``trial_timeout``, run from then, not from when it waited for a worker
        (which on a loaded machine, or with a heavy import, may take longer than the
        timeout)."""
        with self._lock:
            trial.begun = True
            if trial.record.status == Status.RUNNING and math.isfinite(when):
                start = datetime.fromtimestamp(when, timezone.utc)
                trial.record = trial.record.replace(start_time=start)
                self._dirty[trial.id] = trial

    def _stop_overdue(self, timeout: float) -> None:
        """Ask every trial running longer than ``timeout`` seconds to stop."""
        explanation = f"ran longer than trial_timeout = {timeout:g} s"
        now = utcnow()
        with self._lock:
            for trial in list(self._running.values()):
                start = trial.record.start_time
                if trial.begun and trial.record.status == Status.RUNNING and start is not None \
                        and (now - start).total_seconds() >= timeout:
                    self._mark_stopped(trial, REASON_TRIAL_TIMEOUT,
                                       {"explanation": explanation}, explanation)

    def __repr__(self) -> str:
        return f"Sweep(id={self.id!r}, trials={len(self._trials)})"


def _check_max_failed(value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise ConfigError(f"max_failed_runs: expected an int >= 1 (got {value!r})")
    return value


def _earlier_sweep(run: Any, workspace: Workspace) -> tuple[Store, str]:
    """Where to read a ``resume_from`` sweep: a run object's own store, or the workspace's."""
    sweep_id = getattr(run, "id", run)
    if not isinstance(sweep_id, str) or not sweep_id.startswith("HD_"):
        raise ConfigError(f"resume_from: expected sweep runs or their 'HD_…' ids (got {run!r})")
    store = run._store if isinstance(run, HyperDriveRun) else workspace.store
    try:
        store.get_sweep(sweep_id)
    except KeyError:
        raise ConfigError(f"resume_from: no sweep {sweep_id!r} in this workspace") from None
    return store, sweep_id


def _flush_loop(ref: weakref.ref[Sweep]) -> None:
    while True:
        sweep = ref()
        if sweep is None or sweep._ended:
            return
        wake, interval = sweep._wake, sweep.flush_interval
        try:
            sweep._background()
        except Exception:  # the caller's next flush raises it; keep the thread alive
            log.exception("background flush of sweep %s failed", sweep.id)
        del sweep  # hold no reference while sleeping: an abandoned sweep may be collected
        wake.wait(interval)


def _atexit_flush(ref: weakref.ref[Sweep]) -> Any:
    def flush() -> None:
        sweep = ref()
        if sweep is not None and not sweep._ended:
            sweep.flush()

    return flush

