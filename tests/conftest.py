"""Fixtures shared by every test package: the PostgreSQL server the machine provides.

Every PostgreSQL test takes ``postgres_url``: the server at 127.0.0.1:5432 (user ``postgres``,
database ``test``, trust authentication), a database created for the test session and, in it,
a fresh schema per test, so that no test sees another's rows. The test is skipped, with the
reason, only when no server answers.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Property tests explore the same examples on every run, so CI is deterministic; set
# HYPOTHESIS_PROFILE=explore to search afresh (that is how the int64 overflow of a huge
# integer q was found).
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@functools.cache
def postgres_problem() -> str | None:
    """None when the PostgreSQL server answers, else why not (asked once, when first needed)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return None
    except Exception as err:  # any failure to connect means: skip, with the reason
        return f"no PostgreSQL server answers at 127.0.0.1:5432 as user postgres ({err})"


def _execute(statement: str, params: tuple[object, ...] = (), url: str = PG_ADMIN_URL) -> None:
    """Run one statement on ``url`` outside a transaction (CREATE/DROP DATABASE need that)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement, params)  # type: ignore[arg-type,unused-ignore]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """Name of a database created for this test session, dropped at its end."""
    problem = postgres_problem()
    if problem is not None:
        pytest.skip(problem)
    name = f"hs_{uuid.uuid4().hex[:12]}"
    _execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        # A trial or controller a failed test left behind must not keep the database alive.
        _execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        _execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """URL of an empty schema of its own for one test, dropped afterwards.

    The schema is the connection's ``search_path`` (a libpq ``options`` parameter), so every
    process the test starts (controllers, Dask workers, trials) works inside it; the
    ``application_name`` names the test's connections so that those still open at the end
    (a process the test left behind) can be ended before the schema is dropped.
    """
    from urllib.parse import quote

    schema = f"hs_{uuid.uuid4().hex[:12]}"
    database_url = f"postgresql://postgres@127.0.0.1:5432/{postgres_database}"
    _execute(f'CREATE SCHEMA "{schema}"', url=database_url)
    try:
        yield f"{database_url}?application_name={schema}&options={quote(f'-csearch_path={schema}')}"
    finally:
        _execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (schema,),
        )
        _execute(f'DROP SCHEMA "{schema}" CASCADE', url=database_url)

