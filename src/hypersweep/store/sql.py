"""The SQL record store: the only code in hypersweep that reads or writes the database.

One :class:`SqlStore` per process and database is enough: it is thread-safe (a controller thread
and the user's thread may use it at once) and several processes may open the same database.
Every method is one short transaction; writes on SQLite take the lock up front and are retried
briefly if the database stays locked.

This module holds :class:`SqlStore` itself: the engine, the transactions and their retries, the
claims of sweeps, and what a failed statement means to the caller (``KeyError``,
``StoreError``). The SQL it runs is built in two private neighbours:
:mod:`hypersweep.store._sql_reads` (scoring, paging, counting and listing queries) and
:mod:`hypersweep.store._sql_writes` (the statements that change rows, with the upkeep of the
best values trials keep).

Examples
--------
>>> from datetime import datetime, timezone
>>> from hypersweep.store import (MetricPoint, Status, Store, SweepRecord, TrialRecord,
...                               new_sweep_id, trial_id)
>>> store = Store("sqlite://")                     # in memory; use sqlite:///path for a file
>>> store
SqlStore('sqlite://')
>>> now = datetime.now(timezone.utc)
>>> sweep = SweepRecord(new_sweep_id(), "digits", Status.RUNNING, {"max_total_runs": 2}, now)
>>> store.create_sweep(sweep)
>>> tid = trial_id(sweep.id, 0)
>>> store.create_trial(TrialRecord(tid, sweep.id, 0, {"lr": 0.1}, Status.RUNNING, now))
True
>>> points = [MetricPoint(i, 0, "acc", i, v, None, "scalar", now)
...           for i, v in enumerate([0.5, 0.7, float("nan")])]
>>> store.add_metrics(tid, points), store.add_metrics(tid, points)
(3, 0)
>>> store.best_values([sweep.id], "acc", maximize=True)[tid]
0.7
>>> [(s.trial.index, s.best) for s in store.trial_page(sweep.id, "acc", maximize=True, limit=20)]
[(0, 0.7)]
>>> store.trial_counts(sweep.id, "acc", maximize=False).statuses
{'Running': 1}
>>> store.update_trial(tid, status=Status.COMPLETED, exit_code=0)
>>> store.get_trial(tid).status
<Status.COMPLETED: 'Completed'>
>>> store.close()
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from hypersweep.errors import StoreError
from hypersweep.store import _sql_reads as reads
from hypersweep.store import codec
from hypersweep.store._retry import is_lock_message, retrying
from hypersweep.store._sql_writes import CLAIM, INSERT_SWEEP, UPDATE_HELD, SqlWrites
from hypersweep.store._sqlite_sql import sqlite_file
from hypersweep.store.base import MEMORY_URL, Store, check_page
from hypersweep.store.engine import create_store_engine, is_memory_sqlite, normalise_url
from hypersweep.store.migrate import ensure_schema
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
from hypersweep.store.schema import experiments, metrics, sweeps, trial_tags, trials

__all__ = ["SqlStore"]

T = TypeVar("T")

# a transaction that failed on a PostgreSQL deadlock is run again too
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def _is_transient(err: Exception) -> bool:
    if not isinstance(err, DBAPIError) or isinstance(err, IntegrityError):
        return False
    if getattr(err.orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    return isinstance(err, OperationalError) and is_lock_message(str(err.orig))


class SqlStore(Store):
    """Sweeps, trials, metric points and tags in a SQLite or PostgreSQL database.

    Opening migrates the database to the current schema (cheap when already there).

    Parameters
    ----------
    url : str
        ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (the parent folder is
        created), ``sqlite://`` (in memory, for tests) or ``postgresql://user@host:port/db``
        (driven by psycopg 3: ``pip install 'psycopg[binary]'``).

    Attributes
    ----------
    url : str
        The normalised URL (``postgresql://`` becomes ``postgresql+psycopg://``).

    Raises
    ------
    StoreError
        When the URL is unsupported, the driver is missing, or the database cannot be opened
        or migrated.

    Examples
    --------
    >>> with SqlStore("sqlite://") as store:
    ...     store.list_experiments()
    []
    """

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self._display_url = parsed.render_as_string(hide_password=True)
        self._engine = create_store_engine(self.url)
        self._pid = os.getpid()
        # an in-memory SQLite database is one shared connection: serialise its use
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if is_memory_sqlite(parsed) else nullcontext()
        )
        self._writes = SqlWrites(postgres=self._engine.dialect.name == "postgresql")
        try:
            with self._lock:
                ensure_schema(self._engine)
        except DBAPIError as err:
            self._engine.dispose()
            raise StoreError(f"cannot open store {self._display_url}: {err.orig}") from err
        except BaseException:
            self._engine.dispose()
            raise

    @classmethod
    def serves(cls, url: str) -> bool:
        # every URL but the in-memory one and a plain SQLite file's (SqliteStore's):
        # normalise_url names an unsupported scheme
        return url != MEMORY_URL and sqlite_file(url) is None

    @classmethod
    def check_url(cls, url: str) -> None:
        normalise_url(url)

    def __repr__(self) -> str:
        return f"SqlStore({self._display_url!r})"

    def close(self) -> None:
        self._engine.dispose()

    # ------------------------------------------------------------------ transactions

    def _run(self, work: Callable[[Connection], T], write: bool = True) -> T:
        """Run ``work(conn)`` in one transaction, retrying briefly while the DB is locked."""
        if os.getpid() != self._pid:  # forked: never share the parent's pooled connections
            self._engine.dispose(close=False)
            self._pid = os.getpid()

        def once() -> T:
            with self._lock, self._engine.connect() as conn:
                if write:
                    conn.execution_options(hs_write=True)
                with conn.begin():
                    return work(conn)

        try:
            return retrying(once, _is_transient)
        except IntegrityError:
            raise
        except DBAPIError as err:
            raise StoreError(f"store {self._display_url}: {err.orig}") from err

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._run(work, write=False)

    # ------------------------------------------------------------------ sweeps

    def create_sweep(self, sweep: SweepRecord) -> None:
        row = codec.sweep_to_row(sweep)

        def work(conn: Connection) -> None:
            self._writes.add_experiment(conn, sweep.experiment, sweep.created_time)
            conn.execute(INSERT_SWEEP, row)

        try:
            self._run(work)
        except IntegrityError as err:
            raise StoreError(f"sweep {sweep.id!r} already exists") from err

    def _row(self, table: Any, ident: str, what: str) -> Any:
        """The row of ``table`` whose ``id`` is ``ident``; KeyError naming it when absent."""
        row = self._read(
            lambda conn: conn.execute(reads.ROW[table], {"ident": ident}).mappings().first()
        )
        if row is None:
            raise KeyError(f"no {what} {ident!r}")
        return row

    def get_sweep(self, sweep_id: str) -> SweepRecord:
        return codec.sweep_from_row(self._row(sweeps, sweep_id, "sweep"))

    def sweep_status(self, sweep_id: str) -> Status:
        status = self._read(lambda conn: conn.execute(
            reads.SWEEP_STATUS, {"ident": sweep_id}).scalar_one_or_none())
        if status is None:
            raise KeyError(f"no sweep {sweep_id!r}")
        return Status(status)

    def list_sweeps(self, experiment: str | None = None) -> list[SweepRecord]:
        query = select(sweeps).order_by(sweeps.c.created_time.desc(), sweeps.c.id.desc())
        if experiment is not None:
            query = query.where(sweeps.c.experiment == experiment)
        rows = self._read(lambda conn: conn.execute(query).mappings().all())
        return [codec.sweep_from_row(row) for row in rows]

    def list_experiments(self) -> list[str]:
        query = select(experiments.c.name).order_by(experiments.c.name)
        return list(self._read(lambda conn: conn.execute(query).scalars().all()))

    def update_sweep(self, sweep_id: str, **fields: Any) -> None:
        values = codec.sweep_updates(fields)
        if "experiment" in values:
            self._run(lambda conn: self._writes.add_experiment(conn, values["experiment"],
                                                               utcnow()))
        if "primary_metric" not in values:
            self._update(sweeps, sweep_id, values, "sweep")
        elif self._run(lambda conn: self._writes.update_sweep_ranking(conn, sweep_id,
                                                                       values)) == 0:
            raise KeyError(f"no sweep {sweep_id!r}")

    def _update(self, table: Any, ident: str, values: dict[str, Any], what: str) -> None:
        if self._run(lambda conn: self._writes.update_row(conn, table, ident, values)) == 0:
            raise KeyError(f"no {what} {ident!r}")

    def add_sweep_warning(self, sweep_id: str, message: str) -> None:
        if not self._run(lambda conn: self._writes.add_sweep_warning(conn, sweep_id, message)):
            raise KeyError(f"no sweep {sweep_id!r}")

    def claim_sweep(self, sweep_id: str, owner: str, stale_after: float,
                    replacing: str | None = None) -> bool:
        now = utcnow()
        params: dict[str, Any] = {"ident": sweep_id, "owner": owner, "controller": owner,
                                  "cutoff": now - timedelta(seconds=stale_after),
                                  "heartbeat_time": now}
        if replacing is not None:
            params["replacing"] = replacing
        statement = CLAIM[replacing is not None]
        if self._run(lambda conn: conn.execute(statement, params).rowcount) == 1:
            return True
        self.get_sweep(sweep_id)  # KeyError when absent
        return False

    def heartbeat(self, sweep_id: str, owner: str) -> bool:
        params = {"ident": sweep_id, "owner": owner, "heartbeat_time": utcnow()}
        return bool(self._run(lambda conn: conn.execute(UPDATE_HELD, params).rowcount) == 1)

    def release_sweep(self, sweep_id: str, owner: str) -> None:
        params = {"ident": sweep_id, "owner": owner, "controller": None}
        self._run(lambda conn: conn.execute(UPDATE_HELD, params))

    # ------------------------------------------------------------------ trials

    def create_trial(
        self,
        trial: TrialRecord,
        owner: str | None = None,
        *,
        records: Sequence[TrialRecord] = (),
        points: Mapping[str, Sequence[MetricPoint]] | None = None,
        tags: Mapping[str, Mapping[str, str]] | None = None,
    ) -> bool:
        row = codec.trial_to_row(trial)
        saving = self._writes.saving(records, points, tags)

        def work(conn: Connection) -> bool:
            if saving is not None:  # kept whatever follows: committed with a False too
                saving(conn)
            return self._writes.insert_trial(conn, row, trial.sweep_id, owner)

        try:
            return self._run(work)
        except IntegrityError as err:
            if saving is not None:
                # The saved part or the insert broke a constraint, and the transaction took
                # both back: each on its own, as two calls would have done (this one raises
                # or answers as they would).
                self.save_trials(records, points, tags)
                return self.create_trial(trial, owner)
            sweep = self.get_sweep(trial.sweep_id)  # KeyError when the sweep is missing
            if owner is not None and sweep.controller != owner:
                return False  # the new controller wrote this index first
            raise StoreError(
                f"trial {trial.id!r}: sweep {trial.sweep_id!r} already has a trial with this id "
                f"or with index {trial.index}"
            ) from err

    def update_trial(self, trial_id: str, **fields: Any) -> None:
        values = codec.trial_updates(fields)
        try:
            self._update(trials, trial_id, values, "trial")
        except IntegrityError as err:
            raise StoreError(
                f"trial {trial_id!r}: cannot set {sorted(fields)}: {err.orig}"
            ) from err

    def save_trials(
        self,
        records: Sequence[TrialRecord],
        points: Mapping[str, Sequence[MetricPoint]] | None = None,
        tags: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        saving = self._writes.saving(records, points, tags)
        if saving is None:
            return
        try:
            self._run(saving)
        except IntegrityError as err:
            for record in records:
                self.get_sweep(record.sweep_id)  # KeyError when a sweep is missing
            known = {record.id for record in records}
            for tid in {*(points or {}), *(tags or {})} - known:
                self.get_trial(tid)
            raise StoreError(f"cannot save trials: {err.orig}") from err

    def get_trial(self, trial_id: str) -> TrialRecord:
        return codec.trial_from_row(self._row(trials, trial_id, "trial"))

    def count_trials(self, sweep_ids: Sequence[str]) -> dict[str, int]:
        if not sweep_ids:
            return {}
        query = (select(trials.c.sweep_id, func.count())
                 .where(trials.c.sweep_id.in_(list(sweep_ids)))
                 .group_by(trials.c.sweep_id))
        counts: dict[str, int] = dict(self._read(lambda conn: conn.execute(query).all()))
        return {sid: int(counts.get(sid, 0)) for sid in sweep_ids}

    def list_trials(self, sweep_id: str) -> list[TrialRecord]:
        rows = self._read(lambda conn: conn.execute(reads.SWEEP_TRIALS,
                                                     {"sid": sweep_id}).mappings().all())
        return [codec.trial_from_row(row) for row in rows]

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
        return self._read(lambda conn: reads.page(conn, sweep_id, metric, maximize, order,
                                                  limit, offset, after, wanted))

    def trial_lines(self, sweep_id: str, metric: str, maximize: bool, *,
                    after: int | None = None, limit: int | None = None,
                    indexes: Collection[int] | None = None) -> list[TrialLine]:
        check_page("index", limit, 0, after, None)
        if indexes is not None and not indexes:
            return []
        sqlite_ = self._engine.dialect.name == "sqlite"
        rows = self._read(lambda conn: reads.trial_line_rows(
            conn, sqlite_, sweep_id, metric, maximize, after, limit, indexes))
        return codec.trial_lines(rows, reads.time_reader(sqlite_))

    def trial_bests(self, sweep_id: str, metric: str, maximize: bool) -> TrialBests:
        rows = self._read(lambda conn: reads.trial_best_rows(conn, sweep_id, metric, maximize))
        if not rows:
            return TrialBests([], [])
        indexes, bests = zip(*rows, strict=True)
        return TrialBests(list(indexes), list(bests))

    def param_names(self, sweep_id: str) -> list[str]:
        return self._read(lambda conn: reads.param_names(conn, sweep_id))

    def trial_counts(self, sweep_id: str, metric: str, maximize: bool) -> TrialCounts:
        return self._read(lambda conn: reads.trial_counts(conn, sweep_id, metric, maximize))

    # ------------------------------------------------------------------ metrics

    def add_metrics(self, trial_id: str, points: Sequence[MetricPoint]) -> int:
        rows = codec.metric_rows(trial_id, points)
        if not rows:
            return 0
        try:
            return self._run(lambda conn: self._writes.add_metrics(conn, trial_id, rows))
        except IntegrityError as err:  # the foreign key: no such trial
            raise KeyError(f"no trial {trial_id!r}") from err

    def get_metrics(self, trial_id: str, name: str | None = None,
                    after: tuple[int, int] | None = None) -> list[MetricPoint]:
        query = reads.METRIC_POINTS[name is not None, after is not None]
        params: dict[str, Any] = {"tid": trial_id, "name": name}
        if after is not None:
            params["seq"], params["pos"] = after
        rows = self._read(lambda conn: conn.execute(query, params).mappings().all())
        return [codec.metric_from_row(row) for row in rows]

    def metric_series(self, sweep_id: str, name: str) -> dict[str, list[float]]:
        series: dict[str, list[float]] = {}
        rows = self._read(lambda conn: reads.metric_series_rows(conn, sweep_id, name))
        for tid, value, is_nan in rows:
            values = series.setdefault(tid, [])
            if is_nan or value is not None:
                values.append(codec.decode_value(value, bool(is_nan)))  # type: ignore[arg-type]
        return series

    def best_values(self, sweep_ids: Sequence[str], name: str, maximize: bool) -> dict[str, float]:
        if not sweep_ids:
            return {}
        wanted = list(sweep_ids)
        rows = self._read(lambda conn: reads.best_value_rows(conn, wanted, name, maximize))
        return {tid: float(value) for tid, value in rows}

    def metric_names(self, sweep_id: str) -> list[str]:
        query = (
            select(metrics.c.name)
            .distinct()
            .join(trials, trials.c.id == metrics.c.trial_id)
            .where(trials.c.sweep_id == sweep_id)
            .order_by(metrics.c.name)
        )
        return list(self._read(lambda conn: conn.execute(query).scalars().all()))

    # ------------------------------------------------------------------ tags

    def set_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        rows = codec.tag_rows(trial_id, tags)
        if not rows:
            return
        try:
            self._run(lambda conn: self._writes.set_tags(conn, rows))
        except IntegrityError as err:
            raise KeyError(f"no trial {trial_id!r}") from err

    def get_tags(self, trial_id: str) -> dict[str, str]:
        query = (
            select(trial_tags.c.name, trial_tags.c.value)
            .where(trial_tags.c.trial_id == trial_id)
            .order_by(trial_tags.c.name)
        )
        return {name: value for name, value in self._read(lambda conn: conn.execute(query).all())}
