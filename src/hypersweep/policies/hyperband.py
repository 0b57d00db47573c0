"""HyperbandPolicy (ours, beyond Azure): several ASHA brackets, trials spread by a hash.

Hyperband (Li et al. 2018) hedges successive halving's bet on how early a curve tells: it runs
brackets that start stopping at different rungs. As in Optuna's ``HyperbandPruner``, bracket
``s`` (0 to ``n_brackets - 1``) is an :class:`AshaPolicy` with ``min_early_stopping_rate = s``,
trials compete only within their bracket, and bracket ``s`` receives trials in proportion to
``ceil(n_brackets * eta ** (n_brackets - 1 - s) / (n_brackets - s))`` (aggressive brackets
get more trials, since they stop most of theirs early).

Ours: a trial's bracket is a pure function of its id (the SHA-256 of the id, modulo the total
budget), so it is the same in every process, on every resume and in offline replay.
``n_brackets = floor(log_eta(max_resource / min_resource)) + 1``; without ``max_resource``,
2 brackets. Within a bracket the rule is :class:`AshaPolicy`'s (too few trials at a rung stop
nobody; otherwise the best ``ceil(n / eta)`` go on), and the defaults are its defaults: bracket 0
*is* ``AshaPolicy()`` (first rung at interval 4), bracket 1 waits until interval 12.

Why those defaults, and what Hyperband costs here. A sweep has a fixed number of trials, so a
bracket that stops later buys no extra trials with the compute it spends: it only guards the
eventual best against an early rung that ranks by noise. Hyperband is therefore a mix of ASHA
schedules and, trial for trial, uses more compute than its bracket 0 for a best that is kept a
little more often. Without ``max_resource`` we cannot know how long curves are: brackets whose
first rung lies past their end stop nothing, so we hedge with 2 brackets, not more (on the
20-interval curves of ``bench/bench_policies.py``, 4 brackets ran 6% more intervals than 2 for
the same best).
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

from hypersweep.frozen import FrozenRecord
from hypersweep.policies.asha import AshaPolicy
from hypersweep.policies.base import (
    MAXIMIZE,
    Decision,
    EarlyTerminationPolicy,
    Evidence,
    Objective,
    judged,
    natural_key,
)

DEFAULT_BRACKETS = 2


@functools.lru_cache(maxsize=65536)
def _bracket(trial_id: str, budgets: tuple[int, ...]) -> int:
    digest = hashlib.sha256(trial_id.encode("utf-8")).digest()
    slot = int.from_bytes(digest[:8], "big") % sum(budgets)
    for s, budget in enumerate(budgets):
        if slot < budget:
            return s
        slot -= budget
    raise AssertionError("unreachable")  # pragma: no cover


class HyperbandPolicy(EarlyTerminationPolicy, FrozenRecord):
    """Brackets of ASHA with different first rungs (ours; not in Azure).

    Parameters
    ----------
    min_resource : int
        Bracket 0's first rung (>= 1); default 4, as :class:`AshaPolicy`.
    max_resource : int, optional
        Trials report at most this many intervals; sets the number of brackets (2 without).
    reduction_factor : int
        ``eta`` (>= 2).

    Examples
    --------
    >>> p = HyperbandPolicy(min_resource=1, max_resource=27)  # brackets start at 1, 3, 9, 27
    >>> p.n_brackets, p.bracket_of("HD_x_0") == p.bracket_of("HD_x_0")
    (4, True)
    >>> [b.rung(k) for b in HyperbandPolicy().brackets for k in (4, 12)]  # first rungs 4, 12
    [0, 1, None, 0]
    """

    min_resource: int = 4
    max_resource: int | None = None
    reduction_factor: int = 3

    type: ClassVar[str] = "hyperband"
    multi_objective: ClassVar[bool] = True

    def __post_init__(self) -> None:
        # AshaPolicy validates the shared settings with the same messages.
        first = AshaPolicy(self.min_resource, self.max_resource, self.reduction_factor)
        object.__setattr__(self, "min_resource", first.min_resource)
        object.__setattr__(self, "max_resource", first.max_resource)
        object.__setattr__(self, "reduction_factor", first.reduction_factor)

    @property
    def n_brackets(self) -> int:
        """How many brackets: ``floor(log_eta(max / min)) + 1``, or 2 without a maximum."""
        if self.max_resource is None:
            return DEFAULT_BRACKETS
        ratio, count = self.max_resource / self.min_resource, 0
        while self.reduction_factor ** (count + 1) <= ratio:  # integer-safe floor(log)
            count += 1
        return count + 1

    @property
    def brackets(self) -> list[AshaPolicy]:
        """Bracket ``s`` is ASHA with ``min_early_stopping_rate = s``."""
        return [AshaPolicy(self.min_resource, self.max_resource, self.reduction_factor, s)
                for s in range(self.n_brackets)]

    def budgets(self) -> list[int]:
        """Each bracket's share of trials (Optuna's allocation)."""
        n = self.n_brackets
        return [math.ceil(n * self.reduction_factor ** (n - 1 - s) / (n - s)) for s in range(n)]

    def bracket_of(self, trial_id: str) -> int:
        """The trial's bracket: a pure function of its id."""
        return _bracket(trial_id, tuple(self.budgets()))

    def is_eligible(self, interval: int) -> bool:
        return any(b.is_eligible(interval) for b in self.brackets)

    def evaluate(
        self,
        series: Mapping[str, Sequence[float]],
        running: Collection[str],
        interval: int,
        *,
        reporter: str | None = None,
        objective: Objective = MAXIMIZE,
    ) -> list[Decision]:
        return self._judge(series, running, interval, reporter, objective, None)

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
        return self._judge(series, running, interval, reporter, objective, evidence)

    def _judge(self, series: Mapping[str, Sequence[float]], running: Collection[str],
               interval: int, reporter: str | None, objective: Objective,
               evidence: Evidence | None) -> list[Decision]:
        pool = running if reporter is None else [reporter] if reporter in running else []
        candidates = judged(series, pool, interval)
        if not candidates:
            return []
        brackets = self.brackets
        of = {t: self.bracket_of(t) for t in series}
        out: list[Decision] = []
        for s in sorted({of[t] for t in candidates}):
            members = {t for t, b in of.items() if b == s}
            out.extend(brackets[s].judge(
                series, [t for t in candidates if of[t] == s], interval,
                objective=objective, members=members, label=f"{self.type} bracket {s}",
                evidence=evidence))
        return sorted(out, key=lambda d: natural_key(d.trial_id))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "min_resource": self.min_resource}
        if self.max_resource is not None:
            out["max_resource"] = self.max_resource
        out["reduction_factor"] = self.reduction_factor
        return out
