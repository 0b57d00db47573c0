"""The SQL store's reads: the queries that score, page, count and list trials and metric points.

Each function builds its SQLAlchemy Core statement and, given the :class:`Connection` of a
transaction :class:`~hypersweep.store.sql.SqlStore` opened, reads with it; none opens a
connection, retries or translates errors (the store does, for reads and writes alike). They are
apart from ``sql.py`` because they are the one part of the store that is about SQL queries
rather than about running them: how a trial's best value is found (kept beside the trial, or
read from its metric points), how a page is ordered and cut, how each backend hands over JSON
keys and times. The writes, which keep the best values up to date, are in
:mod:`hypersweep.store._sql_writes`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.engine import Connection

from hypersweep.store import codec
from hypersweep.store._prepared import Prepared
from hypersweep.store.records import ScoredTrial, Status, TrialCounts
from hypersweep.store.schema import metrics, sweeps, trials

__all__ = [
    "METRIC_POINTS",
    "ROW",
    "SWEEP_PRIMARY",
    "SWEEP_STATUS",
    "SWEEP_TRIALS",
    "best_column",
    "best_value_rows",
    "kept_best",
    "metric_series_rows",
    "page",
    "page_query",
    "param_names",
    "time_reader",
    "trial_best",
    "trial_best_rows",
    "trial_counts",
    "trial_line_rows",
]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def trial_best(name: Any, aggregate: Any) -> Any:
    """A trial's smallest or largest (``aggregate``) numeric value of the metric ``name`` (a
    name, or an SQL expression for one), as a column of a statement on ``trials``: one seek in
    the ``(trial_id, name, value)`` index (NaN is stored as NULL: skipped, as by
    :meth:`SqlStore.best_values`)."""
    return (select(aggregate(metrics.c.value))
            .where(metrics.c.trial_id == trials.c.id, metrics.c.name == name,
                   metrics.c.value.is_not(None))
            .scalar_subquery())


# The light reads a sweep makes per trial, built once with bound parameters (the row's key
# bound as "ident"), as the writes in _sql_writes are: SQLAlchemy's compiled cache hits at once.
ROW = {table: select(table).where(table.c.id == bindparam("ident")) for table in (sweeps, trials)}
SWEEP_STATUS = select(sweeps.c.status).where(sweeps.c.id == bindparam("ident"))
#: the metric a sweep ("ident") ranks by, whose best value its trials keep beside them
SWEEP_PRIMARY = select(sweeps.c.primary_metric).where(sweeps.c.id == bindparam("ident"))
#: every trial of a sweep ("sid"), in order
SWEEP_TRIALS = (select(trials).where(trials.c.sweep_id == bindparam("sid"))
                .order_by(trials.c.trial_index))


def _metric_points(named: bool, after: bool) -> Any:
    """A trial's ("tid") points in order: of one metric ("name"), after ("seq", "pos")."""
    where = [metrics.c.trial_id == bindparam("tid")]
    if named:
        where.append(metrics.c.name == bindparam("name"))
    if after:
        where.append(or_(metrics.c.seq > bindparam("seq"),
                         and_(metrics.c.seq == bindparam("seq"), metrics.c.pos > bindparam("pos"))))
    return select(metrics).where(*where).order_by(metrics.c.seq, metrics.c.pos)


METRIC_POINTS = {(named, after): _metric_points(named, after)
                 for named in (False, True) for after in (False, True)}


def kept_best(conn: Connection, sweep_id: str, metric: str) -> bool:
    """Whether ``sweep_id``'s trials keep their best value of ``metric`` beside them (it is
    the sweep's primary metric)."""
    primary = conn.execute(SWEEP_PRIMARY, {"ident": sweep_id}).scalar()
    return primary is not None and primary == metric


def best_column(conn: Connection, sweep_id: str, metric: str, maximize: bool) -> Any:
    """A trial's best value of ``metric`` as a column of a query on ``trials`` of
    ``sweep_id``: the value the trial keeps beside it (:func:`kept_best`: no metrics read),
    else :func:`trial_best` of it."""
    if kept_best(conn, sweep_id, metric):
        return trials.c.best_high if maximize else trials.c.best_low
    return trial_best(metric, func.max if maximize else func.min)


def page_query(best: Any, sweep_id: str, maximize: bool, order: str, limit: int | None,
               offset: int, after: int | None, statuses: list[str] | None) -> Any:
    """The query of :func:`page`, the trials' ``best`` column given."""
    where = [trials.c.sweep_id == sweep_id]
    if statuses is not None:
        where.append(trials.c.status.in_(statuses))
    if after is not None:
        where.append(trials.c.trial_index > after)
    if order == "index":
        # rows come in the (sweep_id, trial_index) index's order: the database stops at
        # the page's end, and only the page's trials are scored
        ordering = [trials.c.trial_index]
    else:
        ranked = best.desc() if maximize else best.asc()
        ordering = [ranked.nulls_last(), trials.c.trial_index]
    return select(trials, best).where(*where).order_by(*ordering).limit(limit).offset(offset)


def page(conn: Connection, sweep_id: str, metric: str, maximize: bool, order: str,
         limit: int | None, offset: int, after: int | None,
         statuses: list[str] | None) -> list[ScoredTrial]:
    """The trials of :meth:`SqlStore.trial_page` (arguments checked by ``check_page``)."""
    best = best_column(conn, sweep_id, metric, maximize).label("best")
    query = page_query(best, sweep_id, maximize, order, limit, offset, after, statuses)
    return [ScoredTrial(codec.trial_from_row(row), codec.optional_float(row["best"]))
            for row in conn.execute(query).mappings().all()]


def trial_line_rows(conn: Connection, sqlite_: bool, sweep_id: str, metric: str, maximize: bool,
                    after: int | None, limit: int | None,
                    indexes: Collection[int] | None = None) -> Sequence[Any]:
    """The rows :func:`codec.trial_lines` reads into :meth:`SqlStore.trial_lines`, their times
    to be read by :func:`time_reader` (``sqlite_``: the database is SQLite)."""
    where = [trials.c.sweep_id == sweep_id]
    if after is not None:
        where.append(trials.c.trial_index > after)
    if indexes is not None:
        where.append(trials.c.trial_index.in_(sorted(indexes)))
    # SQLite's times come as the naive UTC text UTCDateTime stores, with their zone
    # appended by the database (NULL stays NULL), and are parsed by datetime's C
    # parser, called straight: aware, in timezone.utc. SQLAlchemy's own processing of
    # three times a trial, or a Python function a time, was a third of the cost of
    # listing 100,000 trials.
    times = [type_coerce(c, Text).concat("+00:00") if sqlite_ else c
             for c in (trials.c.created_time, trials.c.start_time, trials.c.end_time)]
    query = (
        select(trials.c.trial_index, trials.c.id, trials.c.status, trials.c.params,
               best_column(conn, sweep_id, metric, maximize), *times,
               trials.c.termination_reason, trials.c.termination_detail,
               trials.c.error, trials.c.placement)
        .where(*where)
        .order_by(trials.c.trial_index)
        .limit(limit)
    )
    return conn.execute(query).all()


@functools.cache  # built at first use: a sweep's own process never reads this
def _bests_statement(kept: bool, maximize: bool) -> Prepared:
    """Every trial of a sweep ("sid") by number with its best value: the one it keeps beside
    it (``kept``), or that of its points of a metric ("metric"). Run on the driver's cursor
    (see _prepared): at 100,000 trials SQLAlchemy's result rows cost half as much again as
    SQLite's own fetch."""
    aggregate = func.max if maximize else func.min
    best = ((trials.c.best_high if maximize else trials.c.best_low) if kept
            else trial_best(bindparam("metric"), aggregate))
    return Prepared(select(trials.c.trial_index, best)
                    .where(trials.c.sweep_id == bindparam("sid"))
                    .order_by(trials.c.trial_index))


def trial_best_rows(conn: Connection, sweep_id: str, metric: str,
                    maximize: bool) -> Sequence[Any]:
    """``(number, best)`` rows of :meth:`SqlStore.trial_bests`."""
    kept = kept_best(conn, sweep_id, metric)
    statement = _bests_statement(kept, maximize)
    return statement.run(conn, {"sid": sweep_id, "metric": metric}).fetchall()


def time_reader(sqlite_: bool) -> Callable[[Any], datetime]:
    """How a time of :func:`trial_line_rows` becomes an aware UTC datetime."""
    return datetime.fromisoformat if sqlite_ else _utc


def param_names(conn: Connection, sweep_id: str) -> list[str]:
    """The names of :meth:`SqlStore.param_names`."""
    # The database names the distinct keys of the trials' params (its JSON functions,
    # in C); their order (first appearance, by trial number, then within the trial) is
    # read from the trials' params in order until every key was seen: usually the
    # first trial has them all. Decoding every trial's params was 0.35 s of CPU on
    # 100,000 trials.
    sweep = trials.c.sweep_id == sweep_id
    if conn.dialect.name == "sqlite":
        keys = func.json_each(trials.c.params).table_valued("key")
        distinct = select(keys.c.key).select_from(trials).join(keys, true()).where(sweep)
    else:
        distinct = select(func.json_object_keys(cast(trials.c.params, JSON))).where(sweep)
    ordered = select(trials.c.params).where(sweep).order_by(trials.c.trial_index)
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


def trial_counts(conn: Connection, sweep_id: str, metric: str, maximize: bool) -> TrialCounts:
    """The counts of :meth:`SqlStore.trial_counts`."""
    best_of_trial = best_column(conn, sweep_id, metric, maximize)
    if isinstance(best_of_trial, Column):  # kept beside the trial: counted in the scan
        with_value = func.count(best_of_trial)
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
    for status, n, valued in conn.execute(by_status).all():
        counts[str(status)] = int(n)
        scored += int(valued)
    best = page(conn, sweep_id, metric, maximize, "metric", 1, 0, None, None)
    return TrialCounts(
        total=sum(counts.values()),
        statuses={s.value: counts[s.value] for s in Status if s.value in counts},
        scored=scored,
        best=best[0] if best and best[0].best is not None else None,
    )


def metric_series_rows(conn: Connection, sweep_id: str, name: str) -> Sequence[Any]:
    """``(trial id, value, is_nan)`` rows of every trial of ``sweep_id`` in order, each trial's
    numeric points of ``name`` in order (a trial with none: one row, value and is_nan NULL)."""
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
    return conn.execute(query).all()


def best_value_rows(conn: Connection, sweep_ids: list[str], name: str,
                    maximize: bool) -> list[Any]:
    """``(trial id, best value)`` rows of :meth:`SqlStore.best_values` (trials with none
    left out)."""
    kept_best = trials.c.best_high if maximize else trials.c.best_low
    # the sweeps ranking by ``name`` keep each trial's best beside it: one scan of
    # their trials; the others' trials are read from their metric points
    kept = set(conn.execute(select(sweeps.c.id).where(
        sweeps.c.id.in_(sweep_ids), sweeps.c.primary_metric == name)).scalars())
    rows: list[Any] = []
    if kept:
        rows += conn.execute(select(trials.c.id, kept_best).where(
            trials.c.sweep_id.in_(sorted(kept)), kept_best.is_not(None))).all()
    rest = [sid for sid in sweep_ids if sid not in kept]
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
