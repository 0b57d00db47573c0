"""The sweep engine: one pure state machine that decides everything about a sweep.

It owns the budget, concurrency, the sweep's deadline and each trial's timeout, the sampler's
history, the early-termination policy, the failure rules, the notices a sweep raises, how it
ends and which trial is best. It performs no I/O and reads time only through the clock it is
given, so it is tested without processes and with a fake clock.

Two drivers feed it events and carry out what it decides: the process driver
(`hypersweep.controller.SweepController`, trials are processes, records written through at
once) and the function driver (`hypersweep.functions.FunctionDriver`, trials are Python calls,
records written behind in batches). The same event gives the same decision, the same record
fields and the same message from either.

The engine changes a trial's record (a frozen `TrialRecord`) in its `TrialState` and says
what it changed; the driver persists the new record and acts (stops a process, raises a
worker's stop flag).

Examples
--------
>>> from hypersweep.spec import FunctionTrial, Limits, Objective, SweepSpec
>>> from hypersweep.sampling import GridParameterSampling
>>> from hypersweep.space import choice
>>> from datetime import datetime, timezone
>>> NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> spec = SweepSpec(GridParameterSampling({"x": choice(1, 2, 3)}),
...                  (Objective("y", "maximize"),), FunctionTrial(),
...                  limits=Limits(max_total_trials=3, max_concurrent_trials=2))
>>> clock = [0.0]
>>> engine = SweepEngine(spec, "HD_demo", clock=lambda: clock[0])
>>> engine.room()
2
>>> first, second = [engine.new_trial(p, NOW) for p in engine.propose(2)]
>>> engine.room()   # two of two slots taken
0
>>> engine.observe(first, 0.5), engine.report(first, 0.5)
(True, [])
>>> engine.end(first, ok=True, when=NOW)
[]
>>> first.record.status.value, engine.room()
('Completed', 1)
>>> engine.best().record.id
'HD_demo_0'
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hypersweep.engine.failures import (
    FailureRule,
    Tally,
    fail_called,
    failure_reason,
    sweep_outcome,
)
from hypersweep.engine.history import History
from hypersweep.engine.notices import missing_primary_metric, unusable_value
from hypersweep.frozen import FrozenRecord
from hypersweep.policies import Decision, PolicyRunner
from hypersweep.policies import Objective as PolicyObjective
from hypersweep.sampling import FinishedTrial
from hypersweep.spec import SweepSpec
from hypersweep.store import MetricPoint, Status, TrialRecord, trial_id

if TYPE_CHECKING:  # a sweep whose trials ask for no devices never imports execution
    from hypersweep.execution.placement import Placement

__all__ = [
    "REASON_EARLY_TERMINATION",
    "REASON_FAILED_TRIALS",
    "REASON_MAX_DURATION",
    "REASON_ORPHANED",
    "REASON_TRIAL_TIMEOUT",
    "REASON_USER_CANCEL",
    "Snapshot",
    "Stop",
    "SweepEngine",
    "TrialState",
]

log = logging.getLogger("hypersweep.engine")

#: Besides the primary value, what a policy judges: objective values and violations.
Snapshot = tuple[tuple[float, ...] | None, tuple[float, ...] | None]

_UNBOUNDED = 2**31  # room when neither a budget nor a concurrency limit bounds it

#: Reasons recorded with ``Canceled`` trials (and ``orphaned`` with failed ones).
REASON_EARLY_TERMINATION = "early_termination"
REASON_TRIAL_TIMEOUT = "trial_timeout"
REASON_MAX_DURATION = "max_duration"
REASON_USER_CANCEL = "user_cancel"
#: Running trials canceled because failures ended the sweep (see `engine.failures`).
REASON_FAILED_TRIALS = "failed_trials"
#: A trial whose process ended while no driver watched it.
REASON_ORPHANED = "orphaned"

#: What a sweep whose trials logged nothing is told to do.
SCRIPT_HINT = "The trials logged no metrics at all (use Run.get_context().log)."
FUNCTION_HINT = ("The objective logged nothing and returned no number (return the value, "
                 "or use run.log).")


@dataclass(eq=False, slots=True)
class TrialState:
    """What the engine knows about one trial of its sweep.

    ``record`` is the trial's current record (the engine and the driver replace it, never
    mutate it); ``best`` its best raw primary-metric value; ``active`` whether it holds a slot
    (from its creation, or its adoption, to its end); ``started_at`` the engine clock when it
    began (its timeout counts from there; None while it waits for a worker).
    """

    record: TrialRecord
    best: float | None = None
    active: bool = False
    id: str = field(init=False)  # the record's, which never changes
    started_at: float | None = None
    failed_by_script: str | None = None  # the trial called run.fail(details)
    # (seq, pos) of the last primary-metric point counted: a journal read again after a
    # restart must not count what was counted before.
    last_primary: tuple[int, int] = (-1, -1)
    evidence: FinishedTrial | None = None  # what the sampler learns, set when it ends
    # The last finite value of each metric the sweep keeps (`SweepEngine.tracked`): several
    # objectives and constraints are judged on what the trial logged last.
    last: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.id = self.record.id

    @property
    def ended(self) -> bool:
        return self.evidence is not None

    @property
    def running(self) -> bool:
        """It runs and nothing has decided to stop it yet."""
        return self.active and self.record.status == Status.RUNNING

    def end_fields(self) -> dict[str, Any]:
        """The fields of its record that its end set: what a driver writes to the store."""
        record = self.record
        fields: dict[str, Any] = {"status": record.status, "end_time": record.end_time,
                                  "error": record.error, "exit_code": record.exit_code}
        if record.termination_reason is not None:
            fields["termination_reason"] = record.termination_reason
            fields["termination_detail"] = record.termination_detail
        if record.placement is not None:  # a cluster's worker tells it only at the end
            fields["placement"] = record.placement
        return fields

    def apply(self, **fields: Any) -> TrialRecord:
        self.record = self.record.replace(**fields)
        return self.record


class Stop(FrozenRecord):
    """A decision to stop a running trial: the driver persists ``trial.record`` (already
    ``Canceled`` with reason and detail) and then stops the trial."""

    trial: TrialState
    reason: str
    explanation: str
    decision: Decision | None = None


class SweepEngine:
    """The decisions of one sweep (see the module's notes).

    Parameters
    ----------
    spec : SweepSpec
        What the sweep is.
    sweep_id : str
        Its id (trial ids are ``<sweep_id>_<index>``).
    clock : callable, optional
        Seconds, monotonic (default `time.monotonic`).
    elapsed : float
        Seconds the sweep has already run (a resumed sweep's deadline counts from its start).
    metric_names : callable, optional
        The names of the metrics the trials logged (for the missing-metric notice).
    placement : Placement, optional
        The devices and cores the driver's machine gives trials that ask for some
        (``spec.resources``): each new trial is placed, and concurrency is bounded by what is
        free. None: trials are placed elsewhere (a cluster's workers) or ask for nothing.
    keep_ended : bool, default True
        Whether `trials` keeps ended trials. False (both drivers): an ended trial leaves
        `trials` and the engine keeps only what `best`, `outcome` and the sampler's history
        need of it (the best ended trial, a `Tally`, its `FinishedTrial`), so a long sweep's
        memory does not grow with trial states its records already hold. `count` says how
        many trials were made or adopted either way.
    """

    def __init__(self, spec: SweepSpec, sweep_id: str, *,
                 clock: Callable[[], float] = time.monotonic, elapsed: float = 0.0,
                 metric_names: Callable[[], Iterable[str]] = tuple,
                 placement: Placement | None = None, keep_ended: bool = True) -> None:
        self.spec = spec
        self.sweep_id = sweep_id
        self.clock = clock
        self.objective = spec.objective
        self._sign = 1.0 if spec.objective.maximize else -1.0
        #: Whether the sweep has several objectives (its result is a Pareto front).
        self.several = len(spec.objectives) > 1
        #: The metrics whose last value each trial's outcome needs (empty for a sweep with
        #: one objective and no constraints: drivers then skip `note` altogether).
        self.tracked = frozenset(spec.tracked_metrics)
        self._budget = spec.limits.max_total_trials
        self._concurrency = spec.limits.concurrency
        self.sampler = spec.new_sampler()
        judged = spec.pareto
        self.runner = PolicyRunner(
            spec.policy, maximize=spec.objective.maximize, metric=spec.objective.metric,
            objectives=[PolicyObjective(maximize=o.maximize, metric=o.metric)
                        for o in spec.objectives] if judged else None,
            constraints=[c.label for c in spec.constraints] or None)
        self.metric_names = metric_names
        self.placement = placement
        resources = spec.resources
        self._gpu = 0.0 if resources is None else resources.gpu
        self._cpu = None if resources is None else resources.cpu
        # What the messages call a trial and how they say to log: a function's user writes
        # an objective and has no YAML; a script's user may have either face.
        if spec.trial.kind == "function":
            self.trial_noun, self.no_metrics_hint = "objective", FUNCTION_HINT
            self.failures = FailureRule(spec.limits.max_failed_trials)
        else:
            self.trial_noun, self.no_metrics_hint = "script", SCRIPT_HINT
            self.failures = FailureRule(spec.limits.max_failed_trials,
                                        hint="max_failed_runs, or limits.max_failed_trials "
                                             "in YAML,")
        # By id, in index order: every trial, or (not keep_ended) those not ended yet.
        self.trials: dict[str, TrialState] = {}
        self.keep_ended = keep_ended
        self._count = 0  # trials made or adopted: the next one's index
        self._unended = 0  # trials not ended yet: counted, not scanned, on every ask
        # Ended trials no longer in `trials` (not keep_ended), as `best`, `scored` and
        # `outcome` need them.
        self._best_ended: TrialState | None = None
        self._scored_ended = False
        self._tally = Tally()
        # The sampler's history kept as trials end, not rebuilt from every trial at each
        # proposal: ended trials' evidence in index order, and the trials not ended yet, in
        # index order.
        self._history = History()
        self._in_flight: dict[str, TrialState] = {}
        # Earlier sweeps' trials (warm start), first in the sampler's history; the driver
        # reads them from the store and hands their series to `runner` itself.
        self.warm: list[FinishedTrial] = []
        self.cancel_reason: str | None = None
        self.exhausted = False
        self.unusable_primary: str | None = None  # how the primary metric was mislogged
        self._warned_metric = False
        self.notices: list[str] = []  # messages for the sweep's warnings, not yet stored
        self.deadline: float | None = None
        self.set_elapsed(elapsed)
        self._cancel_explanation = ""

    def set_elapsed(self, elapsed: float) -> None:
        """The sweep has run ``elapsed`` seconds already: its deadline counts from its start."""
        timeout = self.spec.limits.timeout
        self.deadline = None if timeout is None else self.clock() - elapsed + timeout

    # ------------------------------------------------------------------ launching
    def room(self) -> int:
        """How many new trials may start now (budget, concurrency, free devices and cores,
        cancel). Whether the sampler has more to propose is `exhausted`."""
        if self.cancel_reason is not None:
            return 0
        room = _UNBOUNDED if self._budget is None else self._budget - self._count
        if self._concurrency is not None and self._concurrency - self._unended < room:
            room = self._concurrency - self._unended
        if self.placement is not None:
            free = self.placement.room(self._gpu, self._cpu)
            if free is not None and free < room:
                room = free
        return room if room > 0 else 0

    @property
    def count(self) -> int:
        """Trials made (`new_trial`) or read back (`add`), ended or not: the next one's index."""
        return self._count

    def budget_left(self) -> int | None:
        """Trials the budget still allows (None: no budget)."""
        total = self.spec.limits.max_total_trials
        return None if total is None else max(0, total - self._count)

    def history(self) -> tuple[Sequence[FinishedTrial], list[dict[str, Any]]]:
        """The sampler's view: earlier sweeps' and ended trials (a read-only snapshot, not a
        copy: see `hypersweep.engine.history`), then those in flight."""
        finished = self._history.view(self.warm)
        pending = [dict(trial.record.params) for trial in self._in_flight.values()]
        return finished, pending

    def propose(self, n: int) -> list[dict[str, Any]]:
        """Ask the sampler for ``n`` configurations now (a driver may instead ask it in a
        thread, with `history`, and hand the answer to `proposed`)."""
        finished, pending = self.history()
        return self.proposed(n, self.sampler.propose(n, finished, pending))

    def proposed(self, asked: int, proposals: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Take the sampler's answer to a request for ``asked``; fewer means exhausted."""
        if len(proposals) < asked:
            self.exhausted = True
        return proposals if self.cancel_reason is None else []

    def new_trial(self, params: dict[str, Any], when: datetime, *, begun: bool = True,
                  **fields: Any) -> TrialState:
        """A new trial, born ``Running`` (``begun`` False: it waits for a worker and its
        clock starts at `begin`). The driver persists ``record`` before it starts it."""
        index = self._count
        trial_name = trial_id(self.sweep_id, index)
        if self.placement is not None:
            slot = self.placement.place(trial_name, self._gpu, self._cpu)
            if slot is None:  # room() said there was none
                raise RuntimeError(f"{trial_name}: no free devices or cores to place it on")
            fields["placement"] = slot.to_dict()
        record = TrialRecord.started(trial_name, self.sweep_id, index, params, when, **fields)
        trial = TrialState(record)
        self.trials[record.id] = trial
        self._count += 1
        self._in_flight[record.id] = trial
        self._unended += 1
        self.runner.start(record.id)
        trial.active = True  # it holds a slot; its timeout counts once it has begun
        if begun:
            trial.started_at = self.clock()
        return trial

    def begin(self, trial: TrialState, at: float | None = None) -> None:
        """The trial started running (``at``: the engine clock then; default now)."""
        trial.active = True
        trial.started_at = self.clock() if at is None else at

    # ------------------------------------------------------------------ metrics
    def observe(self, trial: TrialState, value: float | None,
                point: MetricPoint | None = None) -> bool:
        """Count a primary-metric value toward the trial's score; False if it cannot rank
        (then a notice later says how it was mislogged)."""
        if value is None or math.isnan(value):
            if point is not None and self.unusable_primary is None:
                self.unusable_primary = unusable_value(point)
            return False
        if trial.best is None or self._sign * value > self._sign * trial.best:
            trial.best = value
            if trial.evidence is not None and not self.keep_ended:  # logged after its end
                self._consider(trial)
        return True

    def note(self, trial: TrialState, name: str, value: float | None) -> None:
        """The trial logged ``value`` for a `tracked` metric: the last finite one counts."""
        if value is not None and math.isfinite(value):
            trial.last[name] = value
            if trial.evidence is not None and not self.keep_ended:  # logged after its end
                self._consider(trial)

    def outcome_of(self, trial: TrialState) -> tuple[tuple[float, ...] | None,
                                                     tuple[float, ...] | None]:
        """The trial's objective values (oriented, larger is better; None if one is missing)
        and its constraint violations (None: the sweep has none), as samplers see them."""
        spec = self.spec
        values: tuple[float, ...] | None
        if not self.several:
            values = None if trial.best is None else (self._sign * trial.best,)
        else:
            last = [trial.last.get(o.metric) for o in spec.objectives]
            values = None if any(v is None for v in last) else tuple(
                o.oriented(v) for o, v in zip(spec.objectives, last, strict=True) if v is not None)
        violations = tuple(c.violation(trial.last.get(c.metric))
                           for c in spec.constraints) if spec.constraints else None
        return values, violations

    def feasible(self, trial: TrialState) -> bool:
        """Whether the last values it logged meet every constraint (so far, while it runs)."""
        if not self.spec.constraints:
            return True
        return all(c.violation(trial.last.get(c.metric)) <= 0 for c in self.spec.constraints)

    def snapshot(self, trial: TrialState) -> Snapshot:
        """What a policy judges besides the primary value, as the trial stands now: every
        objective's latest value (oriented; NaN: not logged yet) and the violations (None
        when the sweep has no such thing). Taken when the primary value is logged."""
        spec = self.spec
        values = tuple(o.oriented(trial.last.get(o.metric, math.nan))
                       for o in spec.objectives) if self.several else None
        violations = tuple(c.violation(trial.last.get(c.metric))
                           for c in spec.constraints) if spec.constraints else None
        return values, violations

    def report(self, trial: TrialState, value: float,
               snapshot: Snapshot | None = None) -> list[Stop]:
        """Show the policy a counted value; the trials it stops. ``snapshot`` is the trial's
        `snapshot` when it logged the value (default: now)."""
        if self.runner.passive:
            return []  # no policy: nothing to judge, nothing to keep
        if self.runner.evidence is None:
            decisions = self.runner.report(trial.id, self._sign * value)
        else:
            values, violations = self.snapshot(trial) if snapshot is None else snapshot
            decisions = self.runner.report(trial.id, self._sign * value, values=values,
                                           violations=violations)
        decided = (self.decided(d) for d in decisions)
        return [stop for stop in decided if stop is not None]

    def replayed(self, trial: TrialState, points: Iterable[MetricPoint]) -> list[
            tuple[MetricPoint, Snapshot]]:
        """Walk a trial's stored points in logging order (``(seq, pos)``) as they were
        logged: its tracked values are noted, and each countable primary point comes back
        with the `snapshot` the policy was shown with it."""
        out = []
        metric = self.objective.metric
        for point in sorted(points, key=lambda p: (p.seq, p.pos)):
            if point.name in self.tracked:
                self.note(trial, point.name, point.value)
            if point.name == metric and point.value is not None \
                    and not math.isnan(point.value):
                out.append((point, self.snapshot(trial)))
        return out

    # ------------------------------------------------------------------ ends
    def end(self, trial: TrialState, *, ok: bool, when: datetime, error: str | None = None,
            status: Status | None = None, output: str | None = None,
            **fields: Any) -> list[Stop]:
        """The trial ended: ``ok`` (clean exit) or not with ``error``. A trial already
        stopped keeps ``Canceled``; ``status`` forces one (a function told ``Canceled``).
        ``output`` is what it printed last (stderr, a traceback): a failure's reason, such as
        ``gpu_out_of_memory``, is read from it. Returns the running trials this end stops (a
        failure rule fired)."""
        if trial.evidence is not None:  # ended already
            return []
        trial.active = False
        self.runner.finish(trial.id)
        changes: dict[str, Any] = {"end_time": when, **fields}
        if trial.record.status == Status.RUNNING:
            if status == Status.CANCELED:
                changes.update(status=status, termination_reason=REASON_USER_CANCEL,
                               termination_detail={"explanation": "the trial was canceled"})
            elif ok and status != Status.FAILED and trial.failed_by_script is None:
                changes["status"] = Status.COMPLETED
            else:
                changes["status"] = Status.FAILED
                changes["error"] = error or (
                    None if trial.failed_by_script is None
                    else fail_called(self.trial_noun, trial.failed_by_script))
                reason = failure_reason(output or error)
                if reason is not None:
                    devices = (trial.record.placement or {}).get("gpus")
                    on = f" (device{'s' if len(devices) > 1 else ''} " \
                        f"{', '.join(map(str, devices))})" if devices else ""
                    changes.update(termination_reason=reason, termination_detail={
                        "explanation": f"the trial ran out of GPU memory{on}; trials with "
                                       "smaller settings may fit"})
        trial.record = trial.record.replace(**changes)
        self._ended(trial)
        if not self._warned_metric and trial.record.status == Status.COMPLETED:
            self._check_primary_metric()
        return self.judge(trial.record)

    def fail(self, trial: TrialState, error: str, when: datetime,
             reason: str | None = None) -> list[Stop]:
        """Record a trial ``Failed`` outside its own run (its launch raised, it was
        orphaned)."""
        trial.active = False
        self.runner.finish(trial.id)
        changes: dict[str, Any] = {"status": Status.FAILED, "end_time": when, "error": error}
        if reason is not None:
            changes["termination_reason"] = reason
        trial.apply(**changes)
        self._ended(trial)
        return self.judge(trial.record)

    def judge(self, record: TrialRecord) -> list[Stop]:
        """Count an ended trial toward the failure rules; when one fires the sweep stops
        launching and its running trials stop."""
        verdict = self.failures.ended(record)
        if verdict is None or self.cancel_reason is not None:
            return []
        # Info, not a warning: it is the sweep's error, which the faces show at the end.
        log.info("sweep %s: %s", self.sweep_id, verdict)
        return self.cancel(REASON_FAILED_TRIALS)

    def _ended(self, trial: TrialState) -> None:
        first = trial.evidence is None
        if first:
            self._unended -= 1
            self._in_flight.pop(trial.id, None)
            if self.placement is not None:
                self.placement.release(trial.id)
        score = None if trial.best is None else self._sign * trial.best
        if self.tracked:
            values, violations = self.outcome_of(trial)
        else:  # one objective, no constraints: `outcome_of` without the call
            values, violations = None if score is None else (score,), None
        trial.evidence = FinishedTrial(params=trial.record.params, score=score, values=values,
                                       violations=violations)
        self._history.add(trial.record.index, trial.record.params, score, values, violations)
        if first and not self.keep_ended:
            self._tally.add(trial.record)
            self._consider(trial)
            self.trials.pop(trial.id, None)

    def _consider(self, trial: TrialState) -> None:
        """Keep what `best` and `scored` need of an ended trial that leaves `trials`."""
        if trial.best is None:
            return
        self._scored_ended = True
        if self.feasible(trial) and (self._best_ended is None
                                     or self._rank(trial) > self._rank(self._best_ended)):
            self._best_ended = trial

    def _rank(self, trial: TrialState) -> tuple[float, int]:
        """Better first, then the first of equals (the lower index)."""
        return self._sign * (trial.best or 0.0), -trial.record.index

    def add(self, record: TrialRecord) -> TrialState:
        """A trial read back from the store (a resumed sweep); `restored` once it has ended.
        What an unended one holds stays held: no new trial is given its devices."""
        trial = TrialState(record)
        self._count += 1
        self._in_flight[record.id] = trial
        if self.placement is not None and record.end_time is None and record.placement:
            from hypersweep.execution.placement import Slot

            self.placement.hold(record.id, Slot.from_dict(record.placement), self._gpu)
        self.trials[record.id] = trial
        self._unended += 1
        return trial

    def restored(self, trial: TrialState) -> None:
        """A trial read back from the store has ended: it is evidence, no longer run."""
        trial.active = False
        self.runner.finish(trial.id)
        self._ended(trial)

    # ------------------------------------------------------------------ stops
    def tick(self) -> list[Stop]:
        """Apply the clock: the sweep's deadline, each trial's timeout."""
        timeout = self.spec.limits.trial_timeout
        if self.deadline is None and timeout is None and self.cancel_reason is None:
            return []  # nothing the clock decides (the common case: asked once per trial)
        now = self.clock()
        if self.deadline is not None and now >= self.deadline and self.cancel_reason is None:
            stops = self.cancel(REASON_MAX_DURATION)
        else:
            # A canceled sweep stops every trial still running: any adopted or begun since.
            stops = self._stop_running() if self.cancel_reason is not None else []
        if timeout is not None:
            for trial in self.trials.values():
                if trial.running and trial.started_at is not None \
                        and now - trial.started_at >= timeout:
                    stops.append(self._stop(trial, REASON_TRIAL_TIMEOUT,
                                            f"ran longer than trial_timeout = {timeout:g} s"))
        return stops

    def cancel(self, reason: str = REASON_USER_CANCEL) -> list[Stop]:
        """Stop the sweep: no more trials; every running one stops with ``reason``."""
        if self.cancel_reason is not None:
            return []
        self.cancel_reason = reason
        if reason == REASON_MAX_DURATION:
            self.notices.append(f"max_duration reached after {self.spec.limits.timeout:g} s: "
                              "running trials were canceled")
            explanation = f"the sweep reached its timeout of {self.spec.limits.timeout:g} s"
        elif reason == REASON_FAILED_TRIALS:
            explanation = f"the sweep stopped: {self.failures.verdict}"
        else:
            explanation = "the sweep was canceled"
        self._cancel_explanation = explanation
        return self._stop_running()

    def _stop_running(self) -> list[Stop]:
        assert self.cancel_reason is not None
        return self.stop_all(self.cancel_reason, self._cancel_explanation)

    def decided(self, decision: Decision) -> Stop | None:
        """Carry out a policy decision (just made, or replayed after a restart); None when
        its trial no longer runs."""
        trial = self.trials.get(decision.trial_id)
        if trial is None or not trial.running:
            return None
        return self._stop(trial, REASON_EARLY_TERMINATION, decision.explanation, decision)

    def stop_all(self, reason: str, explanation: str) -> list[Stop]:
        """Stop every running trial (the sweep ends under them) without canceling it."""
        return [self._stop(t, reason, explanation) for t in self.trials.values() if t.running]

    def _stop(self, trial: TrialState, reason: str, explanation: str,
              decision: Decision | None = None) -> Stop:
        detail = decision.to_dict() if decision is not None else {"explanation": explanation}
        trial.apply(status=Status.CANCELED, termination_reason=reason,
                    termination_detail=detail)
        return Stop(trial, reason, explanation, decision)

    # ------------------------------------------------------------------ notices and the end
    def take_notices(self) -> list[str]:
        """Messages for the sweep's warnings since the last call (the driver stores them)."""
        pending, self.notices = self.notices, []
        return pending

    def _check_primary_metric(self) -> None:
        if self._warned_metric:
            return
        self._warned_metric = True
        if self.scored():
            return
        message = self.missing_metric_message("the first completed trial")
        log.warning(message)
        self.notices.append(message)

    def missing_metric_message(self, by: str) -> str:
        return missing_primary_metric(
            self.objective.metric, self.metric_names(), self.no_metrics_hint,
            unusable=self.unusable_primary, by=by)

    def scored(self) -> bool:
        return self._scored_ended or any(t.best is not None for t in self.trials.values())

    def finished(self) -> bool:
        """Nothing runs, and nothing more will start."""
        if any(t.active for t in self.trials.values()):
            return False
        if self.cancel_reason is not None or self.exhausted:
            return True
        left = self.budget_left()
        return left is not None and left == 0

    def best(self) -> TrialState | None:
        """The trial with the best primary value (the first of equals) among those that meet
        every constraint."""
        scored = [t for t in self.trials.values() if t.best is not None and self.feasible(t)]
        if self._best_ended is not None:
            scored.append(self._best_ended)
        if not scored:
            return None
        return max(scored, key=self._rank)

    def outcome(self) -> tuple[Status, str | None]:
        """How the sweep ends: its status and error."""
        tally = self._tally.copy()  # the ended trials `trials` let go (not keep_ended)
        for trial in self.trials.values():
            tally.add(trial.record)
        return sweep_outcome(
            tally,
            canceled=self.cancel_reason == REASON_USER_CANCEL,
            failure_verdict=self.failures.verdict, scored=self.scored(),
            missing_metric=lambda: self.missing_metric_message("any trial"))

    def best_properties(self) -> dict[str, Any]:
        """The sweep properties naming its best trial (empty: no trial scored)."""
        best = self.best()
        if best is None:
            return {}
        return {"best_child_run_id": best.id, "best_primary_metric": best.best}
