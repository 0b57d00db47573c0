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

Several objectives or constraints: build the runner with ``objectives`` (every objective, the
primary first) and ``constraints`` (their names), and give each report the trial's latest
value of every objective and its latest violations::

    runner.report(trial_id, oriented_primary, values=oriented_vector, violations=violations)

Policies with ``multi_objective`` (ASHA, Hyperband) rank by all of them; the others judge the
primary series alone, as before (see :func:`hypersweep.policies.policy_note`).

Values are oriented so that larger is better (the contract of every policy); explanations and
``Decision.value``/``threshold`` come back in the user's orientation thanks to ``maximize``.
A report from a trial that is no longer running (a line its journal held when it was stopped)
is kept as evidence but triggers nothing. NaN is ignored, as the controller ignores it.

A runner whose policy never judges (`NoTerminationPolicy`, the default) keeps nothing at all
(`passive`): no series, no running set; every event is a no-op. A sweep without a policy then
pays nothing per report, and its memory does not grow with its trials.

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
>>> from hypersweep.policies import AshaPolicy, Objective
>>> two = PolicyRunner(AshaPolicy(min_resource=1), objectives=[
...     Objective(metric="accuracy"), Objective(maximize=False, metric="latency")])
>>> for t, acc, lat in [("a", 0.9, 30.0), ("b", 0.8, 10.0), ("c", 0.7, 20.0)]:
...     stops = two.report(t, acc, values=(acc, -lat))
>>> stops[0].explanation
'accuracy 0.7, latency 20 at rung 0 (interval 1): Pareto rank 1 (0: not dominated) among the 3 \
trials that reached it; 2 trials rank ahead of it (2 on better fronts), and only the best 1 \
(a 1/3 share, rounded up) go on (asha reduction_factor=3)'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from hypersweep.policies.base import Decision, EarlyTerminationPolicy, Evidence, Objective

Vector = tuple[float, ...]


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
    objectives : sequence of Objective, optional
        Every objective of the sweep, in the sweep's order, the primary first (None: the
        primary alone, from ``maximize`` and ``metric``). With more than one, each report's
        ``values`` must hold one value per objective.
    constraints : sequence of str, optional
        The constraints' names for explanations (``"latency <= 20"``), in the order of the
        reports' ``violations``. None or empty: the sweep has none.
    """

    def __init__(self, policy: EarlyTerminationPolicy, *, maximize: bool = True,
                 metric: str = "metric",
                 warm_start: Mapping[str, Sequence[float]] | None = None,
                 objectives: Sequence[Objective] | None = None,
                 constraints: Sequence[str] | None = None) -> None:
        self.policy = policy
        self.objective = Objective(maximize=maximize, metric=metric)
        self.objectives = tuple(objectives) if objectives else (self.objective,)
        self.constraints = tuple(constraints or ())
        self._series: dict[str, list[float]] = {}
        self._vectors: dict[str, list[Vector | None]] = {}
        self._violations: dict[str, list[Vector | None]] = {}
        # Only a sweep with several objectives or constraints builds evidence: a one-objective
        # sweep takes exactly the path it always took.
        self.evidence: Evidence | None = None
        if len(self.objectives) > 1 or self.constraints:
            self.evidence = Evidence(self.objectives, self.constraints, self._vectors,
                                     self._violations)
        self._running: set[str] = set()
        self._stopped: dict[str, Decision] = {}
        #: The policy never judges: the runner keeps nothing (see the module's notes).
        self.passive = policy.type == "none"
        for trial_id, values in (warm_start or {}).items():
            self.add_finished(trial_id, values)

    # ------------------------------------------------------------------ state
    @property
    def series(self) -> Mapping[str, Sequence[float]]:
        """Every known trial's oriented values (do not mutate; empty when `passive`)."""
        return self._series

    @property
    def running(self) -> frozenset[str]:
        """Trials that may still be stopped (none when `passive`)."""
        return frozenset(self._running)

    @property
    def stopped(self) -> Mapping[str, Decision]:
        """Trials this runner stopped, in the order it stopped them, with the evidence."""
        return dict(self._stopped)

    # ------------------------------------------------------------------ events
    def start(self, trial_id: str) -> None:
        """A trial was launched (optional: its first report starts it too)."""
        if self.passive:
            return
        if trial_id not in self._series:
            self._series[trial_id] = []
            self._vectors[trial_id] = []
            self._violations[trial_id] = []
            self._running.add(trial_id)

    def add_finished(self, trial_id: str, values: Sequence[float], *,
                     values_series: Sequence[Sequence[float] | None] | None = None,
                     violations_series: Sequence[Sequence[float] | None] | None = None,
                     ) -> None:
        """A trial that ended before the runner saw it (warm start, or recovery).

        ``values`` is its primary series (oriented); with several objectives or constraints,
        ``values_series`` and ``violations_series`` give, per primary value, what
        :meth:`report` would have been given with it (same length as ``values``; an entry
        may be None). A NaN primary value is dropped with its entries, as :meth:`report`
        drops it, so a restored trial weighs exactly as it did when it reported.
        """
        if self.passive:
            return
        for key, given in (("values_series", values_series),
                           ("violations_series", violations_series)):
            if given is not None and len(given) != len(values):
                raise ValueError(f"{key}: expected one entry per value of {trial_id!r} "
                                 f"({len(values)}), got {len(given)}")
        kept = [i for i, v in enumerate(values) if not math.isnan(v)]
        self._series[trial_id] = [float(values[i]) for i in kept]
        self._vectors[trial_id] = [
            None if values_series is None else self._vector(float(values[i]), values_series[i])
            for i in kept]
        self._violations[trial_id] = [
            None if violations_series is None else self._broken(violations_series[i])
            for i in kept]
        self._running.discard(trial_id)

    def finish(self, trial_id: str) -> None:
        """A trial ended (any status); its series stays as evidence."""
        if self.passive:
            return
        if trial_id not in self._series:
            self.start(trial_id)
        self._running.discard(trial_id)

    def report(self, trial_id: str, value: float, *,
               values: Sequence[float] | None = None,
               violations: Sequence[float] | None = None) -> list[Decision]:
        """Record one oriented value; return the trials to stop now (the reporter or others).

        Parameters
        ----------
        trial_id : str
            The reporting trial.
        value : float
            Its new primary value, oriented (larger is better). NaN is ignored (with
            ``values`` and ``violations``).
        values : sequence of float, optional
            Several objectives: every objective's latest value, oriented, in the order of
            ``objectives`` (NaN: not logged yet); the first is replaced by ``value``. None
            with one objective (a one-element sequence is accepted and ignored).
        violations : sequence of float, optional
            With constraints: each one's latest violation (> 0 violated, ``+inf`` not logged
            yet). None: none known (with constraints, counted as not met).

        The returned trials are no longer running for this runner.
        """
        if self.passive:
            return []
        value = float(value)
        if math.isnan(value):
            return []
        vector = self._vector(value, values)
        broken = self._broken(violations)
        if trial_id not in self._series:
            self.start(trial_id)
        series = self._series[trial_id]
        series.append(value)
        self._vectors[trial_id].append(vector)
        self._violations[trial_id].append(broken)
        interval = len(series)
        if trial_id not in self._running or not self.policy.is_eligible(interval):
            return []
        if self.evidence is None:
            decisions = self.policy.evaluate(self._series, self._running, interval,
                                             reporter=trial_id, objective=self.objective)
        else:
            decisions = self.policy.evaluate_objectives(
                self._series, self._running, interval, evidence=self.evidence,
                reporter=trial_id, objective=self.objective)
        for decision in decisions:
            self._running.discard(decision.trial_id)
            self._stopped[decision.trial_id] = decision
        return decisions

    def _vector(self, value: float, values: Sequence[float] | None) -> Vector | None:
        """The oriented objective vector to keep for one report (None: nothing to keep)."""
        if values is None:
            return None
        if len(values) != len(self.objectives):
            raise ValueError(f"values: expected one value per objective "
                             f"({len(self.objectives)}: "
                             f"{', '.join(o.metric for o in self.objectives)}), "
                             f"got {len(values)}")
        if len(self.objectives) == 1:
            return None  # one objective: the primary series says it all
        return (value, *(float(v) for v in values[1:]))

    def _broken(self, violations: Sequence[float] | None) -> Vector | None:
        """One report's violations as floats (NaN: not logged, so ``+inf``)."""
        if violations is None:
            return None
        if len(violations) != len(self.constraints):
            raise ValueError(f"violations: expected one value per constraint "
                             f"({len(self.constraints)}), got {len(violations)}")
        return tuple(math.inf if math.isnan(float(v)) else float(v) for v in violations)

    def report_many(self, reports: Iterable[tuple[str, float]]) -> list[Decision]:
        """:meth:`report` each ``(trial_id, value)`` in order; all decisions, in order."""
        out: list[Decision] = []
        for trial_id, value in reports:
            out.extend(self.report(trial_id, value))
        return out
