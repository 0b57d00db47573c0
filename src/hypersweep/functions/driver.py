"""The function driver: Python calls carry out the engine's decisions, records written behind.

`FunctionDriver` feeds a `SweepEngine` what its trials do (``ask`` begins one, ``run.log``
reports, ``tell`` ends one) and carries out what the engine decides (a stop raises the
trial's flag; the end writes the sweep's status and best trial). It follows the process
driver's conventions, so a function sweep reads like any other in ``hypersweep ls/show``:
trials ``HD_<uuid>_<n>`` born ``Running``, a trial's score its best primary value, a stopped
trial ``Canceled`` with its reason and evidence.

An objective's return value is its *result*, not one more interval: a returned number is
recorded as the primary metric only when the trial logged no number for it (so a plain
``return loss`` works), and then as a finished trial's evidence for the policy, never as a
report that could stop the trial. When the trial logged the metric, its score is its best
logged value (as for script trials), and a returned value that differs from the last logged
one is kept as the tag ``hypersweep.returned.<name>`` (with one warning per sweep). A
returned mapping follows the same rule per metric.

Writes are batched (write-behind): a trial's row, its points and its final status go to the
store together, in one transaction per batch (`Store.save_trials`), when `flush_size` changes
are waiting (`memory_flush_size` with records in memory) or every `flush_interval` seconds (a
background thread, which also keeps running trials visible to ``hypersweep show`` and applies
the deadline, trial timeouts and ``hypersweep cancel``), and always on `finish`, on interrupt
and at interpreter exit.

Memory stays flat however many trials a sweep runs: an ended trial is let go (by the driver
once its changes are written, and by the engine, built with ``keep_ended=False``, which keeps
only what the best trial, the outcome and the sampler's history need); its record is in the
store.

Reopening (`FunctionDriver.reopen`): ended trials are kept and feed the sampler and the
policy, so a deterministic sampler continues its sequence; a trial still ``Running`` in the
store lost its process and is recorded ``Failed`` (reason ``orphaned``). The failure rules
count only the trials run after reopening: a sweep is reopened on purpose, usually after a
fix, and its old failures must not stop it at once.

This module never imports the v1 API: `hypersweep.Sweep` and `hypersweep.tune` (in
`hypersweep.api`) build the run object around it.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from hypersweep.engine import REASON_ORPHANED, REASON_USER_CANCEL, Stop, SweepEngine, ingest
from hypersweep.engine.lease import Lease, new_owner_token
from hypersweep.engine.warm_start import warm_start
from hypersweep.functions.trial import Trial
from hypersweep.sampling import GridParameterSampling, RandomParameterSampling
from hypersweep.spec import SweepSpec
from hypersweep.store import (
    MEMORY_URL,
    Status,
    Store,
    SweepRecord,
    TrialRecord,
    new_sweep_id,
    utcnow,
)
from hypersweep.tracking import JournalRecord

__all__ = ["FunctionDriver"]

_Driver = TypeVar("_Driver", bound="FunctionDriver")

log = logging.getLogger("hypersweep.functions")

# Samplers whose proposals depend only on the seed and the trial number (and the configs
# already tried), never on scores: they may be asked in batches without changing them.
_PREFETCHABLE = (RandomParameterSampling, GridParameterSampling)
_PREFETCH = 256
# A returned value of these exact types is a plain number (bool, a subclass of int, is not).
_PLAIN = (float, int)


class FunctionDriver:
    """Ask/tell over a `SweepEngine`, for Python function trials (see the module's notes).

    Construct one for a new sweep, or `reopen` a stored one.

    Examples
    --------
    >>> from hypersweep.spec import FunctionTrial, Limits, Objective, SweepSpec
    >>> from hypersweep.sampling import RandomParameterSampling
    >>> from hypersweep.space import uniform
    >>> from hypersweep.store import MEMORY_URL, Store
    >>> spec = SweepSpec(RandomParameterSampling({"x": uniform(-1, 1)}, seed=0),
    ...                  (Objective("loss", "minimize"),), FunctionTrial(),
    ...                  limits=Limits(max_total_trials=20))
    >>> driver = FunctionDriver(Store(MEMORY_URL), spec, "demo", str)
    >>> while (trial := driver.ask()) is not None:
    ...     driver.tell(trial, (trial.params["x"] - 0.5) ** 2)
    >>> driver.finish()
    'Completed'
    >>> round(driver.store.get_trial(driver.engine.best().id).params["x"], 1)
    0.5
    """

    #: Seconds between background flushes (and cancel checks).
    flush_interval = 0.5
    #: A batch this large is written at once, by the caller's thread.
    flush_size = 256
    #: The batch size with records in memory, where a write is a few dict updates, not a
    #: transaction: a small batch lets ended trials go while they are young, before the
    #: cyclic GC moves them to older generations (it then takes half the time a trial).
    memory_flush_size = 32

    def __init__(self, store: Store, spec: SweepSpec, experiment: str,
                 outputs_dir: Callable[[str], str],
                 earlier: Sequence[tuple[Store, str]] = ()) -> None:
        """Record a new sweep of ``spec`` in ``experiment`` and open it.

        ``outputs_dir(trial_id)`` is a trial's outputs folder; ``earlier`` the warm-start
        sweeps, each with the store that holds it.
        """
        sweep_id, now = new_sweep_id(), utcnow()
        store.create_sweep(SweepRecord(id=sweep_id, experiment=experiment,
                                       status=Status.RUNNING, config=spec.to_dict(),
                                       created_time=now, start_time=now))
        self._open(store, spec, sweep_id, outputs_dir, [], now, earlier)

    @classmethod
    def reopen(cls: type[_Driver], store: Store, sweep_id: str,
               outputs_dir: Callable[[str], str], spec: SweepSpec | None = None) -> _Driver:
        """Continue the stored sweep ``sweep_id`` (with ``spec``: its limits changed)."""
        record = store.get_sweep(sweep_id)
        spec = spec or SweepSpec.from_dict(record.config)
        now = utcnow()
        fields: dict[str, Any] = {"status": Status.RUNNING, "end_time": None,
                                  "config": spec.to_dict(), "error": None}
        if record.start_time is None:
            fields["start_time"] = now
        store.update_sweep(sweep_id, **fields)
        earlier = []
        for other in spec.warm_start.resume_from:
            try:
                store.get_sweep(other)
                earlier.append((store, other))
            except KeyError:  # it lived in another process's memory
                log.warning("sweep %s: its warm-start sweep %s is not in this workspace; "
                            "continuing without its trials", sweep_id, other)
        self = cls.__new__(cls)
        self._open(store, spec, sweep_id, outputs_dir, store.list_trials(sweep_id),
                   record.start_time or now, earlier)
        return self

    def _open(self, store: Store, spec: SweepSpec, sweep_id: str,
              outputs_dir: Callable[[str], str], stored: Sequence[TrialRecord],
              start_time: datetime, earlier: Sequence[tuple[Store, str]] = ()) -> None:
        self.id = sweep_id
        self.store = store
        self.spec = spec
        self.outputs_of = outputs_dir
        self.primary_metric = spec.objective.metric
        # Whether the clock can decide anything (asked on every ask only then).
        self._timed = spec.limits.timeout is not None or spec.limits.trial_timeout is not None
        self._memory = store.url == MEMORY_URL
        if self._memory:
            self.flush_size = min(self.flush_size, self.memory_flush_size)
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self._trials: dict[str, Trial] = {}
        self._dirty: dict[str, Trial] = {}
        self._proposals: deque[dict[str, Any]] = deque()
        self._metric_names: set[str] = set()  # what trials logged (for the missing-metric notice)
        self._warned_return = False
        self._ended = False
        resources = spec.resources
        self.engine = SweepEngine(
            spec, sweep_id, elapsed=(utcnow() - start_time).total_seconds(),
            metric_names=lambda: self._metric_names,
            placement=None if resources is None else _placement(resources.gpu, resources.cpu),
            keep_ended=False)
        self.engine.warm = warm_start(earlier, self.primary_metric, spec.objective.maximize,
                                      self.engine.runner, spec.objectives, spec.constraints)
        self._restore(stored)
        # Records in this process's memory: no other process reads the owner's start time.
        self._lease = Lease(store, sweep_id, new_owner_token(private=self._memory))
        self._lease.claim(running=lambda: not self._ended)  # SweepBusyError names the live one
        self._last_flush = time.monotonic()
        self._wake = threading.Event()
        threading.Thread(target=_flush_loop,
                         args=(weakref.ref(self), self._wake, self.flush_interval),
                         name=f"hypersweep-flush-{sweep_id}", daemon=True).start()
        self._atexit = _atexit_flush(weakref.ref(self))
        atexit.register(self._atexit)

    def _restore(self, stored: Sequence[TrialRecord]) -> None:
        """Rebuild the history of a reopened sweep; trials that lost their process fail."""
        if not stored:
            return
        series = self.store.metric_series(self.id, self.primary_metric)
        objective, tracked = self.spec.objective, self.engine.tracked
        for record in stored:
            state = self.engine.add(record)
            for value in series.get(record.id, []):
                self.engine.observe(state, value)
            if not tracked:
                self.engine.runner.add_finished(
                    record.id, [objective.oriented(v) for v in series.get(record.id, [])
                                if not math.isnan(v)])
            else:  # each primary value with what the policy saw beside it, in logging order
                points = [p for p in self.store.get_metrics(record.id)
                          if p.name == objective.metric or p.name in tracked]
                shown = self.engine.replayed(state, points)
                self.engine.runner.add_finished(
                    record.id, [objective.oriented(p.value or 0.0) for p, _ in shown],
                    values_series=[s[0] for _, s in shown],
                    violations_series=[s[1] for _, s in shown])
            if not record.status.is_terminal:
                # Its process ended with the one that ran it: the sweep goes on without it.
                self.engine.fail(state, "the process running this function trial ended before "
                                        "the trial did; the sweep was resumed without it",
                                 utcnow(), reason=REASON_ORPHANED)
            else:
                if record.end_time is None:
                    state.apply(end_time=utcnow())
                self.engine.restored(state)
            if state.record is not record:
                self.store.update_trial(record.id, **state.end_fields())

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Trial | None:
        """Start the next trial, or None when the sweep has nothing more to run.

        None means: the budget is spent, the sampler is exhausted (a finished grid), the
        deadline passed, or the sweep was canceled or finished.
        """
        with self._lock:
            if self._ended:
                return None
            if self._timed or self.engine.cancel_reason is not None:
                self._carry_out(self.engine.tick())
            if self.engine.room() <= 0:
                return None
            params = self._next_params()
            if params is None:
                return None
            state = self.engine.new_trial(params, utcnow())
            trial = Trial(self, state)
            self._trials[state.id] = trial
            self._dirty[state.id] = trial
        self._maybe_flush()
        return trial

    def _next_params(self) -> dict[str, Any] | None:
        if not self._proposals:
            if self.engine.exhausted:
                return None
            n = 1
            if isinstance(self.engine.sampler, _PREFETCHABLE):
                left = self.engine.budget_left()
                n = _PREFETCH if left is None else max(1, min(_PREFETCH, left))
            self._proposals.extend(self.engine.propose(n))
            if not self._proposals:
                return None
        return self._proposals.popleft()

    def tell(self, trial: Trial, value: float | Mapping[str, Any] | None = None,
             status: str | Status = Status.COMPLETED, error: str | None = None) -> None:
        """Finish ``trial``: ``value`` (a number for the primary metric, or a mapping of
        metrics) is its result; ``status`` how it ended (``Completed``, ``Failed`` with
        ``error``, or ``Canceled``). A trial something stopped ends ``Canceled`` whatever
        is given here."""
        if status is not Status.COMPLETED:  # (the default needs no check)
            status = status if isinstance(status, Status) else Status(status)
            if not status.is_terminal:
                raise ValueError(f"status: expected Completed, Failed or Canceled (got {status})")
        if trial.driver is not self:
            raise ValueError(f"trial {trial.id} belongs to another sweep")
        state = trial.state
        if state.evidence is not None:  # trial.ended
            return  # ended by the sweep meanwhile (canceled on interrupt), or told twice
        if type(value) in _PLAIN and value == value and not trial.points:
            # The common case: a number returned by a trial that logged nothing. The same
            # records as the general path below, under one lock.
            with self._lock:
                if state.evidence is None:
                    self._result(trial, float(value))  # type: ignore[arg-type]
                    self._end(trial, status, error)
            self._maybe_flush()
            return
        if value is not None:
            returned = value if isinstance(value, Mapping) else {self.primary_metric: value}
            for name, v in returned.items():
                self._returned(trial, str(name), v)
        with self._lock:
            self._end(trial, status, error)
        self._maybe_flush()

    def _result(self, trial: Trial, value: float) -> None:
        """Record ``value``, the primary metric's number a trial that logged no point
        returned, as `_returned` and `ingest` would (the caller holds the lock)."""
        name, engine, state = self.primary_metric, self.engine, trial.state
        # Evidence from a finished trial: it informs the policy about the others, and
        # cannot be judged itself (it has ended; it is no interval).
        engine.runner.finish(state.id)
        steps, key = trial.steps, ("metric", name)
        step = steps.get(key, 0)
        steps[key] = step + 1
        point = ingest.scalar_point(trial.seq, name, value, step, time.time())
        trial.seq += 1
        trial.points.append(point)
        self._metric_names.add(name)
        tracked = engine.tracked
        if tracked and name in tracked:
            engine.note(state, name, value)
        self._dirty[state.id] = trial
        if engine.observe(state, value, point):
            stops = engine.report(state, value)
            if stops:
                self._carry_out(stops)

    def _end(self, trial: Trial, status: Status, error: str | None) -> None:
        """Record the end of a trial (the caller holds the lock)."""
        state = trial.state
        if state.evidence is not None:  # trial.ended
            return
        stops = self.engine.end(state, ok=status == Status.COMPLETED, when=utcnow(),
                                error=error, status=status, output=error)
        self._dirty[state.id] = trial  # held there until written, then let go
        del self._trials[state.id]
        if stops or self.engine.notices:
            self._carry_out(stops)

    def wait_for_worker(self, trial: Trial) -> None:
        """``trial`` waits for a worker process: its timeout's clock starts at `begin`."""
        with self._lock:
            trial.state.started_at = None

    def begin(self, trial: Trial, when: float) -> None:
        """A worker process began ``trial`` at ``when`` (epoch seconds): its start time, and
        its timeout's clock, run from then, not from when it waited for a worker."""
        with self._lock:
            if trial.record.status != Status.RUNNING or not math.isfinite(when):
                return
            ago = max(0.0, time.time() - when)
            self.engine.begin(trial.state, at=self.engine.clock() - ago)
            trial.state.apply(start_time=datetime.fromtimestamp(when, timezone.utc))
            self._dirty[trial.id] = trial

    # ------------------------------------------------------------------ logging
    def ingest(self, trial: Trial, kind: str, name: str, value: Any, step: int | None,
               when: float | None) -> None:
        """Record one logging call of ``trial``; a primary value goes to the policy."""
        with self._lock:
            if kind in ("metric", "row"):
                count = trial.steps.get((kind, name), 0)
                trial.steps[(kind, name)] = count + 1
                step = count if step is None else step
            when = time.time() if when is None else when
            if kind == "metric" and type(value) in (float, int):  # the common case, quickly
                points, tags = [ingest.scalar_point(trial.seq, name, value, step or 0, when)], None
            else:  # one conversion for both kinds of trial (numbers rank, the rest is JSON)
                points, tags = ingest.to_points(
                    (JournalRecord(trial.seq, when, kind, name, value, step),))
            trial.seq += 1
            if tags:
                trial.pending_tags.update(tags)
                trial.state.failed_by_script = tags.get(ingest.FAIL_TAG,
                                                        trial.state.failed_by_script)
                self._dirty[trial.id] = trial
            if not points:
                return
            trial.points += points
            self._metric_names.update(p.name for p in points)
            if self.engine.tracked:
                for point in points:
                    if point.name in self.engine.tracked:
                        self.engine.note(trial.state, point.name, point.value)
            self._dirty[trial.id] = trial
            if kind == "metric" and name == self.primary_metric \
                    and self.engine.observe(trial.state, points[0].value, points[0]):
                assert points[0].value is not None
                stops = self.engine.report(trial.state, points[0].value)
                if stops:
                    self._carry_out(stops)
        if len(self._dirty) >= self.flush_size:
            self._maybe_flush()

    def _returned(self, trial: Trial, name: str, value: Any) -> None:
        """Record what the objective returned for metric ``name`` (see the module's notes).

        A returned number that can rank is recorded unless the trial logged one (a string or
        NaN logged under the name is no interval, so the returned number is then the result);
        any other returned value unless the trial logged anything under the name.
        """
        number = None if isinstance(value, bool) or not isinstance(value, (int, float)) \
            else float(value)
        ranks = number is not None and not math.isnan(number)
        with self._lock:
            earlier = [p for p in trial.points if p.name == name and p.kind == "scalar"
                       and (not ranks or (p.value is not None and not math.isnan(p.value)))]
            if not earlier and name == self.primary_metric:
                # Evidence from a finished trial: it informs the policy about the others,
                # and cannot be judged itself (it has ended; it is no interval).
                self.engine.runner.finish(trial.id)
        if not earlier:
            self.ingest(trial, "metric", name, value, None, None)
            return
        last = earlier[-1]
        if ranks:
            same = number == last.value
        elif number is not None:  # NaN, after NaN
            same = last.value is not None and math.isnan(last.value)
        else:  # compared as ingest stores it: JSON text
            same = last.text == json.dumps(value, sort_keys=True, ensure_ascii=False,
                                           default=str)
        if same:
            return
        self.ingest(trial, "tag", f"hypersweep.returned.{name}", value, None, None)
        with self._lock:
            if self._warned_return:
                return
            self._warned_return = True
        shown = last.value if last.value is not None else last.text
        self._warn(f"trial {trial.id} logged {name!r} and returned a different value for it "
                   f"({value!r}; last logged {shown!r}). A returned value is the trial's "
                   f"result only when it logged none: its score is its best logged value, and "
                   f"the returned one is kept as the tag 'hypersweep.returned.{name}'. Return "
                   f"nothing, or the value logged last, to silence this.")

    def _carry_out(self, stops: Sequence[Stop]) -> None:
        """Raise each stopped trial's flag (the engine has recorded why)."""
        for stop in stops:
            trial = self._trials[stop.trial.id]
            trial.stop_explanation = stop.explanation
            self._dirty[trial.id] = trial
            if trial.on_stop is not None:
                trial.on_stop()
        if self.engine.notices:
            for message in self.engine.take_notices():
                self._warn(message)

    def _warn(self, message: str) -> None:
        log.warning(message)
        self.store.add_sweep_warning(self.id, message)

    # ------------------------------------------------------------------ control
    @property
    def running(self) -> list[Trial]:
        """Trials asked and not yet told, by index."""
        with self._lock:
            return list(self._trials.values())

    @property
    def trials(self) -> list[Trial]:
        """The trials the sweep still holds, by index: those not ended yet (the same as
        `running`). Ended trials are let go once written; their records are the result's
        (``sweep.result.get_children()``)."""
        return self.running

    def cancel(self) -> None:
        """Stop the sweep: `ask` returns None and running trials are asked to stop.

        They end ``Canceled`` (reason ``user_cancel``) when told, or at `finish`.
        """
        with self._lock:
            self._carry_out(self.engine.cancel(REASON_USER_CANCEL))

    def finish(self) -> str:
        """End the sweep: trials still running end ``Canceled``; records are all written.

        Idempotent. Returns the sweep's status.
        """
        with self._lock:
            final = not self._ended
            if final:
                self._carry_out(self.engine.stop_all(REASON_USER_CANCEL,
                                                     "the sweep ended before the trial"))
                for trial in self.running:
                    self._end(trial, Status.CANCELED, None)
                self._ended = True
                self._wake.set()
        if final:
            self.flush()
            status, error = self.engine.outcome()
            properties = dict(self.store.get_sweep(self.id).properties)
            properties.update(self.engine.best_properties())
            self.store.update_sweep(self.id, status=status, end_time=utcnow(),
                                    properties=properties, error=error)
            atexit.unregister(self._atexit)
            self._lease.release()
        return self.store.get_sweep(self.id).status.value

    # ------------------------------------------------------------------ records
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
                    records.append(trial.state.record)
                    end = len(trial.points)
                    if end > trial.flushed:
                        points[trial.state.id] = trial.points[trial.flushed:end]
                    if trial.pending_tags:
                        tags[trial.state.id] = trial.pending_tags
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
            with self._lock:
                for trial, end in marks:
                    trial.flushed = max(trial.flushed, end)
                    ended = trial.state.evidence is not None  # trial.ended, without a call
                    if ended and trial.flushed == len(trial.points):
                        # All in the store, and nothing reads them again: memory stays flat.
                        trial.points, trial.flushed = [], 0

    def _background(self) -> None:
        """Flush, apply the clock, heartbeat and honour ``hypersweep cancel`` (run by the
        flusher thread: a trial running at its deadline must be stopped even when no slot
        frees to call `ask`)."""
        if self._dirty and time.monotonic() - self._last_flush >= self.flush_interval:
            self.flush()
        with self._lock:
            if not self._ended:
                self._carry_out(self.engine.tick())
        if self._memory:
            return  # nobody else can see (or cancel) a sweep kept in this process
        self._lease.beat()
        if self.store.get_sweep(self.id).status == Status.CANCEL_REQUESTED:
            self.cancel()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, running={len(self._trials)})"


def _placement(gpu: float, cpu: int | None) -> Any:
    """This machine's devices and cores (imported only by sweeps whose trials ask for some)."""
    from hypersweep.execution.placement import machine_placement

    return machine_placement(gpu, cpu)


def _flush_loop(ref: weakref.ref[FunctionDriver], wake: threading.Event,
                interval: float) -> None:
    # The first pass is one interval on: the sweep was just opened (claimed, its status read).
    # A pass at once read it again, on a second connection of the store while the trials'
    # thread held the first, which then stayed open beside it. Between passes the thread
    # holds no reference to the driver: an abandoned sweep may be collected.
    while True:
        wake.wait(interval)
        driver = ref()
        if driver is None or driver._ended:
            return
        try:
            driver._background()
        except Exception:  # the caller's next flush raises it; keep the thread alive
            log.exception("background flush of sweep %s failed", driver.id)
        del driver


def _atexit_flush(ref: weakref.ref[FunctionDriver]) -> Callable[[], None]:
    def flush() -> None:
        driver = ref()
        if driver is not None and not driver._ended:
            driver.flush()

    return flush
