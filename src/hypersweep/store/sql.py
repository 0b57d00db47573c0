"""The SQL record store: the only code in hypersweep that reads or writes the database.

One :class:`SqlStore` per process and database is enough: it is thread-safe (a controller thread
and the user's thread may use it at once) and several processes may open the same database.
Every method is one short transaction; writes on SQLite take the lock up front and are retried
briefly if the database stays locked.

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
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Column,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from hypersweep.errors import StoreError
from hypersweep.store import codec
from hypersweep.store.base import MEMORY_URL, Store, check_page
from hypersweep.store.engine import create_store_engine, is_memory_sqlite, normalise_url
from hypersweep.store.migrate import ensure_schema
from hypersweep.store.records import (
    MetricPoint,
    ScoredTrial,
    Status,
    SweepRecord,
    TrialCounts,
    TrialLine,
    TrialRecord,
    utcnow,
)
from hypersweep.store.schema import experiments, metrics, sweeps, trial_tags, trials

__all__ = ["SqlStore"]

T = TypeVar("T")

# retries of a transaction that failed because the database stayed locked / a PG deadlock
_RETRIES = 8
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def _trial_best(name: Any, aggregate: Any) -> Any:
    """A trial's smallest or largest (``aggregate``) numeric value of the metric ``name`` (a
    name, or an SQL expression for one), as a column of a statement on ``trials``: one seek in
    the ``(trial_id, name, value)`` index (NaN is stored as NULL: skipped, as by
    :meth:`SqlStore.best_values`)."""
    return (select(aggregate(metrics.c.value))
            .where(metrics.c.trial_id == trials.c.id, metrics.c.name == name,
                   metrics.c.value.is_not(None))
            .scalar_subquery())


def _best_of(aggregate: Any) -> Any:
    """:func:`_trial_best` of the trial's sweep's primary metric."""
    primary = (select(sweeps.c.primary_metric).where(sweeps.c.id == trials.c.sweep_id)
               .correlate(trials).scalar_subquery())
    return _trial_best(primary, aggregate)


# Rewrites the best values a trial keeps (trials.best_low / best_high) from its metric points:
# after every write of points, so that they always equal what the metrics table holds. Read
# again from the index rather than folded in from the new points: duplicates, NaN and points of
# other metrics need no handling. Writers of one trial's points take turns (_LOCK_TRIALS), so
# that each recount sees the points the other wrote.
_REFRESH_BEST = (update(trials).where(trials.c.id == bindparam("tid"))
                 .values(best_low=_best_of(func.min), best_high=_best_of(func.max)))
# On PostgreSQL a writer of points first locks the trials' rows (in id order: no deadlock
# between two writers): a concurrent writer's recount, which reads in its own snapshot, would
# otherwise miss these points and overwrite the values with its own. SQLite takes the database's
# write lock when a write transaction begins: writers already take turns.
_LOCK_TRIALS = (select(trials.c.id).where(trials.c.id.in_(bindparam("tids", expanding=True)))
                .order_by(trials.c.id).with_for_update())
_REFRESH_SWEEP_BEST = (update(trials).where(trials.c.sweep_id == bindparam("sid"))
                       .values(best_low=_best_of(func.min), best_high=_best_of(func.max)))

# The statements of the calls a sweep makes per trial, built once with bound parameters: a
# statement built afresh per call (its values inlined) cost ~0.4-1 ms of CPU to build, key and
# look up; built once, SQLAlchemy's compiled cache hits at once. The columns to insert or set
# are the keys of the parameters (one compiled form per set of keys); the row's key is bound
# as "ident", a name no column has.
_INSERT_TRIAL = insert(trials)
_ROW = {table: select(table).where(table.c.id == bindparam("ident"))
        for table in (sweeps, trials)}
_UPDATE = {table: update(table).where(table.c.id == bindparam("ident"))
           for table in (sweeps, trials)}
_EXISTS = {table: select(table.c.id).where(table.c.id == bindparam("ident"))
           for table in (sweeps, trials)}
_SWEEP_STATUS = select(sweeps.c.status).where(sweeps.c.id == bindparam("ident"))
# FOR SHARE: a claim's UPDATE waits for the insert of a trial that checked the holder
_SWEEP_HOLDER = (select(sweeps.c.controller).where(sweeps.c.id == bindparam("ident"))
                 .with_for_update(read=True))
# a heartbeat's or a release's change of a sweep, made only while "owner" holds it
_UPDATE_HELD = (update(sweeps).where(sweeps.c.id == bindparam("ident"),
                                     sweeps.c.controller == bindparam("owner")))


def _claim(replacing: bool) -> Any:
    """A claim's change of a sweep (controller and heartbeat_time, given by those names),
    made only while nobody holds it, or "owner", or a holder silent since "cutoff" (or the
    holder "replacing" names)."""
    free = [sweeps.c.controller.is_(None), sweeps.c.controller == bindparam("owner"),
            sweeps.c.heartbeat_time.is_(None), sweeps.c.heartbeat_time < bindparam("cutoff")]
    if replacing:
        free.append(sweeps.c.controller == bindparam("replacing"))
    return update(sweeps).where(sweeps.c.id == bindparam("ident"), or_(*free))


def _metric_points(named: bool, after: bool) -> Any:
    """A trial's ("tid") points in order: of one metric ("name"), after ("seq", "pos")."""
    where = [metrics.c.trial_id == bindparam("tid")]
    if named:
        where.append(metrics.c.name == bindparam("name"))
    if after:
        where.append(or_(metrics.c.seq > bindparam("seq"),
                         and_(metrics.c.seq == bindparam("seq"), metrics.c.pos > bindparam("pos"))))
    return select(metrics).where(*where).order_by(metrics.c.seq, metrics.c.pos)


_CLAIM = {replacing: _claim(replacing) for replacing in (False, True)}
_METRIC_POINTS = {(named, after): _metric_points(named, after)
                  for named in (False, True) for after in (False, True)}


def _is_transient(err: DBAPIError) -> bool:
    if getattr(err.orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    message = str(err.orig).lower()
    return isinstance(err, OperationalError) and ("locked" in message or "busy" in message)


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
        # the dialect's INSERT (for ON CONFLICT), imported for the backend in use: the
        # PostgreSQL dialect package imports all its drivers' modules (asyncpg, pg8000, ...),
        # a few hundredths of a second a SQLite store has no use for
        self._postgres = self._engine.dialect.name == "postgresql"
        if self._postgres:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        self._insert = dialect_insert
        self._add_metrics_statement = (
            self._insert(metrics)
            .on_conflict_do_nothing(index_elements=["trial_id", "seq", "pos"])
            .returning(metrics.c.seq)
        )
        self._save_metrics_statement = self._insert(metrics).on_conflict_do_nothing(
            index_elements=["trial_id", "seq", "pos"])
        tags_upsert = self._insert(trial_tags)
        self._set_tags_statement = tags_upsert.on_conflict_do_update(
            index_elements=["trial_id", "name"], set_={"value": tags_upsert.excluded.value})
        # save_trials' upsert of trials, one a set of columns (built on first use)
        self._save_trials_statements: dict[tuple[str, ...], Any] = {}
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
        # every URL but the in-memory one: normalise_url names an unsupported scheme
        return url != MEMORY_URL

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
        delay = 0.01
        for attempt in range(_RETRIES):
            try:
                with self._lock, self._engine.connect() as conn:
                    if write:
                        conn.execution_options(hs_write=True)
                    with conn.begin():
                        return work(conn)
            except IntegrityError:
                raise
            except DBAPIError as err:
                if attempt + 1 < _RETRIES and _is_transient(err):
                    time.sleep(delay * (1 + random.random()))
                    delay = min(delay * 2, 1.0)
                    continue
                raise StoreError(f"store {self._display_url}: {err.orig}") from err
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._run(work, write=False)

    # ------------------------------------------------------------------ sweeps

    def create_sweep(self, sweep: SweepRecord) -> None:
        row = codec.sweep_to_row(sweep)

        def work(conn: Connection) -> None:
            conn.execute(
                self._insert(experiments)
                .values(name=sweep.experiment, created_time=sweep.created_time)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            conn.execute(insert(sweeps).values(row))

        try:
            self._run(work)
        except IntegrityError as err:
            raise StoreError(f"sweep {sweep.id!r} already exists") from err

    def _row(self, table: Any, ident: str, what: str) -> Any:
        """The row of ``table`` whose ``id`` is ``ident``; KeyError naming it when absent."""
        row = self._read(
            lambda conn: conn.execute(_ROW[table], {"ident": ident}).mappings().first()
        )
        if row is None:
            raise KeyError(f"no {what} {ident!r}")
        return row

    def get_sweep(self, sweep_id: str) -> SweepRecord:
        return codec.sweep_from_row(self._row(sweeps, sweep_id, "sweep"))

    def sweep_status(self, sweep_id: str) -> Status:
        status = self._read(
            lambda conn: conn.execute(_SWEEP_STATUS, {"ident": sweep_id}).scalar_one_or_none())
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
            self._ensure_experiment(values["experiment"])
        if "primary_metric" not in values:
            self._update(sweeps, sweep_id, values, "sweep")
            return

        def work(conn: Connection) -> int:
            before = conn.execute(select(sweeps.c.primary_metric).where(sweeps.c.id == sweep_id)
                                  .with_for_update()).first()
            if before is None:
                return 0
            conn.execute(_UPDATE[sweeps], {**values, "ident": sweep_id})
            if before.primary_metric != values["primary_metric"]:  # its trials' best values too
                if self._postgres:  # after the writers of their points (see _LOCK_TRIALS)
                    conn.execute(select(trials.c.id).where(trials.c.sweep_id == sweep_id)
                                 .order_by(trials.c.id).with_for_update())
                conn.execute(_REFRESH_SWEEP_BEST, {"sid": sweep_id})
            return 1

        if self._run(work) == 0:
            raise KeyError(f"no sweep {sweep_id!r}")

    def _ensure_experiment(self, name: str) -> None:
        self._run(
            lambda conn: conn.execute(
                self._insert(experiments)
                .values(name=name, created_time=utcnow())
                .on_conflict_do_nothing(index_elements=["name"])
            )
        )

    def _update(self, table: Any, ident: str, values: dict[str, Any], what: str) -> None:
        def work(conn: Connection) -> int:
            if not values:
                return len(conn.execute(_EXISTS[table], {"ident": ident}).all())
            # the columns set are the parameters' keys (see _UPDATE)
            return conn.execute(_UPDATE[table], {**values, "ident": ident}).rowcount

        if self._run(work) == 0:
            raise KeyError(f"no {what} {ident!r}")

    def add_sweep_warning(self, sweep_id: str, message: str) -> None:

        def work(conn: Connection) -> bool:
            text = conn.execute(
                select(sweeps.c.warnings).where(sweeps.c.id == sweep_id).with_for_update()
            ).scalar_one_or_none()
            if text is None:
                return False
            warnings: list[str] = codec.loads(text)
            if message not in warnings:
                warnings.append(message)
                conn.execute(
                    update(sweeps)
                    .where(sweeps.c.id == sweep_id)
                    .values(warnings=codec.dumps(warnings, "warnings"))
                )
            return True

        if not self._run(work):
            raise KeyError(f"no sweep {sweep_id!r}")

    def claim_sweep(self, sweep_id: str, owner: str, stale_after: float,
                    replacing: str | None = None) -> bool:
        now = utcnow()
        params: dict[str, Any] = {"ident": sweep_id, "owner": owner, "controller": owner,
                                  "cutoff": now - timedelta(seconds=stale_after),
                                  "heartbeat_time": now}
        if replacing is not None:
            params["replacing"] = replacing
        statement = _CLAIM[replacing is not None]
        if self._run(lambda conn: conn.execute(statement, params).rowcount) == 1:
            return True
        self.get_sweep(sweep_id)  # KeyError when absent
        return False

    def heartbeat(self, sweep_id: str, owner: str) -> bool:
        params = {"ident": sweep_id, "owner": owner, "heartbeat_time": utcnow()}
        return bool(self._run(lambda conn: conn.execute(_UPDATE_HELD, params).rowcount) == 1)

    def release_sweep(self, sweep_id: str, owner: str) -> None:
        params = {"ident": sweep_id, "owner": owner, "controller": None}
        self._run(lambda conn: conn.execute(_UPDATE_HELD, params))

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
        saving = self._saving(records, points, tags)

        def work(conn: Connection) -> bool:
            if saving is not None:  # kept whatever follows: committed with a False too
                saving(conn)
            if owner is not None:
                held = conn.execute(_SWEEP_HOLDER, {"ident": trial.sweep_id}).first()
                if held is None:
                    raise KeyError(f"no sweep {trial.sweep_id!r}")
                if held.controller != owner:
                    return False
            conn.execute(_INSERT_TRIAL, row)
            return True

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
        saving = self._saving(records, points, tags)
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

    def _saving(
        self,
        records: Sequence[TrialRecord],
        points: Mapping[str, Sequence[MetricPoint]] | None,
        tags: Mapping[str, Mapping[str, str]] | None,
    ) -> Callable[[Connection], None] | None:
        """The work of `save_trials` (run in a transaction of the caller's), or None when
        there is nothing to write."""
        rows = [codec.trial_to_row(record) for record in records]
        unique: dict[tuple[str, int, int], dict[str, Any]] = {}
        for tid, batch in (points or {}).items():
            for point in batch:
                row = codec.metric_to_row(tid, point)
                unique.setdefault((tid, row["seq"], row["pos"]), row)
        # the trials given a numeric point: their best values are read again
        scored = list(dict.fromkeys(tid for (tid, _, _), row in unique.items()
                                    if row["value"] is not None))
        tag_rows = [{"trial_id": tid, "name": str(k), "value": str(v)}
                    for tid, pairs in (tags or {}).items() for k, v in pairs.items()]
        if not rows and not unique and not tag_rows:
            return None

        def work(conn: Connection) -> None:
            # One statement with the rows as parameters (executemany), not rows inlined into
            # the statement: SQLAlchemy compiles and caches it once and batches the rows
            # itself, where an inlined multi-row VALUES was compiled afresh at every flush.
            if rows:
                conn.execute(self._save_trials_statement(tuple(rows[0])), rows)
            if unique:
                if scored and self._postgres:
                    conn.execute(_LOCK_TRIALS, {"tids": scored})
                conn.execute(self._save_metrics_statement, list(unique.values()))
                if scored:
                    conn.execute(_REFRESH_BEST, [{"tid": tid} for tid in scored])
            if tag_rows:
                conn.execute(self._set_tags_statement, tag_rows)

        return work

    def _save_trials_statement(self, columns: tuple[str, ...]) -> Any:
        """The upsert of trials rows with ``columns`` (every one but ``id`` overwritten on a
        conflict), built once a set of columns."""
        statement = self._save_trials_statements.get(columns)
        if statement is None:
            upsert = self._insert(trials)
            statement = upsert.on_conflict_do_update(
                index_elements=["id"], set_={c: upsert.excluded[c] for c in columns if c != "id"})
            self._save_trials_statements[columns] = statement
        return statement

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
        query = select(trials).where(trials.c.sweep_id == sweep_id).order_by(trials.c.trial_index)
        rows = self._read(lambda conn: conn.execute(query).mappings().all())
        return [codec.trial_from_row(row) for row in rows]

    def _best(self, conn: Connection, sweep_id: str, metric: str, maximize: bool) -> Any:
        """A trial's best value of ``metric`` as a column of a query on ``trials`` of
        ``sweep_id``: the value the trial keeps beside it when ``metric`` is the sweep's
        primary metric (no metrics read), else :func:`_trial_best` of it."""
        primary = conn.execute(select(sweeps.c.primary_metric)
                               .where(sweeps.c.id == sweep_id)).scalar()
        if primary is not None and primary == metric:
            return trials.c.best_high if maximize else trials.c.best_low
        return _trial_best(metric, func.max if maximize else func.min)

    def _page(self, conn: Connection, sweep_id: str, metric: str, maximize: bool, order: str,
              limit: int | None, offset: int, after: int | None,
              statuses: list[str] | None) -> list[ScoredTrial]:
        where = [trials.c.sweep_id == sweep_id]
        if statuses is not None:
            where.append(trials.c.status.in_(statuses))
        if after is not None:
            where.append(trials.c.trial_index > after)
        best = self._best(conn, sweep_id, metric, maximize).label("best")
        if order == "index":
            # rows come in the (sweep_id, trial_index) index's order: the database stops at
            # the page's end, and only the page's trials are scored
            ordering = [trials.c.trial_index]
        else:
            ranked = best.desc() if maximize else best.asc()
            ordering = [ranked.nulls_last(), trials.c.trial_index]
        query = (select(trials, best).where(*where).order_by(*ordering)
                 .limit(limit).offset(offset))
        return [ScoredTrial(codec.trial_from_row(row), _float(row["best"]))
                for row in conn.execute(query).mappings().all()]

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
        return self._read(lambda conn: self._page(conn, sweep_id, metric, maximize, order,
                                                  limit, offset, after, wanted))

    def trial_lines(self, sweep_id: str, metric: str, maximize: bool, *,
                    after: int | None = None, limit: int | None = None) -> list[TrialLine]:
        check_page("index", limit, 0, after, None)
        sqlite_ = self._engine.dialect.name == "sqlite"
        # SQLite's times come as the naive UTC text UTCDateTime stores, with their zone
        # appended by the database (NULL stays NULL), and are parsed by datetime's C
        # parser, called straight: aware, in timezone.utc. SQLAlchemy's own processing of
        # three times a trial, or a Python function a time, was a third of the cost of
        # listing 100,000 trials.
        times = [type_coerce(c, Text).concat("+00:00") if sqlite_ else c
                 for c in (trials.c.created_time, trials.c.start_time, trials.c.end_time)]

        def work(conn: Connection) -> Sequence[Any]:
            query = (
                select(trials.c.trial_index, trials.c.id, trials.c.status, trials.c.params,
                       self._best(conn, sweep_id, metric, maximize), *times,
                       trials.c.termination_reason, trials.c.termination_detail,
                       trials.c.error, trials.c.placement)
                .where(trials.c.sweep_id == sweep_id,
                       *([] if after is None else [trials.c.trial_index > after]))
                .order_by(trials.c.trial_index)
                .limit(limit)
            )
            return conn.execute(query).all()

        return codec.trial_lines(self._read(work), datetime.fromisoformat if sqlite_ else _utc)

    def param_names(self, sweep_id: str) -> list[str]:
        # The database names the distinct keys of the trials' params (its JSON functions,
        # in C); their order (first appearance, by trial number, then within the trial) is
        # read from the trials' params in order until every key was seen: usually the
        # first trial has them all. Decoding every trial's params was 0.35 s of CPU on
        # 100,000 trials.
        sweep = trials.c.sweep_id == sweep_id
        if self._engine.dialect.name == "sqlite":
            keys = func.json_each(trials.c.params).table_valued("key")
            distinct = select(keys.c.key).select_from(trials).join(keys, true()).where(sweep)
        else:
            distinct = select(func.json_object_keys(cast(trials.c.params, JSON))).where(sweep)
        ordered = select(trials.c.params).where(sweep).order_by(trials.c.trial_index)

        def work(conn: Connection) -> list[str]:
            wanted = len(conn.execute(distinct.distinct()).all())
            names: dict[str, None] = {}
            if wanted:
                result = conn.execute(ordered)  # read row by row, up to the last new name
                try:
                    for text in result.scalars():
                        names.update(dict.fromkeys(codec.loads(text)))
                        if len(names) == wanted:
                            break
                finally:
                    result.close()
            return list(names)

        return self._read(work)

    def trial_counts(self, sweep_id: str, metric: str, maximize: bool) -> TrialCounts:

        def work(conn: Connection) -> TrialCounts:
            best_column = self._best(conn, sweep_id, metric, maximize)
            if isinstance(best_column, Column):  # kept beside the trial: counted in the scan
                with_value = func.count(best_column)
            else:
                logged = (
                    select(metrics.c.trial_id)
                    .where(metrics.c.trial_id == trials.c.id, metrics.c.name == metric,
                           metrics.c.value.is_not(None))
                    .exists()
                )
                with_value = func.count(case((logged, 1)))
            by_status = (
                select(trials.c.status, func.count(), with_value)
                .where(trials.c.sweep_id == sweep_id)
                .group_by(trials.c.status)
            )
            counts, scored = {}, 0
            for status, n, with_value in conn.execute(by_status).all():
                counts[str(status)] = int(n)
                scored += int(with_value)
            best = self._page(conn, sweep_id, metric, maximize, "metric", 1, 0, None, None)
            return TrialCounts(
                total=sum(counts.values()),
                statuses={s.value: counts[s.value] for s in Status if s.value in counts},
                scored=scored,
                best=best[0] if best and best[0].best is not None else None,
            )

        return self._read(work)

    # ------------------------------------------------------------------ metrics

    def add_metrics(self, trial_id: str, points: Sequence[MetricPoint]) -> int:
        unique: dict[tuple[int, int], dict[str, Any]] = {}
        for point in points:
            row = codec.metric_to_row(trial_id, point)
            unique.setdefault((row["seq"], row["pos"]), row)
        rows = list(unique.values())
        if not rows:
            return 0
        numeric = any(row["value"] is not None for row in rows)

        def work(conn: Connection) -> int:
            # One statement with the rows as parameters: its SQL is compiled once and cached,
            # and SQLAlchemy batches the rows ("insertmanyvalues"). Building a VALUES clause
            # per call instead cost a compile every time (~0.3 ms a point).
            if numeric and self._postgres:
                conn.execute(_LOCK_TRIALS, {"tids": [trial_id]})
            added = len(conn.execute(self._add_metrics_statement, rows).all())
            if added and numeric:
                conn.execute(_REFRESH_BEST, {"tid": trial_id})
            return added

        try:
            return self._run(work)
        except IntegrityError as err:  # the foreign key: no such trial
            raise KeyError(f"no trial {trial_id!r}") from err

    def get_metrics(self, trial_id: str, name: str | None = None,
                    after: tuple[int, int] | None = None) -> list[MetricPoint]:
        query = _METRIC_POINTS[name is not None, after is not None]
        params: dict[str, Any] = {"tid": trial_id, "name": name}
        if after is not None:
            params["seq"], params["pos"] = after
        rows = self._read(lambda conn: conn.execute(query, params).mappings().all())
        return [codec.metric_from_row(row) for row in rows]

    def metric_series(self, sweep_id: str, name: str) -> dict[str, list[float]]:
        numeric = or_(metrics.c.value.is_not(None), metrics.c.is_nan)
        joined = trials.outerjoin(
            metrics, and_(metrics.c.trial_id == trials.c.id, metrics.c.name == name, numeric)
        )
        query = (
            select(trials.c.id, metrics.c.value, metrics.c.is_nan)
            .select_from(joined)
            .where(trials.c.sweep_id == sweep_id)
            .order_by(trials.c.trial_index, metrics.c.seq, metrics.c.pos)
        )
        series: dict[str, list[float]] = {}
        for tid, value, is_nan in self._read(lambda conn: conn.execute(query).all()):
            values = series.setdefault(tid, [])
            if is_nan or value is not None:
                values.append(codec.decode_value(value, bool(is_nan)))  # type: ignore[arg-type]
        return series

    def best_values(self, sweep_ids: Sequence[str], name: str, maximize: bool) -> dict[str, float]:
        if not sweep_ids:
            return {}
        wanted = list(sweep_ids)
        kept_best = trials.c.best_high if maximize else trials.c.best_low

        def work(conn: Connection) -> list[Any]:
            # the sweeps ranking by ``name`` keep each trial's best beside it: one scan of
            # their trials; the others' trials are read from their metric points
            kept = set(conn.execute(select(sweeps.c.id).where(
                sweeps.c.id.in_(wanted), sweeps.c.primary_metric == name)).scalars())
            rows: list[Any] = []
            if kept:
                rows += conn.execute(select(trials.c.id, kept_best).where(
                    trials.c.sweep_id.in_(sorted(kept)), kept_best.is_not(None))).all()
            rest = [sid for sid in wanted if sid not in kept]
            if rest:
                best = func.max(metrics.c.value) if maximize else func.min(metrics.c.value)
                rows += conn.execute(
                    select(metrics.c.trial_id, best)
                    .join(trials, trials.c.id == metrics.c.trial_id)
                    .where(
                        trials.c.sweep_id.in_(rest),
                        metrics.c.name == name,
                        metrics.c.value.is_not(None),  # NaN is stored as NULL: ignored too
                    )
                    .group_by(metrics.c.trial_id)
                ).all()
            return rows

        return {tid: float(value) for tid, value in self._read(work)}

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
        rows = [{"trial_id": trial_id, "name": str(k), "value": str(v)} for k, v in tags.items()]
        if not rows:
            return
        try:
            self._run(lambda conn: conn.execute(self._set_tags_statement, rows))
        except IntegrityError as err:
            raise KeyError(f"no trial {trial_id!r}") from err

    def get_tags(self, trial_id: str) -> dict[str, str]:
        query = (
            select(trial_tags.c.name, trial_tags.c.value)
            .where(trial_tags.c.trial_id == trial_id)
            .order_by(trial_tags.c.name)
        )
        return {name: value for name, value in self._read(lambda conn: conn.execute(query).all())}
