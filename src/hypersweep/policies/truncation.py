"""TruncationSelectionPolicy: at each evaluation, stop the lowest percentage of trials.

Azure (docs): "Truncation selection cancels a percentage of lowest performing jobs at each
evaluation interval. Jobs are compared using the primary metric." ``truncation_percentage`` is
an integer from 1 to 99; ``exclude_finished_jobs`` (default false) leaves finished jobs out of
the ranking.

Ours (``AZURE.md``): at interval ``k``, rank the trials that reached ``k`` by their best value
up to ``k`` -- never by values after ``k``, so a trial that later improves does not save a
trial judged at ``k`` -- and cancel the judged trial if it is among the lowest
``floor(n * truncation_percentage / 100)``. Ties (ours): a trial is among the lowest ``m`` only
when at least ``n - m`` trials are strictly better, i.e. when its value is below the ``(n -
m)``-th best, so trials tied at the cut all continue.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

from hypersweep.errors import ConfigError
from hypersweep.frozen import FrozenRecord
from hypersweep.policies.base import (
    MAXIMIZE,
    Decision,
    EarlyTerminationPolicy,
    Objective,
    best_upto,
    check_int,
    fmt,
    judged,
)
from hypersweep.space.values import describe


class TruncationSelectionPolicy(EarlyTerminationPolicy, FrozenRecord):
    """Stop a trial ranked among the lowest ``truncation_percentage`` percent at interval k.

    Parameters
    ----------
    truncation_percentage : int
        Percentage of the trials to cut at each evaluation, 1 to 99.
    evaluation_interval : int
        Judge at intervals that are multiples of this (>= 1).
    delay_evaluation : int
        Judge only from this interval on (>= 0).
    exclude_finished_jobs : bool
        Rank only running trials (default: finished ones are ranked too).

    Examples
    --------
    >>> p = TruncationSelectionPolicy(truncation_percentage=50)
    >>> series = {"a": [0.9], "b": [0.7], "c": [0.5], "d": [0.3]}
    >>> [d.trial_id for d in p.evaluate(series, {"b", "c", "d"}, 1)]
    ['c', 'd']
    """

    truncation_percentage: int
    evaluation_interval: int = 1
    delay_evaluation: int = 0
    exclude_finished_jobs: bool = False

    type: ClassVar[str] = "truncation_selection"

    def __post_init__(self) -> None:
        object.__setattr__(self, "truncation_percentage",
                           check_int(self.truncation_percentage, "truncation_percentage", 1, 99))
        self._check_schedule()
        if not isinstance(self.exclude_finished_jobs, bool):
            raise ConfigError(f"exclude_finished_jobs: expected true or false "
                              f"(got {describe(self.exclude_finished_jobs)})")

    def evaluate(
        self,
        series: Mapping[str, Sequence[float]],
        running: Collection[str],
        interval: int,
        *,
        reporter: str | None = None,
        objective: Objective = MAXIMIZE,
    ) -> list[Decision]:
        candidates = judged(series, running, interval)
        if not candidates:
            return []
        pool = candidates if self.exclude_finished_jobs else [
            t for t, v in series.items() if len(v) >= interval]
        ranked = sorted((best_upto(series[t], interval) for t in pool), reverse=True)
        n = len(ranked)
        cut = math.floor(n * self.truncation_percentage / 100)
        if cut == 0:
            return []
        threshold = ranked[n - cut - 1]  # the worst survivor: below it means "among the lowest"
        out = []
        for trial_id in candidates:
            value = best_upto(series[trial_id], interval)
            if value < threshold:
                rank = 1 + sum(1 for r in ranked if r > value)
                ranked_what = "running trials" if self.exclude_finished_jobs else "trials"
                text = (f"{objective.metric} {fmt(objective.user(value))} {objective.worse} "
                        f"{fmt(objective.user(threshold))} ranks {rank} of {n} {ranked_what} at "
                        f"interval {interval}: among the lowest {self.truncation_percentage}% "
                        f"({cut} of {n}) ({self.type})")
                out.append(Decision(trial_id, self.type, interval, objective.user(value),
                                    objective.user(threshold), text))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "truncation_percentage": self.truncation_percentage,
                "evaluation_interval": self.evaluation_interval,
                "delay_evaluation": self.delay_evaluation,
                "exclude_finished_jobs": self.exclude_finished_jobs}
