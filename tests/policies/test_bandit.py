"""BanditPolicy on hand-computed series: AZURE.md's formulas, both goals, negative metrics."""

from __future__ import annotations

import pytest

from hypersweep.policies import BanditPolicy, Objective

LOSS = Objective(maximize=False, metric="loss")


def neg(series: dict[str, list[float]]) -> dict[str, list[float]]:
    """What the controller hands a policy for minimize: values negated."""
    return {t: [-v for v in vs] for t, vs in series.items()}


def test_maximize_factor_is_azures_formula_exactly() -> None:
    series = {"a": [0.5, 0.8], "b": [0.61, 0.6]}
    [d] = BanditPolicy(slack_factor=0.2).evaluate(series, {"a", "b"}, 2)
    assert (d.trial_id, d.interval, d.value) == ("b", 2, 0.61)
    assert d.threshold == 0.8 / (1 + 0.2)  # Azure: best / (1 + slack_factor), bit for bit
    assert d.policy == "bandit"
    assert d.explanation == ("metric 0.61 < best 0.8 / (1 + 0.2) = 0.666667 at interval 2 "
                             "(bandit slack_factor=0.2; best by a)")


def test_only_values_up_to_k_count() -> None:
    # at k=1, a's later 0.8 is not looked at: b's 0.61 is the best, and a is the one too far
    series = {"a": [0.5, 0.8], "b": [0.61, 0.6]}
    [d] = BanditPolicy(slack_factor=0.2).evaluate(series, {"a", "b"}, 1)
    assert d.trial_id == "a" and d.threshold == 0.61 / 1.2
    # a finished trial's future values do not raise `best` either
    finished = {"f": [0.1, 0.99], "a": [0.5], "b": [0.3]}
    [d] = BanditPolicy(slack_factor=0.2).evaluate(finished, {"a", "b"}, 1)
    assert d.trial_id == "b" and d.threshold == 0.5 / 1.2


def test_y_is_the_best_value_up_to_k() -> None:
    series = {"a": [1.0, 1.0, 1.0], "b": [0.95, 0.1, 0.1]}
    assert BanditPolicy(slack_factor=0.1).evaluate(series, {"b"}, 3) == []


def test_maximize_negative_metric_uses_our_formula() -> None:
    # Azure's best / (1 + f) = -0.8 would stop even the best trial; ours: -1 - 1 * 0.25 / 1.25
    series = {"a": [-1.0], "b": [-1.19], "c": [-1.21]}
    decisions = BanditPolicy(slack_factor=0.25).evaluate(series, {"a", "b", "c"}, 1)
    assert [d.trial_id for d in decisions] == ["c"]
    assert decisions[0].threshold == pytest.approx(-1.2)
    assert decisions[0].explanation == (
        "metric -1.21 < best -1 - |-1| * 0.25 / (1 + 0.25) = -1.2 at interval 1 "
        "(bandit slack_factor=0.25; best by a)")


def test_minimize_factor_positive_and_negative() -> None:
    series = neg({"a": [0.5], "b": [0.76], "c": [0.74]})
    [d] = BanditPolicy(slack_factor=0.5).evaluate(series, {"b", "c"}, 1, objective=LOSS)
    assert (d.trial_id, d.value, d.threshold) == ("b", 0.76, 0.75)  # 0.5 + |0.5| * 0.5
    assert d.explanation == ("loss 0.76 > best 0.5 * (1 + 0.5) = 0.75 at interval 1 "
                             "(bandit slack_factor=0.5; best by a)")
    series = neg({"a": [-2.0], "b": [-0.9], "c": [-1.0]})
    [d] = BanditPolicy(slack_factor=0.5).evaluate(series, {"b", "c"}, 1, objective=LOSS)
    assert (d.trial_id, d.value, d.threshold) == ("b", -0.9, -1.0)  # -2 + |-2| * 0.5; tie stays
    assert d.explanation == ("loss -0.9 > best -2 + |-2| * 0.5 = -1 at interval 1 "
                             "(bandit slack_factor=0.5; best by a)")


def test_minimize_and_maximize_factor_formulas_differ() -> None:
    # ours: maximize uses f / (1 + f), minimize uses f (AZURE.md)
    p = BanditPolicy(slack_factor=1.0)
    assert p.threshold(2.0, maximize=True) == 1.0
    assert p.threshold(-2.0, maximize=False) == -4.0  # loss 2 -> up to 4


def test_slack_amount_both_goals_and_ties() -> None:
    p = BanditPolicy(slack_amount=0.25)
    series = {"a": [0.75], "b": [0.5], "c": [0.49]}
    assert [d.trial_id for d in p.evaluate(series, {"b", "c"}, 1)] == ["c"]  # 0.5 == 0.75 - 0.25
    [d] = p.evaluate(neg({"a": [0.5], "b": [0.75], "c": [0.76]}), {"b", "c"}, 1, objective=LOSS)
    assert (d.trial_id, d.threshold) == ("c", 0.75)
    assert d.explanation == ("loss 0.76 > best 0.5 + 0.25 = 0.75 at interval 1 "
                             "(bandit slack_amount=0.25; best by a)")
    [d] = p.evaluate({"a": [1.0], "b": [0.7]}, {"b"}, 1)
    assert d.explanation == ("metric 0.7 < best 1 - 0.25 = 0.75 at interval 1 "
                             "(bandit slack_amount=0.25; best by a)")


def test_tied_leaders_name_the_first_and_never_stop() -> None:
    series = {"HD_x_10": [0.9], "HD_x_2": [0.9], "HD_x_3": [0.1]}
    [d] = BanditPolicy(slack_factor=0.1).evaluate(series, set(series), 1)
    assert d.trial_id == "HD_x_3" and d.explanation.endswith("best by HD_x_2)")


def test_only_running_trials_that_reached_k_are_judged() -> None:
    series = {"a": [1.0, 1.0], "b": [0.1], "c": [0.1, 0.1]}
    decisions = BanditPolicy(slack_factor=0.1).evaluate(series, {"b", "c"}, 2)
    assert [d.trial_id for d in decisions] == ["c"]
    assert BanditPolicy(slack_factor=0.1).evaluate(series, set(), 1) == []


@pytest.mark.parametrize(("interval", "delay", "eligible"), [
    (1, 0, [1, 2, 3, 4, 5, 6, 7, 8, 9]),
    (2, 3, [4, 6, 8]),
    (2, 4, [4, 6, 8]),
    (3, 5, [6, 9]),
    (1, 5, [5, 6, 7, 8, 9]),
])
def test_eligibility(interval: int, delay: int, eligible: list[int]) -> None:
    p = BanditPolicy(slack_factor=0.1, evaluation_interval=interval, delay_evaluation=delay)
    assert [k for k in range(0, 10) if p.is_eligible(k)] == eligible
