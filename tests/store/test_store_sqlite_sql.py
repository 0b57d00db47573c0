"""SqliteStore's SQL is SQLAlchemy's: the same text, parameters, schema, times and files.

``hypersweep.store._sqlite_sql`` keeps the text SQLAlchemy renders for SQLite, so that a sweep's
own calls need no SQLAlchemy. These tests compile the statements SqlStore runs again and require
the same text with the same parameters, create the schema both ways and require the same
tables, and read each store's records with the other. When one fails after a change to
``schema.py``, ``_sql_writes.py`` or ``_sql_reads.py``, put the text it shows in
``_sqlite_sql.py``.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from _store_helpers import make_point, make_sweep, make_trial
from sqlalchemy import create_engine, make_url
from sqlalchemy.dialects import sqlite

from hypersweep.errors import StoreError
from hypersweep.store import SqliteStore, SqlStore, Status, codec, migrate
from hypersweep.store import _sql_reads as reads
from hypersweep.store import _sql_writes as writes
from hypersweep.store import _sqlite_sql as sql
from hypersweep.store._prepared import Prepared
from hypersweep.store._sqlite_sql import sqlite_file
from hypersweep.store.schema import UTCDateTime, sweeps, trials

DIALECT = sqlite.dialect()
SQLITE_WRITES = writes.SqlWrites(postgres=False)


def compiled(statement: Any, keys: tuple[str, ...]) -> Any:
    """SQLAlchemy's SQLite compilation of ``statement`` run with the parameters ``keys``."""
    if isinstance(statement, Prepared):
        statement = statement.statement
    return statement.compile(dialect=DIALECT, column_keys=list(keys))


def text_and_names(statement: Any, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    done = compiled(statement, keys)
    return done.string, tuple(done.positiontup or ())


SWEEP_ROW = tuple(codec.sweep_to_row(make_sweep()))
TRIAL_ROW = tuple(codec.trial_to_row(make_trial(make_sweep(), 0)))
METRIC_ROW = tuple(codec.metric_to_row("t", make_point(0, 0.5)))
CLAIM_KEYS = ("ident", "owner", "controller", "cutoff", "heartbeat_time")

STATEMENTS = {
    "ADD_EXPERIMENT": (sql.ADD_EXPERIMENT, SQLITE_WRITES._add_experiment_statement,
                       ("name", "created_time")),
    "INSERT_SWEEP": (sql.INSERT_SWEEP, writes.INSERT_SWEEP, SWEEP_ROW),
    "INSERT_TRIAL": (sql.INSERT_TRIAL, writes._INSERT_TRIAL, TRIAL_ROW),
    "ROW sweeps": (sql.ROW["sweeps"], reads.ROW[sweeps], ("ident",)),
    "ROW trials": (sql.ROW["trials"], reads.ROW[trials], ("ident",)),
    "SWEEP_STATUS": (sql.SWEEP_STATUS, reads.SWEEP_STATUS, ("ident",)),
    "SWEEP_PRIMARY": (sql.SWEEP_PRIMARY, reads.SWEEP_PRIMARY, ("ident",)),
    "SWEEP_TRIALS": (sql.SWEEP_TRIALS, reads.SWEEP_TRIALS, ("sid",)),
    "SWEEP_HOLDER": (sql.SWEEP_HOLDER, writes._SWEEP_HOLDER, ("ident",)),
    "CLAIM": (sql.CLAIM, writes.CLAIM[False], CLAIM_KEYS),
    "CLAIM_REPLACING": (sql.CLAIM_REPLACING, writes.CLAIM[True], (*CLAIM_KEYS, "replacing")),
    "HEARTBEAT": (sql.HEARTBEAT, writes.UPDATE_HELD, ("ident", "owner", "heartbeat_time")),
    "RELEASE": (sql.RELEASE, writes.UPDATE_HELD, ("ident", "owner", "controller")),
    "SAVE_METRICS": (sql.SAVE_METRICS, SQLITE_WRITES._save_metrics_statement, METRIC_ROW),
    "REFRESH_BEST": (sql.REFRESH_BEST, writes._REFRESH_BEST, ("tid",)),
    "UPSERT_TAGS": (sql.UPSERT_TAGS, SQLITE_WRITES._set_tags_statement,
                    ("trial_id", "name", "value")),
}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_each_statement_is_the_text_sqlalchemy_renders(name: str) -> None:
    (text, names), statement, keys = STATEMENTS[name]
    done = compiled(statement, keys)
    assert (text, tuple(names)) == (done.string, tuple(done.positiontup or ()))
    # what SQLAlchemy converts before binding is a time (SqliteStore converts exactly those);
    # a metric's value and is_nan are bound as they are (a float or None, a bool: int to SQLite)
    converted = {n for n in names
                 if done.binds[n].type.dialect_impl(DIALECT).bind_processor(DIALECT) is not None}
    assert converted - {"value", "is_nan"} == {n for n in names if n in sql.TIME_PARAMS}


def test_the_upserts_and_updates_of_any_columns_are_sqlalchemys() -> None:
    rng = random.Random(5)
    for table, row in ((sweeps, SWEEP_ROW), (trials, TRIAL_ROW)):
        columns = [c for c in row if c != "id"]
        subsets = [[c] for c in columns] + [rng.sample(columns, rng.randint(2, len(columns)))
                                            for _ in range(30)]
        for subset in subsets:
            assert sql.update_by_id(table.name, subset) == text_and_names(
                writes._UPDATE[table], (*subset, "ident"))
        assert sql.exists_by_id(table.name) == compiled(writes._EXISTS[table], ("ident",)).string
    for size in (2, 5, len(TRIAL_ROW)):  # id and at least one column to overwrite
        columns = TRIAL_ROW[:size]
        text, names = sql.upsert_trials(columns)
        assert (text, names) == text_and_names(SQLITE_WRITES._save_trials_statement(columns),
                                               columns)


@pytest.mark.parametrize("order", ["metric", "index"])
@pytest.mark.parametrize("maximize", [False, True])
def test_a_page_of_trials_is_the_text_sqlalchemy_renders(maximize: bool, order: str) -> None:
    best = (trials.c.best_high if maximize else trials.c.best_low).label("best")
    for statuses, after, limit, offset in itertools.product(
            (None, ["Completed"], ["Completed", "Running", "Failed"]),
            (None, 5) if order == "index" else (None,), (None, 3), (0, 7)):
        query = reads.page_query(best, "s", maximize, order, limit, offset, after, statuses)
        done = query.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
        count = None if statuses is None else len(statuses)
        assert sql.trial_page(maximize, order, count, after is not None) == done.string
        # SqliteStore binds the sweep, the statuses, the number after, the limit, the offset
        assert [done.params[name] for name in done.positiontup or ()] == [
            "s", *(statuses or ()), *(() if after is None else (after,)),
            -1 if limit is None else limit, offset]


def test_both_stores_page_a_sweep_alike(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    rng = random.Random(3)
    with SqliteStore(f"sqlite:///{path}") as direct, SqlStore(f"sqlite:///{path}") as through:
        # trials keep their best "acc" (the primary metric): read by SqliteStore itself;
        # "loss" is not kept: its pages are SqlStore's
        sweep = dataclasses.replace(
            make_sweep(), config={"objectives": [{"metric": "acc", "goal": "maximize"}]})
        direct.create_sweep(sweep)
        statuses = [Status.COMPLETED, Status.RUNNING, Status.FAILED]
        for index in range(30):
            trial = make_trial(sweep, index, status=rng.choice(statuses))
            direct.create_trial(trial)
            values = [float(rng.randint(0, 9)), float("nan")][:rng.randint(0, 2)]
            direct.add_metrics(trial.id, [make_point(i, v) for i, v in enumerate(values)])
            direct.add_metrics(trial.id, [make_point(5, float(index), name="loss")])
        pages = 0
        for metric, maximize, order, limit, offset, after, wanted in itertools.product(
                ("acc", "loss"), (False, True), ("metric", "index"), (None, 4), (0, 6),
                (None, 12), (None, [Status.COMPLETED], [], ["Running", "Failed"])):
            if after is not None and order != "index":
                continue
            kwargs: dict[str, Any] = {"order": order, "limit": limit, "offset": offset,
                                      "after": after, "statuses": wanted}
            page = direct.trial_page(sweep.id, metric, maximize, **kwargs)
            assert page == through.trial_page(sweep.id, metric, maximize, **kwargs), kwargs
            pages += bool(page)
        assert pages > 100


def test_the_schema_created_is_the_one_sqlalchemy_creates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'direct.db'}"
    SqliteStore(url).close()
    engine = create_engine(f"sqlite:///{tmp_path / 'sqlalchemy.db'}")
    migrate.ensure_schema(engine)
    engine.dispose()

    def catalogue(name: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(tmp_path / name) as connection:
            return connection.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()

    assert catalogue("direct.db") == catalogue("sqlalchemy.db")
    assert [s for (_, _, _, s) in catalogue("direct.db") if s] == list(sql.SCHEMA)
    assert set(sql.TABLE_NAMES) == {*migrate.metadata.tables, migrate.VERSION_TABLE}
    with sqlite3.connect(tmp_path / "direct.db") as connection:
        assert connection.execute(sql.REVISION).fetchall() == [(migrate.HEAD_REVISION,)]


def test_times_are_bound_and_read_as_sqlalchemy_does() -> None:
    time_type = UTCDateTime().dialect_impl(DIALECT)
    bind = time_type.bind_processor(DIALECT)
    result = time_type.result_processor(DIALECT, None)
    east = timezone(timedelta(hours=5, minutes=30))
    for value in (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
                  datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
                  datetime(2026, 6, 1, 4, 0, 0, 1, tzinfo=east),
                  datetime(1999, 1, 1, tzinfo=timezone.utc)):
        text = sql.time_text(value)
        assert text == bind(value)
        assert sql.time_value(text) == result(text) == value
        assert sql.time_value(text).tzinfo is timezone.utc
    assert sql.time_value(None) is None


@pytest.mark.parametrize("database", ["runs.db", "a b/r%C3%A9sultats.db", "x/../y.db"])
def test_the_file_is_the_one_sqlalchemy_opens(database: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url in (f"sqlite:///{database}", f"sqlite:///{tmp_path / database}"):
        args, _ = DIALECT.create_connect_args(make_url(url))
        assert sqlite_file(url) == args[0]
    for other in ("sqlite://", "sqlite:///:memory:", "sqlite:///x.db?mode=ro&uri=true",
                  "sqlite+pysqlite:///x.db", "postgresql://me@db/x", "memory://"):
        assert sqlite_file(other) is None


def test_a_url_in_the_home_folder_opens_the_same_file_in_both_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with SqliteStore("sqlite:///~/h.db") as direct, SqlStore("sqlite:///~/h.db") as through:
        sweep = make_sweep()
        direct.create_sweep(sweep)
        assert through.get_sweep(sweep.id) == sweep
    # the home folder's file, not one in a folder named "~" (where SqlStore looked before)
    assert (tmp_path / "home" / "h.db").exists() and not (tmp_path / "~").exists()


def test_each_store_reads_what_the_other_wrote(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with SqliteStore(f"sqlite:///{path}") as direct, SqlStore(f"sqlite:///{path}") as through:
        for writer, reader in ((direct, through), (through, direct)):
            sweep = make_sweep()
            writer.create_sweep(sweep)
            assert writer.claim_sweep(sweep.id, "me", stale_after=60)
            first, second = make_trial(sweep, 0), make_trial(sweep, 1)
            assert writer.create_trial(first, "me")
            writer.save_trials([first, second], {first.id: [make_point(0, 0.25),
                                                            make_point(1, float("nan"))]},
                               {second.id: {"k": "v"}})
            assert writer.add_metrics(second.id, [make_point(0, 0.5), make_point(0, 0.5)]) == 1
            writer.update_trial(second.id, status=Status.COMPLETED, exit_code=0)
            writer.set_tags(first.id, {"a": "1"})
            assert writer.heartbeat(sweep.id, "me")
            writer.release_sweep(sweep.id, "me")
            writer.update_sweep(sweep.id, status=Status.COMPLETED)
            for store in (writer, reader):
                assert store.get_sweep(sweep.id) == reader.get_sweep(sweep.id)
                assert store.sweep_status(sweep.id) is Status.COMPLETED
                assert [store.get_trial(t.id) for t in (first, second)] == reader.list_trials(
                    sweep.id)
                assert store.get_tags(second.id) == {"k": "v"}
            assert reader.get_trial(second.id).status is Status.COMPLETED
            assert reader.get_sweep(sweep.id).controller is None


def test_a_file_of_a_newer_schema_is_refused_as_sqlstore_refuses(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    SqliteStore(url).close()
    with sqlite3.connect(tmp_path / "h.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="written by a newer hypersweep"):
        SqliteStore(url)


def test_a_file_that_is_no_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "h.db").write_text("not a database" * 100)
    with pytest.raises(StoreError, match=r"cannot open store sqlite:///.*h\.db: file is not a "):
        SqliteStore(f"sqlite:///{tmp_path / 'h.db'}")


def test_many_threads_write_through_one_store(tmp_path: Path) -> None:
    import threading

    with SqliteStore(f"sqlite:///{tmp_path / 'h.db'}") as store:
        sweep = make_sweep()
        store.create_sweep(sweep)

        def add(start: int) -> None:
            for index in range(start, start + 40):
                store.create_trial(make_trial(sweep, index))
                store.add_metrics(f"{sweep.id}_{index}", [make_point(0, float(index))])

        threads = [threading.Thread(target=add, args=(k * 40,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.count_trials([sweep.id]) == {sweep.id: 160}
        assert len(store.best_values([sweep.id], "acc", maximize=True)) == 160

