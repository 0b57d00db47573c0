"""Schema migrations: bring a database to the schema of this version of hypersweep.

Migrations are Alembic scripts shipped inside the package (``migrations/versions``) and run
programmatically: no ``alembic.ini``, the connection is handed to ``migrations/env.py`` through
``Config.attributes``. Opening an up-to-date store is cheap: :func:`ensure_schema` reads the
version table first and imports Alembic only when there is something to do.

Concurrent first opens are safe: the upgrade runs in one transaction under a lock
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL; both backends have
transactional DDL), and the version is read again once the lock is held.

When you add a migration, set :data:`HEAD_REVISION` to its revision (a test checks this).

Examples
--------
>>> from sqlalchemy import create_engine
>>> engine = create_engine("sqlite://")
>>> ensure_schema(engine)            # a fresh database: migrates
True
>>> ensure_schema(engine)            # up to date: one query, no Alembic
False
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from hypersweep.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "VERSION_TABLE",
    "alembic_config",
    "current_revision",
    "ensure_schema",
    "upgrade",
]

#: Revision of the newest migration in ``migrations/versions``.
HEAD_REVISION = "0004"

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
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    revisions = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if not revisions:
        return None
    if len(revisions) > 1:
        raise StoreError(f"database has several schema revisions {sorted(revisions)}")
    return str(revisions[0])


def ensure_schema(engine: Engine) -> bool:
    """Migrate the database of ``engine`` to :data:`HEAD_REVISION` if it is not there yet.

    Returns
    -------
    bool
        Whether a migration ran.
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
    """Run every pending migration in one locked transaction.

    Returns
    -------
    bool
        Whether a migration ran (``False`` when another process did it first).

    Raises
    ------
    StoreError
        When the database is at a revision this version of hypersweep does not know (it was
        written by a newer hypersweep), or the migration fails.
    """
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    with engine.connect() as conn:
        # on SQLite the store's "begin" hook makes this BEGIN IMMEDIATE: one migrator at a time
        conn.execution_options(hs_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            revision = current_revision(conn)
            if revision == HEAD_REVISION:
                return False
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
    return True
