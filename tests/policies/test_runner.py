"""PolicyRunner: decisions depend on the order of reports only; warm start counts."""

from __future__ import annotations

import json
import random

import pytest

from hypersweep.policies import (
    AshaPolicy,
    BanditPolicy,
    Decision,
    EarlyTerminationPolicy,
    HyperbandPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PolicyRunner,
    TruncationSelectionPolicy,
)

POLICIES: list[EarlyTerminationPolicy] = [
    BanditPolicy(slack_factor=0.1, delay_evaluation=2),
    BanditPolicy(slack_amount=0.05, evaluation_interval=2),
    MedianStoppingPolicy(delay_evaluation=3),
    TruncationSelectionPolicy(30, exclude_finished_jobs=True),
    TruncationSelectionPolicy(50, evaluation_interval=3),
    AshaPolicy(),
    HyperbandPolicy(max_resource=20),
]


def reports(seed: int) -> list[tuple[str, float]]:
    """An interleaving of 12 noisy curves, each trial in its own order."""
    rng = random.Random(seed)
    queues = {f"HD_s_{i}": [rng.gauss(0.1 * i * (1 - 0.8 ** (k + 1)), 0.05) for k in range(10)]
              for i in range(12)}
    out = []
    while queues:
        trial_id = rng.choice(sorted(queues))
        out.append((trial_id, queues[trial_id].pop(0)))
        if not queues[trial_id]:
            del queues[trial_id]
    return out


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.type)
def test_same_order_same_decisions_whatever_the_batching(policy: EarlyTerminationPolicy) -> None:
    stream = reports(7)
    one = PolicyRunner(policy)
    singles = [d for trial_id, value in stream for d in one.report(trial_id, value)]
    rng = random.Random(1)
    cuts = sorted(rng.sample(range(1, len(stream)), 15))
    batched = PolicyRunner(policy)
    out: list[Decision] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out.extend(batched.report_many(stream[lo:hi]))
    assert out == singles
    assert one.stopped == batched.stopped and one.running == batched.running
    if not isinstance(policy, NoTerminationPolicy):
        assert singles, "the stream should make every policy stop something"


def test_order_matters_and_ran_ahead_trials_are_judged_again() -> None:
    policy = BanditPolicy(slack_factor=0.2)
    runner = PolicyRunner(policy)
    assert runner.report_many([("a", 0.5), ("a", 0.5), ("a", 0.5)]) == []  # alone
    [d] = runner.report("b", 0.9)  # b reaches 1: a, which reached 1 too, is judged at 1
    assert (d.trial_id, d.interval) == ("a", 1)
    other = PolicyRunner(policy)
    assert other.report_many([("b", 0.9), ("a", 0.5)])[0].trial_id == "a"
    assert PolicyRunner(policy).report_many([("a", 0.5), ("b", 0.3)])[0].trial_id == "b"


def test_warm_start_series_count_as_finished() -> None:
    warm = {"old_0": [0.9, 0.9], "old_1": [0.8, 0.85]}
    cold = PolicyRunner(MedianStoppingPolicy())
    assert cold.report_many([("a", 0.5), ("a", 0.5)]) == []
    runner = PolicyRunner(MedianStoppingPolicy(), warm_start=warm)
    [d] = runner.report("a", 0.5)  # median(0.9, 0.8, 0.5) = 0.8
    assert (d.trial_id, d.threshold) == ("a", 0.8)
    assert "old_0" not in runner.running and runner.series["old_0"] == [0.9, 0.9]
    assert runner.report("old_0", 0.1) == []  # a finished trial triggers nothing


def test_stopped_trials_are_not_judged_again_and_late_reports_are_evidence() -> None:
    runner = PolicyRunner(BanditPolicy(slack_amount=0.1))
    runner.report("a", 1.0)
    [d] = runner.report("b", 0.5)
    assert runner.stopped == {"b": d} and runner.running == {"a"}
    assert runner.report("b", 2.0) == []  # late line of a stopped trial: kept, triggers nothing
    assert runner.series["b"] == [0.5, 2.0]
    [d2] = runner.report("a", 0.8)  # b's 2.0 at interval 2 is now the best
    assert d2.trial_id == "a" and d2.explanation.endswith("best by b)")


def test_finish_start_and_nan() -> None:
    runner = PolicyRunner(TruncationSelectionPolicy(50))
    runner.start("a")
    assert runner.running == {"a"} and runner.series["a"] == []
    assert runner.report("a", float("nan")) == [] and runner.series["a"] == []
    runner.report("a", 0.9)
    runner.finish("a")
    assert runner.running == frozenset()
    [d] = runner.report("b", 0.1)  # the finished a is ranked
    assert d.trial_id == "b"


def test_minimize_explanations_come_back_in_the_users_orientation() -> None:
    runner = PolicyRunner(BanditPolicy(slack_amount=0.2), maximize=False, metric="loss")
    runner.report("a", -0.5)
    [d] = runner.report("b", -0.9)
    assert (d.value, d.threshold) == (0.9, 0.7)
    assert d.explanation == ("loss 0.9 > best 0.5 + 0.2 = 0.7 at interval 1 "
                             "(bandit slack_amount=0.2; best by a)")


def test_decision_is_json_evidence() -> None:
    runner = PolicyRunner(MedianStoppingPolicy())
    runner.report("a", 1.0)
    [d] = runner.report("b", 0.0)
    assert Decision.from_dict(json.loads(json.dumps(d.to_dict()))) == d


def test_no_termination_never_evaluates_and_keeps_nothing() -> None:
    runner = PolicyRunner(NoTerminationPolicy(), warm_start={"old": [0.5, 0.6]})
    runner.start("a")
    assert runner.passive and runner.report_many(reports(3)) == []
    runner.add_finished("b", [0.1])
    runner.finish("a")
    # Nothing can be stopped, and nothing grows with the trials of a sweep without a policy.
    assert runner.series == {} and runner.running == frozenset() and runner.stopped == {}
    assert not PolicyRunner(BanditPolicy(slack_factor=0.1)).passive
