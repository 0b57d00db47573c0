"""MedianStoppingPolicy: stop trials worse than the median of the running averages.

Azure (docs): "Median stopping is an early termination policy based on running averages of
primary metrics reported by the jobs. This policy computes running averages across all training
jobs and stops jobs whose primary metric value is worse than the median of the averages."
Azure says it saves about 25-35% of compute with no loss of the best result at
``evaluation_interval=1, delay_evaluation=5``.

Ours (``AZURE.md``, Azure leaves the details open): at interval ``k``, cancel a trial if ``Y``,
its best value up to ``k``, is worse than the median, over all trials that have reported at
least ``k`` values (running or finished, the judged one included), of each trial's mean of its
first ``k`` values. "Worse" is strict: a trial equal to the median continues. The median of an
even count is the mean of the two middle values.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

from hypersweep.frozen import FrozenRecord
from hypersweep.policies.base import (
    MAXIMIZE,
    Decision,
    EarlyTerminationPolicy,
    Objective,
    best_upto,
    fmt,
    judged,
)


class MedianStoppingPolicy(EarlyTerminationPolicy, FrozenRecord):
    """Stop a trial whose best value is worse than the median of the trials' running averages.

    Parameters
    ----------
    evaluation_interval : int
        Judge at intervals that are multiples of this (>= 1).
    delay_evaluation : int
        Judge only from this interval on (>= 0).

    Examples
    --------
    >>> p = MedianStoppingPolicy()
    >>> series = {"a": [0.9, 0.9], "b": [0.7, 0.8], "c": [0.1, 0.2]}
    >>> [d.explanation for d in p.evaluate(series, {"c"}, 2)]
    ['metric 0.2 < median 0.75 of the averages of the first 2 values of 3 trials at interval 2 \
(median_stopping)']
    """

    evaluation_interval: int = 1
    delay_evaluation: int = 0

    type: ClassVar[str] = "median_stopping"

    def __post_init__(self) -> None:
        self._check_schedule()

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
        averages = [statistics.fmean(v[:interval]) for v in series.values() if len(v) >= interval]
        median = statistics.median(averages)
        out = []
        for trial_id in candidates:
            value = best_upto(series[trial_id], interval)
            if value < median:
                text = (f"{objective.metric} {fmt(objective.user(value))} {objective.worse} "
                        f"median {fmt(objective.user(median))} of the averages of the first "
                        f"{interval} values of {len(averages)} trials at interval {interval} "
                        f"({self.type})")
                out.append(Decision(trial_id, self.type, interval, objective.user(value),
                                    objective.user(median), text))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "evaluation_interval": self.evaluation_interval,
                "delay_evaluation": self.delay_evaluation}
