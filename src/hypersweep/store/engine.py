"""Opening a database: URL normalisation, engine settings and SQLite connection pragmas.

SQLite is tuned for several threads and processes on one file: WAL journal (readers never
block the writer), ``busy_timeout`` so a writer waits for the lock instead of failing,
``foreign_keys=ON`` and ``synchronous=NORMAL``. pysqlite's own transaction handling is turned
off and the store emits ``BEGIN`` itself: ``BEGIN IMMEDIATE`` for connections marked with the
``hs_write`` execution option, so a writing transaction takes the write lock up front (and waits
for it under the busy timeout) rather than failing when it upgrades from a read.

Examples
--------
>>> normalise_url("postgresql://me@db/sweeps")
'postgresql+psycopg://me@db/sweeps'
>>> normalise_url("sqlite:///.hypersweep/hypersweep.db")
'sqlite:///.hypersweep/hypersweep.db'
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from hypersweep.errors import StoreError
from hypersweep.store._sqlite_sql import BUSY_TIMEOUT, configure_connection

__all__ = [
    "BUSY_TIMEOUT", "create_store_engine", "is_memory_sqlite", "normalise_url", "read_only_url",
]

_PG_DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg"}


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as err:  # ValueError: a port that is not a number
        raise StoreError(
            f"invalid store URL {url!r}: expected sqlite:///path or postgresql://user@host/db"
        ) from err


def normalise_url(url: str) -> str:
    """Return ``url`` with PostgreSQL URLs pointed at the psycopg 3 driver.

    Raises
    ------
    StoreError
        For a URL that is not SQLite or PostgreSQL, or PostgreSQL without psycopg installed.
    """
    parsed = _parse(url)
    backend = parsed.drivername.split("+", 1)[0]
    if backend == "sqlite":
        return url
    if backend not in _PG_DRIVERS:
        raise StoreError(
            f"unsupported store URL scheme {parsed.drivername!r}: "
            "use sqlite:///path or postgresql://user@host/db"
        )
    if parsed.drivername in _PG_DRIVERS:
        parsed = parsed.set(drivername=_PG_DRIVERS[parsed.drivername])
    if parsed.drivername == "postgresql+psycopg" and importlib.util.find_spec("psycopg") is None:
        raise StoreError(
            "a PostgreSQL store needs the psycopg driver: pip install 'psycopg[binary]'"
        )
    return parsed.render_as_string(hide_password=False)


def is_memory_sqlite(url: URL) -> bool:
    """Whether ``url`` names an in-memory SQLite database."""
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or url.query.get("mode") == "memory"
    )


def read_only_url(url: str) -> str:
    """The URL that opens the SQLite file of ``url`` read-only; other URLs unchanged.

    A read-only connection never writes the database file, so it works on a read-only mount
    or an archived copy. SQLite still needs the ``-shm`` file of a WAL database, creating it
    beside the database if it is missing: where the folder cannot be written and no ``-wal``
    file exists (no writer has it open, and nothing waits to be checkpointed), the file is
    opened ``immutable`` instead, which needs no ``-shm``. With a ``-wal`` file present the
    plain read-only mode is kept, as ``immutable`` would ignore what the WAL holds.

    Examples
    --------
    >>> read_only_url("postgresql+psycopg://me@db/sweeps")
    'postgresql+psycopg://me@db/sweeps'
    >>> read_only_url("sqlite:////tmp/x.db")
    'sqlite:///file:/tmp/x.db?mode=ro&uri=true'
    """
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or is_memory_sqlite(parsed):
        return url
    path = Path(parsed.database or "").expanduser().absolute()
    wal = path.with_name(path.name + "-wal")
    immutable = not wal.exists() and not os.access(path.parent, os.W_OK)
    # SQLite reads the name as a URI and SQLAlchemy unquotes the URL first: quote twice
    name = quote(quote(str(path), safe="/"), safe="/")
    return f"sqlite:///file:{name}?mode=ro{'&immutable=1' if immutable else ''}&uri=true"


def _is_read_only(url: URL) -> bool:
    return url.query.get("mode") == "ro" and url.query.get("uri") == "true"


def create_store_engine(url: str) -> Engine:
    """Create the engine of a store at the normalised ``url``.

    A SQLite file's parent folder is created (unless the URL opens it read-only, see
    `read_only_url`). An in-memory SQLite database lives in one connection shared by the
    whole process (the store serialises access to it).
    """
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = 10
    return create_engine(
        parsed,
        pool_size=5,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def _sqlite_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT}
    memory = is_memory_sqlite(url)
    read_only = _is_read_only(url)
    if memory:
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
    else:
        if not read_only:
            # the file the folder is made for: "~" is the home folder (neither SQLAlchemy nor
            # SQLite expand it), as for SqliteStore (sqlite_file)
            path = Path(url.database or "").expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            url = url.set(database=str(path))
        engine = create_engine(url, connect_args=connect_args, pool_size=5, max_overflow=10)
    # switching to WAL is a write: a read-only connection takes the file as it is
    event.listen(engine, "connect", _sqlite_connect_hook(wal=not memory and not read_only))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect_hook(wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        configure_connection(dbapi_connection, wal)

    return on_connect


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("hs_write", False)
    statement = "BEGIN IMMEDIATE" if write else "BEGIN"
    # Straight to the driver: through exec_driver_sql (its events, cursor result and
    # bookkeeping) it was ~15% of a short store call's CPU. What the driver raises (a lock
    # held past the busy timeout) becomes SQLAlchemy's error, as exec_driver_sql made it,
    # which the store retries or reports.
    try:
        conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
    except sqlite3.Error as err:
        raise DBAPIError.instance(statement, None, err, sqlite3.Error) from err
