"""Schema migrations: bring a database to the schema of this version of hypersweep.

Migrations are Alembic scripts shipped inside the package (``migrations/versions``) and run
programmatically: no ``alembic.ini``, the connection is handed to ``migrations/env.py`` through
``Config.attributes``. Opening an up-to-date store is cheap: :func:`ensure_schema` reads the
version table first and imports Alembic only when there is something to do.

A new database is not migrated step by step: its tables are created at once from
:data:`hypersweep.store.schema.metadata` and stamped with :data:`HEAD_REVISION`, as Alembic
stamps, without importing Alembic (that import and the migrations cost about a second
on a new SQLite file, which every first ``tune`` with records paid).
``tests/store/test_store_schema_created.py`` proves the created schema equal to the migrated
one (tables, columns, types, keys, indexes) on SQLite and PostgreSQL. A database at an older
revision (or with our tables and no revision) is migrated by the Alembic scripts as before.

Concurrent first opens are safe: the creation or upgrade runs in one transaction under a lock
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL; both backends have
transactional DDL), and the version is read again once the lock is held.

When you add a migration, set :data:`HEAD_REVISION` (in :mod:`hypersweep.store._sqlite_sql`,
which opens SQLite files without SQLAlchemy) to its revision (a test checks this).

Examples
--------
>>> from sqlalchemy import create_engine
>>> engine = create_engine("sqlite://")
>>> ensure_schema(engine)            # a fresh database: creates the tables, stamps the head
True
>>> ensure_schema(engine)            # up to date: one query, no Alembic
False
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.engine import Connection, Engine

from hypersweep.errors import StoreError
from hypersweep.store._sqlite_sql import HEAD_REVISION, tables_found
from hypersweep.store.schema import metadata

if TYPE_CHECKING:  # pragma: no cover
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "VERSION_TABLE",
    "alembic_config",
    "create_schema",
    "current_revision",
    "ensure_schema",
    "upgrade",
]

#: Alembic's version table.
VERSION_TABLE = "alembic_version"

#: Folder of the Alembic environment shipped in the package.
MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

# arbitrary constant key of the PostgreSQL advisory lock held while migrating
_PG_LOCK_KEY = 0x6879_7065_7273  # "hypers"


def current_revision(conn: Connection) -> str | None:
    """Return the schema revision recorded in the database (``None`` for a fresh one).

    Raises
    ------
    StoreError
        When the version table holds more than one revision (branches we never create).
    """
    if not _has_any_table(conn, (VERSION_TABLE,)):
        return None
    revisions = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if not revisions:
        return None
    if len(revisions) > 1:
        raise StoreError(f"database has several schema revisions {sorted(revisions)}")
    return str(revisions[0])


def create_schema(conn: Connection) -> None:
    """Create every table of the store and stamp the database at :data:`HEAD_REVISION`, in
    the caller's transaction on the empty database of ``conn``.

    The version table is Alembic's own (same name, column and key), so later migrations
    carry on from the stamp as from an upgrade. The tables are created without asking the
    database whether each exists first (``checkfirst``): the caller has just found none of
    them, under the lock, and the five lookups were ~2M of its ~16M instructions.
    """
    metadata.create_all(conn, checkfirst=False)
    version = Table(VERSION_TABLE, MetaData(),
                    Column("version_num", String(32), nullable=False),
                    PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"))
    version.create(conn)
    conn.execute(version.insert().values(version_num=HEAD_REVISION))


def _has_any_table(conn: Connection, names: Sequence[str]) -> bool:
    """Whether a table of one of these ``names`` exists in the connection's database."""
    if conn.dialect.name == "sqlite":
        # One query on SQLite's catalogue. The inspector asks two PRAGMAs a name (the main and
        # the temp schema), each through SQLAlchemy's cursor set-up: on a new file, opening
        # checked 11 names so, a tenth of a first `tune`'s store set-up.
        found = conn.exec_driver_sql(tables_found(len(names)), tuple(names)).scalar_one()
        return bool(found)
    inspector = inspect(conn)
    return any(inspector.has_table(name) for name in names)


def _is_empty(conn: Connection) -> bool:
    """No table of the store exists (a new database, or a new PostgreSQL schema)."""
    return not _has_any_table(conn, tuple(metadata.tables))


def ensure_schema(engine: Engine) -> bool:
    """Bring the database of ``engine`` to :data:`HEAD_REVISION` if it is not there yet: a new
    database is created at the head, an older one migrated.

    Returns
    -------
    bool
        Whether the schema was created or migrated.
    """
    with engine.connect() as conn:
        revision = current_revision(conn)
        conn.rollback()
    if revision == HEAD_REVISION:
        return False
    return upgrade(engine)


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic ``Config`` for the shipped migrations, bound to ``connection``.

    Useful for Alembic commands run by hand, e.g. generating the SQL of a migration.

    Examples
    --------
    >>> cfg = alembic_config()
    >>> Path(cfg.get_main_option("script_location")).name
    'migrations'
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> bool:
    """Run every pending migration in one locked transaction (on a database with none of
    the store's tables: `create_schema` instead).

    Returns
    -------
    bool
        Whether the schema was created or migrated (``False`` when another process did it
        first).

    Raises
    ------
    StoreError
        When the database is at a revision this version of hypersweep does not know (it was
        written by a newer hypersweep), or the migration fails.
    """
    with engine.connect() as conn:
        # on SQLite the store's "begin" hook makes this BEGIN IMMEDIATE: one migrator at a time
        conn.execution_options(hs_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            revision = current_revision(conn)
            if revision == HEAD_REVISION:
                return False
            if revision is None and _is_empty(conn):
                create_schema(conn)
                return True
            _migrate(conn, revision)
    return True


def _migrate(conn: Connection, revision: str | None) -> None:
    """Run the Alembic migrations from ``revision`` to the head, in the caller's transaction."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = alembic_config(conn)
    if revision is not None:
        try:
            ScriptDirectory.from_config(config).get_revision(revision)
        except CommandError:
            raise StoreError(
                f"database schema is at revision {revision!r}, which this version of "
                "hypersweep does not know: it was written by a newer hypersweep"
            ) from None
    try:
        command.upgrade(config, "head")
    except CommandError as err:
        raise StoreError(f"schema migration failed: {err}") from err
