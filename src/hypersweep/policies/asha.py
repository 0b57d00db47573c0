"""AshaPolicy (ours, beyond Azure): asynchronous successive halving keyed on intervals.

Successive halving (Jamieson & Talwalkar 2016; asynchronous form "ASHA", Li et al. 2020) gives
every trial a small budget and lets only the best ``1/reduction_factor`` of them go on to a
budget ``reduction_factor`` times larger. Here the budget is the number of intervals (primary
metric reports). Rung ``r`` sits at interval ``min_resource * reduction_factor ** (s + r)``
(``s`` = ``min_early_stopping_rate``), below ``max_resource`` when that is given.

How "promote" maps to "stop" (ours). In ASHA a trial that reaches a rung waits there, and
whenever a worker is free the best ``floor(n / eta)`` of the ``n`` trials at the rung that have
not gone on yet are promoted; a rung with fewer than ``eta`` trials promotes nobody *yet*. A
sweep's trials cannot wait: each runs on unless stopped, so the decision is made once, when the
trial reaches the rung, and it is final. Our rule, with ``n`` the trials that have reached the
rung so far (running or finished, itself included) and ``eta = reduction_factor``:

* ``n < eta``: too few to rank, the trial goes on (ASHA would have let it wait for company,
  not thrown it away; Optuna instead stops it unless it is the best so far).
* otherwise it is stopped when at least a ``1/eta`` share of them did strictly better, that is
  when it is not among the best ``ceil(n / eta)`` (ties go its way). Optuna keeps only the best
  ``floor(n / eta)``: the same share once many trials have reported, but harsher on the early
  arrivals, which ASHA would have let wait for a promotion that may still come.

A trial's value at the rung is its best value up to that interval (Optuna and the ASHA paper
use the value reported at that step; we use the best, as the sweep's score and Azure's policies
do; measured on the bench it makes no difference to what is kept). A trial is judged at a rung
once, when it reaches it: promotions are never revoked, which is what makes the algorithm
asynchronous (unlike Azure's policies, which judge a trial again as slower ones catch up).

Default first rung: interval 4 (``min_resource=4``; Optuna and the paper start at 1). A sweep has
a fixed number of trials, so compute saved buys no extra trials: the policy must keep the eventual
best, and on learning curves that cross (slow starters that end best) the ranking after 1 or 2
reports is close to noise. ``bench/bench_policies.py`` measured first rungs 1 to 5: 4 is the
earliest that keeps the best within 1% on both of its tasks while stopping most of the compute.

Several objectives, constraints (ours). When the sweep has several objectives or constraints,
the trials at a rung are ordered as in :mod:`hypersweep.policies.ranking`: feasible ones by
Pareto rank, a split front by crowding distance, then infeasible ones by total violation; the
rule stays the same (stopped when at least ``ceil(n / eta)`` trials rank strictly ahead). A
trial's point at the rung is every objective's latest value when it logged that interval, not
each objective's best so far: bests taken at different times make a point that no checkpoint
of the trial reached, and objectives that trade off (accuracy against size) would all look
their best at once. With one objective and constraints the value is the best so far, as
without constraints.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from hypersweep.errors import ConfigError
from hypersweep.frozen import FrozenRecord
from hypersweep.policies.base import (
    MAXIMIZE,
    Decision,
    EarlyTerminationPolicy,
    Evidence,
    Objective,
    best_upto,
    check_int,
    fmt,
    judged,
)
from hypersweep.policies.ranking import RungRanking, rank_points
from hypersweep.space.values import describe


def rung_index(interval: int, min_resource: int, reduction_factor: int, rate: int,
               max_resource: int | None) -> int | None:
    """The rung ``r`` with ``interval == min_resource * eta ** (rate + r)``, or None."""
    if max_resource is not None and interval >= max_resource:
        return None  # a trial at max_resource has finished: nothing left to save
    resource, exponent = min_resource, 0
    while resource < interval:
        resource *= reduction_factor
        exponent += 1
    if resource != interval or exponent < rate:
        return None
    return exponent - rate


def promoted_count(n: int, reduction_factor: int) -> int | None:
    """How many of ``n`` trials at a rung go on: ``ceil(n / eta)``, or None (all) when
    ``n < eta`` (too few to rank)."""
    if n < reduction_factor:
        return None
    return -(-n // reduction_factor)


def promotion_threshold(values: Sequence[float], reduction_factor: int) -> float | None:
    """The value a trial must reach to go on among ``values`` (its own included): the
    ``ceil(n / eta)``-th best, or None when ``n < eta`` (every trial goes on).

    A trial below it has at least ``n / eta`` trials strictly better than it.

    >>> promotion_threshold([0.9, 0.8, 0.7, 0.6], 3)   # top 2 of 4 go on
    0.8
    >>> promotion_threshold([0.9, 0.8], 3) is None     # 2 < eta: nobody is stopped yet
    True
    """
    keep = promoted_count(len(values), reduction_factor)
    if keep is None:
        return None
    return sorted(values, reverse=True)[keep - 1]


def _ranked_text(i: int, ranking: RungRanking, point: Sequence[float],
                 broken: Sequence[float] | None, evidence: Evidence, interval: int, rung: int,
                 keep: int, eta: int, policy: str) -> str:
    """Why trial ``i`` of a ranked rung is stopped, in words."""
    objectives = evidence.objectives if len(evidence.objectives) > 1 else evidence.objectives[:1]
    shown = ", ".join(f"{o.metric} {fmt(o.user(v)) if not np.isnan(v) else 'not logged'}"
                      for o, v in zip(objectives, point, strict=False))
    n, ahead = len(ranking.ahead), int(ranking.ahead[i])
    feasible = int(ranking.feasible.sum())
    of = f"the {feasible} feasible of the {n} trials" if evidence.constraints else \
        f"the {n} trials"
    if ranking.feasible[i] and len(evidence.objectives) > 1:
        rank = int(ranking.ranks[i])
        fronts = int(np.sum(ranking.feasible & (ranking.ranks < rank)))
        where = f"Pareto rank {rank} (0: not dominated) among {of} that reached it"
        parts = [f"{fronts} on better fronts"] if fronts else []
        if ahead > fronts:
            parts.append(f"{ahead - fronts} on its front with a larger crowding distance")
        why = f"{ahead} trials rank ahead of it ({', '.join(parts)})"
    elif ranking.feasible[i]:
        where = f"feasible, but {ahead} of {of} that reached it did better"
        why = ""
    else:
        assert broken is not None
        missed = [f"{label} by {fmt(v)}" if np.isfinite(v) else f"{label} not logged"
                  for label, v in zip(evidence.constraints, broken, strict=True) if not v <= 0]
        total = ranking.total_violation[i]
        where = (f"infeasible ({', '.join(missed)}; total violation "
                 f"{fmt(total) if np.isfinite(total) else 'unknown'}), so behind the "
                 f"{feasible} feasible of the {n} trials that reached it")
        worse = ahead - feasible
        why = f"{ahead} trials rank ahead of it" + (
            f" ({worse} less infeasible)" if worse else "")
    return (f"{shown} at rung {rung} (interval {interval}): {where}"
            f"{'; ' + why if why else ''}, and only the best "
            f"{keep} (a 1/{eta} share, rounded up) go on ({policy} reduction_factor={eta})")


class AshaPolicy(EarlyTerminationPolicy, FrozenRecord):
    """Asynchronous successive halving over the metric's intervals (ours; not in Azure).

    Parameters
    ----------
    min_resource : int
        The first rung's interval (>= 1). Default 4: judging on the first report or two stops
        slow starters that end best (see the module's notes).
    max_resource : int, optional
        Trials report at most this many intervals; no rung at or after it. None: no limit.
    reduction_factor : int
        ``eta`` (>= 2): rungs are ``eta`` times apart and the top ``1/eta`` go on.
    min_early_stopping_rate : int
        ``s`` (>= 0): the first rung is at ``min_resource * eta ** s`` (Hyperband's brackets).

    Examples
    --------
    >>> p = AshaPolicy()                    # rungs at intervals 4, 12, 36, 108, ...
    >>> [k for k in range(1, 40) if p.is_eligible(k)]
    [4, 12, 36]
    >>> series = {"a": [0.9] * 4, "b": [0.8] * 4, "c": [0.5] * 4}
    >>> p.evaluate(series, {"c"}, 4, reporter="c")[0].explanation
    'metric 0.5 < 0.9 needed to go on at rung 0 (interval 4): 2 of the 3 trials that reached \
it did better, and only the best 1 (a 1/3 share, rounded up) go on (asha reduction_factor=3)'
    """

    min_resource: int = 4
    max_resource: int | None = None
    reduction_factor: int = 3
    min_early_stopping_rate: int = 0

    type: ClassVar[str] = "asha"
    multi_objective: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_resource", check_int(self.min_resource, "min_resource", 1))
        if self.max_resource is not None:
            object.__setattr__(self, "max_resource",
                               check_int(self.max_resource, "max_resource", 1))
            if self.max_resource <= self.min_resource:
                raise ConfigError(f"max_resource: expected an integer > min_resource "
                                  f"{self.min_resource} (got {describe(self.max_resource)})")
        object.__setattr__(self, "reduction_factor",
                           check_int(self.reduction_factor, "reduction_factor", 2))
        object.__setattr__(self, "min_early_stopping_rate",
                           check_int(self.min_early_stopping_rate, "min_early_stopping_rate", 0))

    def rung(self, interval: int) -> int | None:
        """The rung at ``interval``, or None when ``interval`` is not a rung."""
        return rung_index(interval, self.min_resource, self.reduction_factor,
                          self.min_early_stopping_rate, self.max_resource)

    def is_eligible(self, interval: int) -> bool:
        return self.rung(interval) is not None

    def evaluate(
        self,
        series: Mapping[str, Sequence[float]],
        running: Collection[str],
        interval: int,
        *,
        reporter: str | None = None,
        objective: Objective = MAXIMIZE,
    ) -> list[Decision]:
        return self.judge(series, running, interval, reporter=reporter, objective=objective)

    def evaluate_objectives(
        self,
        series: Mapping[str, Sequence[float]],
        running: Collection[str],
        interval: int,
        *,
        evidence: Evidence,
        reporter: str | None = None,
        objective: Objective = MAXIMIZE,
    ) -> list[Decision]:
        return self.judge(series, running, interval, reporter=reporter, objective=objective,
                          evidence=evidence)

    def judge(
        self,
        series: Mapping[str, Sequence[float]],
        running: Collection[str],
        interval: int,
        *,
        reporter: str | None = None,
        objective: Objective = MAXIMIZE,
        members: Collection[str] | None = None,
        label: str = "",
        evidence: Evidence | None = None,
    ) -> list[Decision]:
        """:meth:`evaluate` among ``members`` only (Hyperband's bracket), naming ``label``;
        with ``evidence``, ranking by every objective and the constraints."""
        rung = self.rung(interval)
        if rung is None:
            return []
        # With a reporter, only it is judged: a rung is passed once, when reached.
        pool = running if reporter is None else [reporter] if reporter in running else []
        candidates = judged(series, pool, interval)
        if members is not None:
            candidates = [t for t in candidates if t in members]
        if not candidates:
            return []
        at_rung = [t for t, v in series.items()
                   if len(v) >= interval and (members is None or t in members)]
        keep = promoted_count(len(at_rung), self.reduction_factor)
        if keep is None:
            return []  # fewer than eta trials at the rung: too few to rank, all go on
        policy = label or self.type
        if evidence is not None:
            return self._judge_ranked(series, candidates, at_rung, interval, rung, keep,
                                      policy, evidence)
        competing = [best_upto(series[t], interval) for t in at_rung]
        threshold = promotion_threshold(competing, self.reduction_factor)
        assert threshold is not None  # keep is not None
        eta = self.reduction_factor
        out = []
        for trial_id in candidates:
            value = best_upto(series[trial_id], interval)
            if value < threshold:
                better = sum(1 for v in competing if v > value)
                text = (f"{objective.metric} {fmt(objective.user(value))} {objective.worse} "
                        f"{fmt(objective.user(threshold))} needed to go on at rung {rung} "
                        f"(interval {interval}): {better} of the {len(competing)} trials that "
                        f"reached it did better, and only the best {keep} (a 1/{eta} share, "
                        f"rounded up) go on ({policy} reduction_factor={eta})")
                out.append(Decision(trial_id, policy.split()[0], interval,
                                    objective.user(value), objective.user(threshold), text))
        return out

    def _judge_ranked(self, series: Mapping[str, Sequence[float]], candidates: list[str],
                      at_rung: list[str], interval: int, rung: int, keep: int, policy: str,
                      evidence: Evidence) -> list[Decision]:
        """The rule on the order of :mod:`hypersweep.policies.ranking`."""
        several = len(evidence.objectives) > 1
        # One objective: its best so far, as without constraints (see the module's notes).
        points = [evidence.point(t, series[t], interval) if several
                  else (best_upto(series[t], interval),) for t in at_rung]
        broken = ([evidence.violation(t, interval) for t in at_rung] if evidence.constraints
                  else None)
        ranking = rank_points(np.array(points, dtype=np.float64).reshape(len(at_rung), -1),
                              None if broken is None
                              else np.array(broken, dtype=np.float64).reshape(len(at_rung), -1))
        where = {t: i for i, t in enumerate(at_rung)}
        out = []
        for trial_id in candidates:
            i = where[trial_id]
            if ranking.ahead[i] < keep:
                continue
            primary = evidence.objectives[0]
            text = _ranked_text(i, ranking, points[i], None if broken is None else broken[i],
                                evidence, interval, rung, keep, self.reduction_factor, policy)
            out.append(Decision(
                trial_id, policy.split()[0], interval, primary.user(points[i][0]), None, text,
                values=(tuple(o.user(v) for o, v in zip(evidence.objectives, points[i],
                                                       strict=True)) if several else None),
                violations=None if broken is None else tuple(broken[i]),
                rank=int(ranking.ranks[i]) if ranking.feasible[i] else None))
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "min_resource": self.min_resource}
        if self.max_resource is not None:
            out["max_resource"] = self.max_resource
        out["reduction_factor"] = self.reduction_factor
        out["min_early_stopping_rate"] = self.min_early_stopping_rate
        return out
