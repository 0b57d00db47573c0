"""What :class:`~hypersweep.store.sqlite.SqliteStore` hands the standard library's driver: the
file a URL names, every store's connection settings, and the text SQLAlchemy renders for SQLite,
kept here so that a sweep's own calls need no SQLAlchemy.

The tables and statements are declared once, with SQLAlchemy, in
:mod:`hypersweep.store.schema`, :mod:`~hypersweep.store._sql_writes` and
:mod:`~hypersweep.store._sql_reads`. Importing SQLAlchemy and its SQLite dialect costs a fresh
process ~0.1 s of CPU, most of a first ``tune`` with SQLite records; this module holds the text
those declarations compile to on SQLite, and ``tests/store/test_store_sqlite_sql.py`` compiles
them again and requires the same text, parameter for parameter, and the same schema created (a
change to a table or a statement fails there, showing the text to put here).

Examples
--------
>>> update_by_id("trials", ["end_time", "status"])
('UPDATE trials SET status=?, end_time=? WHERE trials.id = ?', ('status', 'end_time', 'ident'))
>>> time_text(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
'2026-01-02 03:04:05.000000'
>>> time_value('2026-01-02 03:04:05.000000')
datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from hypersweep.store import codec

__all__ = [
    "ADD_EXPERIMENT",
    "BUSY_TIMEOUT",
    "CLAIM",
    "CLAIM_REPLACING",
    "HEAD_REVISION",
    "HEARTBEAT",
    "INSERT_SWEEP",
    "INSERT_TRIAL",
    "REFRESH_BEST",
    "RELEASE",
    "REVISION",
    "ROW",
    "SAVE_METRICS",
    "SCHEMA",
    "STAMP",
    "SWEEP_HOLDER",
    "SWEEP_PRIMARY",
    "SWEEP_STATUS",
    "SWEEP_TRIALS",
    "TABLE_NAMES",
    "TIME_PARAMS",
    "UPSERT_TAGS",
    "configure_connection",
    "exists_by_id",
    "sqlite_file",
    "tables_found",
    "time_text",
    "time_value",
    "trial_page",
    "update_by_id",
    "upsert_trials",
]

#: Seconds a SQLite writer waits for the database lock before giving up.
BUSY_TIMEOUT = 30.0

_PREFIX = "sqlite:///"


def sqlite_file(url: str) -> str | None:
    """The absolute path of the file a plain ``sqlite:///path`` URL names (as SQLAlchemy's
    driver resolves it; a leading ``~`` is the home folder, as for SqlStore), or None for any
    other URL.

    Examples
    --------
    >>> sqlite_file("sqlite:////data/my%20runs.db")
    '/data/my runs.db'
    >>> sqlite_file("sqlite://"), sqlite_file("sqlite:///x.db?mode=ro")
    (None, None)
    """
    if not url.startswith(_PREFIX) or "?" in url:
        return None
    database = unquote(url[len(_PREFIX):])
    if database in ("", ":memory:"):
        return None
    return os.path.abspath(os.path.expanduser(database))


def configure_connection(connection: sqlite3.Connection, wal: bool) -> None:
    """Set a new connection up as every store's is: transactions begun by the store itself
    (``BEGIN IMMEDIATE`` for a write, so that it waits for the lock rather than failing to
    upgrade), a busy timeout, foreign keys, and the WAL journal (readers never block the
    writer) with ``synchronous=NORMAL``."""
    connection.isolation_level = None
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        if wal:  # switching to WAL is a write: a read-only connection takes the file as it is
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


#: Revision of the newest migration in ``migrations/versions`` (re-exported by
#: :mod:`hypersweep.store.migrate`; a test checks it against the scripts).
HEAD_REVISION = "0005"

#: The parameters (and result columns) holding times: naive UTC text on SQLite.
TIME_PARAMS = codec.TIME_COLUMNS | {"cutoff"}


def _table(name: str, *items: str) -> str:
    return f"CREATE TABLE {name} (\n\t" + ", \n\t".join(items) + "\n)"


def _key(table: str, *columns: str) -> str:
    return f"CONSTRAINT pk_{table} PRIMARY KEY ({', '.join(columns)})"


def _refers(table: str, column: str, target: str, key: str, cascade: bool = True) -> str:
    return (f"CONSTRAINT fk_{table}_{column}_{target} FOREIGN KEY({column}) REFERENCES "
            f"{target} ({key}){' ON DELETE CASCADE' if cascade else ''}")


_ID = "VARCHAR(255) NOT NULL"

#: The tables of the store and Alembic's version table, as ``migrate.create_schema`` makes
#: them: the text SQLite keeps in ``sqlite_master``.
SCHEMA = (
    _table("experiments", f"name {_ID}", "created_time DATETIME NOT NULL",
           _key("experiments", "name")),
    _table("sweeps", f"id {_ID}", f"experiment {_ID}", "status VARCHAR(32) NOT NULL",
           "config TEXT NOT NULL", "created_time DATETIME NOT NULL", "start_time DATETIME",
           "end_time DATETIME", "error TEXT", "controller VARCHAR(255)",
           "heartbeat_time DATETIME", "warnings TEXT NOT NULL", "properties TEXT NOT NULL",
           "primary_metric TEXT", _key("sweeps", "id"),
           _refers("sweeps", "experiment", "experiments", "name", cascade=False)),
    "CREATE INDEX ix_sweeps_experiment_created_time ON sweeps (experiment, created_time)",
    _table("trials", f"id {_ID}", f"sweep_id {_ID}", "trial_index INTEGER NOT NULL",
           "params TEXT NOT NULL", "status VARCHAR(32) NOT NULL",
           "created_time DATETIME NOT NULL", "start_time DATETIME", "end_time DATETIME",
           "exit_code INTEGER", "error TEXT", "termination_reason VARCHAR(255)",
           "termination_detail TEXT", "handle TEXT", "placement TEXT",
           "arguments TEXT NOT NULL", "resumed_from VARCHAR(255)", "best_low DOUBLE",
           "best_high DOUBLE", _key("trials", "id"),
           "CONSTRAINT uq_trials_sweep_id_trial_index UNIQUE (sweep_id, trial_index)",
           _refers("trials", "sweep_id", "sweeps", "id")),
    _table("metrics", f"trial_id {_ID}", "seq BIGINT NOT NULL", "pos INTEGER NOT NULL",
           "name TEXT NOT NULL", "step BIGINT NOT NULL", "value DOUBLE",
           "is_nan BOOLEAN NOT NULL", "text TEXT", "kind VARCHAR(16) NOT NULL",
           "time DATETIME NOT NULL", _key("metrics", "trial_id", "seq", "pos"),
           _refers("metrics", "trial_id", "trials", "id")),
    "CREATE INDEX ix_metrics_trial_id_name_value ON metrics (trial_id, name, value)",
    _table("trial_tags", f"trial_id {_ID}", f"name {_ID}", "value TEXT NOT NULL",
           _key("trial_tags", "trial_id", "name"),
           _refers("trial_tags", "trial_id", "trials", "id")),
    _table("alembic_version", "version_num VARCHAR(32) NOT NULL",
           "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)"),
)

#: The names of the tables in :data:`SCHEMA`, the store's and the version table.
TABLE_NAMES = ("experiments", "sweeps", "trials", "metrics", "trial_tags", "alembic_version")



def tables_found(count: int) -> str:
    """How many tables of the ``count`` names given as parameters the database has."""
    marks = ", ".join("?" * count)
    return f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({marks})"


#: Alembic's stamp of a database created at :data:`HEAD_REVISION`.
STAMP = "INSERT INTO alembic_version (version_num) VALUES (?)"
#: The revisions the version table holds (one, or none on a new database).
REVISION = "SELECT version_num FROM alembic_version"

# Each statement below is (SQL text, the names its positional parameters take values from).

ADD_EXPERIMENT = ("INSERT INTO experiments (name, created_time) VALUES (?, ?) "
                  "ON CONFLICT (name) DO NOTHING", ("name", "created_time"))

# the tables' columns in their order, as SQLAlchemy lists them
_SWEEP_COLUMNS = (*codec.SWEEP_COLUMNS, "primary_metric")
_TRIAL_COLUMNS = codec.TRIAL_COLUMNS


def _insert(table: str, columns: Sequence[str]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})")


def _select(table: str, columns: Sequence[str], where: str = "id = ?") -> str:
    listed = ", ".join(f"{table}.{column}" for column in columns)
    return f"SELECT {listed} \nFROM {table} \nWHERE {table}.{where}"


INSERT_SWEEP = (_insert("sweeps", _SWEEP_COLUMNS), _SWEEP_COLUMNS)
INSERT_TRIAL = (_insert("trials", _TRIAL_COLUMNS), _TRIAL_COLUMNS)

_COLUMNS = {"sweeps": _SWEEP_COLUMNS, "trials": (*_TRIAL_COLUMNS, "best_low", "best_high")}

#: The whole row of a sweep or a trial by its id ("ident").
ROW = {table: (_select(table, columns), ("ident",)) for table, columns in _COLUMNS.items()}
SWEEP_STATUS = (_select("sweeps", ("status",)), ("ident",))
SWEEP_TRIALS = (_select("trials", _COLUMNS["trials"], "sweep_id = ? ORDER BY trials.trial_index"),
                ("sid",))
SWEEP_HOLDER = (_select("sweeps", ("controller",)), ("ident",))
#: the metric a sweep ranks by, whose best value its trials keep beside them
SWEEP_PRIMARY = (_select("sweeps", ("primary_metric",)), ("ident",))


def trial_page(maximize: bool, order: str, statuses: int | None, after: bool) -> str:
    """A page of a sweep's trials ranked by the best value they keep (``_sql_reads.page``
    where the metric is the sweep's primary one). Parameters: the sweep's id, ``statuses``
    statuses (none: any), the trial number it follows (``after``), the limit (-1: none) and
    the offset."""
    best = "best_high" if maximize else "best_low"
    where = "sweep_id = ?"
    if statuses is not None:
        where += f" AND trials.status IN ({', '.join('?' * statuses)})"
    if after:
        where += " AND trials.trial_index > ?"
    ranked = f"best {'DESC' if maximize else 'ASC'} NULLS LAST, "
    ordering = f"{'' if order == 'index' else ranked}trials.trial_index"
    return _select("trials", (*_COLUMNS["trials"], f"{best} AS best"),
                   f"{where} ORDER BY {ordering}\n LIMIT ? OFFSET ?")

_FREE = ("sweeps.controller IS NULL OR sweeps.controller = ? OR sweeps.heartbeat_time IS NULL "
         "OR sweeps.heartbeat_time < ?")
_CLAIM = "UPDATE sweeps SET controller=?, heartbeat_time=? WHERE sweeps.id = ? AND ("
_CLAIM_NAMES = ("controller", "heartbeat_time", "ident", "owner", "cutoff")
CLAIM = (f"{_CLAIM}{_FREE})", _CLAIM_NAMES)
CLAIM_REPLACING = (f"{_CLAIM}{_FREE} OR sweeps.controller = ?)", (*_CLAIM_NAMES, "replacing"))
HEARTBEAT = ("UPDATE sweeps SET heartbeat_time=? WHERE sweeps.id = ? AND sweeps.controller = ?",
             ("heartbeat_time", "ident", "owner"))
RELEASE = ("UPDATE sweeps SET controller=? WHERE sweeps.id = ? AND sweeps.controller = ?",
           ("controller", "ident", "owner"))

_METRIC_COLUMNS = ("trial_id", "seq", "pos", "name", "step", "value", "is_nan", "text", "kind",
                   "time")
SAVE_METRICS = (f"{_insert('metrics', _METRIC_COLUMNS)} ON CONFLICT (trial_id, seq, pos) "
                "DO NOTHING", _METRIC_COLUMNS)


def _best(aggregate: str) -> str:
    return (f"(SELECT {aggregate}(metrics.value) AS {aggregate}_1 \nFROM metrics \n"
            "WHERE metrics.trial_id = trials.id AND metrics.name = (SELECT sweeps.primary_metric"
            " \nFROM sweeps \nWHERE sweeps.id = trials.sweep_id) AND metrics.value IS NOT NULL)")


#: A trial's best values read again from its points (``_sql_writes._REFRESH_BEST``).
REFRESH_BEST = (f"UPDATE trials SET best_low={_best('min')}, best_high={_best('max')} "
                "WHERE trials.id = ?", ("tid",))
UPSERT_TAGS = (f"{_insert('trial_tags', ('trial_id', 'name', 'value'))} "
               "ON CONFLICT (trial_id, name) DO UPDATE SET value = excluded.value",
               ("trial_id", "name", "value"))


def upsert_trials(columns: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The upsert of trials rows with ``columns`` (every one but ``id`` overwritten)."""
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column != "id")
    return f"{_insert('trials', columns)} ON CONFLICT (id) DO UPDATE SET {updates}", (*columns,)


def update_by_id(table: str, columns: Collection[str]) -> tuple[str, tuple[str, ...]]:
    """The update of ``columns`` (set in the table's order, as SQLAlchemy sets them) of the
    row of ``table`` whose id is given as "ident"."""
    ordered = [column for column in _COLUMNS[table] if column in columns]
    if len(ordered) != len(columns):
        raise ValueError(f"{table} has no columns {sorted(set(columns) - set(ordered))}")
    sets = ", ".join(f"{column}=?" for column in ordered)
    return f"UPDATE {table} SET {sets} WHERE {table}.id = ?", (*ordered, "ident")


def exists_by_id(table: str) -> str:
    """The id of the row of ``table`` with this id, if there is one."""
    return _select(table, ("id",))


def time_text(value: datetime) -> str:
    """An aware time as SQLite's DATETIME stores it: naive UTC text, microseconds always."""
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def time_value(text: Any) -> datetime | None:
    """A time read back from :func:`time_text`'s form: aware, in UTC."""
    if text is None:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
