"""The store of a SQLite file: a sweep's own calls on Python's ``sqlite3``, the rest by SqlStore.

A ``tune`` with records in a SQLite file makes a dozen store calls (create the sweep, claim it,
save its trials, release it), each a few hundred microseconds of SQLite's own work. Through
:class:`~hypersweep.store.sql.SqlStore` a fresh process first imports SQLAlchemy and its SQLite
dialect: ~0.1 s of CPU, most of the whole first call. :class:`SqliteStore` runs the calls a
sweep makes (its sweep's and trials' rows, claims, heartbeats, metric points, tags, the list
of its trials a controller resumes from, a page of them ranked by the sweep's primary metric,
as its best run is read) on the standard library's driver, with the text SQLAlchemy renders for them
(:mod:`hypersweep.store._sqlite_sql`, checked against SQLAlchemy by the tests), in the same
transactions, with the same connection settings, retries and answers. What the faces ask
(pages, counts, series, listings) and every call that breaks a constraint (to answer it as
SqlStore does) go to a :class:`~hypersweep.store.sql.SqlStore` on the same file, opened on first
need; so does a database that needs migrating.

It serves the plain ``sqlite:///path`` URL, a workspace's default. A URL with a query (a
read-only one, see ``read_only_url``), in memory (``sqlite://``) or naming SQLAlchemy's driver
(``sqlite+pysqlite:///path``) opens a SqlStore.

Examples
--------
>>> import tempfile
>>> from hypersweep.store import Store
>>> store = Store(f"sqlite:///{tempfile.mkdtemp()}/runs.db")
>>> type(store).__name__, store.list_sweeps()
('SqliteStore', [])
>>> store.close()
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import timedelta
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hypersweep.errors import StoreError
from hypersweep.store import _sqlite_sql as sql
from hypersweep.store import codec
from hypersweep.store._retry import is_lock_message, retrying
from hypersweep.store._sqlite_sql import BUSY_TIMEOUT, configure_connection, sqlite_file
from hypersweep.store.base import Store, check_page
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

if TYPE_CHECKING:  # pragma: no cover
    from hypersweep.store.sql import SqlStore

__all__ = ["SqliteStore"]

T = TypeVar("T")

# connections kept open between calls (a controller's thread and the user's at most, usually)
_IDLE = 4


def _is_transient(err: Exception) -> bool:
    return isinstance(err, sqlite3.OperationalError) and is_lock_message(str(err))


class _Statement:
    """A statement of :mod:`._sqlite_sql` and how a call's named values become its
    positional parameters (times as the text SQLAlchemy binds)."""

    def __init__(self, text_and_names: tuple[str, Sequence[str]]) -> None:
        self.sql, names = text_and_names
        self._pick: Callable[[Mapping[str, Any]], Any] = itemgetter(*names)
        self._single = len(names) == 1
        self._times = [i for i, name in enumerate(names) if name in sql.TIME_PARAMS]

    def values(self, params: Mapping[str, Any]) -> Sequence[Any]:
        picked = self._pick(params)
        if self._single:
            return (picked,)
        if not self._times:
            return picked
        values = list(picked)
        for i in self._times:
            if values[i] is not None:
                values[i] = sql.time_text(values[i])
        return values

    def run(self, connection: sqlite3.Connection, params: Mapping[str, Any]) -> sqlite3.Cursor:
        return connection.execute(self.sql, self.values(params))

    def run_many(self, connection: sqlite3.Connection,
                 rows: Sequence[Mapping[str, Any]]) -> sqlite3.Cursor:
        return connection.executemany(self.sql, [self.values(row) for row in rows])


_ADD_EXPERIMENT = _Statement(sql.ADD_EXPERIMENT)
_INSERT_SWEEP = _Statement(sql.INSERT_SWEEP)
_INSERT_TRIAL = _Statement(sql.INSERT_TRIAL)
_CLAIM = {False: _Statement(sql.CLAIM), True: _Statement(sql.CLAIM_REPLACING)}
_HEARTBEAT = _Statement(sql.HEARTBEAT)
_RELEASE = _Statement(sql.RELEASE)
_SAVE_METRICS = _Statement(sql.SAVE_METRICS)
_UPSERT_TAGS = _Statement(sql.UPSERT_TAGS)


class SqliteStore(Store):
    """Sweeps, trials, metric points and tags in a SQLite file, SQLAlchemy loaded only when a
    face reads or a database needs migrating.

    Parameters
    ----------
    url : str
        ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (the parent folder
        is created).

    Raises
    ------
    StoreError
        When the file cannot be opened or migrated.
    """

    def __init__(self, url: str) -> None:
        path = sqlite_file(url)
        if path is None:
            raise StoreError(f"SqliteStore opens a sqlite:///path URL, not {url!r}")
        self.url = url
        self._path = path
        self._pid = os.getpid()
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()
        self._sql_store: SqlStore | None = None
        self._sql_lock = threading.Lock()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            current = self._read(self._revision) == sql.HEAD_REVISION or self._create_schema()
        except StoreError as err:
            self.close()
            raise StoreError(f"cannot open store {url}: {err.__cause__ or err}") from err
        if not current:
            try:
                self._sql()  # an older schema: SqlStore migrates it as it opens, or refuses
            except BaseException:
                self.close()
                raise

    @classmethod
    def serves(cls, url: str) -> bool:
        return isinstance(url, str) and sqlite_file(url) is not None

    def __repr__(self) -> str:
        return f"SqliteStore({self.url!r})"

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        if self._sql_store is not None:
            self._sql_store.close()

    def _sql(self) -> SqlStore:
        """The SqlStore on the same file, for what this store leaves to it."""
        with self._sql_lock:
            if self._sql_store is None:
                from hypersweep.store.sql import SqlStore

                self._sql_store = SqlStore(self.url)
            return self._sql_store

    # ------------------------------------------------------------------ transactions

    def _take(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:  # forked: the parent's connections are not this one's
            self._idle, self._pid = [], os.getpid()
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT, check_same_thread=False)
        try:
            configure_connection(connection, wal=True)
        except BaseException:
            connection.close()
            raise
        return connection

    def _give(self, connection: sqlite3.Connection) -> None:
        with self._idle_lock:
            if len(self._idle) < _IDLE and os.getpid() == self._pid:
                self._idle.append(connection)
                return
        connection.close()

    def _run(self, work: Callable[[sqlite3.Connection], T], write: bool = True) -> T:
        """``work(connection)`` in one transaction, run again while the file stays locked."""

        def once() -> T:
            connection = self._take()
            try:
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                result = work(connection)
                connection.execute("COMMIT")
            except BaseException:
                self._abandon(connection)
                raise
            self._give(connection)
            return result

        try:
            return retrying(once, _is_transient)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as err:
            raise StoreError(f"store {self.url}: {err}") from err

    def _abandon(self, connection: sqlite3.Connection) -> None:
        """Take back a failed transaction; a connection that cannot is closed, not kept."""
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            connection.close()
            return
        self._give(connection)

    def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return self._run(work, write=False)

    @staticmethod
    def _revision(connection: sqlite3.Connection) -> str | None:
        if not connection.execute(sql.tables_found(1), ("alembic_version",)).fetchone()[0]:
            return None
        revisions = [row[0] for row in connection.execute(sql.REVISION)]
        return str(revisions[0]) if len(revisions) == 1 else None

    def _create_schema(self) -> bool:
        """Create the tables of a new file, stamped at the head, as ``migrate`` does; False
        (nothing done) when the file has some of them: SqlStore's migration decides."""

        def work(connection: sqlite3.Connection) -> bool:
            found = connection.execute(sql.tables_found(len(sql.TABLE_NAMES)),
                                       sql.TABLE_NAMES).fetchone()[0]
            if found:  # another process created it first (then it is at the head), or older
                return bool(self._revision(connection) == sql.HEAD_REVISION)
            for statement in sql.SCHEMA:
                connection.execute(statement)
            connection.execute(sql.STAMP, (sql.HEAD_REVISION,))
            return True

        return self._run(work)

    # ------------------------------------------------------------------ rows

    @staticmethod
    def _fetch(connection: sqlite3.Connection, text: str,
               params: Sequence[Any]) -> list[dict[str, Any]]:
        """The rows a query answers, by column name, their times read."""
        cursor = connection.execute(text, params)
        names = [column[0] for column in cursor.description]
        times = [i for i, name in enumerate(names) if name in sql.TIME_PARAMS]
        rows = []
        for row in cursor:
            values = list(row)
            for i in times:
                values[i] = sql.time_value(values[i])
            rows.append(dict(zip(names, values, strict=True)))
        return rows

    def _rows(self, text: str, *params: Any) -> list[dict[str, Any]]:
        return self._read(lambda connection: self._fetch(connection, text, params))

    def _row(self, table: str, ident: str, what: str) -> dict[str, Any]:
        """The row of ``table`` whose id is ``ident``; KeyError naming it when absent."""
        rows = self._rows(sql.ROW[table][0], ident)
        if not rows:
            raise KeyError(f"no {what} {ident!r}")
        return rows[0]

    def _update(self, table: str, ident: str, values: dict[str, Any], what: str) -> None:
        if values:
            statement = _Statement(sql.update_by_id(table, values))
            params = {**values, "ident": ident}
            changed = self._run(lambda connection: statement.run(connection, params).rowcount)
        else:
            changed = len(self._read(lambda connection: connection.execute(
                sql.exists_by_id(table), (ident,)).fetchall()))
        if changed == 0:
            raise KeyError(f"no {what} {ident!r}")

    def _save(self, connection: sqlite3.Connection, batch: codec.TrialBatch) -> None:
        """Write a `save_trials` batch in the caller's transaction."""
        if batch.trials:
            _Statement(sql.upsert_trials(tuple(batch.trials[0]))).run_many(connection,
                                                                           batch.trials)
        if batch.points:
            _SAVE_METRICS.run_many(connection, batch.points)
            if batch.scored:
                connection.executemany(sql.REFRESH_BEST[0], [(tid,) for tid in batch.scored])
        if batch.tags:
            _UPSERT_TAGS.run_many(connection, batch.tags)

    # ------------------------------------------------------------------ sweeps

    def create_sweep(self, sweep: SweepRecord) -> None:
        row = codec.sweep_to_row(sweep)
        experiment = {"name": sweep.experiment, "created_time": sweep.created_time}

        def work(connection: sqlite3.Connection) -> None:
            _ADD_EXPERIMENT.run(connection, experiment)
            _INSERT_SWEEP.run(connection, row)

        try:
            self._run(work)
        except sqlite3.IntegrityError:
            self._sql().create_sweep(sweep)  # raises, or answers, as SqlStore does

    def get_sweep(self, sweep_id: str) -> SweepRecord:
        return codec.sweep_from_row(self._row("sweeps", sweep_id, "sweep"))

    def sweep_status(self, sweep_id: str) -> Status:
        found = self._read(lambda connection: connection.execute(
            sql.SWEEP_STATUS[0], (sweep_id,)).fetchone())
        if found is None:
            raise KeyError(f"no sweep {sweep_id!r}")
        return Status(found[0])

    def list_sweeps(self, experiment: str | None = None) -> list[SweepRecord]:
        return self._sql().list_sweeps(experiment)

    def list_experiments(self) -> list[str]:
        return self._sql().list_experiments()

    def update_sweep(self, sweep_id: str, **fields: Any) -> None:
        values = codec.sweep_updates(fields)
        if "experiment" in values or "primary_metric" in values:  # rows of other tables too
            self._sql().update_sweep(sweep_id, **fields)
            return
        self._update("sweeps", sweep_id, values, "sweep")

    def add_sweep_warning(self, sweep_id: str, message: str) -> None:
        self._sql().add_sweep_warning(sweep_id, message)

    def claim_sweep(self, sweep_id: str, owner: str, stale_after: float,
                    replacing: str | None = None) -> bool:
        now = utcnow()
        params = {"ident": sweep_id, "owner": owner, "controller": owner,
                  "cutoff": now - timedelta(seconds=stale_after), "heartbeat_time": now,
                  "replacing": replacing}
        statement = _CLAIM[replacing is not None]
        if self._run(lambda connection: statement.run(connection, params).rowcount) == 1:
            return True
        self.get_sweep(sweep_id)  # KeyError when absent
        return False

    def heartbeat(self, sweep_id: str, owner: str) -> bool:
        params = {"ident": sweep_id, "owner": owner, "heartbeat_time": utcnow()}
        return bool(self._run(lambda connection: _HEARTBEAT.run(connection, params).rowcount)
                    == 1)

    def release_sweep(self, sweep_id: str, owner: str) -> None:
        params = {"ident": sweep_id, "owner": owner, "controller": None}
        self._run(lambda connection: _RELEASE.run(connection, params))

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
        batch = codec.trial_batch(records, points, tags)

        def work(connection: sqlite3.Connection) -> bool:
            if batch is not None:  # kept whatever follows: committed with a False too
                self._save(connection, batch)
            if owner is not None:
                held = connection.execute(sql.SWEEP_HOLDER[0], (trial.sweep_id,)).fetchone()
                if held is None:
                    raise KeyError(f"no sweep {trial.sweep_id!r}")
                if held[0] != owner:
                    return False
            _INSERT_TRIAL.run(connection, row)
            return True

        try:
            return self._run(work)
        except sqlite3.IntegrityError:
            return self._sql().create_trial(trial, owner, records=records, points=points,
                                            tags=tags)

    def update_trial(self, trial_id: str, **fields: Any) -> None:
        values = codec.trial_updates(fields)
        try:
            self._update("trials", trial_id, values, "trial")
        except sqlite3.IntegrityError:
            self._sql().update_trial(trial_id, **fields)

    def save_trials(
        self,
        records: Sequence[TrialRecord],
        points: Mapping[str, Sequence[MetricPoint]] | None = None,
        tags: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        batch = codec.trial_batch(records, points, tags)
        if batch is None:
            return
        try:
            self._run(lambda connection: self._save(connection, batch))
        except sqlite3.IntegrityError:
            self._sql().save_trials(records, points, tags)

    def get_trial(self, trial_id: str) -> TrialRecord:
        return codec.trial_from_row(self._row("trials", trial_id, "trial"))

    def count_trials(self, sweep_ids: Sequence[str]) -> dict[str, int]:
        return self._sql().count_trials(sweep_ids)

    def list_trials(self, sweep_id: str) -> list[TrialRecord]:
        return [codec.trial_from_row(row) for row in self._rows(sql.SWEEP_TRIALS[0], sweep_id)]

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
        text = sql.trial_page(maximize, order, None if wanted is None else len(wanted),
                              after is not None)
        params = [sweep_id, *(wanted or ()), *(() if after is None else (after,)),
                  -1 if limit is None else limit, offset]

        def work(connection: sqlite3.Connection) -> list[dict[str, Any]] | None:
            primary = connection.execute(sql.SWEEP_PRIMARY[0], (sweep_id,)).fetchone()
            if primary is None or primary[0] != metric:
                return None  # the trials keep no best value of this metric: SqlStore's
            return self._fetch(connection, text, params)

        rows = None if wanted == [] else self._read(work)
        if rows is None:
            return self._sql().trial_page(sweep_id, metric, maximize, order=order, limit=limit,
                                          offset=offset, after=after, statuses=statuses)
        return [ScoredTrial(codec.trial_from_row(row), codec.optional_float(row["best"]))
                for row in rows]

    def trial_lines(self, sweep_id: str, metric: str, maximize: bool, *,
                    after: int | None = None, limit: int | None = None,
                    indexes: Collection[int] | None = None) -> list[TrialLine]:
        return self._sql().trial_lines(sweep_id, metric, maximize, after=after, limit=limit,
                                       indexes=indexes)

    def trial_bests(self, sweep_id: str, metric: str, maximize: bool) -> TrialBests:
        return self._sql().trial_bests(sweep_id, metric, maximize)

    def param_names(self, sweep_id: str) -> list[str]:
        return self._sql().param_names(sweep_id)

    def trial_counts(self, sweep_id: str, metric: str, maximize: bool) -> TrialCounts:
        return self._sql().trial_counts(sweep_id, metric, maximize)

    # ------------------------------------------------------------------ metrics and tags

    def add_metrics(self, trial_id: str, points: Sequence[MetricPoint]) -> int:
        rows = codec.metric_rows(trial_id, points)
        if not rows:
            return 0
        scored = any(row["value"] is not None for row in rows)

        def work(connection: sqlite3.Connection) -> int:
            before = connection.total_changes  # a point stored already changes nothing
            _SAVE_METRICS.run_many(connection, rows)
            added = connection.total_changes - before
            if added and scored:
                connection.execute(sql.REFRESH_BEST[0], (trial_id,))
            return added

        try:
            return self._run(work)
        except sqlite3.IntegrityError:
            return self._sql().add_metrics(trial_id, points)

    def get_metrics(self, trial_id: str, name: str | None = None,
                    after: tuple[int, int] | None = None) -> list[MetricPoint]:
        return self._sql().get_metrics(trial_id, name, after)

    def metric_series(self, sweep_id: str, name: str) -> dict[str, list[float]]:
        return self._sql().metric_series(sweep_id, name)

    def best_values(self, sweep_ids: Sequence[str], name: str, maximize: bool) -> dict[str, float]:
        return self._sql().best_values(sweep_ids, name, maximize)

    def metric_names(self, sweep_id: str) -> list[str]:
        return self._sql().metric_names(sweep_id)

    def set_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        rows = codec.tag_rows(trial_id, tags)
        if not rows:
            return
        try:
            self._run(lambda connection: _UPSERT_TAGS.run_many(connection, rows))
        except sqlite3.IntegrityError:
            self._sql().set_tags(trial_id, tags)

    def get_tags(self, trial_id: str) -> dict[str, str]:
        return self._sql().get_tags(trial_id)
