"""A per-sweep, incrementally refreshed snapshot of trials and their best primary metric.

Why a cache: a sweep page with 10,000 trials needs every trial's status, parameters and best
value, and a live page asks again every couple of seconds. Reading everything each time would
cost the running sweep real database time (and five open dashboards five times that). So the
first read is a full one (``trial_page``: one query, each trial with its best value) and
later refreshes re-read only what can still change — the trials not yet finished and the
trials created since — through cheap primary-key lookups, and of each running trial's
primary metric only the points logged since the last refresh. A finished sweep, once read
after it finished, is never read again. Refreshes are throttled (``min_interval``) and
shared by every client of the process.

A sweep with several objectives or constraints also needs the last value of each objective
and constrained metric (`SweepSpec.tracked_metrics`): a full read takes them in one query per
metric, and a refresh reads a running trial's points logged since the last one (one query
per trial).

Examples
--------
>>> from hypersweep.store import Store
>>> cache = SweepCache(Store("sqlite://"), "HD_missing")
>>> try:
...     cache.snapshot()
... except KeyError as err:
...     print("unknown")
unknown
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypersweep.spec import SweepSpec
from hypersweep.store import Status, Store, SweepRecord, TrialLine, TrialRecord, trial_id

__all__ = ["LASTING_ROWS", "READ_PAGE", "Snapshot", "SweepCache", "Totals", "TrialRow", "line_row",
           "trial_row"]

# one token per process: an ETag from an earlier server never matches this one's data
_GENERATION = uuid.uuid4().hex[:8]
# a running sweep is fully re-read this often anyway (catches anything incremental misses),
# and less often when a full read is slow: at most 1/_FULL_SHARE of the time goes to them
_FULL_EVERY, _FULL_SHARE = 30.0, 100.0


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


@dataclass(frozen=True)
class TrialRow:
    """What the sweep page shows of one trial.

    ``best`` is the trial's best primary-metric value (None: not logged yet); ``points`` how
    many numeric primary-metric values it logged, when known (incremental refreshes count
    them; a full read leaves it None); ``placement`` the devices and cores it held, as stored
    (None: it asked for none); ``last`` the last (non-NaN) value it logged of each
    `SweepSpec.tracked_metrics` metric (None: the sweep watches none).
    """

    index: int
    id: str
    status: str
    params: dict[str, Any]
    best: float | None
    start: float | None
    end: float | None
    created: float
    reason: str | None
    detail: dict[str, Any] | None
    error: str | None
    points: int | None = None
    placement: dict[str, Any] | None = None
    last: dict[str, float] | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (to now while running); None before it starts."""
        if self.start is None:
            return None
        return (self.end if self.end is not None else time.time()) - self.start

    @property
    def finished(self) -> bool:
        return self.status in _ENDED


def _last(values: list[float]) -> float | None:
    finite = [v for v in values if not math.isnan(v)]
    return finite[-1] if finite else None


def trial_row(record: TrialRecord, best: float | None, points: int | None = None,
              last: dict[str, float] | None = None) -> TrialRow:
    """Build a `TrialRow` from a stored trial and its best value."""
    return TrialRow(
        index=record.index, id=record.id, status=record.status.value, params=dict(record.params),
        best=best, start=_ts(record.start_time), end=_ts(record.end_time),
        created=record.created_time.timestamp(), reason=record.termination_reason,
        detail=record.termination_detail, error=record.error, points=points,
        placement=record.placement, last=last,
    )


def line_row(line: TrialLine, best: float | None, points: int | None = None,
             last: dict[str, float] | None = None) -> TrialRow:
    """Build a `TrialRow` from a `TrialLine` (what a full read gets) and its best value."""
    return TrialRow(line.index, line.id, line.status, line.params, best, _ts(line.start_time),
                    _ts(line.end_time), line.created_time.timestamp(), line.termination_reason,
                    line.termination_detail, line.error, points, line.placement, last)


_ENDED = frozenset(s.value for s in Status if s.is_terminal)


@dataclass(frozen=True)
class Totals:
    """What a sweep page shows of all the trials, kept up to date by the cache from the
    trials each refresh read (never a pass over every trial on a refresh).

    ``counts``: status -> trials; ``best``: the position in the rows of the trial with the
    best value (the lowest number of equals; None: none scored); ``placed``: positions of
    the trials that hold a placement.
    """

    counts: dict[str, int]
    best: int | None
    placed: tuple[int, ...]

    @classmethod
    def of(cls, rows: list[TrialRow], maximize: bool) -> Totals:
        """Count every row (a full read)."""
        return cls({}, None, ()).update([], rows, range(len(rows)), maximize)

    def update(self, old: list[TrialRow], rows: list[TrialRow], looked: Iterable[int],
               maximize: bool) -> Totals:
        """The totals of ``rows``: these (of ``old``) with the rows at ``looked`` read again
        (the others are as they were). A trial's best only improves as it logs, so the best
        is the better of the old best and the rows read."""
        counts = dict(self.counts)
        best, placed = self.best, set(self.placed)
        for i in looked:
            if i < len(old):
                counts[old[i].status] -= 1
            row = rows[i]
            counts[row.status] = counts.get(row.status, 0) + 1
            if row.best is not None and (best is None or _better(row, rows[best], maximize)):
                best = i
            if row.placement:
                placed.add(i)
        return Totals({k: n for k, n in counts.items() if n}, best, tuple(sorted(placed)))


def _better(a: TrialRow, b: TrialRow, maximize: bool) -> bool:
    """Whether ``a`` ranks before ``b`` (both scored): better value, else lower number."""
    if a.best == b.best:
        return a.index < b.index
    return (a.best > b.best) if maximize else (a.best < b.best)  # type: ignore[operator]


@dataclass
class Snapshot:
    """A consistent view of one sweep: its record and its trials by index.

    ``version`` grows whenever anything shown changed; ``etag`` is the HTTP validator built
    from it, so a poll that finds nothing new is answered ``304 Not Modified``. ``derived``
    holds what was computed from this snapshot; ``shared`` what stays true from one
    snapshot to the next (finished trials' data) until the next full read.
    """

    sweep: SweepRecord
    spec: SweepSpec
    rows: list[TrialRow]
    version: int
    derived: dict[Any, Any] = field(default_factory=dict)
    shared: dict[Any, Any] = field(default_factory=dict)
    #: key -> (monotonic time built, CPU seconds it took, value): see `lasting`
    lasting_values: dict[Any, tuple[float, float, Any]] = field(default_factory=dict)
    #: counts, best and placed trials (None: count them from the rows when asked)
    totals: Totals | None = None
    _locks: dict[Any, threading.Lock] = field(default_factory=dict, repr=False, compare=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def metric(self) -> str:
        """The primary metric's name."""
        return self.spec.objective.metric

    @property
    def maximize(self) -> bool:
        return self.spec.objective.maximize

    @property
    def etag(self) -> str:
        return f'"{_GENERATION}-{self.sweep.id}-{self.version}"'

    def derive(self, key: Any, build: Callable[[], Any]) -> Any:
        """``derived[key]``, built by ``build()`` once: a request (or the warm-up) asking
        while another builds it waits for that answer instead of building it again."""
        try:
            return self.derived[key]
        except KeyError:
            pass
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self.derived:
                self.derived[key] = build()
        return self.derived[key]


    def lasting(self, key: Any, build: Callable[[], Any]) -> Any:
        """``derive(key, build)`` for what is costly to build and may lag a running sweep
        a little (its charts): in a running sweep of `LASTING_ROWS` trials or more, a value
        built for an earlier snapshot is kept until it is ``_REBUILD_SHARE`` times as old as
        it took to build (and at least ``_REBUILD_AFTER`` seconds), so rebuilding it as the
        sweep changes takes at most 1/``_REBUILD_SHARE`` of a core however often pages poll.
        A smaller sweep's, and a finished sweep's, is always its own snapshot's."""
        def build_or_keep() -> Any:
            kept = self.lasting_values.get(key)
            now = time.monotonic()
            if kept is not None and not self.sweep.status.is_terminal and \
                    len(self.rows) >= LASTING_ROWS and \
                    now - kept[0] < max(_REBUILD_AFTER, _REBUILD_SHARE * kept[1]):
                return kept[2]
            started = time.process_time()
            value = build()
            self.lasting_values[key] = (now, time.process_time() - started, value)
            return value

        return self.derive(key, build_or_keep)


# a costly derived value of a running sweep (its charts) is rebuilt at most once in this many
# times its cost (CPU seconds: a share of a core), and at most every this many seconds (a
# page polls every 2 s: values costing a few ms would otherwise be rebuilt at every poll)
_REBUILD_SHARE, _REBUILD_AFTER = 100.0, 10.0
#: Trials from which a running sweep's costly derived values may lag it (`Snapshot.lasting`).
LASTING_ROWS = 5000
#: Trials a full read asks the store for at a time.
READ_PAGE = 2_000


def _same(a: SweepRecord, b: SweepRecord) -> bool:
    # the controller's heartbeat changes every few seconds and is not shown: ignore it
    return a.replace(heartbeat_time=None) == b.replace(heartbeat_time=None)


class SweepCache:
    """Keeps a `Snapshot` of one sweep fresh with as little database work as possible.

    Parameters
    ----------
    store : Store
        Where the sweep lives.
    sweep_id : str
        The sweep.
    min_interval : float, default 1.0
        Seconds between two refreshes; requests in between get the current snapshot.
    pause : callable, optional
        Called between the pages (`READ_PAGE` trials) of a full read: a server passes one
        that waits while quicker requests are answered, so reading a 100,000-trial sweep in
        the background does not hold up (through the GIL) the first screen of a page.
    """

    def __init__(self, store: Store, sweep_id: str, min_interval: float = 1.0,
                 pause: Callable[[], None] | None = None) -> None:
        self.store = store
        self.sweep_id = sweep_id
        self.min_interval = min_interval
        self._pause = pause
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._checked = 0.0
        self._full_at = 0.0
        self._full_every = _FULL_EVERY
        self._frozen = False  # finished sweep read after it finished: nothing will change
        self._spec: SweepSpec | None = None  # a stored config never changes: parsed once
        # running trial -> (best value, numeric points, (seq, pos) of the last point read)
        self._live: dict[str, tuple[float | None, int, tuple[int, int] | None]] = {}
        # running trial -> (last value of each watched metric, (seq, pos) of the last point)
        self._live_last: dict[str, tuple[dict[str, float], tuple[int, int] | None]] = {}
        # positions in the snapshot's rows of the trials not finished when it was read
        self._open: list[int] = []

    def snapshot(self) -> Snapshot:
        """The current snapshot, refreshed first when older than ``min_interval``.

        Raises
        ------
        KeyError
            When the sweep does not exist.
        """
        with self._lock:
            now = time.monotonic()
            if self._snap is not None and (
                self._frozen or now - self._checked < self.min_interval
            ):
                return self._snap
            sweep = self.store.get_sweep(self.sweep_id)
            self._checked = now
            if self._snap is None or now - self._full_at > self._full_every or (
                sweep.status.is_terminal and not self._snap.sweep.status.is_terminal
            ):
                self._full(sweep, now)
            else:
                self._incremental(sweep)
            assert self._snap is not None
            if sweep.status.is_terminal:
                self._frozen = True
            return self._snap

    @property
    def current(self) -> Snapshot | None:
        """The snapshot as it is, without refreshing or waiting for one being read (None:
        none read yet)."""
        return self._snap

    # ---------------------------------------------------------------- reads
    def spec(self, sweep: SweepRecord) -> SweepSpec:
        """The sweep's `SweepSpec`, read from its stored config once."""
        if self._spec is None:
            self._spec = SweepSpec.from_dict(sweep.config)
        return self._spec

    def _best_of(self, tid: str, metric: str, maximize: bool) -> tuple[float | None, int]:
        """A trial's best primary value and how many numeric ones it logged, reading only the
        points logged since this trial was last read."""
        best, count, last = self._live.get(tid, (None, 0, None))
        points = self.store.get_metrics(tid, metric, after=last)
        values = [p.value for p in points if p.value is not None and not math.isnan(p.value)]
        if values:
            new = max(values) if maximize else min(values)
            best = new if best is None else (max(best, new) if maximize else min(best, new))
            count += len(values)
        if points:
            last = (points[-1].seq, points[-1].pos)
        self._live[tid] = (best, count, last)
        return best, count

    def _last_of(self, tid: str, watched: tuple[str, ...]) -> dict[str, float] | None:
        """A trial's last value of each watched metric, reading only the points (of every
        metric: one query) logged since this trial was last read."""
        if not watched:
            return None
        last, cursor = self._live_last.get(tid, ({}, None))
        points = self.store.get_metrics(tid, after=cursor)
        if points:
            last = dict(last)
            for point in points:
                if point.name in watched and point.value is not None \
                        and not math.isnan(point.value):
                    last[point.name] = point.value
            cursor = (points[-1].seq, points[-1].pos)
        self._live_last[tid] = (last, cursor)
        return last

    def _settle(self, rows: list[TrialRow]) -> None:
        """Forget the incremental state of trials that finished: they are never read again."""
        for row in rows:
            if row.finished:
                self._live.pop(row.id, None)
                self._live_last.pop(row.id, None)

    def _full(self, sweep: SweepRecord, now: float) -> None:
        spec = self.spec(sweep)
        objective, watched = spec.objective, spec.tracked_metrics
        metric, maximize = objective.metric, objective.maximize
        # A full read starts over (and catches anything incremental missed); only unfinished
        # trials are read point by point again below.
        self._live.clear()
        self._live_last.clear()
        # every trial by number with its best value (an index seek each), only the columns
        # the page shows, in keyset pages with a pause between them (see ``pause``)
        lines: list[TrialLine] = []
        while True:
            page = self.store.trial_lines(self.sweep_id, metric, maximize,
                                          after=lines[-1].index if lines else None,
                                          limit=READ_PAGE)
            lines.extend(page)
            if len(page) < READ_PAGE:
                break
            if self._pause is not None:
                self._pause()
        series = {name: self.store.metric_series(self.sweep_id, name) for name in watched}
        rows = []
        for line in lines:
            value, points, last = line.best, None, None
            if watched:
                last = {name: v for name in watched
                        if (v := _last(series[name].get(line.id, []))) is not None}
            if line.status not in _ENDED:  # count points so the next refresh sees news
                value, points = self._best_of(line.id, metric, maximize)
                last = self._last_of(line.id, watched)
            rows.append(line_row(line, value, points, last))
        self._open = [i for i, row in enumerate(rows) if not row.finished]
        self._full_at = now
        self._full_every = max(_FULL_EVERY, _FULL_SHARE * (time.monotonic() - now))
        self._publish(sweep, rows, full=True)

    def _incremental(self, sweep: SweepRecord) -> None:
        assert self._snap is not None
        metric, maximize = self._snap.metric, self._snap.maximize
        watched = self._snap.spec.tracked_metrics
        rows = list(self._snap.rows)
        # only the unfinished trials are read again: a finished one never changes (and a
        # refresh of a 100,000-trial sweep does not look at the others)
        for position in self._open:
            row = rows[position]
            try:
                record = self.store.get_trial(row.id)
            except KeyError:  # deleted meanwhile: the next full read settles it
                continue
            value, points = self._best_of(row.id, metric, maximize)
            rows[position] = trial_row(record, value, points, self._last_of(row.id, watched))
        # trials created since: ids are <sweep>_<index>, indices count up from 0
        next_index = rows[-1].index + 1 if rows else 0
        while True:
            try:
                record = self.store.get_trial(trial_id(self.sweep_id, next_index))
            except KeyError:
                break
            value, points = self._best_of(record.id, metric, maximize)
            rows.append(trial_row(record, value, points, self._last_of(record.id, watched)))
            next_index += 1
        looked = [*self._open, *range(len(self._snap.rows), len(rows))]
        self._settle([rows[i] for i in looked])
        self._open = [i for i in looked if not rows[i].finished]
        self._publish(sweep, rows, looked=looked)

    def _publish(self, sweep: SweepRecord, rows: list[TrialRow], full: bool = False,
                 looked: list[int] | None = None) -> None:
        old = self._snap
        if old is not None and _same(old.sweep, sweep) and old.rows == rows:
            return  # nothing changed: keep the version (and the derived data)
        version = 1 if old is None else old.version + 1
        shared = {} if old is None or full else old.shared
        lasting = {} if old is None else old.lasting_values
        maximize = self.spec(sweep).objective.maximize
        totals = Totals.of(rows, maximize) if old is None or old.totals is None or \
            looked is None else old.totals.update(old.rows, rows, looked, maximize)
        self._snap = Snapshot(sweep, self.spec(sweep), rows, version, shared=shared,
                              lasting_values=lasting, totals=totals)
