"""The checks of a sweep's counts, durations, goals and metric names, each written once.

Every face calls these with the key as its user wrote it (``max_total_runs`` in a
``HyperDriveConfig``, ``limits.max_total_trials`` in a YAML file, ``max_concurrent_runs`` in
``tune``) and `SweepSpec` calls them with its own field names, so one bad value reads the same
sentence wherever it was written; only the key differs (the YAML reader adds file and line).

Examples
--------
>>> positive_int(0, "max_total_runs")
Traceback (most recent call last):
...
hypersweep.errors.ConfigError: max_total_runs: expected a positive integer (got 0)
>>> positive_seconds(90, "limits.timeout")
90.0
>>> positive_duration(1e307, "max_duration_minutes", unit="minutes")
Traceback (most recent call last):
...
hypersweep.errors.ConfigError: max_duration_minutes: expected a positive number of minutes \
(got 1e+307)
>>> goal("MAXIMIZE", "objective.goal"), metric_name(" loss ", "primary_metric_name")
('maximize', 'loss')
"""

from __future__ import annotations

import math
from typing import Any

from hypersweep.errors import ConfigError

__all__ = ["GOALS", "goal", "metric_name", "positive_duration", "positive_int",
           "positive_seconds", "shown"]

#: The two directions an objective may take.
GOALS = ("maximize", "minimize")
_SECONDS_PER = {"seconds": 1.0, "minutes": 60.0}


def shown(value: Any) -> str:
    """``repr`` of a bad value, shortened so a huge input cannot flood the message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def positive_int(value: Any, key: str, *, allow_none: bool = False) -> int | None:
    """A count of trials (a budget, a concurrency, a failure cap): an int >= 1.

    ``bool`` is refused although it is an ``int``: ``max_total_runs=True`` is a mistake.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key}: expected a positive integer (got {shown(value)})")
    return value


def positive_duration(value: Any, key: str, *, unit: str = "seconds",
                      allow_none: bool = False) -> float | None:
    """A duration in ``unit`` (``"seconds"`` or ``"minutes"``) that is finite, > 0, and stays
    finite in seconds (every duration is stored in seconds)."""
    if value is None and allow_none:
        return None
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if ok:
        try:
            ok = value > 0 and math.isfinite(float(value) * _SECONDS_PER[unit])
        except OverflowError:  # an int beyond the float range (400 digits in YAML)
            ok = False
    if not ok:
        raise ConfigError(f"{key}: expected a positive number of {unit} (got {shown(value)})")
    return float(value)


def positive_seconds(value: Any, key: str, *, allow_none: bool = False) -> float | None:
    """A duration in seconds (a sweep's or a trial's timeout); see `positive_duration`."""
    return positive_duration(value, key, unit="seconds", allow_none=allow_none)


def goal(value: Any, key: str) -> str:
    """``"maximize"`` or ``"minimize"`` from either, in any case, or an enum whose value is."""
    text = getattr(value, "value", value)
    if isinstance(text, str) and text.strip().lower() in GOALS:
        return text.strip().lower()
    raise ConfigError(f"{key}: expected 'maximize' or 'minimize' (got {shown(value)})")


def metric_name(value: Any, key: str) -> str:
    """The name of a metric the trials log, without surrounding spaces."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: expected a metric name (got {shown(value)})")
    return value.strip()
