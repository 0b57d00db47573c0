"""Offline replay: what would a policy have done to these finished learning curves?

:func:`replay` re-runs recorded curves through a :class:`PolicyRunner`: reports are ordered by
their recorded times when given, otherwise by a simple concurrency model (below). It says which
trials the policy would have stopped and at which interval, how much compute that saves
(intervals not run / all intervals), whether the best trial -- by its best value over the FULL
curve -- would have survived, and the best result obtained among the intervals that ran.

Concurrency model (ours) when no times are given: ``workers`` trials run at a time, started in
the mapping's order; every interval takes one time unit; a trial's ``j``-th report happens at
``start + j``; reports at the same time are taken in start order; a slot freed (trial finished
or stopped) at time ``t`` starts the next trial at ``t``. ``workers=None`` runs every trial at
once, which is round robin by interval (every trial's interval 1, then every interval 2, ...).
With recorded times the reports keep their times, and a stopped trial's later reports are
dropped (the other trials cannot start earlier: their times are what they were).

Examples
--------
>>> from hypersweep.policies import TruncationSelectionPolicy
>>> curves = {"a": [0.5, 0.6, 0.7], "b": [0.4, 0.45, 0.5], "c": [0.1, 0.2, 0.9]}
>>> r = replay(curves, TruncationSelectionPolicy(truncation_percentage=34))
>>> r.stopped_at, r.best_trial, r.best_survived, r.intervals_run, r.intervals_total
({'c': 1}, 'c', False, 7, 9)
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypersweep.policies.base import Decision, EarlyTerminationPolicy, Objective, fmt, natural_key
from hypersweep.policies.runner import PolicyRunner

Curve = Sequence[float] | Sequence[tuple[float, float]]
"""A trial's values in logging order, or its ``(time, value)`` pairs."""


def simulate(
    curves: Mapping[str, Sequence[float]],
    on_report: Callable[[str, int, float], Iterable[str]],
    *,
    workers: int | None = None,
    times: Mapping[str, Sequence[float]] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_finish: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Play curves as reports in the order of the concurrency model; return intervals run.

    ``on_report(trial_id, interval, value)`` returns the trials to stop (any of them, usually
    the reporter). ``on_start``/``on_finish`` are told when a trial starts and when it ends
    (ran out of values; stopped trials are not told: whoever stopped them knows). Bench code
    drives other tuners (Optuna) through the same schedule with it.
    """
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers: expected an integer >= 1 or None (got {workers!r})")
    ran = dict.fromkeys(curves, 0)
    active: set[str] = set()
    # (time, start order, trial id); entries of stopped trials are skipped when popped
    heap: list[tuple[float, int, str]] = []

    def begin(trial_id: str) -> None:
        active.add(trial_id)
        if on_start:
            on_start(trial_id)

    def end(trial_id: str) -> None:
        active.discard(trial_id)
        if on_finish:
            on_finish(trial_id)

    if times is not None:
        order = {t: i for i, t in enumerate(curves)}
        for t in curves:
            if len(times.get(t, ())) != len(curves[t]):
                raise ValueError(f"times[{t!r}]: expected one time per value")
            heap.extend((float(s), order[t], t) for s in times[t])
        heap.sort()
        gone: set[str] = set()
        for _, _, t in heap:
            if t in gone:
                continue
            if ran[t] == 0:
                begin(t)
            ran[t] += 1
            for s in on_report(t, ran[t], curves[t][ran[t] - 1]):
                if s in active:
                    active.discard(s)
                    gone.add(s)
            if t in active and ran[t] == len(curves[t]):
                end(t)
                gone.add(t)
        return ran

    slots = len(curves) if workers is None else workers
    waiting = deque(enumerate(curves))

    def launch(now: float) -> None:
        while waiting and len(active) < slots:
            index, trial_id = waiting.popleft()
            begin(trial_id)
            if len(curves[trial_id]) == 0:
                end(trial_id)
            else:
                heapq.heappush(heap, (now + 1, index, trial_id))

    launch(0)
    while heap:
        now, index, t = heapq.heappop(heap)
        if t not in active:
            continue
        ran[t] += 1
        for s in on_report(t, ran[t], curves[t][ran[t] - 1]):
            active.discard(s)
        if t in active:
            if ran[t] == len(curves[t]):
                end(t)
            else:
                heapq.heappush(heap, (now + 1, index, t))
        launch(now)
    return ran


def _best(values: Iterable[float], maximize: bool) -> float | None:
    clean = [float(v) for v in values if not math.isnan(v)]
    if not clean:
        return None
    return max(clean) if maximize else min(clean)


@dataclass
class ReplayReport:
    """What a policy would have done to a set of finished curves (see :func:`replay`).

    Values are in the user's orientation (as logged).
    """

    policy: dict[str, Any]
    maximize: bool
    metric: str
    workers: int | None
    totals: dict[str, int]
    """Intervals each trial's full curve has."""
    ran: dict[str, int]
    """Intervals each trial ran under the policy."""
    decisions: list[Decision] = field(default_factory=list)
    """The stops, in the order they happened."""
    best_full: dict[str, float | None] = field(default_factory=dict)
    best_ran: dict[str, float | None] = field(default_factory=dict)

    @property
    def stopped_at(self) -> dict[str, int]:
        """``{trial_id: interval}`` of the stopped trials, in stopping order."""
        return {d.trial_id: self.ran[d.trial_id] for d in self.decisions}

    @property
    def intervals_total(self) -> int:
        return sum(self.totals.values())

    @property
    def intervals_run(self) -> int:
        return sum(self.ran.values())

    @property
    def saved(self) -> float:
        """Fraction of the intervals not run."""
        total = self.intervals_total
        return 1 - self.intervals_run / total if total else 0.0

    def _argbest(self, values: Mapping[str, float | None]) -> str | None:
        scored = [(v, t) for t, v in values.items() if v is not None]
        if not scored:
            return None
        best = max(v for v, _ in scored) if self.maximize else min(v for v, _ in scored)
        return min((t for v, t in scored if v == best), key=natural_key)

    @property
    def best_trial(self) -> str | None:
        """The best trial by its best value over its FULL curve."""
        return self._argbest(self.best_full)

    @property
    def best_value(self) -> float | None:
        return None if self.best_trial is None else self.best_full[self.best_trial]

    @property
    def best_survived(self) -> bool:
        """Whether the policy let the best trial (over full curves) run to its end."""
        return self.best_trial is not None and self.best_trial not in self.stopped_at

    @property
    def obtained_trial(self) -> str | None:
        """The best trial among what ran."""
        return self._argbest(self.best_ran)

    @property
    def obtained_value(self) -> float | None:
        """The best result the sweep would have reported."""
        return None if self.obtained_trial is None else self.best_ran[self.obtained_trial]

    def table(self) -> str:
        """A plain-text table, one row a trial, then the summary."""
        goal = "maximize" if self.maximize else "minimize"
        setting = ", ".join(f"{k}={v}" for k, v in self.policy.items() if k != "type")
        concurrency = (f"{self.workers} at a time" if self.workers is not None
                       else "all at once or as recorded")
        lines = [f"replay of {self.policy.get('type')} ({setting}) on {len(self.totals)} trials, "
                 f"{goal} {self.metric}, {concurrency}"]
        width = max([5, *(len(t) for t in self.totals)])
        lines.append(f"{'trial':<{width}}  {'ran':>9}  {'stopped':>7}  {'best ran':>10}  "
                     f"{'best full':>10}  why")
        why = {d.trial_id: d.explanation for d in self.decisions}
        for t in sorted(self.totals, key=natural_key):
            ran = f"{self.ran[t]}/{self.totals[t]}"
            stop = str(self.ran[t]) if t in why else "-"
            br, bf = self.best_ran[t], self.best_full[t]
            lines.append(f"{t:<{width}}  {ran:>9}  {stop:>7}  "
                         f"{'-' if br is None else fmt(br):>10}  "
                         f"{'-' if bf is None else fmt(bf):>10}  {why.get(t, '')}".rstrip())
        lines.append(f"compute: {self.intervals_run} of {self.intervals_total} intervals run "
                     f"({100 * self.saved:.1f}% saved); {len(self.decisions)} trials stopped")
        if self.best_trial is not None:
            fate = ("survived" if self.best_survived
                    else f"was stopped at interval {self.stopped_at[self.best_trial]}")
            lines.append(f"best trial over full curves: {self.best_trial} "
                         f"({fmt(self.best_value)}) {fate}")  # type: ignore[arg-type]
        if self.obtained_trial is not None:
            lines.append(f"best result obtained: {fmt(self.obtained_value)} "  # type: ignore[arg-type]
                         f"({self.obtained_trial})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _split(curve: Curve) -> tuple[list[float], list[float] | None]:
    items = list(curve)
    if items and isinstance(items[0], tuple | list):
        pairs = [(float(p[0]), float(p[1])) for p in items]  # type: ignore[index]
        return [v for _, v in pairs], [s for s, _ in pairs]
    return [float(v) for v in items], None  # type: ignore[arg-type]


def replay(
    curves: Mapping[str, Curve],
    policy: EarlyTerminationPolicy,
    *,
    maximize: bool = True,
    metric: str = "metric",
    workers: int | None = None,
    warm_start: Mapping[str, Sequence[float]] | None = None,
    objectives: Sequence[Objective] | None = None,
    vectors: Mapping[str, Sequence[Sequence[float]]] | None = None,
    constraints: Sequence[str] | None = None,
    violations: Mapping[str, Sequence[Sequence[float]]] | None = None,
) -> ReplayReport:
    """Re-simulate finished learning curves under ``policy``.

    Parameters
    ----------
    curves : mapping of trial id to values, or to ``(time, value)`` pairs
        The primary metric as logged (the user's orientation), in logging order. With times
        (all curves or none), reports are replayed in time order; otherwise by the
        concurrency model of this module.
    policy : EarlyTerminationPolicy
        The policy to replay.
    maximize : bool
        The goal.
    metric : str
        The metric's name, for explanations.
    workers : int, optional
        Trials running at a time, in the mapping's order (None: all at once). Not with times.
    warm_start : mapping of trial id to values, optional
        Earlier trials' curves (as logged); they count as finished from the start.
    objectives : sequence of Objective, optional
        Several objectives: every objective, the primary first (``maximize``/``metric``).
    vectors : mapping of trial id to vectors, optional
        Per trial, one vector per value of its curve: every objective's latest value then,
        as logged (the user's orientation; NaN: not logged yet).
    constraints : sequence of str, optional
        The constraints' names.
    violations : mapping of trial id to vectors, optional
        Per trial, one vector per value of its curve: each constraint's violation then.

    Returns
    -------
    ReplayReport

    Examples
    --------
    >>> from hypersweep.policies import BanditPolicy
    >>> r = replay({"a": [0.9, 0.5], "b": [1.5, 1.2]}, BanditPolicy(slack_amount=0.3),
    ...            maximize=False, metric="loss")
    >>> r.decisions[0].explanation
    'loss 1.5 > best 0.9 + 0.3 = 1.2 at interval 1 (bandit slack_amount=0.3; best by a)'
    >>> from hypersweep.policies import AshaPolicy, Objective
    >>> curves = {"a": [0.9], "b": [0.8], "c": [0.7]}
    >>> r = replay(curves, AshaPolicy(min_resource=1), metric="acc",
    ...            objectives=[Objective(metric="acc"), Objective(False, "size")],
    ...            vectors={"a": [(0.9, 30)], "b": [(0.8, 10)], "c": [(0.7, 5)]})
    >>> r.stopped_at       # c, judged when the third trial arrives, ends the front: it goes on
    {}
    """
    values: dict[str, list[float]] = {}
    times: dict[str, list[float]] = {}
    for trial_id, curve in curves.items():
        values[trial_id], stamps = _split(curve)
        if stamps is not None:
            times[trial_id] = stamps
    if times and len(times) != sum(1 for v in values.values() if v):
        raise ValueError("curves: give (time, value) pairs for every trial or for none")
    if times and workers is not None:
        raise ValueError("workers: not with recorded times (the times say what ran when)")
    sign = 1.0 if maximize else -1.0
    warm = {t: [sign * float(v) for v in vs] for t, vs in (warm_start or {}).items()}
    runner = PolicyRunner(policy, maximize=maximize, metric=metric, warm_start=warm,
                          objectives=objectives, constraints=constraints)
    signs = [1.0 if o.maximize else -1.0 for o in runner.objectives]
    for key, given in (("vectors", vectors), ("violations", violations)):
        for trial_id, entries in (given or {}).items():
            if trial_id not in values or len(entries) != len(values[trial_id]):
                raise ValueError(f"{key}[{trial_id!r}]: expected one entry per value of its "
                                 f"curve")
    decisions: list[Decision] = []

    def on_report(trial_id: str, interval: int, value: float) -> list[str]:
        vector = vectors.get(trial_id) if vectors is not None else None
        broken = violations.get(trial_id) if violations is not None else None
        made = runner.report(
            trial_id, sign * value,
            values=None if vector is None else [
                s * float(v) for s, v in zip(signs, vector[interval - 1], strict=True)],
            violations=None if broken is None else broken[interval - 1])
        decisions.extend(made)
        return [d.trial_id for d in made]

    ran = simulate(values, on_report, workers=workers, times=times or None,
                   on_start=runner.start, on_finish=runner.finish)
    return ReplayReport(
        policy=policy.to_dict(), maximize=maximize, metric=metric, workers=workers,
        totals={t: len(v) for t, v in values.items()}, ran=ran, decisions=decisions,
        best_full={t: _best(v, maximize) for t, v in values.items()},
        best_ran={t: _best(v[:ran[t]], maximize) for t, v in values.items()},
    )
