"""The JSON the dashboard's pages draw: sweep summaries, the trials table, chart data.

Everything is computed from a cached `Snapshot` (see `hypersweep.dashboard.cache`) and memoised
on it, so paging through 100,000 trials or redrawing charts on every poll costs nothing once
the snapshot is built. Charts get bounded data — at most a few thousand points whatever the
sweep's size — because the browser, not the server, is the slow part at 10,000 trials.

Examples
--------
>>> parse_ranges(["lr:0.01:0.1", "depth::5"])
{'lr': (0.01, 0.1), 'depth': (None, 5.0)}
"""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from hypersweep.api.run import placement_text
from hypersweep.dashboard import objectives
from hypersweep.dashboard.cache import Snapshot, TrialRow
from hypersweep.spec import SweepSpec, TrialOutcome
from hypersweep.store import Status, Store
from hypersweep.viz.analysis import (
    best_so_far,
    column_kinds,
    concurrency,
    evenly_spaced,
    log_scaled,
    stride_downsample,
)
from hypersweep.viz.importance import param_importance

__all__ = [
    "CHART_POINTS",
    "charts",
    "charts_ready",
    "config_json",
    "curve_picks",
    "curves",
    "curves_chart",
    "first_charts",
    "history_chart",
    "parse_ranges",
    "quick_charts",
    "row_json",
    "sample_chart",
    "sample_picks",
    "sort_key",
    "sweep_summary",
    "system_series",
    "table",
]

#: Most trials a scatter-like chart draws (the best ones are always among them).
CHART_POINTS = 2000
#: Most curves the metric-curves chart draws, and most points per curve.
CURVES, CURVE_POINTS = 200, 200
#: Most bars in the timeline (the concurrency line always covers every trial).
BARS = 300


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _ranked(snap: Snapshot) -> list[TrialRow]:
    """Scored trials, best first."""
    def build() -> list[TrialRow]:
        scored = [r for r in snap.rows if r.best is not None]
        return sorted(scored, key=lambda r: r.best, reverse=snap.maximize)  # type: ignore[arg-type,return-value]
    return snap.derive("ranked", build)


def _best(snap: Snapshot) -> TrialRow | None:
    """The first of `_ranked`, as the cache keeps it (`Totals`), or found without sorting."""
    if snap.totals is not None:
        return None if snap.totals.best is None else snap.rows[snap.totals.best]
    scored = [r for r in snap.rows if r.best is not None]
    pick = max if snap.maximize else min  # the first of equals: the lowest number
    return pick(scored, key=lambda r: r.best) if scored else None  # type: ignore[arg-type,return-value]


def status_counts(rows: Iterable[TrialRow]) -> dict[str, int]:
    """How many trials are in each status (every status present, zeros included)."""
    counts = {s.value: 0 for s in Status if s is not Status.CANCEL_REQUESTED}
    counts.update(Counter(map(attrgetter("status"), rows)))
    return counts


def row_json(row: TrialRow, found: dict[str, TrialOutcome] | None = None) -> dict[str, Any]:
    """A table row of the page: the trial, and its objectives when ``found`` has them."""
    out = {
        "index": row.index, "id": row.id, "status": row.status, "params": row.params,
        "best": row.best, "start": row.start, "end": row.end, "duration": row.duration,
        "reason": row.reason, "error": row.error,
        # as stored, and as the CLI writes it ("gpu 2 · cores 4-5"; None: it held nothing)
        "placement": row.placement, "devices": placement_text(row.placement) or None,
    }
    if found:  # several objectives or constraints: each objective, feasible, on the front
        out.update(objectives.outcome_json(found.get(row.id)))
    return out


def config_json(spec: SweepSpec) -> dict[str, Any]:
    """The stored form of each part of the sweep's configuration, as the page reads it."""
    return {
        "search_space": spec.search_space.to_dict(),
        "sampling_algorithm": spec.sampling.to_dict(),
        "early_termination": spec.policy.to_dict(),
        "objective": {"primary_metric": spec.objective.metric, "goal": spec.objective.goal},
        "limits": spec.limits.to_dict(),
        "trial": spec.trial.to_dict(),
    }


def sweep_summary(snap: Snapshot, brief: bool = False) -> dict[str, Any]:
    """The sweep's record, progress and best trial (``brief``: what the home page needs)."""
    sweep = snap.sweep
    counts = status_counts(snap.rows) if snap.totals is None else {
        **{s.value: 0 for s in Status if s is not Status.CANCEL_REQUESTED},
        **snap.totals.counts}
    if snap.spec.constraints:  # the best trial is a feasible one (as the engine names it)
        found = objectives.outcomes(snap)
        ranked = [r for r in _ranked(snap) if r.id in found and found[r.id].feasible]
        best = ranked[0] if ranked else None
    else:
        best = _best(snap)
    spec = snap.spec
    start = sweep.start_time.timestamp() if sweep.start_time else None
    end = sweep.end_time.timestamp() if sweep.end_time else None
    out: dict[str, Any] = {
        "id": sweep.id, "experiment": sweep.experiment, "status": sweep.status.value,
        "created": sweep.created_time.timestamp(), "start": start, "end": end,
        "duration": None if start is None else (end or time.time()) - start,
        "trials": len(snap.rows), "counts": counts,
        "finished": sum(counts[s] for s in ("Completed", "Failed", "Canceled")),
        "max_total_trials": spec.limits.max_total_trials,
        "metric": snap.metric, "maximize": snap.maximize,
        # the status too: a trial that logged the best value and then failed is flagged
        "best": None if best is None else {"index": best.index, "id": best.id,
                                           "status": best.status, "value": best.best,
                                           "params": best.params},
        "version": snap.version,
        # several objectives or constraints: the objectives, constraints and front's size
        **objectives.summary(snap),
    }
    if not brief:
        out.update({
            # the stored form of each part (durations in seconds), as the sweep page reads it
            "config": config_json(spec),
            "error": sweep.error, "warnings": list(sweep.warnings),
            "properties": sweep.properties,
            # (may lag a big running sweep, as its charts do: a pass over every trial's params)
            "columns": snap.lasting("columns",
                                    lambda: column_kinds([r.params for r in snap.rows])),
            # whether the trials table has a devices column (some trial held devices or cores)
            "placed": any(placement_text(snap.rows[i].placement) for i in snap.totals.placed)
            if snap.totals is not None else any(placement_text(r.placement) for r in snap.rows),
        })
    return out


# ------------------------------------------------------------------------ the trials table

def parse_ranges(specs: Sequence[str]) -> dict[str, tuple[float | None, float | None]]:
    """Parse ``name:lo:hi`` parameter-range filters (either bound may be empty).

    The parameter name may itself contain ``:``; the last two fields are the bounds.

    Raises
    ------
    ValueError
        When a bound is not a number.
    """
    out: dict[str, tuple[float | None, float | None]] = {}
    for spec in specs:
        name, _, bounds = spec.rpartition(":")
        name, _, low = name.rpartition(":")
        if not name:
            raise ValueError(f"range filter {spec!r}: expected name:low:high")
        out[name] = (float(low) if low else None, float(bounds) if bounds else None)
    return out


def sort_key(column: str, found: dict[str, TrialOutcome] | None = None,
              ) -> Callable[[TrialRow], Any]:
    """The table's sort key of ``column`` (see `table`); ``ValueError`` for an unknown one."""
    # (missing, number, text): missing values sort last, numbers before text
    def wrap(value: Any) -> tuple[int, float, str]:
        if value is None:
            return (1, 0.0, "")
        number = _num(value)
        if number is not None:
            return (0, number, "")
        return (0, math.inf, str(value))

    if column.startswith("param:"):
        name = column[len("param:"):]
        return lambda r: wrap(r.params.get(name))
    outcome = (found or {}).get
    if column.startswith("value:"):  # an objective's value (several objectives)
        metric = column[len("value:"):]
        return lambda r: wrap(o.values.get(metric) if (o := outcome(r.id)) else None)
    if column in ("feasible", "front"):
        return lambda r: wrap(None if (o := outcome(r.id)) is None
                              else int(o.feasible if column == "feasible" else o.on_front))
    getters: dict[str, Callable[[TrialRow], Any]] = {
        "index": lambda r: r.index, "status": lambda r: r.status, "best": lambda r: r.best,
        "duration": lambda r: r.duration, "start": lambda r: r.start,
        "reason": lambda r: r.reason,
    }
    if column not in getters:
        raise ValueError(f"sort: unknown column {column!r}")
    getter = getters[column]
    return lambda r: wrap(getter(r))


def table(
    snap: Snapshot, *, sort: str = "index", desc: bool = False,
    status: Sequence[str] = (), metric_min: float | None = None,
    metric_max: float | None = None,
    ranges: dict[str, tuple[float | None, float | None]] | None = None,
    match: dict[str, str] | None = None, offset: int = 0, limit: int = 50,
) -> dict[str, Any]:
    """One page of the trials table, sorted and filtered on the server.

    Parameters
    ----------
    sort : str
        ``index``, ``status``, ``best``, ``duration``, ``start``, ``reason`` or
        ``param:<name>``; with several objectives or constraints also ``value:<metric>``,
        ``feasible`` and ``front``. Missing values sort last either way.
    status : sequence of str
        Keep only these statuses (empty: all).
    metric_min, metric_max : float, optional
        Keep trials whose best primary-metric value lies in the range (unscored trials go).
    ranges : dict
        Parameter name → (low, high) inclusive bounds; a non-numeric value fails the filter.
    match : dict
        Parameter name → text the value's string form must contain (case-insensitive).
    offset, limit : int
        The page; ``limit`` is capped at 1000.

    Returns
    -------
    dict
        ``{"total", "matched", "offset", "rows"}``.
    """
    key = ("sorted", sort, desc)
    found = objectives.outcomes(snap)
    ordered: list[TrialRow] = snap.derive(key, lambda: _sorted(snap.rows, sort, desc, found))
    wanted = set(status)
    ranges = ranges or {}
    match = {k: v.lower() for k, v in (match or {}).items()}

    def keep(row: TrialRow) -> bool:
        if wanted and row.status not in wanted:
            return False
        if metric_min is not None or metric_max is not None:
            if row.best is None:
                return False
            if metric_min is not None and row.best < metric_min:
                return False
            if metric_max is not None and row.best > metric_max:
                return False
        for name, (low, high) in ranges.items():
            value = _num(row.params.get(name))
            if value is None or (low is not None and value < low) or (
                high is not None and value > high
            ):
                return False
        return all(text in str(row.params.get(name, "")).lower() for name, text in match.items())

    filtering = wanted or metric_min is not None or metric_max is not None or ranges or match
    chosen = [r for r in ordered if keep(r)] if filtering else ordered
    limit = max(1, min(int(limit), 1000))
    offset = max(0, int(offset))
    return {
        "total": len(snap.rows), "matched": len(chosen), "offset": offset,
        "rows": [row_json(r, found) for r in chosen[offset:offset + limit]],
    }


def _sorted(rows: list[TrialRow], sort: str, desc: bool,
            found: dict[str, TrialOutcome] | None = None) -> list[TrialRow]:
    if sort == "index":  # rows are kept by number: nothing to sort
        return rows[::-1] if desc else list(rows)
    keyed = sort_key(sort, found)
    # each row's key once (not once to split and again to sort): 100,000 rows
    keys = [keyed(r) for r in rows]
    present = [i for i, key in enumerate(keys) if key[0] == 0]
    present.sort(key=keys.__getitem__, reverse=desc)
    return [rows[i] for i in present] + [r for r, key in zip(rows, keys, strict=True)
                                           if key[0] == 1]


# ------------------------------------------------------------------------ charts

def _top(indexes: Sequence[int], bests: Sequence[float | None], maximize: bool,
         k: int) -> set[int]:
    """The numbers of the ``k`` best scored trials (the lowest numbers first among equals)."""
    scored = [(i, b) for i, b in zip(indexes, bests, strict=True) if b is not None]
    pick = heapq.nlargest if maximize else heapq.nsmallest  # stable: equals keep their order
    return {i for i, _ in pick(k, scored, key=itemgetter(1))}


def sample_picks(indexes: Sequence[int], bests: Sequence[float | None],
                 maximize: bool) -> list[int]:
    """Positions (in ``indexes``, trial numbers in order, and ``bests``, their best values) of
    the trials a scatter-like chart draws: every scored one, or `CHART_POINTS` of them spread
    evenly plus the 50 best.

    >>> sample_picks([0, 1, 2, 3], [0.5, None, 0.1, 0.3], maximize=False)
    [0, 2, 3]
    """
    scored = [p for p, best in enumerate(bests) if best is not None]
    top = _top(indexes, bests, maximize, 50)
    keep = [j for j, p in enumerate(scored) if indexes[p] in top]
    return [scored[j] for j in evenly_spaced(len(scored), CHART_POINTS, keep)]


def curve_picks(indexes: Sequence[int], bests: Sequence[float | None],
                maximize: bool) -> list[int]:
    """Positions (as `sample_picks` gives them) of the trials whose curves the metric-curves
    chart draws: `CURVES` spread evenly over all the trials plus the 20 best.

    >>> curve_picks([0, 1, 2], [None, 0.5, 0.1], maximize=True)
    [0, 1, 2]
    """
    top = _top(indexes, bests, maximize, 20)
    return evenly_spaced(len(indexes), CURVES, [p for p, i in enumerate(indexes) if i in top])


def _bests(snap: Snapshot) -> tuple[list[int], list[float | None]]:
    """The snapshot's trial numbers and best values, as the store's `TrialBests` has them."""
    return snap.derive("bests", lambda: ([r.index for r in snap.rows],
                                          [r.best for r in snap.rows]))


def _sample(snap: Snapshot) -> list[TrialRow]:
    """The trials of `sample_picks`."""
    return snap.derive("sample", lambda: [
        snap.rows[p] for p in sample_picks(*_bests(snap), snap.maximize)])


def _columns(rows: Sequence[TrialRow], space: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each parameter as a plot axis: numeric values, or category codes with their labels.

    A numeric column says ``log`` when its search-space expression is log-distributed
    (None: the space does not say, and the page judges from the values)."""
    out: list[dict[str, Any]] = []
    for name, kind in column_kinds([r.params for r in rows]).items():
        values = [r.params.get(name) for r in rows]
        if kind == "numeric":
            out.append({"name": name, "kind": kind, "values": [_num(v) for v in values],
                        "log": log_scaled(space, name)})
        else:
            # str(None) is "None", as Python prints the option; a trial without it shows —
            shown = [str(r.params[name]) if name in r.params else "—" for r in rows]
            labels = sorted(set(shown))
            code = {label: i for i, label in enumerate(labels)}
            out.append({"name": name, "kind": kind, "labels": labels,
                        "values": [code[label] for label in shown]})
    return out


def charts(snap: Snapshot) -> dict[str, Any]:
    """Data for every sweep-page chart except the metric curves (see `curves`).

    While a sweep of 5,000 trials or more runs they may lag its newest trials (by 10 s, or a
    hundred times what building them costs if more: `Snapshot.lasting`), as may the curves
    and the summary's parameter columns: polled, a 100,000-trial sweep's charts would
    otherwise take a core away from the sweep. Counts, best trial and table are current."""
    return snap.lasting("charts", lambda: _charts(snap))


def history_chart(indexes: Sequence[int], bests: Sequence[float | None],
                  sample: Sequence[TrialRow], maximize: bool) -> dict[str, Any]:
    """The best-so-far chart's data: the ``sample``'s values (`sample_picks`) and the running
    best of every trial (numbers ``indexes``, best values ``bests``), whose steps are few, so
    it is drawn whole."""
    steps_i: list[int] = []
    steps_v: list[float] = []
    for index, value in zip(indexes, best_so_far(bests, maximize), strict=True):
        if value is not None and (not steps_v or value != steps_v[-1]):
            steps_i.append(index)
            steps_v.append(value)
    if steps_v:
        steps_i.append(indexes[-1])
        steps_v.append(steps_v[-1])
    return {"index": [r.index for r in sample], "value": [r.best for r in sample],
            "best_index": steps_i, "best": steps_v, "shown": len(sample),
            "scored": sum(b is not None for b in bests)}


def sample_chart(sample: Sequence[TrialRow], space: dict[str, Any]) -> dict[str, Any]:
    """The sampled trials (`sample_picks`) as the parameter charts draw them."""
    return {"index": [r.index for r in sample], "id": [r.id for r in sample],
            "score": [r.best for r in sample], "columns": _columns(sample, space)}


def first_charts(spec: SweepSpec, indexes: Sequence[int], bests: Sequence[float | None],
                 sample: Sequence[TrialRow], note: str) -> dict[str, Any]:
    """The charts' data (as `charts` gives it) of what every trial's number and best value
    and the sample's trials (`sample_picks`) give at once: the best-so-far line and the
    parameter charts; the importance (scikit-learn imported, a forest fitted), the timeline
    and the terminations hold ``note`` instead, and the answer says ``"partial": true``.

    What a big sweep's page draws first: its complete charts wait for every trial read (or
    its importance computed), seconds at 100,000 trials."""
    maximize = spec.objective.maximize
    return {
        "metric": spec.objective.metric, "maximize": maximize, "total": len(indexes),
        "history": history_chart(indexes, bests, sample, maximize),
        "sample": sample_chart(sample, spec.search_space.to_dict()),
        "importance": {}, "importance_note": note,
        "importance_info": {"trials": 0, "explained": None, "caveat": None},
        "timeline": {"t0": None, "times": [], "running": [], "bars": []},
        "terminations": {"count": 0, "by_reason": {}, "rows": []},
        "partial": True, "pending": note,
    }


def charts_ready(snap: Snapshot) -> bool:
    """Whether `charts` answers at once (built for this snapshot or one before it)."""
    return "charts" in snap.derived or "charts" in snap.lasting_values


def quick_charts(snap: Snapshot) -> dict[str, Any]:
    """`first_charts` of the snapshot: what a big sweep's page draws while `charts` is built."""
    return first_charts(snap.spec, *_bests(snap), _sample(snap), "being computed")


def _charts(snap: Snapshot) -> dict[str, Any]:
    rows = snap.rows
    sample = _sample(snap)
    scored = [r for r in rows if r.best is not None]
    importance = param_importance([r.params for r in scored], [r.best for r in scored])
    # timeline: relative seconds from the first start
    starts = [r.start for r in rows]
    ends = [r.end for r in rows]
    t0 = min((s for s in starts if s is not None), default=None)
    timeline: dict[str, Any] = {"t0": t0, "times": [], "running": [], "bars": []}
    if t0 is not None:
        now = time.time()
        times, running = concurrency(
            [None if s is None else s - t0 for s in starts],
            [None if e is None else e - t0 for e in ends], now - t0)
        picks = evenly_spaced(len(times), 4 * CHART_POINTS)
        timeline.update(times=[times[i] for i in picks], running=[running[i] for i in picks])
        started = [r for r in rows if r.start is not None]
        timeline["bars"] = [
            {"index": r.index, "status": r.status, "start": r.start - t0,  # type: ignore[operator]
             "end": (r.end if r.end is not None else now) - t0}
            for r in (started[i] for i in evenly_spaced(len(started), BARS))
        ]
        timeline["shown_bars"], timeline["total_bars"] = len(timeline["bars"]), len(started)
    stopped = [r for r in rows if r.reason]
    reasons: dict[str, int] = {}
    for r in stopped:
        reasons[str(r.reason)] = reasons.get(str(r.reason), 0) + 1
    decisions = [
        {"index": r.index, "id": r.id, "reason": r.reason,
         "interval": (r.detail or {}).get("interval"), "value": (r.detail or {}).get("value"),
         "threshold": (r.detail or {}).get("threshold"),
         "policy": (r.detail or {}).get("policy"),
         "explanation": (r.detail or {}).get("explanation")}
        for r in stopped[:500]
    ]
    return {
        "metric": snap.metric, "maximize": snap.maximize, "total": len(rows),
        "history": history_chart(*_bests(snap), sample, snap.maximize),
        "sample": sample_chart(sample, snap.spec.search_space.to_dict()),
        # shares (largest first), or a note (too few trials, no variation) instead of bars
        "importance": importance.shares, "importance_note": importance.note,
        "importance_info": {"trials": importance.trials, "explained": importance.explained,
                            "caveat": importance.caveat},
        "timeline": timeline,
        "terminations": {"count": len(stopped), "by_reason": reasons, "rows": decisions},
    }


def curves(store: Store, snap: Snapshot, metric: str | None = None) -> dict[str, Any]:
    """Primary-metric (or ``metric``) curves over reporting intervals, downsampled.

    `CURVES` trials spread evenly over the sweep plus the 20 best (so at most `CURVES` + 20),
    and at most `CURVE_POINTS` points each. The answer is memoised on the snapshot, and
    finished trials' curves are kept from one snapshot to the next (``Snapshot.shared``), so
    a running sweep's page reads only its unfinished trials' points again when it changes.
    """
    name = metric or snap.metric
    if name is None:
        return {"metric": None, "trials": [], "shown": 0, "total": len(snap.rows)}
    return snap.lasting(("curves", name), lambda: _curves(store, snap, name))


def _curves(store: Store, snap: Snapshot, name: str) -> dict[str, Any]:
    picks = [snap.rows[p] for p in curve_picks(*_bests(snap), snap.maximize)]
    kept: dict[str, tuple[list[Any], list[Any]]] = snap.shared.setdefault(("curves", name), {})
    return curves_chart(store, name, picks, len(snap.rows), kept)


def curves_chart(store: Store, name: str, picks: Sequence[TrialRow], total: int,
                 kept: dict[str, tuple[list[Any], list[Any]]]) -> dict[str, Any]:
    """The curves of ``name`` of the trials ``picks`` (`curve_picks`) of ``total``, each at
    most `CURVE_POINTS` points; a finished trial's curve is kept in ``kept`` (by trial id),
    and read from there the next time."""
    out = []
    for row in picks:
        curve = kept.get(row.id)
        if curve is None:
            values = [p.value for p in store.get_metrics(row.id, name) if p.value is not None]
            curve = stride_downsample(list(range(1, len(values) + 1)), values, CURVE_POINTS)
            if row.finished:
                kept[row.id] = curve
        x, y = curve
        if not y:
            continue
        out.append({"index": row.index, "id": row.id, "status": row.status,
                    "reason": row.reason, "x": x, "y": y})
    return {"metric": name, "trials": out, "shown": len(picks), "total": total}


#: The series of a trial's system samples the trial page draws (each only when some sample has it).
SYSTEM_SERIES = ("cpu_percent", "rss_mib", "processes", "gpu_util_percent", "gpu_memory_mib")


def system_series(samples: Sequence[dict[str, Any]], k: int = CHART_POINTS) -> dict[str, Any]:
    """A trial's system samples (`Run.get_system_metrics`) as at most ``k`` points per series:
    ``time`` and one list per field some sample carries (``None`` where one does not), plus
    what the last sample says of the devices (``gpus``, ``gpu_memory_of``,
    ``gpu_memory_total_mib``). The file is the trial's to write: only numbers, a list of
    device numbers and the two words of ``gpu_memory_of`` come through.

    >>> out = system_series([{"time": 1, "cpu_percent": 50.0, "rss_mib": 9.5, "processes": 1},
    ...                      {"time": 6, "cpu_percent": 99.9, "rss_mib": 10.0, "processes": 2}])
    >>> out["count"], out["time"], out["series"]["cpu_percent"], sorted(out["series"])
    (2, [1.0, 6.0], [50.0, 99.9], ['cpu_percent', 'processes', 'rss_mib'])
    """
    index, _ = stride_downsample(range(len(samples)), range(len(samples)), k)
    kept = [samples[int(i)] for i in index]
    series = {name: [_num(s.get(name)) for s in kept] for name in SYSTEM_SERIES
              if any(name in s for s in samples)}
    last = samples[-1] if samples else {}
    gpus = last.get("gpus")
    devices = {
        "gpus": [g for g in gpus if isinstance(g, int)] if isinstance(gpus, list) else [],
        "gpu_memory_of": last.get("gpu_memory_of")
        if last.get("gpu_memory_of") in ("processes", "devices") else None,
        "gpu_memory_total_mib": _num(last.get("gpu_memory_total_mib")),
    }
    return {"count": len(samples), "time": [_num(s.get("time")) for s in kept],
            "series": series, "devices": devices}
