"""What the boosting callbacks share: the run a training logs to, its rounds, and its stop.

A boosting callback is often made once, ahead (an estimator's ``callbacks=``), then cloned,
deep-copied or pickled with its estimator and used in many trainings: each training finds its
run when it starts (:meth:`RoundReporting.start`), a deep copy logs to the same run, and a
pickle leaves the run behind (it holds locks and its sweep).

Examples
--------
>>> state = RoundReporting(metrics="valid-l2")
>>> state.start(); state.rounds, state.stopped
(0, False)
"""

from __future__ import annotations

from typing import Any

from hypersweep.integrations._metric_choice import MetricChoice, pick_metrics
from hypersweep.integrations.reporting import Reporter
from hypersweep.tracking.context import BaseRun

__all__ = ["RoundReporting"]


class RoundReporting:
    """A base for round-by-round callbacks: ``metrics`` and ``run`` as the callbacks take them,
    ``rounds`` and ``stopped`` for the current (or last) training."""

    def __init__(self, metrics: MetricChoice = None, run: BaseRun | None = None) -> None:
        super().__init__()  # the framework's callback base, when it comes next in the MRO
        self.metrics = metrics
        self._run = run
        self._reporter: Reporter | None = Reporter(run)
        self.rounds = 0
        self.stopped = False

    def start(self) -> None:
        """A training starts: log to the run it belongs to (the current trial's, unless a run
        was given), from round 0."""
        self._reporter = Reporter(self._run)
        self.rounds = 0
        self.stopped = False

    @property
    def reporter(self) -> Reporter:
        """The reporter this callback logs through."""
        if self._reporter is None:  # unpickled: find the run where it is used now
            self._reporter = Reporter(self._run)
        return self._reporter

    def report_round(self, results: dict[str, Any], step: int) -> bool:
        """Log one round's ``results`` (those ``metrics`` picks); whether the sweep stopped
        the trial (then ``stopped`` is True)."""
        self.reporter.log(pick_metrics(results, self.metrics), step=step)
        self.rounds += 1
        if self.reporter.should_stop():
            self.stopped = True
        return self.stopped

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_run": None, "_reporter": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # A deep-copied estimator or configuration (XGBoost's estimators and sklearn's clone
        # copy callbacks): the copy logs to the same run, with its own round count.
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        return copy
