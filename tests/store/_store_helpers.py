"""Helpers shared by the store tests (imported by ``conftest.py`` and the test modules).

PostgreSQL: ``postgresql://postgres@127.0.0.1:5432/test`` (override with
``HYPERSWEEP_TEST_PG_URL``); each test gets a fresh database ``hs_<uuid>``, dropped afterwards.
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

from hypersweep.store import (  # noqa: E402
    MetricPoint,
    Status,
    SweepRecord,
    TrialRecord,
    new_sweep_id,
)

PG_ADMIN_URL = os.environ.get("HYPERSWEEP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, str | None] = {}


def pg_unavailable() -> str | None:
    """Return why PostgreSQL cannot be used (``None`` when it can); checked once."""
    if "reason" not in _pg_state:
        try:
            import psycopg

            psycopg.connect(PG_ADMIN_URL, connect_timeout=2).close()
            _pg_state["reason"] = None
        except ImportError:
            _pg_state["reason"] = "psycopg not installed"
        except Exception as err:  # any connection failure
            _pg_state["reason"] = f"PostgreSQL not reachable at 127.0.0.1:5432 ({err})"
    return _pg_state["reason"]


def with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def with_schema(url: str, schema: str) -> str:
    """``url`` with ``search_path`` set to ``schema`` (a libpq ``options`` parameter)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def run_pg(url: str, *statements: str) -> None:
    """Run ``statements`` on ``url`` in autocommit mode."""
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type,unused-ignore]


def create_pg_database() -> str:
    import psycopg

    name = f"hs_{uuid.uuid4().hex}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def utc(*args: int) -> datetime:
    """``datetime(*args)`` in UTC."""
    return datetime(*args).replace(tzinfo=timezone.utc)  # type: ignore[arg-type]


def make_sweep(
    experiment: str = "exp", created: datetime | None = None, **kw: object
) -> SweepRecord:
    """A queued sweep with a fresh id."""
    return SweepRecord(
        id=new_sweep_id(),
        experiment=experiment,
        status=Status.QUEUED,
        config={"max_total_runs": 4},
        created_time=created or datetime.now(timezone.utc),
        **kw,  # type: ignore[arg-type,unused-ignore]
    )


def make_trial(sweep: SweepRecord, index: int, **kw: object) -> TrialRecord:
    """A queued trial of ``sweep``."""
    fields: dict[str, object] = {
        "id": f"{sweep.id}_{index}",
        "sweep_id": sweep.id,
        "index": index,
        "params": {"lr": 0.1 * (index + 1)},
        "status": Status.QUEUED,
        "created_time": datetime.now(timezone.utc),
    }
    fields.update(kw)
    return TrialRecord(**fields)  # type: ignore[arg-type,unused-ignore]


def make_point(
    seq: int, value: float | None, name: str = "acc", pos: int = 0, **kw: object
) -> MetricPoint:
    """A scalar point of ``name`` at step ``seq`` (``kw`` overrides any field)."""
    fields: dict[str, object] = {
        "seq": seq,
        "pos": pos,
        "name": name,
        "step": seq,
        "value": value,
        "text": None,
        "kind": "scalar",
        "time": utc(2024, 3, 1) + timedelta(milliseconds=seq % 10**9),
    }
    fields.update(kw)
    return MetricPoint(**fields)  # type: ignore[arg-type,unused-ignore]
