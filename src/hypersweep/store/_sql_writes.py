"""The SQL store's writes: the statements that change rows, and the best values trials keep.

:class:`SqlWrites` holds what a write executes given the :class:`Connection` of a transaction
:class:`~hypersweep.store.sql.SqlStore` opened: the statements built once with bound
parameters, the dialect's upserts (``ON CONFLICT``), and the upkeep of ``trials.best_low`` /
``best_high``, rewritten with every write of points and taken in turns on PostgreSQL. It opens
no connection, retries nothing and translates no error: the store decides when a write runs and
what its failure means. It is apart from ``sql.py`` because this is the part where the SQL
itself must be right (locks in id order, one compiled statement a set of columns); the reads,
which hold no state built for a backend, are :mod:`hypersweep.store._sql_reads`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from hypersweep.store import codec
from hypersweep.store._prepared import Prepared
from hypersweep.store._sql_reads import trial_best
from hypersweep.store.records import MetricPoint, TrialRecord
from hypersweep.store.schema import experiments, metrics, sweeps, trial_tags, trials

__all__ = ["CLAIM", "INSERT_SWEEP", "UPDATE_HELD", "SqlWrites"]


def _best_of(aggregate: Any) -> Any:
    """:func:`trial_best` of the trial's sweep's primary metric."""
    primary = (select(sweeps.c.primary_metric).where(sweeps.c.id == trials.c.sweep_id)
               .correlate(trials).scalar_subquery())
    return trial_best(primary, aggregate)


# Rewrites the best values a trial keeps (trials.best_low / best_high) from its metric points:
# after every write of points, so that they always equal what the metrics table holds. Read
# again from the index rather than folded in from the new points: duplicates, NaN and points of
# other metrics need no handling. Writers of one trial's points take turns (_LOCK_TRIALS), so
# that each recount sees the points the other wrote.
_REFRESH_BEST = Prepared(update(trials).where(trials.c.id == bindparam("tid"))
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
# as "ident", a name no column has. The hottest run on the driver's cursor (see _prepared).
_INSERT_TRIAL = Prepared(insert(trials))
#: a new sweep's row
INSERT_SWEEP = insert(sweeps)
_UPDATE = {table: update(table).where(table.c.id == bindparam("ident"))
           for table in (sweeps, trials)}
_EXISTS = {table: select(table.c.id).where(table.c.id == bindparam("ident"))
           for table in (sweeps, trials)}
# FOR SHARE: a claim's UPDATE waits for the insert of a trial that checked the holder
_SWEEP_HOLDER = Prepared(select(sweeps.c.controller).where(sweeps.c.id == bindparam("ident"))
                         .with_for_update(read=True))
#: a heartbeat's or a release's change of a sweep, made only while "owner" holds it
UPDATE_HELD = (update(sweeps).where(sweeps.c.id == bindparam("ident"),
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


#: a claim's change of a sweep, by whether the claim names a holder it replaces
CLAIM = {replacing: _claim(replacing) for replacing in (False, True)}


class SqlWrites:
    """The writes of one store, on PostgreSQL (``postgres``) or SQLite; each method takes the
    connection of the caller's transaction."""

    def __init__(self, postgres: bool) -> None:
        # the dialect's INSERT (for ON CONFLICT), imported for the backend in use: the
        # PostgreSQL dialect package imports all its drivers' modules (asyncpg, pg8000, ...),
        # a few hundredths of a second a SQLite store has no use for
        self._postgres = postgres
        if postgres:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        self._insert = dialect_insert
        self._add_experiment_statement = self._insert(experiments).on_conflict_do_nothing(
            index_elements=["name"])
        self._add_metrics_statement = (
            self._insert(metrics)
            .on_conflict_do_nothing(index_elements=["trial_id", "seq", "pos"])
            .returning(metrics.c.seq)
        )
        self._save_metrics_statement = Prepared(self._insert(metrics).on_conflict_do_nothing(
            index_elements=["trial_id", "seq", "pos"]))
        tags_upsert = self._insert(trial_tags)
        self._set_tags_statement = Prepared(tags_upsert.on_conflict_do_update(
            index_elements=["trial_id", "name"], set_={"value": tags_upsert.excluded.value}))
        # save_trials' upsert of trials, one a set of columns (built on first use)
        self._save_trials_statements: dict[tuple[str, ...], Prepared] = {}

    # ------------------------------------------------------------------ sweeps

    def add_experiment(self, conn: Connection, name: str, created_time: datetime) -> None:
        """Record the experiment ``name`` unless it is there already."""
        conn.execute(self._add_experiment_statement,
                     {"name": name, "created_time": created_time})

    def update_row(self, conn: Connection, table: Any, ident: str, values: dict[str, Any]) -> int:
        """Set ``values`` in the row of ``table`` whose id is ``ident``: how many rows matched
        (0 when there is no such row)."""
        if not values:
            return len(conn.execute(_EXISTS[table], {"ident": ident}).all())
        # the columns set are the parameters' keys (see _UPDATE)
        return conn.execute(_UPDATE[table], {**values, "ident": ident}).rowcount

    def update_sweep_ranking(self, conn: Connection, sweep_id: str,
                             values: dict[str, Any]) -> int:
        """Set ``values``, which name the sweep's primary metric, and its trials' best values
        when that changes: 1, or 0 when there is no such sweep."""
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

    def add_sweep_warning(self, conn: Connection, sweep_id: str, message: str) -> bool:
        """Append ``message`` to the sweep's warnings unless there; False when no sweep."""
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

    # ------------------------------------------------------------------ trials

    def insert_trial(self, conn: Connection, row: dict[str, Any], sweep_id: str,
                     owner: str | None) -> bool:
        """Insert a trial's ``row``; with ``owner``, only while ``owner`` holds the sweep
        (False when another does, KeyError when there is no sweep)."""
        if owner is not None:
            held = _SWEEP_HOLDER.run(conn, {"ident": sweep_id}).fetchone()
            if held is None:
                raise KeyError(f"no sweep {sweep_id!r}")
            if held[0] != owner:
                return False
        _INSERT_TRIAL.run(conn, row)
        return True

    def saving(
        self,
        records: Sequence[TrialRecord],
        points: Mapping[str, Sequence[MetricPoint]] | None,
        tags: Mapping[str, Mapping[str, str]] | None,
    ) -> Callable[[Connection], None] | None:
        """The work of `save_trials` (run in a transaction of the caller's), or None when
        there is nothing to write."""
        batch = codec.trial_batch(records, points, tags)
        if batch is None:
            return None

        def work(conn: Connection) -> None:
            # One statement with the rows as parameters (executemany), not rows inlined into
            # the statement: SQLAlchemy compiles and caches it once and batches the rows
            # itself, where an inlined multi-row VALUES was compiled afresh at every flush.
            if batch.trials:
                self._save_trials_statement(tuple(batch.trials[0])).run(conn, batch.trials)
            if batch.points:
                if batch.scored and self._postgres:
                    conn.execute(_LOCK_TRIALS, {"tids": batch.scored})
                self._save_metrics_statement.run(conn, batch.points)
                if batch.scored:
                    _REFRESH_BEST.run(conn, [{"tid": tid} for tid in batch.scored])
            if batch.tags:
                self.set_tags(conn, batch.tags)

        return work

    def _save_trials_statement(self, columns: tuple[str, ...]) -> Prepared:
        """The upsert of trials rows with ``columns`` (every one but ``id`` overwritten on a
        conflict), built once a set of columns."""
        statement = self._save_trials_statements.get(columns)
        if statement is None:
            upsert = self._insert(trials)
            statement = Prepared(upsert.on_conflict_do_update(
                index_elements=["id"], set_={c: upsert.excluded[c] for c in columns if c != "id"}))
            self._save_trials_statements[columns] = statement
        return statement

    # ------------------------------------------------------------------ metrics and tags

    def add_metrics(self, conn: Connection, trial_id: str, rows: list[dict[str, Any]]) -> int:
        """Insert a trial's metric ``rows`` (one a position) but those stored already, and
        keep its best values: how many were new."""
        numeric = any(row["value"] is not None for row in rows)
        # One statement with the rows as parameters: its SQL is compiled once and cached,
        # and SQLAlchemy batches the rows ("insertmanyvalues"). Building a VALUES clause
        # per call instead cost a compile every time (~0.3 ms a point).
        if numeric and self._postgres:
            conn.execute(_LOCK_TRIALS, {"tids": [trial_id]})
        added = len(conn.execute(self._add_metrics_statement, rows).all())
        if added and numeric:
            _REFRESH_BEST.run(conn, {"tid": trial_id})
        return added

    def set_tags(self, conn: Connection, rows: list[dict[str, str]]) -> None:
        """Set tags (``trial_id``, ``name``, ``value`` rows), overwriting a tag's old value."""
        self._set_tags_statement.run(conn, rows)
