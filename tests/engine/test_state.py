"""The engine alone: every rule of a sweep decided with a fake clock, no process, no store."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hypersweep.engine import (
    REASON_EARLY_TERMINATION,
    REASON_FAILED_TRIALS,
    REASON_MAX_DURATION,
    REASON_TRIAL_TIMEOUT,
    REASON_USER_CANCEL,
    SweepEngine,
    TrialState,
)
from hypersweep.policies import BanditPolicy, NoTerminationPolicy
from hypersweep.sampling import GridParameterSampling, RandomParameterSampling
from hypersweep.space import choice, uniform
from hypersweep.spec import (
    FunctionTrial,
    Limits,
    Objective,
    ScriptTrial,
    SweepSpec,
    TrialDefinition,
)
from hypersweep.store import Status

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def engine_for(limits: Limits, *, bandit: bool = False, goal: str = "maximize",
               trial: TrialDefinition | None = None,
               grid: int | None = None) -> tuple[SweepEngine, Clock]:
    sampling = (GridParameterSampling({"x": choice(*range(grid))}) if grid is not None
                else RandomParameterSampling({"x": uniform(0, 1)}, seed=3))
    spec = SweepSpec(sampling, (Objective("score", goal),), trial or ScriptTrial("src", "t.py"),
                     policy=BanditPolicy(slack_factor=0.1) if bandit else NoTerminationPolicy(),
                     limits=limits)
    clock = Clock()
    return SweepEngine(spec, "HD_t", clock=clock), clock


def start(engine: SweepEngine, n: int = 1) -> list[TrialState]:
    return [engine.new_trial(p, WHEN) for p in engine.propose(n)]


def test_budget_and_concurrency_bound_the_room() -> None:
    engine, _ = engine_for(Limits(max_total_trials=3, max_concurrent_trials=2))
    assert engine.room() == 2
    first, _ = start(engine, 2)
    assert engine.room() == 0
    engine.end(first, ok=True, when=WHEN)
    assert engine.room() == 1
    start(engine)
    assert engine.room() == 0 and engine.budget_left() == 0
    assert not engine.finished()  # two still run
    for trial in list(engine.trials.values()):
        engine.end(trial, ok=True, when=WHEN)
    assert engine.finished()


def test_an_exhausted_grid_finishes_the_sweep_before_its_budget() -> None:
    engine, _ = engine_for(Limits(max_total_trials=10), grid=2)
    trials = [engine.new_trial(p, WHEN) for p in engine.propose(5)]
    assert len(trials) == 2 and engine.exhausted
    for trial in trials:
        engine.end(trial, ok=True, when=WHEN)
    assert engine.finished()


def test_the_deadline_cancels_running_trials_once_with_one_notice() -> None:
    engine, clock = engine_for(Limits(max_total_trials=5, timeout=60.0))
    running, = start(engine)
    clock.now += 59.9
    assert engine.tick() == []
    clock.now += 0.1
    stops = engine.tick()
    assert [(s.trial.id, s.reason) for s in stops] == [(running.id, REASON_MAX_DURATION)]
    assert running.record.status == Status.CANCELED
    assert running.record.termination_detail == {
        "explanation": "the sweep reached its timeout of 60 s"}
    assert engine.take_notices() == [
        "max_duration reached after 60 s: running trials were canceled"]
    assert engine.tick() == [] and engine.take_notices() == []
    assert engine.room() == 0
    engine.end(running, ok=True, when=WHEN)  # it exited cleanly after the stop: still Canceled
    assert running.record.status == Status.CANCELED
    assert engine.outcome() == (Status.COMPLETED, None)  # a deadline is no failure


def test_a_resumed_sweep_counts_its_deadline_from_its_start() -> None:
    engine, clock = engine_for(Limits(timeout=60.0))
    engine.set_elapsed(59.0)
    start(engine)
    clock.now += 1.0
    assert [s.reason for s in engine.tick()] == [REASON_MAX_DURATION]


def test_a_trial_timeout_counts_from_when_the_trial_began() -> None:
    engine, clock = engine_for(Limits(trial_timeout=10.0),
                               trial=FunctionTrial("f"))
    waiting = engine.new_trial({"x": 0.5}, WHEN, begun=False)
    clock.now += 30.0  # waited for a worker: no clock yet
    assert engine.tick() == []
    engine.begin(waiting)
    clock.now += 9.0
    assert engine.tick() == []
    clock.now += 1.0
    stop, = engine.tick()
    assert stop.reason == REASON_TRIAL_TIMEOUT
    assert stop.explanation == "ran longer than trial_timeout = 10 s"


def test_the_policy_stops_a_poor_trial_with_its_decision_as_evidence() -> None:
    engine, _ = engine_for(Limits(max_total_trials=3), bandit=True)
    good, poor = start(engine, 2)
    assert engine.observe(good, 0.9) and engine.report(good, 0.9) == []
    assert engine.observe(poor, 0.2)
    stop, = engine.report(poor, 0.2)
    assert stop.reason == REASON_EARLY_TERMINATION and stop.decision is not None
    assert poor.record.termination_detail == stop.decision.to_dict()
    engine.end(poor, ok=False, when=WHEN, error="killed by signal 15")
    assert poor.record.status == Status.CANCELED and poor.record.error is None


def test_minimize_turns_values_for_the_policy_and_the_best() -> None:
    engine, _ = engine_for(Limits(max_total_trials=2), goal="minimize")
    low, high = start(engine, 2)
    for trial, value in ((low, 0.1), (high, 0.7)):
        engine.observe(trial, value)
        engine.end(trial, ok=True, when=WHEN)
    assert engine.best() is low
    assert engine.best_properties() == {"best_child_run_id": low.record.id,
                                        "best_primary_metric": 0.1}
    finished, pending = engine.history()
    assert [t.score for t in finished] == [-0.1, -0.7] and pending == []


def test_three_alike_failures_stop_the_sweep_and_cancel_the_rest() -> None:
    engine, _ = engine_for(Limits(max_total_trials=10, max_concurrent_trials=4))
    trials = start(engine, 4)
    for trial in trials[:2]:
        assert engine.end(trial, ok=False, when=WHEN, error="exit code 2: no data") == []
    stops = engine.end(trials[2], ok=False, when=WHEN, error="exit code 2: no data")
    assert [(s.trial.id, s.reason) for s in stops] == [(trials[3].id, REASON_FAILED_TRIALS)]
    assert engine.room() == 0
    engine.end(trials[3], ok=False, when=WHEN)
    status, error = engine.outcome()
    assert status == Status.FAILED
    assert "the first 3 trials failed with the same error" in str(error)
    assert "limits.max_failed_trials in YAML" in str(error)  # a script sweep's hint


def test_a_function_sweep_says_objective_where_a_script_sweep_says_script() -> None:
    engine, _ = engine_for(Limits(max_total_trials=2), trial=FunctionTrial("f"))
    trial, = start(engine)
    trial.failed_by_script = "diverged at step 3"
    engine.end(trial, ok=True, when=WHEN)
    assert trial.record.status == Status.FAILED
    assert trial.record.error == "the objective called run.fail(): diverged at step 3"


def test_completed_trials_without_the_metric_raise_one_notice_and_fail_the_sweep() -> None:
    engine, _ = engine_for(Limits(max_total_trials=2))
    engine.metric_names = lambda: ["scor"]
    first, second = start(engine, 2)
    engine.end(first, ok=True, when=WHEN)
    notice, = engine.take_notices()
    assert "'score'" in notice and "'scor'" in notice
    engine.end(second, ok=True, when=WHEN)
    assert engine.take_notices() == []
    status, error = engine.outcome()
    assert status == Status.FAILED and "Did you mean 'scor'?" in (error or "")


def test_a_user_cancel_ends_the_sweep_canceled() -> None:
    engine, _ = engine_for(Limits(max_total_trials=4))
    running, = start(engine)
    stop, = engine.cancel()
    assert stop.reason == REASON_USER_CANCEL and engine.cancel() == []
    assert engine.propose(1) == [] and engine.room() == 0
    engine.end(running, ok=True, when=WHEN)
    assert engine.outcome() == (Status.CANCELED, None)


@pytest.mark.parametrize("value", [float("nan"), None])
def test_a_value_that_cannot_rank_does_not_count(value: float | None) -> None:
    engine, _ = engine_for(Limits(max_total_trials=1))
    trial, = start(engine)
    assert not engine.observe(trial, value)
    assert trial.best is None


def test_the_samplers_history_lists_ended_trials_by_index_whatever_order_they_end_in() -> None:
    engine, _ = engine_for(Limits(max_total_trials=6))
    trials = start(engine, 5)
    for trial, value in zip(trials, [0.1, 0.2, 0.3, 0.4, 0.5], strict=True):
        engine.observe(trial, value)
    for i in (3, 0, 4, 1):  # out of index order, as concurrent trials end
        engine.end(trials[i], ok=True, when=WHEN)
    finished, pending = engine.history()
    assert [t.params for t in finished] == [trials[i].record.params for i in (0, 1, 3, 4)]
    assert [t.score for t in finished] == [0.1, 0.2, 0.4, 0.5]
    assert pending == [trials[2].record.params]
    engine.fail(trials[2], "lost", WHEN)  # the one left, failed from outside
    finished, pending = engine.history()
    assert [t.params for t in finished] == [t.record.params for t in trials]
    assert finished[2].score == 0.3 and pending == []
    sixth = start(engine)[0]
    assert engine.history()[1] == [sixth.record.params]


def test_a_reread_trial_joins_the_history_once_it_has_ended() -> None:
    engine, _ = engine_for(Limits(max_total_trials=4))
    trials = start(engine, 2)
    again, _ = engine_for(Limits(max_total_trials=4))  # a resumed sweep reads them back
    states = [again.add(t.record) for t in trials]
    assert again.history() == ([], [dict(t.record.params) for t in trials])
    again.restored(states[1])
    again.restored(states[0])
    assert [t.params for t in again.history()[0]] == [t.record.params for t in trials]
