"""The early-termination protocol: given every trial's metric series, name the trials to stop.

A policy is pure: no I/O, no clocks, no randomness. It sees the primary metric's series of
every trial (this sweep's and warm-start sweeps'), **oriented so that larger is better** (the
controller negates values for ``minimize``; see ``docs/contracts.md``), the ids of the trials
still running, and one interval ``k``. It answers with :class:`Decision` s, each naming a
running trial to stop and saying why, in the user's own orientation. It never stops anything.

Vocabulary (from ``AZURE.md``, "Early termination"): every logging of the primary metric is
one *interval*, counted from 1; ``series[t][:k]`` is what trial ``t`` had logged at its
interval ``k``. A policy judging at interval ``k`` never looks at a value past ``k``.

Who calls :meth:`EarlyTerminationPolicy.evaluate` and when is the job of
:class:`hypersweep.policies.PolicyRunner`, which implements our rule "whenever any trial
reaches an eligible interval k, apply the policy at k to every running trial that has reached k".

Examples
--------
>>> from hypersweep.policies import BanditPolicy
>>> policy = BanditPolicy(slack_factor=0.2)
>>> [d.trial_id for d in policy.evaluate({"a": [0.8], "b": [0.61]}, {"a", "b"}, 1)]
['b']
"""

from __future__ import annotations

import math
import numbers
import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypersweep.errors import ConfigError
from hypersweep.frozen import FrozenRecord
from hypersweep.space.values import describe


class Objective(FrozenRecord):
    """How to show oriented values to a human: the goal and the metric's name.

    Policies compute on values oriented so that larger is better; an :class:`Objective` turns
    them back into what the user logged (negating again for ``minimize``) for explanations.
    Bandit also needs the goal for its threshold (our minimize formula differs, see
    :class:`~hypersweep.policies.BanditPolicy`).

    Examples
    --------
    >>> Objective(maximize=False, metric="loss").user(-0.5)
    0.5
    """

    maximize: bool = True
    metric: str = "metric"

    def user(self, oriented: float) -> float:
        """The value as the user logged it (``+ 0.0`` turns ``-0.0`` into ``0.0``)."""
        return float(oriented) if self.maximize else -float(oriented) + 0.0

    @property
    def worse(self) -> str:
        """The comparison sign that reads "worse than" in the user's orientation."""
        return "<" if self.maximize else ">"


MAXIMIZE = Objective()


class Decision(FrozenRecord):
    """One trial to stop, with the evidence.

    Attributes
    ----------
    trial_id : str
        The running trial to stop.
    policy : str
        The policy's v2 ``type`` (``"bandit"``, ``"median_stopping"``, ...).
    interval : int
        The interval ``k`` at which it was judged (values after ``k`` were not looked at).
    value : float
        The trial's value that was judged, in the user's orientation (as logged).
    threshold : float or None
        The value it had to reach, in the user's orientation; None when no single value
        decided (ASHA ranking several objectives or constraints).
    explanation : str
        One sentence, e.g. ``"accuracy 0.61 < best 0.8 / (1 + 0.2) = 0.666667 at interval 5
        (bandit slack_factor=0.2; best by HD_x_3)"``.
    values : tuple of float, optional
        Several objectives: every objective's value at ``interval``, as logged.
    violations : tuple of float, optional
        With constraints: each constraint's violation at ``interval`` (> 0: violated).
    rank : int, optional
        Several objectives or constraints: the trial's Pareto rank among the feasible trials
        it was ranked with (0: none dominates it); None when it was infeasible.

    Examples
    --------
    >>> Decision("t", "bandit", 1, 0.5, 0.6, "...").to_dict()["threshold"]
    0.6
    >>> d = Decision("t", "asha", 4, 0.5, None, "...", values=(0.5, -2.0), rank=1)
    >>> Decision.from_dict(d.to_dict()) == d
    True
    """

    trial_id: str
    policy: str
    interval: int
    value: float
    threshold: float | None
    explanation: str
    values: tuple[float, ...] | None = None
    violations: tuple[float, ...] | None = None
    rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what the controller stores as the trial's evidence).

        The several-objective fields appear only when set, so one-objective evidence keeps
        its six keys; a non-finite number in them (a value not logged yet) becomes None,
        since JSON has no infinity.
        """
        out: dict[str, Any] = {f: getattr(self, f) for f in _BASE_FIELDS}
        for key in ("values", "violations"):
            vector = getattr(self, key)
            if vector is not None:
                out[key] = [float(v) if math.isfinite(v) else None for v in vector]
        if self.rank is not None:
            out["rank"] = self.rank
        return out

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> Decision:
        """The inverse of :meth:`to_dict` (None in a vector comes back as NaN)."""
        fields: dict[str, Any] = {k: mapping[k] for k in _BASE_FIELDS}
        for key in ("values", "violations"):
            if mapping.get(key) is not None:
                fields[key] = tuple(math.nan if v is None else float(v) for v in mapping[key])
        if mapping.get("rank") is not None:
            fields["rank"] = int(mapping["rank"])
        return cls(**fields)


_BASE_FIELDS = ("trial_id", "policy", "interval", "value", "threshold", "explanation")


@dataclass(frozen=True, eq=False)
class Evidence:
    """What a policy ranking several objectives or constraints sees besides the primary series.

    Built and kept up to date by :class:`~hypersweep.policies.PolicyRunner`; one entry per
    primary-metric report (interval), aligned with the primary series: ``vectors[t][k - 1]`` is
    every objective's LATEST value when trial ``t`` logged its ``k``-th primary value,
    oriented so that larger is better (the first is the primary value itself; NaN: not logged
    yet), and ``violations[t][k - 1]`` its constraints' violations then (> 0 violated, <= 0
    met, ``+inf`` not logged). An entry is None when the report carried none.

    Examples
    --------
    >>> ev = Evidence((Objective(metric="acc"), Objective(False, "latency")), ("latency <= 20",),
    ...               vectors={"a": [(0.5, -30.0)]}, violations={"a": [(10.0,)]})
    >>> ev.point("a", [0.5], 1), ev.violation("a", 1), ev.violation("b", 1)
    ((0.5, -30.0), (10.0,), (inf,))
    """

    objectives: tuple[Objective, ...]
    constraints: tuple[str, ...] = ()
    vectors: Mapping[str, Sequence[tuple[float, ...] | None]] = field(default_factory=dict)
    violations: Mapping[str, Sequence[tuple[float, ...] | None]] = field(default_factory=dict)

    def point(self, trial_id: str, series: Sequence[float], interval: int) -> tuple[float, ...]:
        """The trial's oriented objective vector at ``interval`` (NaN where unknown)."""
        known = self.vectors.get(trial_id, ())
        vector = known[interval - 1] if len(known) >= interval else None
        if vector is None:  # only the primary value is known
            return (float(series[interval - 1]),) + (math.nan,) * (len(self.objectives) - 1)
        return vector

    def violation(self, trial_id: str, interval: int) -> tuple[float, ...]:
        """The trial's violations at ``interval``; unknown ones are ``+inf`` (not met)."""
        known = self.violations.get(trial_id, ())
        found = known[interval - 1] if len(known) >= interval else None
        return (math.inf,) * len(self.constraints) if found is None else found


class EarlyTerminationPolicy(ABC):
    """Base class of early-termination policies (one module each, like Optuna's ``pruners/``).

    Subclasses set :attr:`type`, implement :meth:`evaluate` and :meth:`to_dict`, and, when
    their schedule is not Azure's ``evaluation_interval``/``delay_evaluation``, override
    :meth:`is_eligible`.
    """

    type: ClassVar[str] = ""
    #: Whether :meth:`evaluate_objectives` ranks by every objective and the constraints
    #: (ASHA, Hyperband); otherwise the policy judges the first objective alone.
    multi_objective: ClassVar[bool] = False
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def _check_schedule(self) -> None:
        """Validate the Azure schedule settings ``evaluation_interval`` (>= 1) and
        ``delay_evaluation`` (>= 0) that `is_eligible` reads (frozen dataclasses call this)."""
        object.__setattr__(self, "evaluation_interval",
                           check_int(getattr(self, "evaluation_interval", 1),
                                     "evaluation_interval", 1))
        object.__setattr__(self, "delay_evaluation",
                           check_int(getattr(self, "delay_evaluation", 0), "delay_evaluation", 0))

    def is_eligible(self, interval: int) -> bool:
        """Azure: interval ``k`` is eligible when ``k % evaluation_interval == 0`` and
        ``k >= delay_evaluation``."""
        return (interval >= 1 and interval % self.evaluation_interval == 0
                and interval >= self.delay_evaluation)

    @abstractmethod
    def evaluate(
        self,
        series: Mapping[str, Sequence[float]],
        running: Collection[str],
        interval: int,
        *,
        reporter: str | None = None,
        objective: Objective = MAXIMIZE,
    ) -> list[Decision]:
        """Judge at ``interval`` every running trial that has reached it; return the stops.

        Parameters
        ----------
        series : mapping of trial id to values
            Every known trial's primary-metric values in logging order, oriented so that
            larger is better. Trials not in ``running`` are finished (completed, failed,
            canceled, or from a warm-start sweep) and still count as evidence.
        running : collection of trial ids
            The trials that may be stopped.
        interval : int
            The interval ``k`` (1-based). Only ``series[t][:k]`` is looked at.
        reporter : str, optional
            The trial whose report made interval ``k`` happen. Azure's policies ignore it;
            ASHA judges only it (a rung is passed once, see :class:`AshaPolicy`).
        objective : Objective
            The goal and metric name, for explanations (and Bandit's minimize formula).

        Returns
        -------
        list of Decision
            In natural order of trial id (``HD_x_2`` before ``HD_x_10``).
        """

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
        """:meth:`evaluate` for a sweep with several objectives or constraints.

        ``series`` is still the primary (first) objective's; ``evidence`` adds every
        objective's and constraint's values per interval. By default the policy judges the
        first objective alone (Azure's policies compare one number); policies with
        :attr:`multi_objective` override this.
        """
        return self.evaluate(series, running, interval, reporter=reporter, objective=objective)

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The v2 ``early_termination`` mapping (round-trips through `policy_from_dict`)."""


# ---------------------------------------------------------------------------- helpers
def natural_key(trial_id: str) -> tuple[Any, ...]:
    """Sort key that puts ``HD_x_2`` before ``HD_x_10`` (ids end in the trial's index)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                 for p in re.split(r"(\d+)", trial_id))


def judged(series: Mapping[str, Sequence[float]], running: Collection[str],
           interval: int) -> list[str]:
    """The running trials that have reached ``interval``, in natural order."""
    return sorted((t for t in running if len(series.get(t, ())) >= interval), key=natural_key)


def best_upto(values: Sequence[float], interval: int) -> float:
    """The best (largest, oriented) of the first ``interval`` values."""
    return float(max(values[:interval]))


def fmt(value: float) -> str:
    """A number for an explanation: six significant digits, no ``-0``."""
    text = f"{float(value) + 0.0:.6g}"
    return "0" if text == "-0" else text


#: The largest integer setting: every int up to it is exact as a float (and in JSON readers).
MAX_INT_SETTING = 2**53


def check_int(value: Any, key: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]`` (integral floats such as ``5.0`` from
    YAML are accepted), else a :class:`ConfigError` naming ``key``.

    Without ``maximum``, values above 2**53 are refused too: schedules compute with them as
    floats, and a 400-digit integer used to raise ``OverflowError`` there.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)  # a numpy integer too
    limit = MAX_INT_SETTING if maximum is None else maximum
    ok = not isinstance(value, bool) and (
        isinstance(value, int) or (isinstance(value, float) and value.is_integer()))
    if ok:
        ok = minimum <= value <= limit
    if not ok:
        rule = (f"an integer from {minimum} to {limit}" if maximum is not None or (
            isinstance(value, int | float) and not isinstance(value, bool) and value > limit)
            else f"an integer >= {minimum}")
        raise ConfigError(f"{key}: expected {rule} (got {describe(value)})")
    return int(value)


def check_positive(value: Any, key: str) -> float | int:
    """``value`` as a finite number > 0, else a :class:`ConfigError` naming ``key``.

    Integers beyond the float range (YAML reads 400 digits as one) are refused: the
    policies compute in floats.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = int(value) if isinstance(value, numbers.Integral) else float(value)  # numpy's
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if ok:
        try:
            ok = math.isfinite(float(value)) and value > 0
        except OverflowError:  # an int beyond 1.8e308
            ok = False
    if not ok:
        raise ConfigError(f"{key}: expected a finite number > 0 (got {describe(value)})")
    return value
