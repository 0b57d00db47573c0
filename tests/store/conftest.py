"""Fixtures for the store tests: every test runs on a SQLite file (through SqliteStore and
through SqlStore), on the real PostgreSQL and,
where one Store object is enough, on the in-memory store (``memory://``).

On PostgreSQL each test takes the suite's ``postgres_url`` (tests/conftest.py): a fresh schema
in a database created for the session; the PostgreSQL parameter is skipped, with the reason,
only when no server answers at 127.0.0.1:5432.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hypersweep.store import Store, open_store


@pytest.fixture(
    params=["sqlite", "sqlalchemy-sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
            "memory"],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a SQLite file in tmp_path, the in-memory store, or on
    PostgreSQL a fresh schema (its own ``search_path``): as isolated as a fresh database and
    much cheaper to create.
    """
    if request.param in ("sqlite", "sqlalchemy-sqlite"):
        # the plain URL opens SqliteStore; naming SQLAlchemy's driver, SqlStore on a file
        driver = "sqlite" if request.param == "sqlite" else "sqlite+pysqlite"
        yield f"{driver}:///{tmp_path / 'store' / 'hypersweep.db'}"
        return
    if request.param == "memory":
        if "store" not in request.fixturenames:
            pytest.skip("an in-memory store lives in one Store object: nothing to share")
        yield "memory://"
        return
    yield request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open store on an empty database of each backend."""
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file (for tests of SQLite-only behaviour)."""
    return f"sqlite:///{tmp_path / 'hypersweep.db'}"
