"""The process driver: trial processes carry out the engine's decisions.

`SweepController` feeds a `SweepEngine` what happens (metrics from journals, exits, the clock,
a cancel request) and carries out what it decides (launch, stop, end the sweep), writing
through to the store at once.

It owns no state that matters after a crash: every decision is written to the store *before*
it is acted on (a trial row before its launch, ``Running`` before the process starts,
``Canceled`` before the stop signal), so a new controller can always pick up where a killed
one stopped (`SweepController.run` does that recovery first).

It never blocks: the executor is polled, never waited on, and every store write is one short
transaction. What the trials' files already hold durably - metrics and tags (the journal), a
trial's end (its exit record), its handle (its supervisor's record) - is held for a moment
and written with what else is held, in one transaction (`Store.save_trials`): a trial's end
(with its handle, if still held) in the transaction of the next trial's row
(`Store.create_trial`) and by the end of the step that saw it; everything before a stop (its
``Canceled`` and the metrics behind it go first) and before the sweep ends; anything else at
most `SweepController.write_behind` seconds later. A trial shorter than that costs one
transaction (its row, with the end, handle and points of the trial whose slot it takes)
instead of four, and a chatty trial's points are written a few times a second rather than at
every poll. A crash loses nothing of what is
held: an adopted trial's journal is read again from its start (its points are stored
idempotently), and its exit and process are found from its folder, as after a crash between
a launch and the write of its handle (the executor then returns the handle it found there, and
it is written as a launch's would have been).

Its memory does not grow with the sweep: the engine lets an ended trial go once its record is
written (``keep_ended=False``), keeping the best one, a tally and the sampler's history, and
the executor forgets a trial once it has reported its exit (its last journal records come no
later). Recovery reads ended trials back from the store, replays them, and lets them go.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hypersweep.controller.commands import sweep_environment, trial_command
from hypersweep.controller.proposals import Proposals
from hypersweep.engine import (
    REASON_ORPHANED,
    REASON_USER_CANCEL,
    Snapshot,
    Stop,
    SweepEngine,
    TrialState,
    ingest,
)
from hypersweep.engine.failures import exit_error, launch_error
from hypersweep.engine.lease import STALE_AFTER, Lease
from hypersweep.engine.warm_start import warm_start
from hypersweep.execution import Executor, TrialExit, TrialSpec, layout
from hypersweep.execution.placement import Slot
from hypersweep.spec import FunctionTrial, SweepSpec
from hypersweep.store import MetricPoint, Status, Store, TrialRecord, utcnow
from hypersweep.tracking import JournalRecord
from hypersweep.tracking.integrations import shim_path

log = logging.getLogger("hypersweep.controller")

#: The fields a stop changes (`SweepEngine` sets them before it returns the `Stop`).
_CANCEL_FIELDS = ("status", "termination_reason", "termination_detail")


class _ClaimLost(Exception):
    """This controller's sweep was claimed by another one (it was thought dead or stale)."""


@dataclass
class _Held:
    """What is held of one trial for its next write (see the module's notes)."""

    trial: TrialState
    since: float  # monotonic time of its oldest held change
    fields: set[str] = field(default_factory=set)  # of its record, changed since written
    points: list[MetricPoint] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def ended(self) -> bool:
        """Whether an end (or a stop) is held: written before the next trial's row."""
        return "status" in self.fields


def _batch(held: list[_Held]) -> dict[str, Any]:
    """What is held of these trials as `Store.save_trials` takes it (keyword arguments)."""
    return {
        "records": [each.trial.record for each in held if each.fields],
        "points": {each.trial.id: each.points for each in held if each.points},
        "tags": {each.trial.id: each.tags for each in held if each.tags},
    }


class SweepController:
    """Drive one sweep to its end, or until `request_stop`.

    Parameters
    ----------
    store : Store
        Where the sweep, its trials and their metrics are recorded.
    executor : Executor
        Launches, watches and stops trial processes.
    sweep_id : str
        The sweep to drive; its stored spec says everything else.
    workspace_dir : Path
        The workspace folder (``runs/`` and ``snapshots/`` live there).
    """

    poll_interval = 0.05
    heartbeat_interval = Lease.interval
    stale_after = STALE_AFTER
    cancel_check_interval = 0.5
    proposal_grace = 0.02
    #: Longest a held write (metrics, tags, an end, a handle: see the module's notes) waits.
    write_behind = 0.25

    def __init__(
        self,
        store: Store,
        executor: Executor,
        sweep_id: str,
        workspace_dir: Path,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.executor = executor
        self.sweep_id = sweep_id
        self.workspace_dir = Path(workspace_dir)
        self._lease = Lease(store, sweep_id, owner)
        self.owner = self._lease.owner
        self._driving = False  # this process's readers ask whether it still drives
        sweep = store.get_sweep(sweep_id)
        self.experiment = sweep.experiment
        self.spec = SweepSpec.from_dict(sweep.config)
        self.command = trial_command(self.spec.trial)  # ConfigError for a function trial
        assert not isinstance(self.spec.trial, FunctionTrial)
        self.environment_variables = dict(self.spec.trial.environment_variables)
        resources = self.spec.resources
        # Here, before any trial starts: a request no trial could get is a ConfigError now.
        placement = None if resources is None else executor.placement(resources.gpu,
                                                                      resources.cpu)
        self.engine = SweepEngine(self.spec, sweep_id, metric_names=self._metric_names,
                                  placement=placement, keep_ended=False)
        # Trials the engine ended while the executor still watches them (a launch that
        # raised after it started something): their journal and exit are still taken.
        self._draining: dict[str, TrialState] = {}
        self._proposals = Proposals(self.engine.sampler)
        self.snapshot_dir = layout.snapshot_dir(self.workspace_dir, sweep_id)
        self._stop = threading.Event()
        self._last_cancel_check = 0.0
        # Held writes (see the module's notes), by trial id, oldest first.
        self._held: dict[str, _Held] = {}

    @property
    def _trials(self) -> dict[str, TrialState]:
        """The trials not ended yet (the engine lets ended ones go)."""
        return self.engine.trials

    def _watched(self, trial_id: str) -> TrialState | None:
        """The trial whose journal records or exit the executor reports, if it is ours."""
        return self.engine.trials.get(trial_id) or self._draining.get(trial_id)

    # ------------------------------------------------------------------ public
    def request_stop(self) -> None:
        """Stop driving the sweep (trials keep running; a later `run` adopts them)."""
        self._stop.set()

    def run(self) -> None:
        """Recover, then loop until the sweep ends or `request_stop` is called."""
        self._lease.interval = self.heartbeat_interval
        self._lease.claim(running=lambda: self._driving)  # SweepBusyError names a live one
        self._driving = True
        try:
            self._start()
            while not self._stop.is_set():
                busy = self._step()
                if self.engine.finished():
                    self._keep_claim()  # a controller that lost the sweep must not end it
                    self._finish()
                    return
                if busy:
                    continue
                if self._proposals.in_flight:
                    self._launch_proposed(self._proposals.take(timeout=self.poll_interval))
                else:
                    self.executor.wait(self.poll_interval)
            self._flush()  # stopped driving: what it knows is on record for the next one
        except _ClaimLost:
            # Stop before writing anything more: the new controller adopts the trials.
            log.warning("sweep %s was taken over by another controller; this one stops",
                        self.sweep_id)
        except BaseException as err:
            log.exception("controller of %s stopped by an error", self.sweep_id)
            with contextlib.suppress(Exception):  # the store may be what failed
                self._flush()
            self.store.add_sweep_warning(self.sweep_id, f"controller error: {err!r}")
            raise
        finally:
            self._driving = False
            self._proposals.close()
            self._lease.release()

    # ------------------------------------------------------------------ start / recovery
    def _start(self) -> None:
        sweep = self.store.get_sweep(self.sweep_id)
        if sweep.status.is_terminal:
            self._stop.set()
            return
        canceled = sweep.status == Status.CANCEL_REQUESTED  # before (or while) it started
        if sweep.start_time is None:
            # Keep a CancelRequested status: a cancel that came before the start still holds.
            status = sweep.status if canceled else Status.RUNNING
            self.store.update_sweep(self.sweep_id, status=status, start_time=utcnow())
            sweep = self.store.get_sweep(self.sweep_id)
        elif sweep.status == Status.QUEUED:
            self.store.update_sweep(self.sweep_id, status=Status.RUNNING)
        assert sweep.start_time is not None
        elapsed = (utcnow() - sweep.start_time).total_seconds()
        self.engine.set_elapsed(elapsed)
        self.engine.warm = warm_start(
            [(self.store, other) for other in self.spec.warm_start.resume_from],
            self.spec.objective.metric, self.spec.objective.maximize, self.engine.runner,
            self.spec.objectives, self.spec.constraints)
        if canceled:
            self.engine.cancel(REASON_USER_CANCEL)
        history: dict[str, list[tuple[MetricPoint, Snapshot | None]]] = {}
        metric, tracked = self.spec.objective.metric, self.engine.tracked
        for record in self.store.list_trials(self.sweep_id):
            trial = self.engine.add(record)
            if not tracked:
                history[record.id] = [(p, None) for p in self.store.get_metrics(record.id,
                                                                                metric)]
                continue
            # Every objective and constrained metric, in logging order: what the policy was
            # shown with each primary value, and the values the trial's outcome ends on.
            points = [p for p in self.store.get_metrics(record.id)
                      if p.name == metric or p.name in tracked]
            replayed = {id(p): s for p, s in self.engine.replayed(trial, points)}
            history[record.id] = [(p, replayed.get(id(p))) for p in points if p.name == metric]
        overdue = self._replay_policy(history)
        ended = [t for t in self._trials.values() if t.record.end_time is not None]
        for trial in sorted(ended, key=lambda t: (t.record.end_time, t.record.index)):
            self.engine.restored(trial)
            self.engine.judge(trial.record)
        for trial in list(self._trials.values()):
            self._recover(trial)
        for decision in overdue:  # decided before the crash, not recorded: act on it now
            stop = self.engine.decided(decision)
            if stop is not None:
                self._carry_out([stop])
        self._flush()  # the recovered state is on record before the loop starts

    def _replay_policy(self, history: dict[str, list[tuple[MetricPoint, Snapshot | None]]],
                       ) -> list[Any]:
        """Rebuild the scores and the policy's view from the store, in the order of events.

        Returns the decisions about trials the store still shows running: a controller killed
        between deciding and recording leaves those, and the replay finds them again.
        """
        events: list[tuple[datetime, int, int, str,
                           tuple[MetricPoint, Snapshot | None] | None]] = []
        for trial_id, points in history.items():
            trial = self._trials[trial_id]
            if trial.record.start_time is not None:
                events.append((trial.record.start_time, 0, trial.record.index, trial_id, None))
            for point, snapshot in points:
                events.append((point.time, 1, trial.record.index, trial_id, (point, snapshot)))
                trial.last_primary = max(trial.last_primary, (point.seq, point.pos))
            if trial.record.end_time is not None:
                events.append((trial.record.end_time, 2, trial.record.index, trial_id, None))
        runner = self.engine.runner
        decisions = []
        for _, kind, _, trial_id, entry in sorted(events, key=lambda e: e[:3]):
            trial = self._trials[trial_id]
            if kind == 0:
                runner.start(trial_id)
            elif kind == 2:
                runner.finish(trial_id)
            elif entry is not None and self.engine.observe(trial, entry[0].value, entry[0]):
                logged, snapshot = entry
                assert logged.value is not None
                values, violations = snapshot or (None, None)
                decisions += runner.report(trial_id, self.spec.objective.oriented(logged.value),
                                           values=values, violations=violations)
        return [d for d in decisions if self._trials[d.trial_id].record.status == Status.RUNNING]

    def _recover(self, trial: TrialState) -> None:
        """Bring a trial found in the store back under watch after a restart."""
        record = trial.record
        if record.status == Status.QUEUED:
            self._launch(trial)  # recorded, never launched
            return
        if record.end_time is not None:
            return
        try:
            spec = self._spec(record)
        except Exception as err:  # nothing can have started from a spec never made
            self._launch_failed(trial, err, None)
            return
        handle = self.executor.adopt(spec, record.handle or {})
        if handle is not None:
            if handle and not record.handle:
                # Found in the trial's folder (the last controller died between the launch
                # and writing the handle): held like a launch's, on record with the rest.
                trial.apply(handle=handle)
                self._hold(trial, ("handle",))
            trial.failed_by_script = self.store.get_tags(record.id).get(ingest.FAIL_TAG)
            self.engine.begin(trial, at=self._monotonic_of(record.start_time))
            if record.status == Status.CANCELED:
                self.executor.stop(record.id)  # canceled, but the stop never happened
        elif record.status == Status.RUNNING and not self.executor.launched(spec):
            # Running was written but the controller died before its process started:
            # run it now rather than lose it.
            self._launch(trial)
        elif record.status == Status.RUNNING:
            self._write(self.engine.fail(
                trial, "the trial's process ended while no controller watched it, leaving no "
                       "exit status", utcnow(), reason=REASON_ORPHANED), trial)
        else:
            trial.apply(end_time=utcnow())
            self.engine.restored(trial)
            self._write([], trial)

    # ------------------------------------------------------------------ one step
    def _keep_claim(self, force: bool = True) -> None:
        """Refresh the claim's heartbeat; `_ClaimLost` when another controller holds it now."""
        if not self._lease.beat(force=force):
            raise _ClaimLost

    def _step(self) -> bool:
        """One pass of the loop; True when something happened (poll again at once)."""
        now = time.monotonic()
        self._keep_claim(force=False)
        if now - self._last_cancel_check >= self.cancel_check_interval:
            self._last_cancel_check = now
            if self.store.sweep_status(self.sweep_id) == Status.CANCEL_REQUESTED:
                self._carry_out(self.engine.cancel(REASON_USER_CANCEL))
        records, exits = self.executor.poll()
        self._ingest(records)
        self._handle_exits(exits)
        self._carry_out(self.engine.tick())
        self._store_notices()
        launched = self._launch_more()
        if self._held:
            self._write_held([held for held in self._held.values()
                              if now - held.since >= self.write_behind or held.ended])
        return bool(records or exits or launched)

    def _ingest(self, records: dict[str, list[JournalRecord]]) -> None:
        reports: list[tuple[datetime, int, int, TrialState, float, Snapshot | None]] = []
        judged = self.engine.runner.evidence is not None
        metric = self.spec.objective.metric
        tracked = self.engine.tracked
        for trial_id, batch in records.items():
            trial = self._watched(trial_id)
            if trial is None or not batch:
                continue
            points, tags = ingest.to_points(batch)
            if points or tags:  # written before any stop they lead to (`_carry_out` flushes)
                held = self._held_for(trial)
                held.points += points
                held.tags.update(tags)
            if tags:
                trial.failed_by_script = tags.get(ingest.FAIL_TAG, trial.failed_by_script)
            for point in points:
                if point.name in tracked:
                    self.engine.note(trial, point.name, point.value)
                if point.name != metric:
                    continue
                key = (point.seq, point.pos)
                if key <= trial.last_primary:
                    continue  # counted before a restart
                trial.last_primary = key
                if self.engine.observe(trial, point.value, point):
                    assert point.value is not None
                    # taken now, in logging order: what was logged before this value
                    snapshot = self.engine.snapshot(trial) if judged else None
                    reports.append((point.time, trial.record.index, point.seq, trial,
                                    point.value, snapshot))
        # The policy sees reports in the order trials made them, whatever the batching.
        for _, _, _, trial, value, snapshot in sorted(reports, key=lambda r: r[:3]):
            self._carry_out(self.engine.report(trial, value, snapshot))

    def _handle_exits(self, exits: Iterable[TrialExit]) -> None:
        for ended in exits:
            trial = self._watched(ended.trial_id)
            if trial is None:
                continue
            self._draining.pop(ended.trial_id, None)
            placed: dict[str, Any] = {} \
                if ended.slot is None or trial.record.placement is not None \
                else {"placement": ended.slot.to_dict()}  # where a cluster's worker put it
            stops = self.engine.end(
                trial, ok=ended.exit_code == 0,
                when=datetime.fromtimestamp(ended.end_time, timezone.utc),
                error=exit_error(ended.exit_code, ended.stderr_tail, trial.failed_by_script),
                output=ended.stderr_tail, exit_code=ended.exit_code, **placed)
            self._write(stops, trial)

    def _write(self, stops: list[Stop], trial: TrialState) -> None:
        """Hold an ended trial's record for the next write, then carry out the stops its end
        caused (which writes it first)."""
        self._hold(trial, trial.end_fields())
        self._carry_out(stops)

    def _carry_out(self, stops: Iterable[Stop]) -> None:
        """Record each stopped trial ``Canceled`` with its reason and evidence, with all that
        is held, then stop them."""
        stops = list(stops)
        if not stops:
            return
        for stop in stops:
            self._hold(stop.trial, _CANCEL_FIELDS)
        self._flush()
        for stop in stops:
            self.executor.stop(stop.trial.record.id)

    def _held_for(self, trial: TrialState) -> _Held:
        """What is held of ``trial``, made empty if nothing was."""
        held = self._held.get(trial.id)
        if held is None:
            held = self._held[trial.id] = _Held(trial, time.monotonic())
        return held

    def _hold(self, trial: TrialState, fields: Iterable[str]) -> None:
        """Keep the ``fields`` of ``trial``'s record for its next write."""
        self._held_for(trial).fields.update(fields)

    def _metric_names(self) -> list[str]:
        """The names of the metrics the sweep's trials logged, held ones included."""
        self._flush()
        return self.store.metric_names(self.sweep_id)

    def _flush(self) -> None:
        """Write all that is held."""
        self._write_held(list(self._held.values()))

    def _write_held(self, held: list[_Held]) -> None:
        """Write what is held of these trials, in one transaction: whoever reads the store
        sees a trial's end (or stop) with its metrics, and its metrics with the handle of the
        process that logged them, whenever this controller dies."""
        if not held:
            return
        self.store.save_trials(**_batch(held))
        self._written(held)

    def _written(self, held: list[_Held]) -> None:
        """Let go of what is held of these trials, now on record (only then: a write that
        failed is tried again on exit)."""
        for each in held:
            del self._held[each.trial.id]

    def _store_notices(self) -> None:
        for message in self.engine.take_notices():
            self.store.add_sweep_warning(self.sweep_id, message)

    # ------------------------------------------------------------------ launching
    def _launch_more(self) -> bool:
        room = self.engine.room()
        if room <= 0:
            return False
        launched = 0
        children = self.spec.warm_start.resume_child_runs
        while room > 0 and self.engine.count < len(children):
            source = self.store.get_trial(children[self.engine.count])
            outputs = layout.outputs_dir(layout.trial_dir(self.workspace_dir, source.id))
            self._create_and_launch(source.params, resumed_from=source.id, resume_dir=outputs)
            room -= 1
            launched += 1
        if room <= 0 or self.engine.exhausted:
            return launched > 0
        grace = 0.0
        if not self._proposals.in_flight:
            finished, pending = self.engine.history()
            self._proposals.ask(room, finished, pending)
            grace = self.proposal_grace  # a fast sampler's trials start in this very step
        proposed = self._launch_proposed(self._proposals.take(timeout=grace))
        return proposed or launched > 0

    def _launch_proposed(self, proposals: list[dict[str, Any]] | None) -> bool:
        """Start the trials of an answered proposal (None: not answered yet)."""
        if proposals is None:
            return False
        # After a cancel, what was proposed meanwhile is dropped.
        proposals = self.engine.proposed(self._proposals.asked, proposals)
        for params in proposals:
            self._create_and_launch(params)
        return bool(proposals)

    def _create_and_launch(
        self, params: dict[str, Any], resumed_from: str | None = None,
        resume_dir: Path | None = None,
    ) -> None:
        problem: Exception | None = None
        try:
            arguments = self.command.arguments(
                params, resume_from=None if resume_dir is None else str(resume_dir)
            )
        except Exception as err:  # fails this trial, recorded below, not the sweep
            arguments, problem = [], err
        # Held ends go first, in the new row's transaction: the end that freed this slot is on
        # record before it is used, and a controller that lost the sweep has recorded what it
        # saw before it learns so (the store writes them whatever the claim says).
        ends = [held for held in self._held.values() if held.ended]
        # Born Running, before its process starts: after a crash from here on, recovery asks
        # the executor whether the process ever started, and adopts or launches it.
        trial = self.engine.new_trial(params, utcnow(), begun=False, arguments=arguments,
                                      resumed_from=resumed_from)
        created = self.store.create_trial(trial.record, owner=self.owner, **_batch(ends))
        self._written(ends)
        if not created:
            raise _ClaimLost  # whoever holds the sweep now writes its trials
        if problem is not None:
            self._launch_failed(trial, problem, None)
            return
        self._start_process(trial)

    def _launch(self, trial: TrialState) -> None:
        """Launch a recovered trial that never started."""
        fields = {"status": Status.RUNNING, "start_time": utcnow()}
        self.store.update_trial(trial.id, **fields)
        trial.apply(**fields)
        self._start_process(trial)

    def _start_process(self, trial: TrialState) -> None:
        spec: TrialSpec | None = None
        try:
            spec = self._spec(trial.record)
            handle = self.executor.launch(spec)
        except Exception as err:  # a bad value, a full disk, an executor's bug: this trial's
            self._launch_failed(trial, err, spec)
            return
        self.engine.begin(trial)
        # Held, as the process runs already: a crash before it is written leaves the same
        # trail as one between the launch and the write, the supervisor's own record.
        trial.apply(handle=handle)
        self._hold(trial, ("handle",))

    def _launch_failed(self, trial: TrialState, err: Exception, spec: TrialSpec | None) -> None:
        """Record a trial whose launch raised as ``Failed`` with the reason; the sweep goes on
        (and a later resume finds it ended, so it does not try, and crash, again)."""
        error = launch_error(err, spec)
        # One line: a record with a traceback reads, in the CLI, as the controller's death.
        log.warning("trial %s: %s", trial.id, error)
        log.debug("trial %s: launch raised", trial.id, exc_info=err)
        if trial.id in self.executor.running():  # it started something after all
            self._draining[trial.id] = trial
        self._write(self.engine.fail(trial, error, utcnow()), trial)

    def _spec(self, record: TrialRecord) -> TrialSpec:
        trial_dir = layout.trial_dir(self.workspace_dir, record.id)
        workdir = layout.workdir(trial_dir)
        env = dict(self.environment_variables)
        env.update(sweep_environment(record.params))
        env.update({
            "HYPERSWEEP_TRIAL_ID": record.id,
            "HYPERSWEEP_SWEEP_ID": self.sweep_id,
            "HYPERSWEEP_EXPERIMENT": self.experiment,
            # (no HYPERSWEEP_JOURNAL: the executor that reads the journal names it, always)
            "HYPERSWEEP_OUTPUTS": str(layout.outputs_of(workdir)),
            "AZUREML_RUN_ID": record.id,
        })
        slot = Slot.from_dict(record.placement)
        env.update(slot.environment())  # its devices, and thread counts to match its cores
        # The machine's part (its environment, the MLflow plugin, the azureml shim, its python
        # first on PATH) is added where the trial runs: execution.environment.
        return TrialSpec(
            trial_id=record.id,
            argv=self.command.argv(record.arguments),
            env=env, workdir=workdir, trial_dir=trial_dir, snapshot=self.snapshot_dir,
            cores=slot.cores, shim=self._shim,
        )

    @functools.cached_property
    def _shim(self) -> str:
        """What trials put on ``PYTHONPATH`` for the azureml shim: its archive in the workspace,
        checked (and made if missing) once, at the sweep's first launch rather than each."""
        return shim_path(layout.shims_dir(self.workspace_dir))

    def _monotonic_of(self, moment: datetime | None) -> float:
        if moment is None:
            return time.monotonic()
        return time.monotonic() - (utcnow() - moment).total_seconds()

    # ------------------------------------------------------------------ the end
    def _finish(self) -> None:
        self._flush()
        self._store_notices()
        status, error = self.engine.outcome()
        properties = dict(self.store.get_sweep(self.sweep_id).properties)
        properties.update(self.engine.best_properties())
        self.store.update_sweep(
            self.sweep_id, status=status.value, end_time=utcnow(), properties=properties,
            error=error,
        )


__all__ = ["SweepController"]
