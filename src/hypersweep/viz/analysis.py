"""Numbers behind the charts: best-so-far, downsampling, concurrency (numpy only).

Shared by the web dashboard and the notebook figures, so both show the same thing. Nothing
here imports plotly or touches the store: inputs are plain lists.

Examples
--------
>>> best_so_far([0.2, 0.5, 0.4, 0.7], maximize=True)
[0.2, 0.5, 0.5, 0.7]
>>> evenly_spaced(10, 4)
[0, 3, 6, 9]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "best_so_far",
    "column_kinds",
    "concurrency",
    "evenly_spaced",
    "log_scaled",
    "stride_downsample",
]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def best_so_far(values: Sequence[float | None], maximize: bool) -> list[float | None]:
    """Running best of ``values`` in order; ``None`` (no score) carries the previous best.

    Examples
    --------
    >>> best_so_far([None, 3.0, 1.0, None, 2.0], maximize=False)
    [None, 3.0, 1.0, 1.0, 1.0]
    """
    out: list[float | None] = []
    best: float | None = None
    for value in values:
        if value is None or math.isnan(value):
            pass
        elif best is None or (value > best if maximize else value < best):
            best = value
        out.append(best)
    return out


def evenly_spaced(n: int, k: int, keep: Iterable[int] = ()) -> list[int]:
    """Up to ``k`` indices of ``range(n)`` spread evenly, plus every index in ``keep``.

    Used to cap how many trials a chart draws: a browser draws 2,000 SVG points quickly and
    10,000 slowly, and the shape of the cloud is the same.

    Examples
    --------
    >>> evenly_spaced(5, 10)
    [0, 1, 2, 3, 4]
    >>> evenly_spaced(100, 3, keep=[7])
    [0, 7, 50, 99]
    """
    chosen = set(range(n)) if n <= k else {int(i) for i in np.linspace(0, n - 1, k).round()}
    chosen.update(i for i in keep if 0 <= i < n)
    return sorted(chosen)


def stride_downsample(
    steps: Sequence[float], values: Sequence[float], k: int
) -> tuple[list[float], list[float]]:
    """At most ``k`` points of a curve, always keeping the first and the last.

    Examples
    --------
    >>> stride_downsample([0, 1, 2, 3, 4], [5, 6, 7, 8, 9], 3)
    ([0, 2, 4], [5, 7, 9])
    """
    n = len(values)
    if n <= k:
        return list(steps), list(values)
    picks = evenly_spaced(n, k)
    return [steps[i] for i in picks], [values[i] for i in picks]


def column_kinds(params: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``"numeric"`` or ``"categorical"`` for each parameter name appearing in ``params``.

    A parameter is numeric when every value it takes is a finite int or float (not a bool).
    A choice that offers ``None`` is categorical: ``None`` is one of its options, drawn as a
    category, not a gap (a parameter a trial does not have is absent, not ``None``).

    Examples
    --------
    >>> column_kinds([{"lr": 0.1, "opt": "sgd"}, {"lr": 1, "opt": "adam"}])
    {'lr': 'numeric', 'opt': 'categorical'}
    >>> column_kinds([{"depth": None}, {"depth": 3}])
    {'depth': 'categorical'}
    """
    kinds: dict[str, str] = {}
    for row in params:
        for name, value in row.items():
            if not _finite(value):
                kinds[name] = "categorical"
            else:
                kinds.setdefault(name, "numeric")
    return dict(sorted(kinds.items()))


#: Search-space expression types whose values spread over decades: drawn on log axes.
LOG_TYPES = frozenset({"loguniform", "qloguniform", "lognormal", "qlognormal"})


def log_scaled(space: Mapping[str, Any] | None, name: str) -> bool | None:
    """Whether parameter ``name`` of a stored search space is log-distributed (a log axis);
    None when the space does not describe it (a nested or unknown parameter).

    Examples
    --------
    >>> space = {"lr": {"type": "loguniform", "min_value": -9, "max_value": -1},
    ...          "dropout": {"type": "uniform", "min_value": 0, "max_value": 0.5}}
    >>> log_scaled(space, "lr"), log_scaled(space, "dropout"), log_scaled(space, "other")
    (True, False, None)
    """
    expression = (space or {}).get(name)
    if not isinstance(expression, Mapping) or "type" not in expression:
        return None
    return str(expression["type"]).lower() in LOG_TYPES


def concurrency(
    starts: Sequence[float | None], ends: Sequence[float | None], now: float
) -> tuple[list[float], list[int]]:
    """Step function of how many trials ran at each moment (times in seconds).

    Trials without a start are left out; a running trial (no end) runs until ``now``.

    Examples
    --------
    >>> concurrency([0, 1, 5], [2, 3, None], now=6)
    ([0.0, 1.0, 2.0, 3.0, 5.0, 6.0], [1, 2, 1, 0, 1, 0])
    """
    # in numpy: a 100,000-trial sweep's dict of events and sort took a second of its charts
    spans = np.array([(start, now if end is None else end)
                      for start, end in zip(starts, ends, strict=False) if start is not None],
                     dtype=float).reshape(-1, 2)
    times, at = np.unique(spans.T.ravel(), return_inverse=True)
    steps = np.bincount(at, weights=np.repeat([1.0, -1.0], len(spans)), minlength=len(times))
    return times.tolist(), np.cumsum(steps).astype(int).tolist()
