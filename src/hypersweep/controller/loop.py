"""The sweep loop: budget, concurrency, deadlines, sampling, launching, metrics, policy, statuses.

The controller owns no state that matters after a crash: every decision is written to the
store *before* it is acted on (a trial row before its launch, ``Running`` before the process
starts, ``Canceled`` before the stop signal), so a new controller can always pick up where a
killed one stopped (`SweepController.run` does that recovery first).

It never blocks: the executor is polled, never waited on, and every store write is one short
transaction.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hypersweep.controller import ingest
from hypersweep.controller.commands import sweep_environment
from hypersweep.controller.failures import (
    FailureRule,
    exit_error,
    launch_error,
    sweep_outcome,
)
from hypersweep.controller.notices import missing_primary_metric, unusable_value
from hypersweep.controller.proposals import Proposals
from hypersweep.controller.settings import SweepSettings
from hypersweep.controller.warm_start import warm_start
from hypersweep.execution import Executor, TrialExit, TrialSpec
from hypersweep.policies import Decision, PolicyRunner, policy_from_dict
from hypersweep.sampling import FinishedTrial, sampler_from_dict
from hypersweep.space import SearchSpace
from hypersweep.store import MetricPoint, Status, Store, TrialRecord
from hypersweep.store.owner import STALE_AFTER, new_owner_token, sweep_busy
from hypersweep.tracking import JournalRecord
from hypersweep.tracking.integrations import trial_environment

log = logging.getLogger("hypersweep.controller")

#: Trial-side file names inside a trial's folder (``<workspace>/runs/<trial-id>/``).
JOURNAL_NAME = "metrics.jsonl"
WORKDIR_NAME = "work"

#: Reasons recorded with ``Canceled`` trials.
REASON_EARLY_TERMINATION = "early_termination"
REASON_TRIAL_TIMEOUT = "trial_timeout"
REASON_MAX_DURATION = "max_duration"
REASON_USER_CANCEL = "user_cancel"
#: Running trials canceled because failures ended the sweep (see `controller.failures`).
REASON_FAILED_TRIALS = "failed_trials"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _ClaimLost(Exception):
    """This controller's sweep was claimed by another one (it was thought dead or stale)."""


@dataclass
class _Trial:
    """What the controller keeps in memory about one trial of its sweep."""

    record: TrialRecord
    best: float | None = None  # best raw primary-metric value
    series: list[float] = field(default_factory=list)  # raw primary-metric values in order
    active: bool = False  # launched and its process not yet seen to end
    started_at: float = 0.0
    failed_by_script: str | None = None  # the script called run.fail(details)
    # (seq, pos) of the last primary-metric point counted: an adopted trial's journal is read
    # again from its start, and what was counted before the restart must not count twice.
    last_primary: tuple[int, int] = (-1, -1)

    @property
    def running(self) -> bool:
        """Its process runs and nothing has decided to stop it yet."""
        return self.active and self.record.status == Status.RUNNING


class SweepController:
    """Drive one sweep to its end, or until `request_stop`.

    Parameters
    ----------
    store : Store
        Where the sweep, its trials and their metrics are recorded.
    executor : Executor
        Launches, watches and stops trial processes.
    sweep_id : str
        The sweep to drive; its stored config says everything else.
    workspace_dir : Path
        The workspace folder (``runs/`` and ``snapshots/`` live there).
    """

    poll_interval = 0.05
    heartbeat_interval = 2.0
    stale_after = STALE_AFTER
    cancel_check_interval = 0.5
    proposal_grace = 0.02

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
        self.owner = owner or new_owner_token()
        sweep = store.get_sweep(sweep_id)
        self.experiment = sweep.experiment
        self.config = sweep.config
        self.settings = SweepSettings.from_config(self.config)
        space = SearchSpace.from_dict(self.config["search_space"])
        self.sampler = sampler_from_dict(self.config["sampling_algorithm"], space)
        self._proposals = Proposals(self.sampler)
        self.policy = policy_from_dict(self.config.get("early_termination"))
        self.snapshot_dir = self.workspace_dir / "snapshots" / sweep_id
        self._trials: dict[str, _Trial] = {}
        self._warm: list[FinishedTrial] = []
        self._runner = PolicyRunner(
            self.policy, maximize=self.settings.maximize, metric=self.settings.primary_metric
        )
        self._stop = threading.Event()
        self._cancel_reason: str | None = None
        self._exhausted = False
        self._warned_metric = False
        self._failures = FailureRule(
            self.settings.max_failed_trials, setting="max_failed_runs",
            hint="max_failed_runs, or limits.max_failed_trials in YAML,")
        self._unusable_primary: str | None = None  # how the primary metric was mislogged
        self._last_heartbeat = 0.0
        self._last_cancel_check = 0.0
        self._deadline: float | None = None

    # ------------------------------------------------------------------ public
    def request_stop(self) -> None:
        """Stop driving the sweep (trials keep running; a later `run` adopts them)."""
        self._stop.set()

    def run(self) -> None:
        """Recover, then loop until the sweep ends or `request_stop` is called."""
        if not self.store.claim_sweep(self.sweep_id, self.owner, self.stale_after):
            raise sweep_busy(self.sweep_id, self.store.get_sweep(self.sweep_id).controller)
        try:
            self._start()
            while not self._stop.is_set():
                busy = self._step()
                if self._finished():
                    self._keep_claim()  # a controller that lost the sweep must not end it
                    self._finish()
                    return
                if busy:
                    continue
                if self._proposals.in_flight:
                    self._launch_proposed(self._proposals.take(timeout=self.poll_interval))
                else:
                    self.executor.wait(self.poll_interval)
        except _ClaimLost:
            # Stop before writing anything more: the new controller adopts the trials.
            log.warning("sweep %s was taken over by another controller; this one stops",
                        self.sweep_id)
        except BaseException as err:
            log.exception("controller of %s stopped by an error", self.sweep_id)
            self.store.add_sweep_warning(self.sweep_id, f"controller error: {err!r}")
            raise
        finally:
            self._proposals.close()
            self.store.release_sweep(self.sweep_id, self.owner)

    # ------------------------------------------------------------------ start / recovery
    def _start(self) -> None:
        sweep = self.store.get_sweep(self.sweep_id)
        if sweep.status.is_terminal:
            self._stop.set()
            return
        if sweep.status == Status.CANCEL_REQUESTED:  # canceled before (or while) it started
            self._cancel_reason = REASON_USER_CANCEL
        if sweep.start_time is None:
            # Keep a CancelRequested status: a cancel that came before the start still holds.
            status = sweep.status if self._cancel_reason else Status.RUNNING
            self.store.update_sweep(self.sweep_id, status=status, start_time=utcnow())
            sweep = self.store.get_sweep(self.sweep_id)
        elif sweep.status == Status.QUEUED:
            self.store.update_sweep(self.sweep_id, status=Status.RUNNING)
        assert sweep.start_time is not None
        elapsed = (utcnow() - sweep.start_time).total_seconds()
        if self.settings.timeout is not None:
            self._deadline = time.monotonic() - elapsed + self.settings.timeout
        self._load_warm_start()
        history: dict[str, list[MetricPoint]] = {}
        for record in self.store.list_trials(self.sweep_id):
            self._trials[record.id] = _Trial(record)
            history[record.id] = self.store.get_metrics(record.id, self.settings.primary_metric)
        ended = [t.record for t in self._trials.values() if t.record.end_time is not None]
        for record in sorted(ended, key=lambda r: (r.end_time, r.index)):
            self._judge_failures(record)
        overdue = self._replay_policy(history)
        for trial in list(self._trials.values()):
            self._recover(trial)
        for decision in overdue:  # decided before the crash, not recorded: act on it now
            trial = self._trials[decision.trial_id]
            if trial.running:
                self._cancel(trial, REASON_EARLY_TERMINATION, decision)

    def _replay_policy(self, history: dict[str, list[MetricPoint]]) -> list[Decision]:
        """Rebuild the scores and the policy's view from the store, in the order of events.

        Returns the decisions about trials the store still shows running: a controller killed
        between deciding and recording leaves those, and the replay finds them again.
        """
        events: list[tuple[datetime, int, int, str, float | None]] = []
        for trial_id, points in history.items():
            trial = self._trials[trial_id]
            if trial.record.start_time is not None:
                events.append((trial.record.start_time, 0, trial.record.index, trial_id, None))
            for point in points:
                events.append((point.time, 1, trial.record.index, trial_id, point.value))
                trial.last_primary = max(trial.last_primary, (point.seq, point.pos))
                self._unusable_primary = self._unusable_primary or unusable_value(point)
            if trial.record.end_time is not None:
                events.append((trial.record.end_time, 2, trial.record.index, trial_id, None))
        decisions: list[Decision] = []
        for _, kind, _, trial_id, value in sorted(events, key=lambda e: e[:3]):
            trial = self._trials[trial_id]
            if kind == 0:
                self._runner.start(trial_id)
            elif kind == 2:
                self._runner.finish(trial_id)
            elif self._observe(trial, value):
                assert value is not None
                decisions += self._runner.report(trial_id, self.settings.oriented(value))
        return [d for d in decisions if self._trials[d.trial_id].record.status == Status.RUNNING]

    def _load_warm_start(self) -> None:
        self._warm = warm_start([(self.store, other) for other in self.settings.resume_from],
                                self.settings.primary_metric, self.settings.maximize,
                                self._runner)

    def _recover(self, trial: _Trial) -> None:
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
        adopted = self.executor.adopt(spec, record.handle or {})
        if adopted:
            trial.failed_by_script = self.store.get_tags(record.id).get(ingest.FAIL_TAG)
            trial.active = True
            trial.started_at = self._monotonic_of(record.start_time)
            if record.status == Status.CANCELED:
                self.executor.stop(record.id)  # canceled, but the stop never happened
        elif record.status == Status.RUNNING and not self.executor.launched(spec):
            # Running was written but the controller died before its process started:
            # run it now rather than lose it.
            self._launch(trial)
            return
        elif record.status == Status.RUNNING:
            self.store.update_trial(
                record.id, status=Status.FAILED, end_time=utcnow(),
                termination_reason="orphaned",
                error="the trial's process ended while no controller watched it, "
                      "leaving no exit status",
            )
        else:
            self.store.update_trial(record.id, end_time=utcnow())
        trial.record = self.store.get_trial(record.id)

    # ------------------------------------------------------------------ one step
    def _keep_claim(self) -> None:
        """Refresh the claim's heartbeat; `_ClaimLost` when another controller holds it now."""
        self._last_heartbeat = time.monotonic()
        if not self.store.heartbeat(self.sweep_id, self.owner):
            raise _ClaimLost

    def _step(self) -> bool:
        """One pass of the loop; True when something happened (poll again at once)."""
        now = time.monotonic()
        if now - self._last_heartbeat >= self.heartbeat_interval:
            self._keep_claim()
        if now - self._last_cancel_check >= self.cancel_check_interval:
            self._last_cancel_check = now
            if self.store.get_sweep(self.sweep_id).status == Status.CANCEL_REQUESTED:
                self._cancel_reason = self._cancel_reason or REASON_USER_CANCEL
        records, exits = self.executor.poll()
        self._ingest(records)
        self._handle_exits(exits)
        self._enforce_time_limits(now)
        launched = self._launch_more()
        return bool(records or exits or launched)

    def _ingest(self, records: dict[str, list[JournalRecord]]) -> None:
        reports: list[tuple[datetime, int, int, _Trial, float]] = []
        for trial_id, batch in records.items():
            trial = self._trials.get(trial_id)
            if trial is None or not batch:
                continue
            points, tags = ingest.to_points(batch)
            if points:
                self.store.add_metrics(trial_id, points)
            if tags:
                self.store.set_tags(trial_id, tags)
                trial.failed_by_script = tags.get(ingest.FAIL_TAG, trial.failed_by_script)
            for point in points:
                if point.name != self.settings.primary_metric:
                    continue
                key = (point.seq, point.pos)
                if key <= trial.last_primary:
                    continue  # counted before a restart
                trial.last_primary = key
                if self._observe(trial, point.value):
                    assert point.value is not None
                    reports.append((point.time, trial.record.index, point.seq, trial, point.value))
                elif self._unusable_primary is None:
                    self._unusable_primary = unusable_value(point)
        # The policy sees reports in the order trials made them, whatever the batching.
        for _, _, _, trial, value in sorted(reports, key=lambda r: r[:3]):
            for decision in self._runner.report(trial.record.id, self.settings.oriented(value)):
                stopped = self._trials.get(decision.trial_id)
                if stopped is not None and stopped.running:
                    self._cancel(stopped, REASON_EARLY_TERMINATION, decision)

    def _observe(self, trial: _Trial, value: float | None) -> bool:
        """Count a primary-metric value toward the trial's score; False if it cannot rank."""
        if value is None or math.isnan(value):
            return False
        trial.series.append(value)
        if trial.best is None or self.settings.oriented(value) > self.settings.oriented(trial.best):
            trial.best = value
        return True

    def _handle_exits(self, exits: Iterable[TrialExit]) -> None:
        for ended in exits:
            trial = self._trials.get(ended.trial_id)
            if trial is None:
                continue
            trial.active = False
            self._runner.finish(trial.record.id)
            end_time = datetime.fromtimestamp(ended.end_time, timezone.utc)
            fields: dict[str, Any] = {"end_time": end_time, "exit_code": ended.exit_code}
            if trial.record.status == Status.RUNNING:
                if ended.exit_code == 0 and trial.failed_by_script is None:
                    fields["status"] = Status.COMPLETED
                else:
                    fields["status"] = Status.FAILED
                    fields["error"] = exit_error(ended.exit_code, ended.stderr_tail,
                                                 trial.failed_by_script)
            self.store.update_trial(trial.record.id, **fields)
            trial.record = trial.record.replace(**fields)
            if trial.record.status == Status.COMPLETED:
                self._check_primary_metric()
            self._judge_failures(trial.record)

    def _judge_failures(self, record: TrialRecord) -> None:
        """Count an ended trial toward the failure rules; when one fires, the sweep stops
        launching, its running trials are canceled, and it ends ``Failed``."""
        verdict = self._failures.ended(record)
        if verdict is not None and self._cancel_reason is None:
            # Info, not a warning: it is the sweep's error, which `run` prints at the end.
            log.info("sweep %s: %s", self.sweep_id, verdict)
            self._cancel_reason = REASON_FAILED_TRIALS

    def _check_primary_metric(self) -> None:
        """Say loudly when finished trials never logged the primary metric (a typo, mostly)."""
        if self._warned_metric or any(t.series for t in self._trials.values()):
            return
        self._warned_metric = True
        message = self._missing_metric_message("the first completed trial")
        log.warning(message)
        self.store.add_sweep_warning(self.sweep_id, message)

    def _missing_metric_message(self, by: str) -> str:
        return missing_primary_metric(
            self.settings.primary_metric, self.store.metric_names(self.sweep_id),
            "The trials logged no metrics at all (use Run.get_context().log).",
            unusable=self._unusable_primary, by=by,
        )

    def _enforce_time_limits(self, now: float) -> None:
        if self._deadline is not None and now >= self._deadline and self._cancel_reason is None:
            self._cancel_reason = REASON_MAX_DURATION
            self.store.add_sweep_warning(
                self.sweep_id,
                f"max_duration reached after {self.settings.timeout:.0f} s: "
                "running trials were canceled",
            )
        timeout = self.settings.trial_timeout
        for trial in self._trials.values():
            if not trial.running:
                continue
            if self._cancel_reason is not None:
                self._cancel(trial, self._cancel_reason)
            elif timeout is not None and now - trial.started_at >= timeout:
                self._cancel(trial, REASON_TRIAL_TIMEOUT)

    def _cancel(self, trial: _Trial, reason: str, decision: Decision | None = None) -> None:
        """Record the trial ``Canceled`` with its reason and evidence, then stop it."""
        detail: dict[str, Any] | None
        if decision is not None:
            detail = decision.to_dict()
        elif reason == REASON_TRIAL_TIMEOUT:
            detail = {"explanation": f"ran longer than trial_timeout = "
                                     f"{self.settings.trial_timeout:g} s"}
        elif reason == REASON_MAX_DURATION:
            detail = {"explanation": f"the sweep reached its timeout of "
                                     f"{self.settings.timeout:g} s"}
        elif reason == REASON_FAILED_TRIALS:
            detail = {"explanation": f"the sweep stopped: {self._failures.verdict}"}
        else:
            detail = {"explanation": "the sweep was canceled"}
        fields = {"status": Status.CANCELED, "termination_reason": reason,
                  "termination_detail": detail}
        self.store.update_trial(trial.record.id, **fields)
        trial.record = trial.record.replace(**fields)
        self.executor.stop(trial.record.id)

    # ------------------------------------------------------------------ launching
    def _launch_more(self) -> bool:
        if self._cancel_reason is not None or self._exhausted:
            return False
        active = sum(1 for t in self._trials.values() if t.active)
        room = min(
            self.settings.max_concurrent_trials - active,
            self.settings.max_total_trials - len(self._trials),
        )
        if room <= 0:
            return False
        launched = 0
        while room > 0 and len(self._trials) < len(self.settings.resume_child_runs):
            source = self.store.get_trial(self.settings.resume_child_runs[len(self._trials)])
            outputs = self._workdir(source.id) / "outputs"
            self._create_and_launch(source.params, resumed_from=source.id, resume_dir=outputs)
            room -= 1
            launched += 1
        if room <= 0:
            return launched > 0
        grace = 0.0
        if not self._proposals.in_flight:
            finished, pending = self._history()
            self._proposals.ask(room, finished, pending)
            grace = self.proposal_grace  # a fast sampler's trials start in this very step
        proposed = self._launch_proposed(self._proposals.take(timeout=grace))
        return proposed or launched > 0

    def _launch_proposed(self, proposals: list[dict[str, Any]] | None) -> bool:
        """Start the trials of an answered proposal (None: not answered yet)."""
        if proposals is None or self._cancel_reason is not None:
            return False  # after a cancel, what was proposed meanwhile is dropped
        if len(proposals) < self._proposals.asked:
            self._exhausted = True
        for params in proposals:
            self._create_and_launch(params)
        return bool(proposals)

    def _history(self) -> tuple[list[FinishedTrial], list[dict[str, Any]]]:
        finished = list(self._warm)
        pending: list[dict[str, Any]] = []
        for trial in self._trials.values():
            if trial.active:
                pending.append(dict(trial.record.params))
            else:
                score = None if trial.best is None else self.settings.oriented(trial.best)
                finished.append(FinishedTrial(params=trial.record.params, score=score))
        return finished, pending

    def _create_and_launch(
        self, params: dict[str, Any], resumed_from: str | None = None,
        resume_dir: Path | None = None,
    ) -> None:
        index = len(self._trials)
        trial_id = f"{self.sweep_id}_{index}"
        problem: Exception | None = None
        try:
            arguments = self.settings.command.arguments(
                params, resume_from=None if resume_dir is None else str(resume_dir)
            )
        except Exception as err:  # fails this trial, recorded below, not the sweep
            arguments, problem = [], err
        now = utcnow()
        # Born Running, before its process starts: after a crash from here on, recovery asks
        # the executor whether the process ever started, and adopts or launches it.
        record = TrialRecord(
            id=trial_id, sweep_id=self.sweep_id, index=index, params=dict(params),
            status=Status.RUNNING, created_time=now, start_time=now, arguments=arguments,
            resumed_from=resumed_from,
        )
        if not self.store.create_trial(record, owner=self.owner):
            raise _ClaimLost  # whoever holds the sweep now writes its trials
        trial = _Trial(record)
        self._trials[trial_id] = trial
        if problem is not None:
            self._runner.start(trial_id)
            self._launch_failed(trial, problem, None)
            return
        self._start_process(trial)

    def _launch(self, trial: _Trial) -> None:
        """Launch a recovered trial that never started."""
        fields = {"status": Status.RUNNING, "start_time": utcnow()}
        self.store.update_trial(trial.record.id, **fields)
        trial.record = trial.record.replace(**fields)
        self._start_process(trial)

    def _start_process(self, trial: _Trial) -> None:
        self._runner.start(trial.record.id)
        spec: TrialSpec | None = None
        try:
            spec = self._spec(trial.record)
            handle = self.executor.launch(spec)
        except Exception as err:  # a bad value, a full disk, an executor's bug: this trial's
            self._launch_failed(trial, err, spec)
            return
        trial.active = True
        trial.started_at = time.monotonic()
        self.store.update_trial(trial.record.id, handle=handle)
        trial.record = trial.record.replace(handle=handle)

    def _launch_failed(self, trial: _Trial, err: Exception, spec: TrialSpec | None) -> None:
        """Record a trial whose launch raised as ``Failed`` with the reason; the sweep goes on
        (and a later resume finds it ended, so it does not try, and crash, again)."""
        error = launch_error(err, spec)
        # One line: a record with a traceback reads, in the CLI, as the controller's death.
        log.warning("trial %s: %s", trial.record.id, error)
        log.debug("trial %s: launch raised", trial.record.id, exc_info=err)
        fields = {"status": Status.FAILED, "end_time": utcnow(), "error": error}
        self.store.update_trial(trial.record.id, **fields)
        trial.record = trial.record.replace(**fields)
        trial.active = False
        self._runner.finish(trial.record.id)
        self._judge_failures(trial.record)

    def _trial_dir(self, trial_id: str) -> Path:
        return self.workspace_dir / "runs" / trial_id

    def _workdir(self, trial_id: str) -> Path:
        return self._trial_dir(trial_id) / WORKDIR_NAME

    def _spec(self, record: TrialRecord) -> TrialSpec:
        trial_dir = self._trial_dir(record.id)
        workdir = self._workdir(record.id)
        env = dict(self.settings.environment_variables)
        env.update(sweep_environment(record.params))
        env.update({
            "HYPERSWEEP_TRIAL_ID": record.id,
            "HYPERSWEEP_SWEEP_ID": self.sweep_id,
            "HYPERSWEEP_EXPERIMENT": self.experiment,
            "HYPERSWEEP_JOURNAL": str(trial_dir / JOURNAL_NAME),
            "HYPERSWEEP_OUTPUTS": str(workdir / "outputs"),
            "AZUREML_RUN_ID": record.id,
        })
        env.update(trial_environment(env))  # MLflow store plugin, azureml shim (tracking)
        # `python` in a v2 command means the interpreter that runs the sweep, as on Azure the
        # environment's own python comes first on PATH.
        path = env.get("PATH", os.environ.get("PATH", ""))
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), path])
        return TrialSpec(
            trial_id=record.id,
            argv=self.settings.command.argv(record.arguments),
            env=env, workdir=workdir, trial_dir=trial_dir, snapshot=self.snapshot_dir,
        )

    def _monotonic_of(self, moment: datetime | None) -> float:
        if moment is None:
            return time.monotonic()
        return time.monotonic() - (utcnow() - moment).total_seconds()

    # ------------------------------------------------------------------ the end
    def _finished(self) -> bool:
        if any(t.active for t in self._trials.values()):
            return False
        if self._cancel_reason is not None:
            return True
        return self._exhausted or len(self._trials) >= self.settings.max_total_trials

    def _finish(self) -> None:
        trials = [t.record for t in self._trials.values()]
        status, error = sweep_outcome(
            trials, canceled=self._cancel_reason == REASON_USER_CANCEL,
            failure_verdict=self._failures.verdict,
            scored=any(t.series for t in self._trials.values()),
            missing_metric=lambda: self._missing_metric_message("any trial"),
        )
        best = self._best_trial()
        properties = dict(self.store.get_sweep(self.sweep_id).properties)
        if best is not None:
            properties["best_child_run_id"] = best.record.id
            properties["best_primary_metric"] = best.best
        self.store.update_sweep(
            self.sweep_id, status=status.value, end_time=utcnow(), properties=properties,
            error=error,
        )

    def _best_trial(self) -> _Trial | None:
        scored = [t for t in self._trials.values() if t.best is not None]
        if not scored:
            return None
        return max(scored, key=lambda t: self.settings.oriented(t.best or 0.0))

