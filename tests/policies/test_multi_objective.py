"""Several objectives and constraints: ASHA/Hyperband rank by all of them at a rung, the other
policies judge the first objective alone, the runner keeps the vectors in step with the primary
series, and decisions, replay and restored trials give the same answers again."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping

import pytest

from hypersweep.policies import (
    AshaPolicy,
    BanditPolicy,
    Decision,
    EarlyTerminationPolicy,
    Evidence,
    HyperbandPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    Objective,
    PolicyRunner,
    TruncationSelectionPolicy,
    policy_from_dict,
    policy_note,
    replay,
)

ACC, LATENCY = Objective(metric="accuracy"), Objective(maximize=False, metric="latency")
TWO = (ACC, LATENCY)
ONE = AshaPolicy(min_resource=1)  # rungs at 1, 3, 9: short hand-made series


def at_rung(policy: AshaPolicy, points: Mapping[str, tuple[float, ...]],
            violations: Mapping[str, tuple[float, ...]] | None = None,
            constraints: tuple[str, ...] = ()) -> dict[str, Decision]:
    """Judge every trial at interval 1, each having logged one (oriented) vector."""
    series = {t: [p[0]] for t, p in points.items()}
    evidence = Evidence(TWO, constraints, {t: [p] for t, p in points.items()},
                        {t: [v] for t, v in (violations or {}).items()})
    decisions = policy.evaluate_objectives(series, set(series), 1, evidence=evidence,
                                           objective=ACC)
    return {d.trial_id: d for d in decisions}


def test_dominated_trials_are_stopped_and_the_front_kept() -> None:
    points = {"f1": (0.9, -30.0), "f2": (0.8, -20.0), "f3": (0.7, -10.0),  # the front
              "d1": (0.6, -30.0), "d2": (0.5, -20.0), "d3": (0.65, -25.0),
              "d4": (0.3, -40.0), "d5": (0.2, -50.0), "d6": (0.1, -60.0)}
    stops = at_rung(ONE, points)  # 9 at the rung, eta 3: the best 3 go on
    assert sorted(stops) == ["d1", "d2", "d3", "d4", "d5", "d6"]
    d = stops["d2"]
    assert (d.policy, d.interval, d.value, d.threshold, d.rank) == ("asha", 1, 0.5, None, 1)
    assert d.values == (0.5, 20.0) and d.violations is None
    assert d.explanation == (
        "accuracy 0.5, latency 20 at rung 0 (interval 1): Pareto rank 1 (0: not dominated) "
        "among the 9 trials that reached it; 3 trials rank ahead of it (3 on better fronts), "
        "and only the best 3 (a 1/3 share, rounded up) go on (asha reduction_factor=3)")
    assert [stops[t].rank for t in ("d1", "d3", "d4", "d5", "d6")] == [2, 1, 3, 4, 5]
    assert "8 trials rank ahead of it (8 on better fronts)" in stops["d6"].explanation


def test_a_split_front_keeps_its_ends_and_the_least_crowded() -> None:
    eta2 = AshaPolicy(min_resource=1, reduction_factor=2)
    front = {"a": (0.0, -0.0), "b": (1.0, -1.0), "c": (2.0, -5.0), "d": (8.0, -8.0),
             "e": (10.0, -10.0)}
    stops = at_rung(eta2, front)  # 5 at the rung, eta 2: the best 3 go on, all on rank 0
    assert sorted(stops) == ["b", "d"]
    assert all(d.rank == 0 for d in stops.values())
    assert stops["b"].explanation.split(": ", 1)[1].startswith(
        "Pareto rank 0 (0: not dominated) among the 5 trials that reached it; 4 trials rank "
        "ahead of it (4 on its front with a larger crowding distance)")


def test_infeasible_trials_go_first_even_when_they_dominate() -> None:
    eta2 = AshaPolicy(min_resource=1, reduction_factor=2)
    points = {"best": (0.99, -1.0), "b": (0.8, -20.0), "c": (0.7, -10.0),
              "d": (0.6, -30.0), "e": (0.95, -2.0)}
    violations = {"best": (5.0, -1.0), "b": (0.0, -1.0), "c": (-2.0, 0.0),
                  "d": (-1.0, -1.0), "e": (0.5, math.inf)}
    stops = at_rung(eta2, points, violations, ("memory <= 4", "latency <= 50"))
    assert sorted(stops) == ["best", "e"]  # 3 go on: the feasible b, c (front) and d
    assert stops["best"].rank is None and stops["best"].violations == (5.0, -1.0)
    assert stops["best"].explanation == (
        "accuracy 0.99, latency 1 at rung 0 (interval 1): infeasible (memory <= 4 by 5; total "
        "violation 5), so behind the 3 feasible of the 5 trials that reached it; 3 trials rank "
        "ahead of it, and only the best 3 (a 1/2 share, rounded up) go on (asha "
        "reduction_factor=2)")
    assert "(memory <= 4 by 0.5, latency <= 50 not logged; total violation unknown)" in \
        stops["e"].explanation
    assert "4 trials rank ahead of it (1 less infeasible)" in stops["e"].explanation


def test_one_objective_with_constraints_ranks_by_the_best_value_among_feasible_ones() -> None:
    runner = PolicyRunner(ONE, metric="accuracy", constraints=["size <= 10"])
    assert runner.report("a", 0.9, violations=(3.0,)) == []
    assert runner.report("b", 0.5, violations=(0.0,)) == []
    [d] = runner.report("c", 0.95, violations=(1.0,))   # the best value, infeasible
    assert d.trial_id == "c" and d.values is None and d.violations == (1.0,)
    assert runner.report("d", 0.4, violations=(-1.0,)) == []  # 4 at the rung: 2 go on
    [d] = runner.report("e", 0.3, violations=(-1.0,))  # feasible, behind b and d
    assert d.explanation == (
        "accuracy 0.3 at rung 0 (interval 1): feasible, but 2 of the 3 feasible of the 5 "
        "trials that reached it did better, and only the best 2 (a 1/3 share, rounded up) go "
        "on (asha reduction_factor=3)")
    assert d.rank == 2 and d.threshold is None


def test_a_report_without_violations_counts_as_not_met() -> None:
    runner = PolicyRunner(ONE, constraints=["x <= 0"])
    runner.report("a", 0.1, violations=(0.0,))
    runner.report("b", 0.2, violations=(0.0,))
    [d] = runner.report("c", 0.9)
    assert d.trial_id == "c" and d.violations == (math.inf,)


def test_runner_with_two_objectives_through_hyperband() -> None:
    policy = HyperbandPolicy(min_resource=1, max_resource=9)
    runner = PolicyRunner(policy, objectives=TWO)
    rng = random.Random(3)
    out = []
    for _ in range(3):
        for i in range(30):
            acc = rng.random()
            out += runner.report(f"HD_m_{i}", acc, values=(acc, -rng.random() * 100))
    assert out and all(d.policy == "hyperband" and d.rank is not None for d in out)
    assert all("hyperband bracket" in d.explanation for d in out)


# ------------------------------------------------------------- one objective: nothing changes
POLICIES: list[EarlyTerminationPolicy] = [
    BanditPolicy(slack_factor=0.1, delay_evaluation=2),
    MedianStoppingPolicy(delay_evaluation=3),
    TruncationSelectionPolicy(30, exclude_finished_jobs=True),
    AshaPolicy(),
    HyperbandPolicy(max_resource=20),
]


def stream(seed: int, trials: int = 12, length: int = 10) -> list[tuple[str, float, float, float]]:
    """Interleaved reports: (trial, accuracy, latency, memory violation)."""
    rng = random.Random(seed)
    queues = {f"HD_s_{i}": [(rng.gauss(0.1 * i * (1 - 0.8 ** (k + 1)), 0.05),
                             rng.uniform(5, 50), rng.uniform(-2, 1)) for k in range(length)]
              for i in range(trials)}
    out = []
    while queues:
        trial_id = rng.choice(sorted(queues))
        acc, lat, mem = queues[trial_id].pop(0)
        out.append((trial_id, acc, lat, mem))
        if not queues[trial_id]:
            del queues[trial_id]
    return out


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.type)
def test_one_objective_values_change_nothing(policy: EarlyTerminationPolicy) -> None:
    plain, given = PolicyRunner(policy), PolicyRunner(policy)
    a = [d for t, acc, _, _ in stream(7) for d in plain.report(t, acc)]
    b = [d for t, acc, _, _ in stream(7) for d in given.report(t, acc, values=(acc,))]
    assert a == b and a
    assert all(set(d.to_dict()) == {"trial_id", "policy", "interval", "value", "threshold",
                                     "explanation"} for d in a)


@pytest.mark.parametrize("policy", POLICIES[:3], ids=lambda p: p.type)
def test_azure_policies_judge_the_first_objective_alone(policy: EarlyTerminationPolicy) -> None:
    plain = PolicyRunner(policy)
    several = PolicyRunner(policy, objectives=TWO, constraints=["memory <= 8"])
    a = [d for t, acc, _, _ in stream(5) for d in plain.report(t, acc)]
    b = [d for t, acc, lat, mem in stream(5)
         for d in several.report(t, acc, values=(acc, -lat), violations=(mem,))]
    assert a == b and a


def test_runner_refuses_vectors_of_the_wrong_length() -> None:
    runner = PolicyRunner(ONE, objectives=TWO)
    with pytest.raises(ValueError, match=r"values: expected one value per objective \(2: "
                                         r"accuracy, latency\), got 3"):
        runner.report("a", 0.1, values=(0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match=r"violations: expected one value per constraint \(0\)"):
        runner.report("a", 0.1, values=(0.1, 0.2), violations=(1.0,))
    with pytest.raises(ValueError, match="values: expected one value per objective"):
        PolicyRunner(ONE).report("a", 0.1, values=(0.1, 0.2))
    assert runner.series == {}  # nothing half-recorded
    with pytest.raises(ValueError, match=r"values_series: expected one entry per value of 'a'"):
        runner.add_finished("a", [0.1, 0.2], values_series=[(0.1, 0.2)])


# --------------------------------------------------------------- replay, restart, evidence
def drive(runner: PolicyRunner, reports: list[tuple[str, float, float, float]]) -> list[Decision]:
    return [d for t, acc, lat, mem in reports
            for d in runner.report(t, acc, values=(acc, -lat), violations=(mem,))]


def test_restored_trials_give_the_same_decisions() -> None:
    """Finished trials handed over with add_finished weigh as they did when they reported."""
    policy = AshaPolicy(min_resource=1, reduction_factor=2)
    early = stream(11, trials=8, length=9)
    late = [(t.replace("HD_s", "HD_t"), a, b, c) for t, a, b, c in stream(12, 8, 9)]
    live = PolicyRunner(policy, objectives=TWO, constraints=["memory <= 8"])
    drive(live, early)
    for trial_id in list(live.running):
        live.finish(trial_id)
    expected = drive(live, late)
    assert expected

    restored = PolicyRunner(policy, objectives=TWO, constraints=["memory <= 8"])
    for trial_id in {t for t, *_ in early}:
        logged = [(acc, lat, mem) for t, acc, lat, mem in early if t == trial_id]
        ran = len(live.series[trial_id])  # a stopped trial's later lines were not logged
        logged = logged[:ran]
        nan_first = [(math.nan, 0.0, 0.0), *logged]  # a NaN is dropped with its entries
        restored.add_finished(trial_id, [a for a, _, _ in nan_first],
                              values_series=[(a, -b) for a, b, _ in nan_first],
                              violations_series=[(c,) for _, _, c in nan_first])
    assert drive(restored, late) == expected


def test_decisions_round_trip_as_json_evidence() -> None:
    runner = PolicyRunner(ONE, objectives=TWO, constraints=["memory <= 8"])
    runner.report("a", 0.9, values=(0.9, -10.0), violations=(-1.0,))
    runner.report("b", 0.8, values=(0.8, -5.0), violations=(-1.0,))
    [d] = runner.report("c", 0.1, values=(0.1, -50.0), violations=(2.0,))
    again = Decision.from_dict(json.loads(json.dumps(d.to_dict(), allow_nan=False)))
    assert again == d and again.values == (0.1, 50.0) and again.violations == (2.0,)
    # JSON has no infinity: a value not logged is stored as null, read back as NaN
    odd = Decision("t", "asha", 4, 0.5, None, "...", values=(0.5, -math.inf),
                   violations=(math.inf,), rank=None)
    stored = odd.to_dict()
    assert stored["values"] == [0.5, None] and stored["violations"] == [None]
    json.dumps(stored, allow_nan=False)
    back = Decision.from_dict(stored)
    assert back.values is not None and math.isnan(back.values[1])
    # evidence stored before several objectives existed still reads
    old = {"trial_id": "t", "policy": "bandit", "interval": 2, "value": 0.1,
           "threshold": 0.2, "explanation": "..."}
    assert Decision.from_dict(old).to_dict() == old
    assert policy_from_dict(ONE.to_dict()) == ONE


def test_replay_with_vectors_matches_the_runner() -> None:
    reports = stream(4, trials=9, length=9)
    policy = AshaPolicy(min_resource=1)
    curves: dict[str, list[float]] = {}
    vectors: dict[str, list[tuple[float, float]]] = {}
    violations: dict[str, list[tuple[float]]] = {}
    for t, acc, lat, mem in reports:
        curves.setdefault(t, []).append(acc)
        vectors.setdefault(t, []).append((acc, lat))  # as logged: latency minimized
        violations.setdefault(t, []).append((mem,))
    r = replay(curves, policy, metric="accuracy", objectives=TWO, vectors=vectors,
               constraints=["memory <= 8"], violations=violations)
    assert r.decisions and all(d.values is not None for d in r.decisions)
    again = replay(curves, policy, metric="accuracy", objectives=TWO, vectors=vectors,
                   constraints=["memory <= 8"], violations=violations)
    assert again.decisions == r.decisions and again.ran == r.ran
    one = replay(curves, policy, metric="accuracy")
    assert one.decisions != r.decisions  # the other objective and the constraint count
    with pytest.raises(ValueError, match=r"vectors\['HD_s_0'\]: expected one entry per value"):
        replay(curves, policy, objectives=TWO, vectors={"HD_s_0": [(0.1, 1.0)]})


# ------------------------------------------------------------------------- what users are told
def test_policy_note() -> None:
    bandit = BanditPolicy(slack_factor=0.1)
    assert policy_note(bandit, ["accuracy", "latency"]) == (
        "early_termination: bandit acts on the first objective (accuracy) only; asha and "
        "hyperband rank trials by all objectives")
    assert policy_note(bandit, ["accuracy"]) is None
    assert policy_note(TruncationSelectionPolicy(20), ["loss"], ["mem <= 1"]) == (
        "early_termination: truncation_selection ignores the constraints (it compares loss "
        "alone); asha and hyperband rank infeasible trials last")
    for quiet in (AshaPolicy(), HyperbandPolicy(), NoTerminationPolicy(), None):
        assert policy_note(quiet, ["a", "b"], 2) is None
    assert [p.multi_objective for p in POLICIES] == [False, False, False, True, True]
    with pytest.raises(ValueError, match="objectives"):
        policy_note(bandit, [])
