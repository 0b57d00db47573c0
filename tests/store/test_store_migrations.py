"""Opening, migrating and URL handling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _store_helpers import SRC, make_sweep
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from hypersweep.errors import StoreError
from hypersweep.store import SqlStore, Store, migrate, schema
from hypersweep.store.engine import normalise_url


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert scripts.get_heads() == [migrate.HEAD_REVISION]


def test_fresh_schema_matches_schema_module(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    Store(store_url).close()
    engine = create_engine(normalise_url(store_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, schema.metadata) == []
            assert migrate.current_revision(conn) == migrate.HEAD_REVISION
    finally:
        engine.dispose()


def test_reopening_does_not_migrate_again(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(store_url) as store:
        sweep = make_sweep()
        store.create_sweep(sweep)

    def fail(*args: object) -> bool:
        raise AssertionError("migrated an up-to-date database")

    monkeypatch.setattr(migrate, "upgrade", fail)
    with Store(store_url) as store:
        assert store.get_sweep(sweep.id) == sweep


def test_opening_an_up_to_date_store_does_not_import_alembic(sqlite_url: str) -> None:
    Store(sqlite_url).close()
    code = (
        "import sys; from hypersweep.store import Store; "
        f"Store({sqlite_url!r}).close(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


def test_database_from_a_newer_hypersweep_is_refused(store_url: str) -> None:
    Store(store_url).close()
    engine = create_engine(normalise_url(store_url), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer hypersweep"):
        Store(store_url)


def test_sqlite_pragmas_and_parent_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "h.db"
    with SqlStore(f"sqlite:///{path}") as store:
        assert path.exists()
        conn = store._engine.raw_connection()
        try:
            pragma = {
                name: conn.cursor().execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        finally:
            conn.close()
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 30000,
        "synchronous": 1,
    }


def test_in_memory_sqlite_works() -> None:
    with Store("sqlite://") as store:
        sweep = make_sweep()
        store.create_sweep(sweep)
        assert store.list_sweeps() == [sweep]


def test_url_normalisation(monkeypatch: pytest.MonkeyPatch) -> None:
    assert normalise_url("postgresql://u:p@h:5432/d") == "postgresql+psycopg://u:p@h:5432/d"
    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(StoreError, match="unsupported"):
        normalise_url("mysql://u@h/d")
    with pytest.raises(StoreError, match="invalid store URL"):
        normalise_url("not a url")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else real(name, *a)
    )
    with pytest.raises(StoreError, match=r"pip install 'psycopg\[binary\]'"):
        Store("postgresql://u@127.0.0.1/d")


def test_repr_hides_password() -> None:
    store = Store("sqlite://")
    assert "sqlite://" in repr(store)
    store.close()


def test_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open store"):
        Store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2")


def test_migrations_ship_in_the_package() -> None:
    folder = Path(migrate.MIGRATIONS_DIR)
    assert (folder / "env.py").is_file() and (folder / "script.py.mako").is_file()
    assert (folder / "versions" / "0001_initial.py").is_file()


def test_a_database_at_the_first_revision_is_upgraded_keeping_its_rows(store_url: str) -> None:
    from alembic import command

    if store_url.startswith("sqlite"):
        Path(store_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(normalise_url(store_url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "0001")
            conn.execute(text(
                "INSERT INTO experiments (name, created_time) VALUES ('old', '2024-01-01')"
            ))
            conn.execute(text(
                "INSERT INTO sweeps (id, experiment, status, config, created_time, warnings,"
                " properties) VALUES ('HD_old', 'old', 'Completed', '{}', '2024-01-01',"
                " '[]', '{}')"
            ))
            conn.execute(text(
                "INSERT INTO trials (id, sweep_id, trial_index, params, status, created_time,"
                " arguments) VALUES ('HD_old_0', 'HD_old', 0, '{\"x\": 1}', 'Completed',"
                " '2024-01-01', '[]')"
            ))
    finally:
        engine.dispose()
    with Store(store_url) as store:
        trial = store.get_trial("HD_old_0")
        assert trial.params == {"x": 1} and trial.termination_detail is None
        store.update_trial("HD_old_0", termination_detail={"policy": "bandit", "interval": 3})
        assert store.get_trial("HD_old_0").termination_detail == {"policy": "bandit",
                                                                  "interval": 3}
