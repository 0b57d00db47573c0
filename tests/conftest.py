"""Fixtures shared by every test package: the PostgreSQL server the machine provides."""

from __future__ import annotations

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


def _pg_reachable() -> str | None:
    """None when the server answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return None
    except Exception as err:  # any failure to connect means: skip, with the reason
        return f"PostgreSQL not reachable at 127.0.0.1:5432 ({err.__class__.__name__})"


_PG_PROBLEM = _pg_reachable()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if _PG_PROBLEM is not None:
        pytest.skip(_PG_PROBLEM)
    import psycopg

    name = f"hs_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
