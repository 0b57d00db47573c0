"""An in-memory record store: the :class:`~hypersweep.store.Store` contract held in dicts.

For function sweeps that need no records after the process ends: no SQL, no JSON parsing on the
hot path, just dicts behind one lock. Records are encoded with the same :mod:`codec` as the
database store, so validation, JSON round-trips (tuples come back as lists, NaN survives) and
errors are identical; a record read back is a fresh object the caller may not change the
store through. Select it with ``open_store("memory://")`` or ``Workspace(store="memory://")``.

Every ``MemoryStore`` is its own database: two instances share nothing, even with the same URL.

Examples
--------
>>> from datetime import datetime, timezone
>>> from hypersweep.store import Status, SweepRecord, new_sweep_id
>>> store = MemoryStore()
>>> sweep = SweepRecord(new_sweep_id(), "digits", Status.RUNNING, {}, datetime.now(timezone.utc))
>>> store.create_sweep(sweep)
>>> store.get_sweep(sweep.id).experiment
'digits'
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from hypersweep.errors import StoreError
from hypersweep.store import codec
from hypersweep.store.base import MEMORY_URL, Store, check_page
from hypersweep.store.records import (
    MetricPoint,
    ScoredTrial,
    Status,
    SweepRecord,
    TrialBests,
    TrialCounts,
    TrialLine,
    TrialRecord,
    utcnow,
)

__all__ = ["MEMORY_URL", "MemoryStore"]

def _in_utc(value: datetime | None) -> datetime | None:
    """A checked time in UTC, as the database's UTC column type returns it."""
    return value if value is None or value.tzinfo is timezone.utc \
        else value.astimezone(timezone.utc)


def _utc(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its times in UTC (`_in_utc`)."""
    for name in codec.TIME_COLUMNS:
        if name in row:
            row[name] = _in_utc(row[name])
    return row


def _time(name: str, value: Any) -> Any:
    """``codec.check_time``, then `_in_utc`: one call for one time."""
    if value is None or (type(value) is datetime and value.tzinfo is timezone.utc):
        return value  # the common case: every time a driver reads from `utcnow`
    return _in_utc(codec.check_time(name, value))


def _trial_row(trial: TrialRecord) -> dict[str, Any]:
    """``codec.trial_to_row`` then `_utc`, unrolled: the hot path of function sweeps in memory.

    Same columns, same JSON, same errors (tests/store checks both stores alike).
    """
    arguments = trial.arguments
    return {
        "id": trial.id,
        "sweep_id": trial.sweep_id,
        "trial_index": trial.index,
        "params": codec.dumps({} if trial.params is None else trial.params, "params"),
        # A Status (TrialRecord converts on construction); `_value_` is `value` without the
        # two Python calls of Enum's property.
        "status": trial.status._value_,
        "created_time": _time("created_time", trial.created_time),
        "start_time": _time("start_time", trial.start_time),
        "end_time": _time("end_time", trial.end_time),
        "exit_code": trial.exit_code,
        "error": trial.error,
        "termination_reason": trial.termination_reason,
        "termination_detail": None if trial.termination_detail is None
        else codec.dumps(trial.termination_detail, "termination_detail"),
        "handle": None if trial.handle is None else codec.dumps(trial.handle, "handle"),
        "placement": None if trial.placement is None
        else codec.dumps(trial.placement, "placement"),
        "arguments": "[]" if not arguments
        else codec.dumps([str(a) for a in arguments], "arguments"),
        "resumed_from": trial.resumed_from,
    }


def _metric_row(trial_id: str, point: MetricPoint) -> dict[str, Any]:
    """``codec.metric_to_row`` with its one time in UTC."""
    row = codec.metric_to_row(trial_id, point)
    row["time"] = _in_utc(row["time"])
    return row


class MemoryStore(Store):
    """Sweeps, trials, metric points and tags in this process's memory.

    Thread-safe (one lock). Same methods, arguments, return values and exceptions as its
    sibling :class:`~hypersweep.store.sql.SqlStore`; it opens no database.

    Parameters
    ----------
    url : str, default "memory://"
        Only ``memory://`` (kept for symmetry with ``Store(url)``).

    Examples
    --------
    >>> with MemoryStore() as store:
    ...     store.list_sweeps()
    []
    """

    def __init__(self, url: str = MEMORY_URL) -> None:
        if url != MEMORY_URL:
            raise StoreError(f"a MemoryStore's URL is {MEMORY_URL!r} (got {url!r})")
        self.url = url
        self._lock = threading.RLock()
        self._experiments: dict[str, datetime] = {}
        self._sweeps: dict[str, dict[str, Any]] = {}
        self._trials: dict[str, dict[str, Any]] = {}
        # sweep id -> {trial index: trial id}: list_trials in index order, unique indexes
        self._by_sweep: dict[str, dict[int, str]] = {}
        # trial id -> {(seq, pos): metric row}, insertion order kept
        self._metrics: dict[str, dict[tuple[int, int], dict[str, Any]]] = {}
        self._tags: dict[str, dict[str, str]] = {}

    @classmethod
    def serves(cls, url: str) -> bool:
        return url == MEMORY_URL

    def __repr__(self) -> str:
        return f"MemoryStore({self.url!r})"

    def close(self) -> None:
        pass  # nothing to release: the records live as long as the object

    # ------------------------------------------------------------------ sweeps

    def create_sweep(self, sweep: SweepRecord) -> None:
        row = _utc(codec.sweep_to_row(sweep))
        with self._lock:
            if sweep.id in self._sweeps:
                raise StoreError(f"sweep {sweep.id!r} already exists")
            self._experiments.setdefault(sweep.experiment, sweep.created_time)
            self._sweeps[sweep.id] = row
            self._by_sweep[sweep.id] = {}

    def _sweep_row(self, sweep_id: str) -> dict[str, Any]:
        """The stored row of ``sweep_id`` (the caller holds the lock); KeyError if none."""
        row = self._sweeps.get(sweep_id)
        if row is None:
            raise KeyError(f"no sweep {sweep_id!r}")
        return row

    def get_sweep(self, sweep_id: str) -> SweepRecord:
        with self._lock:
            row = self._sweep_row(sweep_id)
            return codec.sweep_from_row(row)

    def sweep_status(self, sweep_id: str) -> Status:
        with self._lock:
            row = self._sweep_row(sweep_id)
            return Status(row["status"])

    def list_sweeps(self, experiment: str | None = None) -> list[SweepRecord]:
        with self._lock:
            rows = [r for r in self._sweeps.values()
                    if experiment is None or r["experiment"] == experiment]
            rows.sort(key=lambda r: (r["created_time"], r["id"]), reverse=True)
            return [codec.sweep_from_row(r) for r in rows]

    def list_experiments(self) -> list[str]:
        with self._lock:
            return sorted(self._experiments)

    def update_sweep(self, sweep_id: str, **fields: Any) -> None:
        values = _utc(codec.sweep_updates(fields))
        with self._lock:
            row = self._sweep_row(sweep_id)
            if "experiment" in values:
                self._experiments.setdefault(values["experiment"], utcnow())
            row.update(values)

    def add_sweep_warning(self, sweep_id: str, message: str) -> None:
        with self._lock:
            row = self._sweep_row(sweep_id)
            warnings: list[str] = codec.loads(row["warnings"])
            if message not in warnings:
                warnings.append(message)
                row["warnings"] = codec.dumps(warnings, "warnings")

    def claim_sweep(self, sweep_id: str, owner: str, stale_after: float,
                    replacing: str | None = None) -> bool:
        now = utcnow()
        with self._lock:
            row = self._sweep_row(sweep_id)
            beat = row["heartbeat_time"]
            if (row["controller"] in (None, owner) or beat is None
                    or beat < now - timedelta(seconds=stale_after)
                    or (replacing is not None and row["controller"] == replacing)):
                row["controller"], row["heartbeat_time"] = owner, now
                return True
            return False

    def heartbeat(self, sweep_id: str, owner: str) -> bool:
        with self._lock:
            row = self._sweeps.get(sweep_id)
            if row is None or row["controller"] != owner:
                return False
            row["heartbeat_time"] = utcnow()
            return True

    def release_sweep(self, sweep_id: str, owner: str) -> None:
        with self._lock:
            row = self._sweeps.get(sweep_id)
            if row is not None and row["controller"] == owner:
                row["controller"] = None

    # ------------------------------------------------------------------ trials

    def _insert_trial(self, row: dict[str, Any]) -> None:
        """Insert or overwrite one encoded trial row; the caller holds the lock."""
        sweep_id, index, tid = row["sweep_id"], row["trial_index"], row["id"]
        indexes = self._by_sweep.get(sweep_id)
        if indexes is None:
            raise KeyError(f"no sweep {sweep_id!r}")
        holder = indexes.get(index)
        if holder is not None and holder != tid:
            raise StoreError(f"trial {tid!r}: sweep {sweep_id!r} already has a trial with this "
                             f"id or with index {index}")
        old = self._trials.get(tid)
        if old is not None and (old["sweep_id"], old["trial_index"]) != (sweep_id, index):
            del self._by_sweep[old["sweep_id"]][old["trial_index"]]
        indexes[index] = tid
        self._trials[tid] = row
        self._metrics.setdefault(tid, {})

    def create_trial(
        self,
        trial: TrialRecord,
        owner: str | None = None,
        *,
        records: Sequence[TrialRecord] = (),
        points: Mapping[str, Sequence[MetricPoint]] | None = None,
        tags: Mapping[str, Mapping[str, str]] | None = None,
    ) -> bool:
        row = _trial_row(trial)
        with self._lock:  # reentrant: the save and the insert are one step
            if records or points or tags:
                self.save_trials(records, points, tags)
            sweep = self._sweeps.get(trial.sweep_id)
            if sweep is None:
                raise KeyError(f"no sweep {trial.sweep_id!r}")
            if owner is not None and sweep["controller"] != owner:
                return False
            if trial.id in self._trials:
                raise StoreError(f"trial {trial.id!r}: sweep {trial.sweep_id!r} already has a "
                                 f"trial with this id or with index {trial.index}")
            self._insert_trial(row)
            return True

    def update_trial(self, trial_id: str, **fields: Any) -> None:
        values = _utc(codec.trial_updates(fields))
        with self._lock:
            row = self._trials.get(trial_id)
            if row is None:
                raise KeyError(f"no trial {trial_id!r}")
            changed = {**row, **values}
            if (changed["sweep_id"], changed["trial_index"]) != (row["sweep_id"],
                                                                 row["trial_index"]):
                if changed["sweep_id"] not in self._sweeps:
                    raise StoreError(f"trial {trial_id!r}: cannot set {sorted(fields)}: "
                                     "no such sweep")
                try:
                    self._insert_trial(changed)
                except StoreError as err:
                    raise StoreError(f"trial {trial_id!r}: cannot set {sorted(fields)}: "
                                     f"{err}") from None
                return
            row.update(values)

    def save_trials(
        self,
        records: Sequence[TrialRecord],
        points: Mapping[str, Sequence[MetricPoint]] | None = None,
        tags: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        rows = [_trial_row(record) for record in records]
        encoded = {tid: [_metric_row(tid, p) for p in batch]
                   for tid, batch in (points or {}).items()}
        with self._lock:
            for row in rows:  # check everything first: all or nothing, like a transaction
                if row["sweep_id"] not in self._sweeps:
                    raise KeyError(f"no sweep {row['sweep_id']!r}")
                holder = self._by_sweep[row["sweep_id"]].get(row["trial_index"])
                if holder is not None and holder != row["id"]:
                    raise StoreError(f"cannot save trials: index {row['trial_index']} of sweep "
                                     f"{row['sweep_id']!r} is taken")
            saved = {row["id"] for row in rows}  # not a copy of every id: O(batch) a call
            for tid in {*encoded, *(tags or {})}:
                if tid not in saved and tid not in self._trials:
                    raise KeyError(f"no trial {tid!r}")
            for row in rows:
                self._insert_trial(row)
            for tid, metric_rows in encoded.items():
                stored = self._metrics[tid]
                for m in metric_rows:
                    stored.setdefault((m["seq"], m["pos"]), m)
            for tid, pairs in (tags or {}).items():
                self._tags.setdefault(tid, {}).update({str(k): str(v) for k, v in pairs.items()})

    def get_trial(self, trial_id: str) -> TrialRecord:
        with self._lock:
            row = self._trials.get(trial_id)
            if row is None:
                raise KeyError(f"no trial {trial_id!r}")
            return codec.trial_from_row(row)

    def list_trials(self, sweep_id: str) -> list[TrialRecord]:
        with self._lock:
            indexes = self._by_sweep.get(sweep_id, {})
            return [codec.trial_from_row(self._trials[indexes[i]]) for i in sorted(indexes)]

    def _rows(self, sweep_id: str, statuses: list[str] | None,
              after: int | None = None) -> list[dict[str, Any]]:
        """The sweep's trial rows by index (numbered above ``after``, with one of
        ``statuses``); the caller holds the lock."""
        indexes = self._by_sweep.get(sweep_id, {})
        rows = (self._trials[indexes[i]] for i in sorted(indexes) if after is None or i > after)
        return [row for row in rows if statuses is None or row["status"] in statuses]

    def _best(self, trial_id: str, metric: str, maximize: bool) -> float | None:
        values = [r["value"] for r in self._metrics[trial_id].values()
                  if r["name"] == metric and r["value"] is not None]
        return float((max if maximize else min)(values)) if values else None

    def _scored(self, sweep_id: str, metric: str, maximize: bool,
                statuses: list[str] | None) -> list[tuple[dict[str, Any], float | None]]:
        """The sweep's trial rows by index with their best value; the caller holds the lock."""
        return [(row, self._best(row["id"], metric, maximize))
                for row in self._rows(sweep_id, statuses)]

    def trial_page(
        self,
        sweep_id: str,
        metric: str,
        maximize: bool,
        *,
        order: str = "metric",
        limit: int | None = None,
        offset: int = 0,
        after: int | None = None,
        statuses: Sequence[Status | str] | None = None,
    ) -> list[ScoredTrial]:
        wanted = check_page(order, limit, offset, after, statuses)
        end = None if limit is None else offset + limit
        with self._lock:
            if order == "index":  # only the page's trials are scored
                return [ScoredTrial(codec.trial_from_row(row),
                                    self._best(row["id"], metric, maximize))
                        for row in self._rows(sweep_id, wanted, after)[offset:end]]
            scored = self._scored(sweep_id, metric, maximize, wanted)
            sign = -1.0 if maximize else 1.0
            scored.sort(key=lambda pair: (pair[1] is None,
                                          0.0 if pair[1] is None else sign * pair[1]))
            return [ScoredTrial(codec.trial_from_row(row), best)
                    for row, best in scored[offset:end]]

    def trial_lines(self, sweep_id: str, metric: str, maximize: bool, *,
                    after: int | None = None, limit: int | None = None,
                    indexes: Collection[int] | None = None) -> list[TrialLine]:
        check_page("index", limit, 0, after, None)
        wanted = None if indexes is None else set(indexes)
        with self._lock:
            rows = [row for row in self._rows(sweep_id, None, after)
                    if wanted is None or row["trial_index"] in wanted][:limit]
            return [codec.trial_line(
                row["trial_index"], row["id"], row["status"], row["params"],
                self._best(row["id"], metric, maximize), row["created_time"],
                row["start_time"], row["end_time"], row["termination_reason"],
                row["termination_detail"], row["error"], row["placement"]) for row in rows]

    def trial_bests(self, sweep_id: str, metric: str, maximize: bool) -> TrialBests:
        with self._lock:
            scored = self._scored(sweep_id, metric, maximize, None)
        return TrialBests([row["trial_index"] for row, _ in scored], [best for _, best in scored])

    def param_names(self, sweep_id: str) -> list[str]:
        names: dict[str, None] = {}
        with self._lock:
            indexes = self._by_sweep.get(sweep_id, {})
            for i in sorted(indexes):
                names.update(dict.fromkeys(codec.loads(self._trials[indexes[i]]["params"])))
        return list(names)

    def trial_counts(self, sweep_id: str, metric: str, maximize: bool) -> TrialCounts:
        with self._lock:
            scored = self._scored(sweep_id, metric, maximize, None)
            counts: dict[str, int] = {}
            for row, _ in scored:
                counts[row["status"]] = counts.get(row["status"], 0) + 1
            best = self.trial_page(sweep_id, metric, maximize, limit=1)
        return TrialCounts(
            total=len(scored),
            statuses={s.value: counts[s.value] for s in Status if s.value in counts},
            scored=sum(1 for _, value in scored if value is not None),
            best=best[0] if best and best[0].best is not None else None,
        )

    # ------------------------------------------------------------------ metrics

    def add_metrics(self, trial_id: str, points: Sequence[MetricPoint]) -> int:
        rows = [_metric_row(trial_id, p) for p in points]
        with self._lock:
            stored = self._metrics.get(trial_id)
            if stored is None:
                if not rows:
                    return 0
                raise KeyError(f"no trial {trial_id!r}")
            added = 0
            for row in rows:
                key = (row["seq"], row["pos"])
                if key not in stored:
                    stored[key] = row
                    added += 1
            return added

    def _points(self, trial_id: str) -> list[dict[str, Any]]:
        stored = self._metrics.get(trial_id, {})
        return [stored[k] for k in sorted(stored)]

    def get_metrics(self, trial_id: str, name: str | None = None,
                    after: tuple[int, int] | None = None) -> list[MetricPoint]:
        with self._lock:
            return [codec.metric_from_row(r) for r in self._points(trial_id)
                    if (name is None or r["name"] == name)
                    and (after is None or (r["seq"], r["pos"]) > after)]

    def metric_series(self, sweep_id: str, name: str) -> dict[str, list[float]]:
        with self._lock:
            indexes = self._by_sweep.get(sweep_id, {})
            series: dict[str, list[float]] = {}
            for i in sorted(indexes):
                tid = indexes[i]
                series[tid] = [
                    math.nan if r["is_nan"] else float(r["value"])
                    for r in self._points(tid)
                    if r["name"] == name and (r["is_nan"] or r["value"] is not None)
                ]
            return series

    def count_trials(self, sweep_ids: Sequence[str]) -> dict[str, int]:
        with self._lock:
            return {sid: len(self._by_sweep.get(sid, {})) for sid in sweep_ids}

    def best_values(self, sweep_ids: Sequence[str], name: str, maximize: bool) -> dict[str, float]:
        pick = max if maximize else min
        out: dict[str, float] = {}
        with self._lock:
            for sweep_id in dict.fromkeys(sweep_ids):
                for tid in self._by_sweep.get(sweep_id, {}).values():
                    values = [r["value"] for r in self._metrics[tid].values()
                              if r["name"] == name and r["value"] is not None]
                    if values:
                        out[tid] = float(pick(values))
        return out

    def metric_names(self, sweep_id: str) -> list[str]:
        with self._lock:
            return sorted({r["name"] for tid in self._by_sweep.get(sweep_id, {}).values()
                           for r in self._metrics[tid].values()})

    # ------------------------------------------------------------------ tags

    def set_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        if not tags:
            return
        with self._lock:
            if trial_id not in self._trials:
                raise KeyError(f"no trial {trial_id!r}")
            self._tags.setdefault(trial_id, {}).update({str(k): str(v) for k, v in tags.items()})

    def get_tags(self, trial_id: str) -> dict[str, str]:
        with self._lock:
            return dict(sorted(self._tags.get(trial_id, {}).items()))
