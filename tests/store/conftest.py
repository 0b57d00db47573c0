"""Fixtures for the store tests: every test runs on a SQLite file, on the real PostgreSQL and,
where one Store object is enough, on the in-memory store (``memory://``).

On PostgreSQL each test gets a fresh schema in a database created for the session; the
PostgreSQL parameter is skipped, with the reason, only
when no server answers at 127.0.0.1:5432.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from _store_helpers import (
    PG_ADMIN_URL,
    create_pg_database,
    drop_pg_database,
    pg_unavailable,
    run_pg,
    with_database,
    with_schema,
)

from hypersweep.store import Store, open_store


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a PostgreSQL database created for this test session (dropped at the end)."""
    reason = pg_unavailable()
    if reason is not None:
        pytest.skip(reason)
    name = create_pg_database()
    try:
        yield with_database(PG_ADMIN_URL, name)
    finally:
        drop_pg_database(name)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "memory"],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a SQLite file in tmp_path, or on PostgreSQL a fresh schema
    (its own ``search_path``) in the session's database: as isolated as a fresh database and
    much cheaper to create.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'hypersweep.db'}"
        return
    if request.param == "memory":
        if "store" not in request.fixturenames:
            pytest.skip("an in-memory store lives in one Store object: nothing to share")
        yield "memory://"
        return
    database = request.getfixturevalue("pg_database")
    schema = f"hs_{uuid.uuid4().hex}"
    run_pg(database, f'CREATE SCHEMA "{schema}"')
    try:
        yield with_schema(database, schema)
    finally:
        run_pg(database, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open store on an empty database of each backend."""
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file (for tests of SQLite-only behaviour)."""
    return f"sqlite:///{tmp_path / 'hypersweep.db'}"
