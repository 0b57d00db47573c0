"""AshaPolicy rungs and promotions; HyperbandPolicy brackets, deterministic by trial id.

The promotion rule, on hand-computed series: with ``n`` trials at a rung (itself included),
nobody is stopped while ``n < eta``; then a trial goes on when it is among the best
``ceil(n / eta)`` (ties go its way) and is stopped otherwise.
"""

from __future__ import annotations

import collections
import subprocess
import sys

import pytest

from hypersweep.policies import (
    AshaPolicy,
    HyperbandPolicy,
    Objective,
    PolicyRunner,
    replay,
)
from hypersweep.policies.asha import promoted_count, promotion_threshold

ONE = AshaPolicy(min_resource=1)  # rungs at 1, 3, 9, ...: short hand-made series


def stopped(policy: AshaPolicy, series: dict[str, list[float]], trial: str,
            interval: int = 1) -> bool:
    return bool(policy.evaluate(series, set(series), interval, reporter=trial))


def test_rungs() -> None:
    assert [k for k in range(1, 120) if AshaPolicy().is_eligible(k)] == [4, 12, 36, 108]
    assert [k for k in range(1, 100) if ONE.is_eligible(k)] == [1, 3, 9, 27, 81]
    p = AshaPolicy(min_resource=2, max_resource=16, reduction_factor=2)
    assert [k for k in range(1, 40) if p.is_eligible(k)] == [2, 4, 8]  # not 16: the end
    p = AshaPolicy(min_resource=1, min_early_stopping_rate=1)
    assert [k for k in range(1, 30) if p.is_eligible(k)] == [3, 9, 27]
    assert p.rung(9) == 1 and p.rung(4) is None


def test_promoted_count_is_a_rounded_up_share_once_eta_have_reported() -> None:
    assert [promoted_count(n, 3) for n in range(1, 11)] == [None, None, 1, 2, 2, 2, 3, 3, 3, 4]
    assert [promoted_count(n, 2) for n in range(1, 7)] == [None, 1, 2, 2, 3, 3]
    assert promotion_threshold([0.5, 0.9, 0.7, 0.6, 0.8], 3) == 0.8  # top 2 of 5
    assert promotion_threshold([0.5, 0.9], 3) is None


def test_too_few_at_the_rung_to_rank_nobody_is_stopped() -> None:
    # eta = 3: the 1st and 2nd trial at a rung go on whatever they logged
    assert not stopped(ONE, {"a": [0.5]}, "a")
    assert not stopped(ONE, {"a": [0.9], "b": [0.1]}, "b")
    # eta = 2: from the 2nd on, ranks count
    two = AshaPolicy(min_resource=1, reduction_factor=2)
    assert stopped(two, {"a": [0.9], "b": [0.1]}, "b")
    assert not stopped(two, {"a": [0.9], "b": [0.1]}, "a")


def test_the_best_ceil_n_over_eta_go_on() -> None:
    # n = 3: the best 1 goes on
    s3 = {"a": [0.9], "b": [0.8], "c": [0.7]}
    assert [t for t in s3 if stopped(ONE, s3, t)] == ["b", "c"]
    # n = 4: the best 2 (a 1/3 share is 1.33, rounded up)
    s4 = {**s3, "d": [0.6]}
    assert [t for t in s4 if stopped(ONE, s4, t)] == ["c", "d"]
    # n = 6: exactly a third, 2
    s6 = {**s4, "e": [0.5], "f": [0.85]}
    assert [t for t in s6 if stopped(ONE, s6, t)] == ["b", "c", "d", "e"]
    # n = 7: 3
    s7 = {**s6, "g": [0.1]}
    assert [t for t in s7 if stopped(ONE, s7, t)] == ["c", "d", "e", "g"]


def test_ties_go_the_trials_way() -> None:
    s = {"a": [0.8], "b": [0.8], "c": [0.8]}
    assert not any(stopped(ONE, s, t) for t in s)  # nobody did strictly better
    s = {"a": [0.9], "b": [0.8], "c": [0.8], "d": [0.7]}  # top 2 of 4: the bar is 0.8
    assert [t for t in s if stopped(ONE, s, t)] == ["d"]
    s = {"a": [0.9], "b": [0.9], "c": [0.8], "d": [0.8], "e": [0.1]}  # top 2 of 5: bar 0.9
    assert [t for t in s if stopped(ONE, s, t)] == ["c", "d", "e"]


def test_explanation_and_evidence() -> None:
    s = {"a": [0.9], "b": [0.8], "c": [0.7], "d": [0.6]}
    [d] = ONE.evaluate(s, {"c"}, 1, reporter="c")
    assert (d.trial_id, d.policy, d.interval, d.value, d.threshold) == ("c", "asha", 1, 0.7, 0.8)
    assert d.explanation == ("metric 0.7 < 0.8 needed to go on at rung 0 (interval 1): 2 of the "
                             "4 trials that reached it did better, and only the best 2 (a 1/3 "
                             "share, rounded up) go on (asha reduction_factor=3)")
    assert ONE.evaluate(s, {"a"}, 1, reporter="c") == []  # the reporter must be running


def test_minimize() -> None:
    loss = Objective(maximize=False, metric="loss")
    # oriented values (negated losses): losses 0.2, 0.3, 0.7
    s = {"a": [-0.2], "b": [-0.3], "c": [-0.7]}
    [d] = ONE.evaluate(s, {"c"}, 1, reporter="c", objective=loss)
    assert (d.value, d.threshold) == (0.7, 0.2)
    assert d.explanation.startswith("loss 0.7 > 0.2 needed to go on at rung 0 (interval 1): "
                                    "2 of the 3 trials")
    # through replay, as logged (all at once: a, b, c report interval 1 in that order)
    r = replay({"a": [0.2, 0.1], "b": [0.3, 0.3], "c": [0.7, 0.6]}, ONE, maximize=False,
               metric="loss")
    assert r.stopped_at == {"c": 1}  # a and b arrived too few to rank; c is the 3rd


def test_value_at_rung_is_best_up_to_it_and_finished_trials_compete() -> None:
    p = AshaPolicy(min_resource=1)
    # a's value at rung 1 (interval 3) is 0.96, its best so far, not its last 0.2
    series = {"f": [0.1, 0.2, 0.95], "a": [0.96, 0.1, 0.2], "b": [0.3, 0.3, 0.3]}
    assert p.evaluate(series, {"a", "b"}, 3, reporter="a") == []
    [d] = p.evaluate(series, {"a", "b"}, 3, reporter="b")
    assert d.threshold == 0.96 and d.value == 0.3 and "2 of the 3 trials" in d.explanation
    # values after the rung are not looked at
    series["b"] = [0.3, 0.3, 0.3, 0.99]
    assert p.evaluate(series, {"b"}, 3, reporter="b")[0].value == 0.3


def test_asynchronous_arrival_a_rung_is_passed_once() -> None:
    runner = PolicyRunner(ONE)
    assert runner.report("a", 0.5) == []  # n=1: too few to rank
    assert runner.report("b", 0.9) == []  # n=2: too few to rank
    assert [d.trial_id for d in runner.report("c", 0.8)] == ["c"]  # n=3: only the best
    assert runner.report("d", 0.85) == []  # n=4: best 2 (0.9, 0.85)
    assert [d.trial_id for d in runner.report("e", 0.6)] == ["e"]  # n=5: best 2
    assert {"a", "b", "d"} <= runner.running  # a's pass (with 0.5) is not revoked
    # the same values in another order decide otherwise: the decision is made on arrival
    runner = PolicyRunner(ONE)
    for t, v in [("c", 0.8), ("a", 0.5), ("b", 0.9), ("d", 0.85), ("e", 0.6)]:
        runner.report(t, v)
    assert list(runner.stopped) == ["e"]  # c and a arrived among the first two
    # without a reporter (direct use), every running trial at the rung is judged
    series = {"a": [0.5], "b": [0.9], "c": [0.8]}
    assert [d.trial_id for d in ONE.evaluate(series, {"a", "c"}, 1)] == ["a", "c"]


def test_stopped_trials_stay_evidence_at_the_rung() -> None:
    runner = PolicyRunner(ONE)
    for t, v in [("a", 0.9), ("b", 0.8), ("c", 0.1), ("d", 0.7)]:
        runner.report(t, v)
    assert list(runner.stopped) == ["c", "d"]  # n=3: best 1; n=4: best 2 (0.9, 0.8)
    # e is 2nd of the 5 (stopped c and d included) and the best 2 go on; had the stopped
    # trials not counted, e would be 2nd of 3 (a, b, e), where only the best goes on
    assert runner.report("e", 0.85) == []


def test_hyperband_brackets() -> None:
    assert HyperbandPolicy(min_resource=1, max_resource=27).n_brackets == 4
    assert HyperbandPolicy(min_resource=1, max_resource=26).n_brackets == 3
    assert HyperbandPolicy(min_resource=1, max_resource=81).n_brackets == 5
    assert HyperbandPolicy(max_resource=20).n_brackets == 2  # 20 / 4 = 5: log3 -> 1
    assert HyperbandPolicy(max_resource=40).n_brackets == 3
    assert HyperbandPolicy().n_brackets == 2
    p = HyperbandPolicy(min_resource=1, max_resource=27)
    assert p.budgets() == [27, 12, 6, 4]  # Optuna's allocation
    assert [b.min_early_stopping_rate for b in p.brackets] == [0, 1, 2, 3]
    assert [k for k in range(1, 30) if p.is_eligible(k)] == [1, 3, 9]
    default = HyperbandPolicy()
    assert default.brackets[0] == AshaPolicy()  # bracket 0 is ASHA's defaults
    assert default.budgets() == [3, 2]
    assert [k for k in range(1, 40) if default.is_eligible(k)] == [4, 12, 36]


def test_hyperband_assignment_is_deterministic_and_proportional() -> None:
    p = HyperbandPolicy(min_resource=1, max_resource=27)
    ids = [f"HD_x_{i}" for i in range(12)]
    expected = [1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0]  # sha256 of the id: fixed forever
    assert [p.bracket_of(t) for t in ids] == expected
    assert [HyperbandPolicy(min_resource=1, max_resource=27).bracket_of(t)
            for t in ids] == expected
    # another interpreter (another hash seed) agrees
    code = ("from hypersweep.policies import HyperbandPolicy as H; "
            "p = H(min_resource=1, max_resource=27); "
            f"print([p.bracket_of(t) for t in {ids!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123"})
    assert out.stdout.strip() == str(expected)
    counts = collections.Counter(p.bracket_of(f"HD_y_{i}") for i in range(4900))
    for s, budget in enumerate(p.budgets()):
        assert abs(counts[s] / 4900 - budget / 49) < 0.03


@pytest.fixture
def hb() -> HyperbandPolicy:
    return HyperbandPolicy(min_resource=1, max_resource=27)


def test_hyperband_trials_compete_within_their_bracket(hb: HyperbandPolicy) -> None:
    zero = [f"HD_x_{i}" for i in (2, 3, 4, 6)]  # bracket 0
    one = ["HD_x_0", "HD_x_1", "HD_x_5"]  # bracket 1: no rung at interval 1
    # bracket 0 has 3 trials at interval 1 (bracket 1's 0.99 does not count)
    series = {zero[0]: [0.9], one[0]: [0.99], zero[1]: [0.5], zero[2]: [0.95]}
    [d] = hb.evaluate(series, set(series), 1, reporter=zero[1])
    assert d.threshold == 0.95 and d.policy == "hyperband"
    assert "2 of the 3 trials" in d.explanation
    assert "(hyperband bracket 0 reduction_factor=3)" in d.explanation
    # 2 in bracket 0: too few to rank, whatever bracket 1 logged
    series = {zero[0]: [0.9], one[0]: [0.99], one[1]: [0.98], zero[1]: [0.1]}
    assert hb.evaluate(series, set(series), 1, reporter=zero[1]) == []
    # bracket 1 is judged from interval 3, among its own
    series = {t: [v] * 3 for t, v in zip(one, (0.9, 0.1, 0.5), strict=True)}
    series[zero[0]] = [0.95] * 3
    assert hb.evaluate(series, set(series), 1, reporter=one[1]) == []
    [d] = hb.evaluate(series, set(series), 3, reporter=one[1])
    assert d.trial_id == one[1] and d.threshold == 0.9 and "bracket 1" in d.explanation
