"""replay: re-simulating finished curves under a policy and a concurrency model."""

from __future__ import annotations

import pytest

from hypersweep.policies import (
    BanditPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
    replay,
    simulate,
)

CURVES = {
    "HD_x_0": [0.5, 0.6, 0.7, 0.75],
    "HD_x_1": [0.2, 0.25, 0.3, 0.3],
    "HD_x_2": [0.1, 0.2, 0.5, 0.9],   # a late bloomer, the best over full curves
    "HD_x_3": [0.55, 0.6, 0.65, 0.7],
}


def test_round_robin_by_default() -> None:
    order: list[tuple[str, int]] = []
    ran = simulate({"a": [1, 2], "b": [1, 2, 3]}, lambda t, k, v: order.append((t, k)) or [])
    assert order == [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("b", 3)]
    assert ran == {"a": 2, "b": 3}


def test_workers_model() -> None:
    order: list[tuple[str, int]] = []

    def on_report(t: str, k: int, v: float) -> list[str]:
        order.append((t, k))
        return ["a"] if (t, k) == ("b", 1) else []   # b's first report stops a

    ran = simulate({"a": [0] * 3, "b": [0] * 2, "c": [0] * 2}, on_report, workers=2)
    # a and b start at 0; at time 1 b stops a, so c starts at 1 and reports at 2
    assert order == [("a", 1), ("b", 1), ("b", 2), ("c", 1), ("c", 2)]
    assert ran == {"a": 1, "b": 2, "c": 2}


def test_report_truncation_late_bloomer() -> None:
    r = replay(CURVES, TruncationSelectionPolicy(25))
    assert r.stopped_at == {"HD_x_2": 1}
    assert r.best_trial == "HD_x_2" and r.best_value == 0.9 and not r.best_survived
    assert r.obtained_trial == "HD_x_0" and r.obtained_value == 0.75
    assert (r.intervals_run, r.intervals_total) == (13, 16)
    assert r.saved == pytest.approx(3 / 16)
    text = r.table()
    assert "compute: 13 of 16 intervals run (18.8% saved); 1 trials stopped" in text
    assert "best trial over full curves: HD_x_2 (0.9) was stopped at interval 1" in text
    assert "best result obtained: 0.75 (HD_x_0)" in text
    assert str(r) == text


def test_no_termination_runs_everything() -> None:
    r = replay(CURVES, NoTerminationPolicy())
    assert r.saved == 0 and r.best_survived and r.obtained_value == 0.9


def test_minimize_and_workers() -> None:
    losses = {t: [1 - v for v in vs] for t, vs in CURVES.items()}
    r = replay(losses, BanditPolicy(slack_amount=0.3), maximize=False, metric="loss", workers=1)
    # one at a time: HD_x_0 runs alone; HD_x_1's 0.8 ties 0.5 + 0.3 at k=1, fails at k=2
    assert r.stopped_at == {"HD_x_1": 2, "HD_x_2": 1}
    assert r.decisions[0].explanation == ("loss 0.75 > best 0.4 + 0.3 = 0.7 at interval 2 "
                                          "(bandit slack_amount=0.3; best by HD_x_0)")
    assert r.best_ran["HD_x_1"] == 0.75 and r.best_full["HD_x_1"] == 0.7
    assert r.obtained_value == 0.25 and not r.best_survived
    assert "HD_x_1        2/4        2        0.75         0.7  loss 0.75 > best" in r.table()


def test_recorded_times_order_the_reports() -> None:
    timed = {"a": [(0.0, 0.9), (10.0, 0.9)], "b": [(1.0, 0.1), (2.0, 0.1)]}
    r = replay(timed, MedianStoppingPolicy())
    assert r.stopped_at == {"b": 1}  # a's first report came first
    # b ran alone to interval 2; when a reaches 1, b is judged again at interval 1
    late = {"a": [(5.0, 0.9), (10.0, 0.9)], "b": [(1.0, 0.1), (2.0, 0.1), (20.0, 0.1)]}
    r = replay(late, MedianStoppingPolicy())
    assert r.stopped_at == {"b": 2} and r.decisions[0].interval == 1
    assert r.ran == {"a": 2, "b": 2}
    # a trial that had finished by then is not judged
    done = {"a": [(5.0, 0.9), (10.0, 0.9)], "b": [(1.0, 0.1), (2.0, 0.1)]}
    assert replay(done, MedianStoppingPolicy()).stopped_at == {}
    with pytest.raises(ValueError, match="workers"):
        replay(timed, MedianStoppingPolicy(), workers=2)


def test_warm_start() -> None:
    r = replay({"a": [0.5, 0.5]}, MedianStoppingPolicy(), warm_start={"old": [0.9, 0.9]})
    assert r.stopped_at == {"a": 1}
