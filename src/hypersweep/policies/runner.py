"""PolicyRunner: feeds a policy the primary metric report by report, in arrival order.

It implements our rule from ``AZURE.md``: *whenever any trial reaches an eligible interval k,
the policy is applied at interval k to every running trial that has reached k*. It holds the
series of every trial (warm-start trials count as finished), the set of running trials and the
trials it stopped. It is pure and deterministic: the decisions depend only on the order of the
reports (and on which trials were started and finished between them), never on how they are
batched or on when anyone polls.

How the controller uses it (one runner per sweep, built when the controller starts)::

    runner = PolicyRunner(policy, maximize=settings.maximize, metric=settings.primary_metric,
                          warm_start=warm_series)      # {trial_id: [oriented values]}
    # on launch:            runner.start(trial_id)
    # per primary point, in journal order per trial, trials interleaved by report time:
    for decision in runner.report(trial_id, settings.oriented(value)):
        cancel(decision.trial_id, reason="early_termination", evidence=decision.to_dict())
    # when a trial ends (completed, failed, canceled by anything): runner.finish(trial_id)

Values are oriented so that larger is better (the contract of every policy); explanations and
``Decision.value``/``threshold`` come back in the user's orientation thanks to ``maximize``.
A report from a trial that is no longer running (a line its journal held when it was stopped)
is kept as evidence but triggers nothing. NaN is ignored, as the controller ignores it.

Examples
--------
>>> from hypersweep.policies import MedianStoppingPolicy
>>> runner = PolicyRunner(MedianStoppingPolicy(), warm_start={"old": [0.9, 0.9]})
>>> runner.report("a", 0.95)
[]
>>> [d.trial_id for d in runner.report("b", 0.2)]
['b']
>>> sorted(runner.running), list(runner.stopped)
(['a'], ['b'])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from hypersweep.policies.base import Decision, EarlyTerminationPolicy, Objective


class PolicyRunner:
    """Drive a policy report by report.

    Parameters
    ----------
    policy : EarlyTerminationPolicy
        The policy to apply.
    maximize : bool
        The user's goal, for explanations and Bandit's minimize formula. Values given to
        :meth:`report` are already oriented so that larger is better.
    metric : str
        The primary metric's name, for explanations.
    warm_start : mapping of trial id to oriented values, optional
        Series of earlier sweeps' trials; they count as finished trials.
    """

    def __init__(self, policy: EarlyTerminationPolicy, *, maximize: bool = True,
                 metric: str = "metric",
                 warm_start: Mapping[str, Sequence[float]] | None = None) -> None:
        self.policy = policy
        self.objective = Objective(maximize=maximize, metric=metric)
        self._series: dict[str, list[float]] = {}
        self._running: set[str] = set()
        self._stopped: dict[str, Decision] = {}
        for trial_id, values in (warm_start or {}).items():
            self.add_finished(trial_id, values)

    # ------------------------------------------------------------------ state
    @property
    def series(self) -> Mapping[str, Sequence[float]]:
        """Every known trial's oriented values (do not mutate)."""
        return self._series

    @property
    def running(self) -> frozenset[str]:
        """Trials that may still be stopped."""
        return frozenset(self._running)

    @property
    def stopped(self) -> Mapping[str, Decision]:
        """Trials this runner stopped, in the order it stopped them, with the evidence."""
        return dict(self._stopped)

    # ------------------------------------------------------------------ events
    def start(self, trial_id: str) -> None:
        """A trial was launched (optional: its first report starts it too)."""
        if trial_id not in self._series:
            self._series[trial_id] = []
            self._running.add(trial_id)

    def add_finished(self, trial_id: str, values: Sequence[float]) -> None:
        """A trial that ended before the runner saw it (warm start, or recovery)."""
        self._series[trial_id] = [float(v) for v in values if not math.isnan(v)]
        self._running.discard(trial_id)

    def finish(self, trial_id: str) -> None:
        """A trial ended (any status); its series stays as evidence."""
        self._series.setdefault(trial_id, [])
        self._running.discard(trial_id)

    def report(self, trial_id: str, value: float) -> list[Decision]:
        """Record one oriented value; return the trials to stop now (the reporter or others).

        The returned trials are no longer running for this runner.
        """
        value = float(value)
        if math.isnan(value):
            return []
        if trial_id not in self._series:
            self.start(trial_id)
        values = self._series[trial_id]
        values.append(value)
        interval = len(values)
        if trial_id not in self._running or not self.policy.is_eligible(interval):
            return []
        decisions = self.policy.evaluate(self._series, self._running, interval,
                                         reporter=trial_id, objective=self.objective)
        for decision in decisions:
            self._running.discard(decision.trial_id)
            self._stopped[decision.trial_id] = decision
        return decisions

    def report_many(self, reports: Iterable[tuple[str, float]]) -> list[Decision]:
        """:meth:`report` each ``(trial_id, value)`` in order; all decisions, in order."""
        out: list[Decision] = []
        for trial_id, value in reports:
            out.extend(self.report(trial_id, value))
        return out
