"""A big sweep's first screen (summary, status counts, best trial, first table page, the
charts in view), answered from the store's aggregate and paged queries while its snapshot is
read in the background.

Why: the snapshot (`hypersweep.dashboard.cache`) reads every trial — 1.4 s of CPU for
100,000 — and the importance chart then imports scikit-learn (1 s more), but the first screen
needs neither: `Store.trial_counts` gives the counts and the best trial, `Store.trial_page`
one page of the table, each in a few milliseconds; `Store.trial_bests` (every trial's best
value, a tenth of a full read) gives the best-so-far line and picks the sample the parameter
charts and the metric curves draw, whose trials `Store.trial_lines` reads by number. Those
charts are the snapshot's, exactly; the importance, the timeline and the terminations, which
need every trial's parameters and times, say they come once every trial is read. These
answers say ``"partial": true`` (the curves, complete, do not); the page asks again for the
full ones (`charts` with ``complete``, which waits for the snapshot).

Only what the store can order is answered here: a table sorted by number (either way) or by
best value (best first), filtered by status at most, of a sweep with one objective and no
constraint (the others need every trial's outcomes). Anything else waits for the snapshot.

Examples
--------
>>> from hypersweep.store import Store
>>> from hypersweep.viz.example import example_sweep
>>> store = Store("sqlite://")
>>> sweep_id = example_sweep(store)
>>> sweep = store.get_sweep(sweep_id)
>>> spec = SweepSpec.from_dict(sweep.config)
>>> s = summary(store, sweep, spec)
>>> s["partial"], s["trials"], s["best"]["id"]
(True, 6, 'HD_example_2')
>>> [r["index"] for r in table(store, sweep_id, spec, sort="index", desc=True, limit=2)["rows"]]
[5, 4]
>>> table(store, sweep_id, spec, sort="param:lr") is None
True
>>> bests = store.trial_bests(sweep_id, "loss", False)
>>> c = charts(store, sweep, spec, bests)
>>> c["partial"], c["history"]["shown"], c["importance_note"]
(True, 6, 'drawn once all 6 trials are read')
>>> [t["index"] for t in curves(store, sweep, spec, bests)["trials"]]
[0, 1, 2, 3, 4, 5]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from hypersweep.dashboard.cache import TrialRow, line_row, trial_row
from hypersweep.dashboard.views import (
    config_json,
    curve_picks,
    curves_chart,
    first_charts,
    row_json,
    sample_picks,
)
from hypersweep.spec import SweepSpec
from hypersweep.store import Status, Store, SweepRecord, TrialBests
from hypersweep.viz.analysis import column_kinds

__all__ = ["answers", "charts", "curves", "summary", "table"]


def answers(spec: SweepSpec) -> bool:
    """Whether this sweep's first screen can be answered here (one objective, no constraint:
    its best trial and its table do not need every trial's outcomes)."""
    return len(spec.objectives) == 1 and not spec.constraints


def summary(store: Store, sweep: SweepRecord, spec: SweepSpec) -> dict[str, Any]:
    """The sweep summary (as `views.sweep_summary` gives it) from `Store.trial_counts` and
    the first table page; ``columns`` and ``placed`` are those of the trials read (the full
    answer, with the snapshot, has every trial's)."""
    metric, maximize = spec.objective.metric, spec.objective.maximize
    totals = store.trial_counts(sweep.id, metric, maximize)
    counts = {s.value: 0 for s in Status if s is not Status.CANCEL_REQUESTED}
    counts.update(totals.statuses)
    best = totals.best
    seen = [t.trial for t in store.trial_page(sweep.id, metric, maximize, order="index",
                                              limit=50)]
    if best is not None:
        seen.append(best.trial)
    start = sweep.start_time.timestamp() if sweep.start_time else None
    end = sweep.end_time.timestamp() if sweep.end_time else None
    return {
        "id": sweep.id, "experiment": sweep.experiment, "status": sweep.status.value,
        "created": sweep.created_time.timestamp(), "start": start, "end": end,
        "duration": None if start is None else (end or time.time()) - start,
        "trials": totals.total, "counts": counts,
        "finished": sum(counts[s] for s in ("Completed", "Failed", "Canceled")),
        "max_total_trials": spec.limits.max_total_trials,
        "metric": metric, "maximize": maximize,
        "best": None if best is None else {
            "index": best.trial.index, "id": best.trial.id, "status": best.trial.status.value,
            "value": best.best, "params": best.trial.params},
        "version": 0, "partial": True,
        "config": config_json(spec),
        "error": sweep.error, "warnings": list(sweep.warnings), "properties": sweep.properties,
        "columns": column_kinds([t.params for t in seen]),
        "placed": any(t.placement for t in seen),
    }


def table(store: Store, sweep_id: str, spec: SweepSpec, *, sort: str = "index",
          desc: bool = False, status: Sequence[str] = (), offset: int = 0,
          limit: int = 50) -> dict[str, Any] | None:
    """One page of the trials table (as `views.table` gives it) from `Store.trial_page`, or
    None when the store cannot order it so (see the module's docstring)."""
    metric, maximize = spec.objective.metric, spec.objective.maximize
    if sort not in ("index", "best") or (sort == "best" and desc != maximize):
        return None
    limit = max(1, min(int(limit), 1000))
    offset = max(0, int(offset))
    try:
        wanted = [Status(s) for s in status] or None
    except ValueError:  # an unknown status matches nothing: the snapshot's table says so
        return None
    # (counting by status aggregates every trial's metric too: 0.3 s at 100,000 trials)
    total = store.count_trials([sweep_id])[sweep_id]
    if wanted is None:
        matched = total
    else:
        by_status = store.trial_counts(sweep_id, metric, maximize).statuses
        matched = sum(by_status.get(s.value, 0) for s in wanted)
    if sort == "index" and desc:  # the store pages upwards: the mirror page, reversed
        first = max(0, matched - offset - limit)
        size = max(0, min(limit, matched - offset))
        page = store.trial_page(sweep_id, metric, maximize, order="index", offset=first,
                                limit=size, statuses=wanted)[::-1]
    else:
        page = store.trial_page(sweep_id, metric, maximize,
                                order="index" if sort == "index" else "metric",
                                offset=offset, limit=limit, statuses=wanted)
    return {"total": total, "matched": matched, "offset": offset, "partial": True,
            "rows": [row_json(trial_row(t.trial, t.best)) for t in page]}


def _picked(store: Store, sweep: SweepRecord, spec: SweepSpec, bests: TrialBests,
            picks: Callable[[Sequence[int], Sequence[float | None], bool], list[int]]
            ) -> list[TrialRow]:
    """The rows of the trials ``picks`` (`views.sample_picks` or `views.curve_picks`) chooses
    from ``bests``, read by number in one query."""
    maximize = spec.objective.maximize
    wanted = [bests.indexes[p] for p in picks(bests.indexes, bests.bests, maximize)]
    return [line_row(line, line.best) for line in store.trial_lines(
        sweep.id, spec.objective.metric, maximize, indexes=wanted)]


def charts(store: Store, sweep: SweepRecord, spec: SweepSpec,
           bests: TrialBests) -> dict[str, Any]:
    """`views.first_charts` of what ``bests`` (`Store.trial_bests` of the primary metric) and
    the sample's lines give."""
    sample = _picked(store, sweep, spec, bests, sample_picks)
    return first_charts(spec, bests.indexes, bests.bests, sample,
                        f"drawn once all {len(bests.indexes):,} trials are read")


def curves(store: Store, sweep: SweepRecord, spec: SweepSpec, bests: TrialBests,
           metric: str | None = None) -> dict[str, Any]:
    """The metric curves (as `views.curves` gives them) of the trials ``bests`` picks: the
    same trials, so the same answer."""
    picks = _picked(store, sweep, spec, bests, curve_picks)
    return curves_chart(store, metric or spec.objective.metric, picks, len(bests.indexes), {})
