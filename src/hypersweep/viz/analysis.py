"""Numbers behind the charts: best-so-far, importance, downsampling, concurrency (numpy only).

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
    "param_importance",
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

    Examples
    --------
    >>> column_kinds([{"lr": 0.1, "opt": "sgd"}, {"lr": 1, "opt": "adam"}])
    {'lr': 'numeric', 'opt': 'categorical'}
    """
    kinds: dict[str, str] = {}
    for row in params:
        for name, value in row.items():
            if value is None:
                kinds.setdefault(name, "numeric")
                continue
            if not _finite(value):
                kinds[name] = "categorical"
            else:
                kinds.setdefault(name, "numeric")
    return dict(sorted(kinds.items()))


def _bins(values: Sequence[Any], numeric: bool, n_bins: int) -> np.ndarray:
    """Bin labels for one parameter: quantile bins (numeric) or one bin a value."""
    if numeric:
        x = np.array([v if _finite(v) else np.nan for v in values], dtype=float)
        ok = ~np.isnan(x)
        labels = np.full(len(x), -1, dtype=int)
        if ok.sum() == 0:
            return labels
        if np.unique(x[ok]).size <= n_bins:
            _, labels[ok] = np.unique(x[ok], return_inverse=True)
            return labels
        edges = np.unique(np.quantile(x[ok], np.linspace(0, 1, n_bins + 1)[1:-1]))
        labels[ok] = np.searchsorted(edges, x[ok], side="right")
        return labels
    _, inverse = np.unique(np.array([repr(v) for v in values]), return_inverse=True)
    return inverse.astype(int)


def param_importance(
    params: Sequence[Mapping[str, Any]], scores: Sequence[float | None], n_bins: int = 8
) -> dict[str, float]:
    """How much of the score's variance each parameter explains, normalised to sum to 1.

    A variance decomposition over binned parameters (the first-order term of fANOVA without
    the random forest): for each parameter, the correlation ratio η² — the variance of the
    per-bin mean score over the total variance — with a small-sample correction so a
    parameter that does nothing scores near zero. Trials without a score are left out.

    Parameters
    ----------
    params : sequence of mapping
        Each trial's flat configuration.
    scores : sequence of float or None
        Each trial's score, same order.
    n_bins : int, default 8
        Quantile bins of a numeric parameter (categorical ones get one bin a value).

    Returns
    -------
    dict
        Parameter name → share in [0, 1], largest first; empty with fewer than 3 scores.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> xs = [{"a": float(a), "b": float(b)} for a, b in rng.random((200, 2))]
    >>> ys = [10 * p["a"] + 0.1 * p["b"] for p in xs]
    >>> imp = param_importance(xs, ys)
    >>> list(imp)[0], imp["a"] > 0.9
    ('a', True)
    """
    keep = [i for i, s in enumerate(scores) if s is not None and math.isfinite(s)]
    if len(keep) < 3:
        return {}
    y = np.array([scores[i] for i in keep], dtype=float)
    total = float(y.var())
    rows = [params[i] for i in keep]
    kinds = column_kinds(rows)
    raw: dict[str, float] = {}
    for name, kind in kinds.items():
        labels = _bins([row.get(name) for row in rows], kind == "numeric", n_bins)
        if total == 0.0:
            raw[name] = 0.0
            continue
        groups = np.unique(labels)
        sizes = np.array([(labels == g).sum() for g in groups], dtype=float)
        means = np.array([y[labels == g].mean() for g in groups])
        between = float((sizes * (means - y.mean()) ** 2).sum() / len(y))
        eta2 = between / total
        # expected η² of pure noise is (groups - 1) / (n - 1): subtract it (adjusted η²)
        dof = (len(groups) - 1) / max(len(y) - 1, 1)
        raw[name] = max(0.0, (eta2 - dof) / (1 - dof)) if dof < 1 else 0.0
    norm = sum(raw.values())
    shares = {k: (v / norm if norm > 0 else 0.0) for k, v in raw.items()}
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def concurrency(
    starts: Sequence[float | None], ends: Sequence[float | None], now: float
) -> tuple[list[float], list[int]]:
    """Step function of how many trials ran at each moment (times in seconds).

    Trials without a start are left out; a running trial (no end) runs until ``now``.

    Examples
    --------
    >>> concurrency([0, 1, 5], [2, 3, None], now=6)
    ([0, 1, 2, 3, 5, 6], [1, 2, 1, 0, 1, 0])
    """
    events: dict[float, int] = {}
    for start, end in zip(starts, ends, strict=False):
        if start is None:
            continue
        stop = now if end is None else end
        events[start] = events.get(start, 0) + 1
        events[stop] = events.get(stop, 0) - 1
    times = sorted(events)
    counts: list[int] = []
    running = 0
    for t in times:
        running += events[t]
        counts.append(running)
    return times, counts
