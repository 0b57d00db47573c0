"""A new database's schema, created from the tables at once, equals the migrated one.

`hypersweep.store.migrate` creates a new database from ``schema.metadata`` and stamps it at the
head revision instead of running every Alembic migration. These tests hold that shortcut to
the migrations: on SQLite and on the real PostgreSQL, the created schema and the one the
migration scripts build have the same tables, columns (type, nullability, default), primary
and foreign keys (with their actions), unique constraints, indexes and stamp; a database left
at an older revision still migrates; and a database that has the store's tables but no stamp
is not created over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from hypersweep.store import Store, migrate, schema
from hypersweep.store.engine import normalise_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or a fresh PostgreSQL schema (skipped, with the
    reason, only when no server answers at 127.0.0.1:5432)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hypersweep.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _engine(url: str) -> Engine:
    return create_engine(normalise_url(url), poolclass=NullPool)


def _describe(conn: Connection) -> dict[str, Any]:
    """Everything the database says about the store's tables and the version table."""
    inspector = inspect(conn)
    names = sorted(n for n in inspector.get_table_names() if not n.startswith("sqlite_"))
    tables: dict[str, Any] = {}
    for name in names:
        tables[name] = {
            "columns": {c["name"]: (str(c["type"]), c["nullable"], c.get("default"),
                                    c.get("autoincrement") is True)
                        for c in inspector.get_columns(name)},
            "primary_key": inspector.get_pk_constraint(name),
            "foreign_keys": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"],
                 tuple(fk["referred_columns"]), tuple(sorted(fk["options"].items())))
                for fk in inspector.get_foreign_keys(name)),
            "unique": sorted((u["name"], tuple(u["column_names"]))
                             for u in inspector.get_unique_constraints(name)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(name)),
        }
    return {"tables": tables, "revision": migrate.current_revision(conn)}


def _migrated(url: str) -> dict[str, Any]:
    """The schema the Alembic scripts build on the empty database, step by step."""
    from alembic import command

    engine = _engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "head")
        with engine.connect() as conn:
            return _describe(conn)
    finally:
        engine.dispose()


def _drop_everything(url: str) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            schema.metadata.drop_all(conn)
            conn.execute(text(f"DROP TABLE {migrate.VERSION_TABLE}"))
        with engine.connect() as conn:
            assert _describe(conn) == {"tables": {}, "revision": None}
    finally:
        engine.dispose()


def _opened(url: str) -> dict[str, Any]:
    """The schema opening the store makes on the empty database."""
    Store(url).close()
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return _describe(conn)
    finally:
        engine.dispose()


def test_a_new_database_is_created_equal_to_the_migrated_schema(url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrated = _migrated(url)
    engine = _engine(url)
    try:
        with engine.connect() as conn:  # the migrations build what schema.py declares
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, schema.metadata) == []
    finally:
        engine.dispose()
    _drop_everything(url)
    created = _opened(url)
    assert sorted(created["tables"]) == sorted([*schema.metadata.tables,
                                                migrate.VERSION_TABLE])
    assert created == migrated
    assert created["revision"] == migrate.HEAD_REVISION


def test_opening_a_new_database_creates_it_without_alembic(url: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def no_migrations(*args: object) -> None:
        raise AssertionError("a new database was migrated step by step")

    monkeypatch.setattr(migrate, "_migrate", no_migrations)
    engine = _engine(url)
    try:
        assert migrate.ensure_schema(engine) is True
        assert migrate.ensure_schema(engine) is False  # up to date: nothing to do
    finally:
        engine.dispose()
    with Store(url) as store:  # and the store works on it
        assert store.list_sweeps() == []


def test_a_database_at_an_older_revision_still_migrates_to_the_head(url: str) -> None:
    from alembic import command

    engine = _engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "0002")
        assert migrate.ensure_schema(engine) is True
        with engine.connect() as conn:
            upgraded = _describe(conn)
    finally:
        engine.dispose()
    _drop_everything(url)
    assert upgraded == _opened(url)


def test_tables_without_a_stamp_are_never_created_over(url: str) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            schema.experiments.create(conn)
        # Not an empty database: the migrations run, and refuse to create what exists.
        with pytest.raises(DBAPIError, match="experiments"):
            migrate.ensure_schema(engine)
        with engine.connect() as conn:
            assert migrate.current_revision(conn) is None
    finally:
        engine.dispose()
