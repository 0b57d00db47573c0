"""MedianStoppingPolicy: median over every trial that reported at least k values."""

from __future__ import annotations

from hypersweep.policies import MedianStoppingPolicy, Objective


def test_hand_computed_median_of_running_averages() -> None:
    # averages of the first 2 values: a 0.9, b 0.75, c 0.15 -> median 0.75
    series = {"a": [0.9, 0.9], "b": [0.7, 0.8], "c": [0.1, 0.2]}
    [d] = MedianStoppingPolicy().evaluate(series, {"a", "b", "c"}, 2)
    assert (d.trial_id, d.value, d.threshold, d.interval) == ("c", 0.2, 0.75, 2)
    assert d.explanation == ("metric 0.2 < median 0.75 of the averages of the first 2 values of "
                             "3 trials at interval 2 (median_stopping)")


def test_the_evaluated_trial_is_included() -> None:
    # a avg 1.0, b avg 0.45: median 0.725 <= b's best 0.9 (without b it would be 1.0)
    series = {"a": [1.0, 1.0], "b": [0.0, 0.9]}
    assert MedianStoppingPolicy().evaluate(series, {"b"}, 2) == []
    assert MedianStoppingPolicy().evaluate({"b": [0.0, 0.9]}, {"b"}, 2) == []  # alone: never


def test_finished_trials_count_and_short_ones_do_not() -> None:
    # f finished with avg 0.9; d reported only once (not counted at k=2); median(0.9, 0.3) = 0.6
    series = {"f": [0.8, 1.0], "d": [100.0], "b": [0.2, 0.4]}
    [d] = MedianStoppingPolicy().evaluate(series, {"b", "d"}, 2)
    assert (d.trial_id, d.threshold) == ("b", 0.6000000000000001)
    assert "of 2 trials" in d.explanation
    # only the first k values of a trial that ran ahead are averaged
    series = {"f": [0.8, 1.0, -50.0], "b": [0.2, 0.4]}
    assert [x.trial_id for x in MedianStoppingPolicy().evaluate(series, {"b"}, 2)] == ["b"]


def test_even_count_and_ties() -> None:
    series = {"a": [4.0], "b": [3.0], "c": [2.0], "d": [1.0]}  # median (3 + 2) / 2 = 2.5
    decisions = MedianStoppingPolicy().evaluate(series, set(series), 1)
    assert [(d.trial_id, d.threshold) for d in decisions] == [("c", 2.5), ("d", 2.5)]
    series = {"a": [3.0], "b": [2.0], "c": [1.0]}  # median 2: b equals it and continues
    assert [d.trial_id for d in MedianStoppingPolicy().evaluate(series, set(series), 1)] == ["c"]


def test_minimize_with_negative_losses() -> None:
    # losses: a -3, b -1, c 2 -> oriented 3, 1, -2; median 1 -> c stopped, b ties and stays
    series = {"a": [3.0], "b": [1.0], "c": [-2.0]}
    loss = Objective(maximize=False, metric="loss")
    [d] = MedianStoppingPolicy().evaluate(series, set(series), 1, objective=loss)
    assert (d.trial_id, d.value, d.threshold) == ("c", 2.0, -1.0)
    assert d.explanation == ("loss 2 > median -1 of the averages of the first 1 values of "
                             "3 trials at interval 1 (median_stopping)")


def test_delay_and_interval() -> None:
    p = MedianStoppingPolicy(evaluation_interval=2, delay_evaluation=5)
    assert [k for k in range(12) if p.is_eligible(k)] == [6, 8, 10]
