"""What a sweep optimizes: its objectives, and the constraints a trial must meet to count.

A sweep has one objective or several. With one, a trial's score is the best value it logged
(as on Azure). With several, a trial's outcome is the *last* value it logged of each objective,
and the sweep's result is its Pareto front: the completed, feasible trials no other such trial
beats on every objective. A trial is feasible when the last value it logged of every
constrained metric meets the bound (a constrained metric never logged: infeasible).

Every face reads its own form into these (`objectives_from`, `constraints_from`), and names
the offending key the way its user wrote it.

Examples
--------
>>> objectives_from([("accuracy", "maximize"), {"primary_metric": "latency_ms",
...                                              "goal": "minimize"}])
(Objective(metric='accuracy', goal='maximize'), Objective(metric='latency_ms', goal='minimize'))
>>> (limit,) = constraints_from([{"metric": "latency_ms", "max": 20}])
>>> limit.violation(25.0), limit.violation(12.5), limit.violation(None)
(5.0, -7.5, inf)
>>> objectives_from([("loss", "minimize"), ("loss", "maximize")])
Traceback (most recent call last):
...
hypersweep.errors.ConfigError: objectives[1].metric: 'loss' is named twice
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hypersweep.errors import ConfigError
from hypersweep.frozen import FrozenRecord
from hypersweep.spec import checks

__all__ = ["Constraint", "Objective", "constraints_from", "last_logged", "objectives_from",
           "objectives_given"]


class Objective(FrozenRecord):
    """A metric the trials log and which way is better.

    >>> Objective("accuracy", "MAXIMIZE").goal, Objective("loss", "minimize").oriented(0.5)
    ('maximize', -0.5)
    """

    metric: str
    goal: str = "maximize"

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", checks.metric_name(self.metric, "objective.metric"))
        object.__setattr__(self, "goal", checks.goal(self.goal, "objective.goal"))

    @property
    def maximize(self) -> bool:
        return self.goal == "maximize"

    def oriented(self, value: float) -> float:
        """``value`` turned so that larger is better (what samplers and policies see)."""
        return value if self.maximize else -value

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "goal": self.goal}


class Constraint(FrozenRecord):
    """A bound on a metric a trial logs: its last value must be ``<= max`` and/or ``>= min``.

    >>> Constraint("memory_mb", min=None, max=512).to_dict()
    {'metric': 'memory_mb', 'max': 512.0}
    >>> Constraint("acc", min=0.9).violation(0.95) < 0
    True
    """

    metric: str
    max: float | None = None
    min: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", checks.metric_name(self.metric,
                                                              "constraints.metric"))
        for name in ("max", "min"):
            bound = getattr(self, name)
            if bound is None:
                continue
            if isinstance(bound, bool) or not isinstance(bound, int | float) \
                    or not math.isfinite(bound):
                raise ConfigError(f"constraints.{name}: expected a finite number "
                                  f"(got {checks.shown(bound)})")
            object.__setattr__(self, name, float(bound))
        if self.max is None and self.min is None:
            raise ConfigError(f"constraints: {self.metric!r} needs a bound: max, min or both")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ConfigError(f"constraints: {self.metric!r} has min {self.min:g} above max "
                              f"{self.max:g}: no value could meet it")

    @property
    def label(self) -> str:
        """The bound in words: ``latency_ms <= 20``, ``0.5 <= acc <= 1``."""
        if self.max is not None and self.min is not None:
            return f"{self.min:g} <= {self.metric} <= {self.max:g}"
        if self.max is not None:
            return f"{self.metric} <= {self.max:g}"
        return f"{self.metric} >= {self.min:g}"

    def violation(self, value: float | None) -> float:
        """How far ``value`` is outside the bound (<= 0: it meets it; inf: no value)."""
        if value is None or math.isnan(value):
            return math.inf
        over = -math.inf
        if self.max is not None:
            over = value - self.max
        if self.min is not None:
            over = max(over, self.min - value)
        return over

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.metric}
        if self.max is not None:
            out["max"] = self.max
        if self.min is not None:
            out["min"] = self.min
        return out


def last_logged(values: Iterable[float]) -> float | None:
    """The value a trial's outcome is judged on: the last it logged that is a number.

    >>> last_logged([0.5, 0.7, float("nan")]), last_logged([])
    (0.7, None)
    """
    last = None
    for value in values:
        if not math.isnan(value):
            last = value
    return last


def objectives_given(primary_metric_name: Any, primary_metric_goal: Any, objectives: Any,
                     check_name: Callable[[Any, str], str] = checks.metric_name,
                     ) -> tuple[Objective, ...]:
    """The objectives of a Python face: ``objectives`` (several), else the one-objective form
    ``primary_metric_name`` / ``primary_metric_goal``; both given must agree.

    >>> objectives_given("acc", "maximize", None)
    (Objective(metric='acc', goal='maximize'),)
    >>> objectives_given("loss", None, [("acc", "maximize"), ("ms", "minimize")])
    Traceback (most recent call last):
    ...
    hypersweep.errors.ConfigError: primary_metric_name: 'loss' is not the first of objectives \
('acc'); give one or the other
    """
    if objectives is None:
        return (Objective(check_name(primary_metric_name, "primary_metric_name"),
                          checks.goal(primary_metric_goal, "primary_metric_goal")),)
    out = objectives_from(objectives, "objectives", check_name)
    first = out[0]
    if primary_metric_name is not None and primary_metric_name != first.metric:
        raise ConfigError(f"primary_metric_name: {primary_metric_name!r} is not the first of "
                          f"objectives ({first.metric!r}); give one or the other")
    if primary_metric_goal is not None and \
            checks.goal(primary_metric_goal, "primary_metric_goal") != first.goal:
        raise ConfigError(f"primary_metric_goal: {first.metric!r} is to {first.goal}, as "
                          f"objectives say")
    return out


def objectives_from(value: Any, key: str = "objectives",
                    check_name: Callable[[Any, str], str] = checks.metric_name,
                    ) -> tuple[Objective, ...]:
    """Objectives from a face's form: a list of ``(metric, goal)`` pairs, of mappings with
    ``metric`` (or Azure's ``primary_metric``) and ``goal``, or of `Objective`. Errors name
    ``key[i].field``."""
    if isinstance(value, Mapping | str) or not isinstance(value, Iterable):
        raise ConfigError(f"{key}: expected a list of objectives such as "
                          f"[('accuracy', 'maximize'), ('latency_ms', 'minimize')] "
                          f"(got {checks.shown(value)})")
    out: list[Objective] = []
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        metric: Any
        goal: Any
        if isinstance(item, Objective):
            metric, goal = item.metric, item.goal
        elif isinstance(item, Mapping):
            unknown = sorted(str(k) for k in item if k not in ("metric", "primary_metric",
                                                                "goal"))
            if unknown:
                raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: "
                                  f"primary_metric, goal)")
            metric = item.get("metric", item.get("primary_metric"))
            goal = item.get("goal")
        elif isinstance(item, tuple | list) and len(item) == 2:
            metric, goal = item
        else:
            raise ConfigError(f"{where}: expected (metric, goal) such as ('accuracy', "
                              f"'maximize') (got {checks.shown(item)})")
        name = check_name(metric, f"{where}.metric")
        if any(o.metric == name for o in out):
            raise ConfigError(f"{where}.metric: {name!r} is named twice")
        out.append(Objective(name, checks.goal(goal, f"{where}.goal")))
    if not out:
        raise ConfigError(f"{key}: expected at least one objective")
    return tuple(out)


def constraints_from(value: Any, key: str = "constraints") -> tuple[Constraint, ...]:
    """Constraints from a face's form: a list of mappings ``{"metric": m, "max": x}`` (and/or
    ``"min"``) or of `Constraint`; None is none. Errors name ``key[i].field``."""
    if value is None:
        return ()
    if isinstance(value, Mapping | str) or not isinstance(value, Iterable):
        raise ConfigError(f"{key}: expected a list such as [{{'metric': 'latency_ms', "
                          f"'max': 20}}] (got {checks.shown(value)})")
    out: list[Constraint] = []
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if isinstance(item, Constraint):
            out.append(item)
            continue
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: expected a mapping such as {{'metric': 'latency_ms', "
                              f"'max': 20}} (got {checks.shown(item)})")
        unknown = sorted(str(k) for k in item if k not in ("metric", "max", "min"))
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: metric, max, min)")
        try:
            out.append(Constraint(checks.metric_name(item.get("metric"), f"{where}.metric"),
                                  max=item.get("max"), min=item.get("min")))
        except ConfigError as err:
            raise ConfigError(str(err).replace("constraints", where, 1)) from None
    return tuple(out)
