"""BanditPolicy: stop trials that fall more than a slack behind the best trial.

Azure (docs): "Bandit policy is based on slack factor/slack amount and evaluation interval.
Bandit ends the jobs when the primary metric isn't within the specified slack factor/slack
amount of the most successful job." For maximize it cancels when ``Y < best / (1 +
slack_factor)`` or ``Y < best - slack_amount``; it gives no minimize formula, and its factor
formula is wrong for negative metrics.

Ours (``AZURE.md``), equal to Azure's for positive metrics, with ``Y`` the judged trial's best
value up to interval ``k`` and ``best`` the best value any trial (running or finished) reached
up to interval ``k``:

- maximize: cancel if ``Y < best - |best| * slack_factor / (1 + slack_factor)`` or
  ``Y < best - slack_amount``;
- minimize: cancel if ``Y > best + |best| * slack_factor`` or ``Y > best + slack_amount``.

Equality never cancels.
"""

from __future__ import annotations

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
    check_positive,
    fmt,
    judged,
    natural_key,
)


class BanditPolicy(EarlyTerminationPolicy, FrozenRecord):
    """Stop a trial whose best value is more than a slack behind the best trial's.

    Parameters
    ----------
    slack_factor : float, optional
        Allowed slack as a ratio of the best value. Exactly one of ``slack_factor`` and
        ``slack_amount`` is given, and it is > 0.
    slack_amount : float, optional
        Allowed slack as an absolute distance from the best value.
    evaluation_interval : int
        Judge at intervals that are multiples of this (>= 1).
    delay_evaluation : int
        Judge only from this interval on (>= 0).

    Examples
    --------
    >>> p = BanditPolicy(slack_factor=0.2)
    >>> p.evaluate({"a": [0.8], "b": [0.61]}, {"a", "b"}, 1)[0].explanation
    'metric 0.61 < best 0.8 / (1 + 0.2) = 0.666667 at interval 1 (bandit slack_factor=0.2; \
best by a)'
    >>> loss = Objective(maximize=False, metric="loss")
    >>> d = BanditPolicy(slack_amount=0.2).evaluate({"a": [-0.5], "b": [-0.9]}, {"b"}, 1,
    ...                                             objective=loss)[0]
    >>> d.explanation
    'loss 0.9 > best 0.5 + 0.2 = 0.7 at interval 1 (bandit slack_amount=0.2; best by a)'
    """

    slack_factor: float | None = None
    slack_amount: float | None = None
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    type: ClassVar[str] = "bandit"

    def __post_init__(self) -> None:
        if (self.slack_factor is None) == (self.slack_amount is None):
            got = ("neither" if self.slack_factor is None else
                   f"both: slack_factor={self.slack_factor!r}, slack_amount={self.slack_amount!r}")
            raise ConfigError(f"slack_factor: BanditPolicy expects exactly one of slack_factor "
                              f"and slack_amount (got {got})")
        if self.slack_factor is not None:
            object.__setattr__(self, "slack_factor",
                               check_positive(self.slack_factor, "slack_factor"))
        else:
            object.__setattr__(self, "slack_amount",
                               check_positive(self.slack_amount, "slack_amount"))
        self._check_schedule()

    def threshold(self, best: float, maximize: bool = True) -> float:
        """The oriented value a trial must reach, given the oriented ``best``."""
        if self.slack_amount is not None:
            return best - self.slack_amount
        factor = float(self.slack_factor)  # type: ignore[arg-type]
        # Oriented, minimize's ``Y > b + |b| f`` is ``-Y < -b - |b| f``: the same shape as
        # maximize with f in place of f / (1 + f).
        if not maximize:
            return best - abs(best) * factor
        if best >= 0:
            return best / (1 + factor)  # Azure's own formula, to the last bit
        return best - abs(best) * factor / (1 + factor)

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
        # best over every trial (finished ones included), each cut at interval k
        leaders = [(best_upto(v, interval), t) for t, v in series.items() if len(v)]
        best = max(b for b, _ in leaders)
        leader = min((t for b, t in leaders if b == best), key=natural_key)
        threshold = self.threshold(best, objective.maximize)
        out = []
        for trial_id in candidates:
            value = best_upto(series[trial_id], interval)
            if value < threshold:
                out.append(Decision(
                    trial_id, self.type, interval, objective.user(value),
                    objective.user(threshold),
                    self._explain(value, best, threshold, interval, leader, objective)))
        return out

    def _explain(self, value: float, best: float, threshold: float, interval: int,
                 leader: str, objective: Objective) -> str:
        b = objective.user(best)
        if self.slack_amount is not None:
            sign = "-" if objective.maximize else "+"
            rule = f"best {fmt(b)} {sign} {fmt(self.slack_amount)}"
            setting = f"slack_amount={fmt(self.slack_amount)}"
        else:
            f = fmt(float(self.slack_factor))  # type: ignore[arg-type]
            if objective.maximize:
                rule = (f"best {fmt(b)} / (1 + {f})" if b >= 0 else
                        f"best {fmt(b)} - |{fmt(b)}| * {f} / (1 + {f})")
            else:
                rule = (f"best {fmt(b)} * (1 + {f})" if b >= 0 else
                        f"best {fmt(b)} + |{fmt(b)}| * {f}")
            setting = f"slack_factor={f}"
        return (f"{objective.metric} {fmt(objective.user(value))} {objective.worse} {rule} = "
                f"{fmt(objective.user(threshold))} at interval {interval} "
                f"(bandit {setting}; best by {leader})")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.slack_factor is not None:
            out["slack_factor"] = self.slack_factor
        else:
            out["slack_amount"] = self.slack_amount
        out["evaluation_interval"] = self.evaluation_interval
        out["delay_evaluation"] = self.delay_evaluation
        return out
