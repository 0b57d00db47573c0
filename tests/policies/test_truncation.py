"""TruncationSelectionPolicy: lowest floor(n * p / 100) at k, never looking past k."""

from __future__ import annotations

from hypersweep.policies import Objective, TruncationSelectionPolicy


def test_lowest_percentage_is_cut() -> None:
    series = {"a": [0.9], "b": [0.7], "c": [0.5], "d": [0.3]}
    decisions = TruncationSelectionPolicy(50).evaluate(series, set(series), 1)
    assert [(d.trial_id, d.threshold) for d in decisions] == [("c", 0.7), ("d", 0.7)]
    assert decisions[1].explanation == (
        "metric 0.3 < 0.7 ranks 4 of 4 trials at interval 1: among the lowest 50% (2 of 4) "
        "(truncation_selection)")
    # floor(4 * 30 / 100) = 1; floor(4 * 20 / 100) = 0
    assert [d.trial_id for d in TruncationSelectionPolicy(30).evaluate(series, set(series), 1)] \
        == ["d"]
    assert TruncationSelectionPolicy(20).evaluate(series, set(series), 1) == []


def test_ties_at_the_cut_all_continue() -> None:
    series = {"a": [0.9], "b": [0.5], "c": [0.5], "d": [0.5]}
    assert TruncationSelectionPolicy(50).evaluate(series, set(series), 1) == []
    series = {"a": [0.9], "b": [0.9], "c": [0.5], "d": [0.5]}
    assert len(TruncationSelectionPolicy(50).evaluate(series, set(series), 1)) == 2


def test_never_look_past_k() -> None:
    # l ran ahead and improves later: at k=1 it is ranked by 0.1 and cut all the same
    series = {"l": [0.1, 0.99], "b": [0.3], "c": [0.5]}
    [d] = TruncationSelectionPolicy(34).evaluate(series, set(series), 1)
    assert d.trial_id == "l" and d.interval == 1 and d.value == 0.1
    # a finished trial's later 0.99 does not push b to the bottom at k=1
    assert TruncationSelectionPolicy(34).evaluate(series, {"b", "c"}, 1) == []
    # ranked by the best up to k, not the last value
    series = {"a": [0.9, 0.1], "b": [0.5, 0.5], "c": [0.6, 0.6]}
    [d] = TruncationSelectionPolicy(34).evaluate(series, set(series), 2)
    assert d.trial_id == "b"


def test_exclude_finished_jobs() -> None:
    series = {"f": [0.9], "g": [0.8], "b": [0.5], "c": [0.6]}
    included = TruncationSelectionPolicy(50).evaluate(series, {"b", "c"}, 1)
    assert [d.trial_id for d in included] == ["b", "c"]  # n=4, cut 2 -> below 0.8
    excluded = TruncationSelectionPolicy(50, exclude_finished_jobs=True).evaluate(
        series, {"b", "c"}, 1)
    assert [(d.trial_id, d.threshold) for d in excluded] == [("b", 0.6)]  # n=2, cut 1
    assert "ranks 2 of 2 running trials" in excluded[0].explanation


def test_only_trials_that_reached_k_are_ranked() -> None:
    series = {"a": [0.1], "b": [0.5, 0.5], "c": [0.6, 0.6]}
    [d] = TruncationSelectionPolicy(50).evaluate(series, set(series), 2)
    assert d.trial_id == "b" and "of 2 trials" in d.explanation


def test_minimize_negative_values() -> None:
    loss = Objective(maximize=False, metric="loss")
    series = {"a": [1.5], "b": [0.5], "c": [-0.5]}  # losses -1.5, -0.5, 0.5
    [d] = TruncationSelectionPolicy(34).evaluate(series, set(series), 1, objective=loss)
    assert (d.trial_id, d.value, d.threshold) == ("c", 0.5, -0.5)
    assert d.explanation.startswith("loss 0.5 > -0.5 ranks 3 of 3 trials")


def test_eligibility_edges() -> None:
    p = TruncationSelectionPolicy(10, evaluation_interval=5, delay_evaluation=10)
    assert [k for k in range(30) if p.is_eligible(k)] == [10, 15, 20, 25]
