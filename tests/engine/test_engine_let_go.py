"""An engine that lets ended trials go (``keep_ended=False``, the function driver's) decides
exactly as one that keeps them: the same best trial (the first of equals), outcome, room,
budget and sampler history, event for event, on seeded random sweeps; and it holds only the
trials not ended yet."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from hypersweep.engine import SweepEngine, TrialState
from hypersweep.policies import MedianStoppingPolicy, NoTerminationPolicy
from hypersweep.sampling import RandomParameterSampling
from hypersweep.space import choice
from hypersweep.spec import Constraint, FunctionTrial, Limits, Objective, SweepSpec
from hypersweep.store import Status

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _spec(goal: str, constrained: bool, policy: bool, failures: int | None) -> SweepSpec:
    return SweepSpec(RandomParameterSampling({"x": choice(*range(50))}, seed=5),
                     (Objective("score", goal),), FunctionTrial(),
                     constraints=(Constraint("lat", max=5.0),) if constrained else (),
                     policy=MedianStoppingPolicy() if policy else NoTerminationPolicy(),
                     limits=Limits(max_total_trials=60, max_concurrent_trials=4,
                                   max_failed_trials=failures))


def _view(engine: SweepEngine) -> tuple[object, ...]:
    best = engine.best()
    finished, pending = engine.history()
    return (None if best is None else best.id, engine.outcome(), engine.scored(), engine.room(),
            engine.budget_left(), engine.finished(), finished, pending, engine.cancel_reason,
            engine.count)


@pytest.mark.parametrize("seed", range(12))
def test_letting_ended_trials_go_changes_no_decision(seed: int) -> None:
    rng = random.Random(seed)
    spec = _spec(rng.choice(["maximize", "minimize"]), rng.random() < 0.5, rng.random() < 0.5,
                 rng.choice([None, 3, 50]))
    kept, let_go = SweepEngine(spec, "HD_k"), SweepEngine(spec, "HD_k", keep_ended=False)
    pairs: list[tuple[TrialState, TrialState]] = []
    ended: list[tuple[TrialState, TrialState]] = []
    for _ in range(400):
        assert _view(kept) == _view(let_go)
        running = [p for p in pairs if not p[0].ended]
        roll = rng.random()
        if roll < 0.3 and kept.room() > 0:
            [params] = kept.propose(1)
            assert let_go.propose(1) == [params]
            pairs.append((kept.new_trial(params, WHEN), let_go.new_trial(params, WHEN)))
        elif roll < 0.7 and running:
            a, b = rng.choice(running)
            value = rng.choice([None, float("nan"), 1.0, 2.0, float(rng.randint(0, 9))])
            latency = float(rng.randint(0, 9))  # the constraint: <= 5
            for engine, trial in ((kept, a), (let_go, b)):
                engine.note(trial, "lat", latency)
                if engine.observe(trial, value):
                    assert value is not None
                    engine.report(trial, value)
        elif roll < 0.9 and running:
            a, b = rng.choice(running)
            ok, forced = rng.random() < 0.7, rng.choice([None, None, Status.CANCELED])
            error = f"boom {rng.randint(0, 2)}" if not ok else None
            stops = [kept.end(a, ok=ok, when=WHEN, error=error, status=forced),
                     let_go.end(b, ok=ok, when=WHEN, error=error, status=forced)]
            assert [s.trial.id for s in stops[0]] == [s.trial.id for s in stops[1]]
            ended.append((a, b))
        elif roll < 0.95 and ended:
            a, b = rng.choice(ended)  # logged after its end: still counts toward its score
            for engine, trial in ((kept, a), (let_go, b)):
                engine.observe(trial, 9.5)
        elif roll < 0.96:
            assert [s.trial.id for s in kept.cancel()] == [s.trial.id for s in let_go.cancel()]
    assert _view(kept) == _view(let_go)
    assert all(a.record == b.record for a, b in pairs)
    assert set(let_go.trials) == {t.id for t, _ in pairs if not t.ended}
    assert len(kept.trials) == len(pairs)


def test_the_first_of_equally_good_trials_is_best_whatever_order_they_end_in() -> None:
    engine = SweepEngine(_spec("maximize", False, False, None), "HD_e", keep_ended=False)
    trials = [engine.new_trial(p, WHEN) for p in engine.propose(3)]
    for trial in trials:
        engine.observe(trial, 1.0)
    for trial in reversed(trials):
        engine.end(trial, ok=True, when=WHEN)
    best = engine.best()
    assert best is not None and best.record.index == 0
    assert engine.trials == {} and engine.outcome() == (Status.COMPLETED, None)


def test_all_failed_names_the_first_trial_and_counts_every_one() -> None:
    engine = SweepEngine(_spec("maximize", False, False, 99), "HD_f", keep_ended=False)
    trials = [engine.new_trial(p, WHEN) for p in engine.propose(3)]
    for i, trial in reversed(list(enumerate(trials))):
        engine.end(trial, ok=False, when=WHEN, error=f"trial {i} broke")
    assert engine.outcome() == (Status.FAILED, "all 3 trials failed; the first one: trial 0 broke")
