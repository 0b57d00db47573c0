"""Several threads, Store objects and processes on one database at once."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from _store_helpers import make_sweep, make_trial, utc

from hypersweep.store import MetricPoint, Status, Store

# fork: fast to start, and the way a controller would start helpers; the store must cope with
# being inherited across fork (it drops the parent's pooled connections)
FORK = multiprocessing.get_context("fork")


def points(seqs: range, name: str = "acc") -> list[MetricPoint]:
    return [MetricPoint(s, 0, name, s, float(s), None, "scalar", utc(2024, 1, 1)) for s in seqs]


# ---------------------------------------------------------------- claim / heartbeat / release


def test_claim_heartbeat_release_between_two_stores(store_url: str) -> None:
    with Store(store_url) as one, Store(store_url) as two:
        sweep = make_sweep()
        one.create_sweep(sweep)
        assert one.claim_sweep(sweep.id, "a", stale_after=60)
        first_beat = two.get_sweep(sweep.id).heartbeat_time
        assert two.get_sweep(sweep.id).controller == "a" and first_beat is not None
        assert not two.claim_sweep(sweep.id, "b", stale_after=60)  # a is alive
        assert not two.heartbeat(sweep.id, "b")
        time.sleep(0.01)
        assert one.heartbeat(sweep.id, "a")
        second_beat = two.get_sweep(sweep.id).heartbeat_time
        assert second_beat is not None and second_beat > first_beat
        assert one.claim_sweep(sweep.id, "a", stale_after=60)  # re-claim by the owner

        time.sleep(0.05)
        assert two.claim_sweep(sweep.id, "b", stale_after=0.01)  # a went stale: b takes over
        assert not one.heartbeat(sweep.id, "a")  # a learns it lost the sweep
        one.release_sweep(sweep.id, "a")  # not the owner: no-op
        assert one.get_sweep(sweep.id).controller == "b"
        two.release_sweep(sweep.id, "b")
        released = one.get_sweep(sweep.id)
        assert released.controller is None and released.heartbeat_time is not None
        assert one.claim_sweep(sweep.id, "a", stale_after=60)
        with pytest.raises(KeyError, match="HD_nope"):
            one.claim_sweep("HD_nope", "a", stale_after=60)
        assert not one.heartbeat("HD_nope", "a")


def test_claim_race_between_threads_exactly_one_wins(store_url: str) -> None:
    stores = [Store(store_url), Store(store_url)]
    try:
        sweeps = [make_sweep() for _ in range(10)]
        for sweep in sweeps:
            stores[0].create_sweep(sweep)
        n = 8
        barrier = threading.Barrier(n)

        def contender(i: int) -> list[str]:
            store = stores[i % 2]
            barrier.wait()
            return [s.id for s in sweeps if store.claim_sweep(s.id, f"owner-{i}", 60)]

        with ThreadPoolExecutor(n) as pool:
            wins = list(pool.map(contender, range(n)))
        won = sorted(sid for w in wins for sid in w)
        assert won == sorted(s.id for s in sweeps)  # each sweep claimed exactly once
        for i, w in enumerate(wins):
            for sid in w:
                assert stores[1].get_sweep(sid).controller == f"owner-{i}"
    finally:
        for store in stores:
            store.close()


def _claim_worker(url: str, owner: str, sweep_ids: list[str], barrier: Any, out: Any) -> None:
    store = Store(url)
    barrier.wait()
    won = [sid for sid in sweep_ids if store.claim_sweep(sid, owner, stale_after=60)]
    store.close()
    out.put((owner, won))


def test_claim_race_between_processes_exactly_one_wins(store_url: str) -> None:
    with Store(store_url) as store:
        sweeps = [make_sweep() for _ in range(25)]
        for sweep in sweeps:
            store.create_sweep(sweep)
        ids = [s.id for s in sweeps]
        n = 4
        barrier, out = FORK.Barrier(n), FORK.Queue()
        procs = [
            FORK.Process(target=_claim_worker, args=(store_url, f"p{i}", ids, barrier, out))
            for i in range(n)
        ]
        for proc in procs:
            proc.start()
        results = dict(out.get(timeout=60) for _ in procs)
        for proc in procs:
            proc.join(30)
            assert proc.exitcode == 0
        won = sorted(sid for w in results.values() for sid in w)
        assert won == sorted(ids)
        for owner, w in results.items():
            assert all(store.get_sweep(sid).controller == owner for sid in w)


# ---------------------------------------------------------------- concurrent writers


def test_concurrent_writer_threads(store_url: str) -> None:
    with Store(store_url) as store:
        sweep = make_sweep()
        store.create_sweep(sweep)
        n_threads, per_thread = 8, 5

        def writer(t: int) -> None:
            for k in range(per_thread):
                trial = make_trial(sweep, t * per_thread + k)
                store.create_trial(trial)
                store.update_trial(trial.id, status=Status.RUNNING, start_time=utc(2024, 1, 1))
                for chunk in range(4):
                    store.add_metrics(trial.id, points(range(chunk * 10, chunk * 10 + 10)))
                    store.metric_series(sweep.id, "acc")  # readers interleaved with writers
                store.set_tags(trial.id, {"t": str(t)})
                store.add_sweep_warning(sweep.id, f"warning {t % 3}")
                store.update_trial(trial.id, status=Status.COMPLETED, exit_code=0)

        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(writer, range(n_threads)))
        trials = store.list_trials(sweep.id)
        assert len(trials) == n_threads * per_thread
        assert all(t.status is Status.COMPLETED for t in trials)
        series = store.metric_series(sweep.id, "acc")
        assert all(values == [float(v) for v in range(40)] for values in series.values())
        assert sorted(store.get_sweep(sweep.id).warnings) == [f"warning {i}" for i in range(3)]


def _writer_process(
    url: str, sweep_id: str, worker: int, per_worker: int, inherited: Store | None
) -> None:
    store = inherited or Store(url)  # half the workers use the Store inherited through fork
    sweep = store.get_sweep(sweep_id)
    for k in range(per_worker):
        trial = make_trial(sweep, worker * per_worker + k)
        store.create_trial(trial)
        for chunk in range(5):
            store.add_metrics(trial.id, points(range(chunk * 20, chunk * 20 + 20)))
            store.heartbeat(sweep_id, f"w{worker}")
        store.update_trial(trial.id, status=Status.COMPLETED, exit_code=0)
        store.add_sweep_warning(sweep_id, f"from {worker}")
    if inherited is None:
        store.close()


def test_concurrent_writer_processes(store_url: str) -> None:
    with Store(store_url) as store:
        sweep = make_sweep()
        store.create_sweep(sweep)
        n, per_worker = 4, 6
        procs = [
            FORK.Process(
                target=_writer_process,
                args=(store_url, sweep.id, w, per_worker, store if w % 2 else None),
            )
            for w in range(n)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        assert [p.exitcode for p in procs] == [0] * n
        trials = store.list_trials(sweep.id)
        assert [t.index for t in trials] == list(range(n * per_worker))
        assert all(t.status is Status.COMPLETED for t in trials)
        assert all(len(v) == 100 for v in store.metric_series(sweep.id, "acc").values())
        assert sorted(store.get_sweep(sweep.id).warnings) == [f"from {w}" for w in range(n)]


# ---------------------------------------------------------------- locks


def test_reads_do_not_wait_for_an_open_write_transaction(store_url: str) -> None:
    with Store(store_url) as store:
        sweep = make_sweep()
        store.create_sweep(sweep)
        trial = make_trial(sweep, 0)
        store.create_trial(trial)
        store.add_metrics(trial.id, points(range(3)))
        events: list[str] = []
        with _open_write_transaction(store_url) as execute:
            execute("UPDATE sweeps SET status = 'Failed' WHERE id = ?", sweep.id)
            execute("DELETE FROM metrics WHERE trial_id = ?", trial.id)
            # This thread holds the write transaction until the block ends: a read that waited
            # for it would never return here (it fails on the lock timeout instead).
            got = store.get_sweep(sweep.id)
            series = store.metric_series(sweep.id, "acc")
            events.append("read")
        events.append("write transaction ended")
        assert got.status is Status.QUEUED  # sees the last commit
        assert series == {trial.id: [0.0, 1.0, 2.0]}
        assert events == ["read", "write transaction ended"]


@contextmanager
def _open_write_transaction(url: str) -> Iterator[Callable[..., None]]:
    """Another client (not the store) with a write transaction open; rolled back at exit."""
    if url.startswith("sqlite"):
        other = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:

            def execute(sql: str, *args: Any) -> None:
                other.execute(sql, args)

            yield execute
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as conn:  # psycopg opens a transaction on the first statement
        try:

            def execute_pg(sql: str, *args: Any) -> None:
                conn.execute(sql.replace("?", "%s"), args)

            yield execute_pg
        finally:
            conn.rollback()


def test_sqlite_writer_waits_for_the_lock_instead_of_failing(sqlite_url: str) -> None:
    with Store(sqlite_url) as store:
        sweep = make_sweep()
        store.create_sweep(sweep)
        path = sqlite_url.split(":///", 1)[1]
        locked = threading.Event()
        events: list[str] = []

        def hold_lock() -> None:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            time.sleep(0.5)  # long enough for the update below to meet the lock
            events.append("other writer committed")
            other.execute("COMMIT")
            other.close()

        holder = threading.Thread(target=hold_lock)
        holder.start()
        assert locked.wait(5)
        store.update_sweep(sweep.id, status=Status.RUNNING)  # waits instead of raising "locked"
        events.append("update returned")
        holder.join()
        assert events == ["other writer committed", "update returned"]
        assert store.get_sweep(sweep.id).status is Status.RUNNING


def test_a_begin_the_database_refuses_is_the_stores_retryable_error(tmp_path: Any) -> None:
    """A SQLite transaction's BEGIN goes straight to the driver; a lock it cannot take is
    still SQLAlchemy's OperationalError, the error the store retries while the lock lasts."""
    from sqlalchemy.exc import OperationalError

    from hypersweep.store.engine import create_store_engine

    path = tmp_path / "locked.db"
    engine = create_store_engine(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        with engine.connect() as conn:  # (connected first: its set-up writes)
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA busy_timeout = 0")
            holder.execute("BEGIN EXCLUSIVE")
            writing = conn.execution_options(hs_write=True)
            with pytest.raises(OperationalError, match="locked"), writing.begin():
                pass
            holder.execute("ROLLBACK")
            with writing.begin():
                assert writing.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        holder.close()
        engine.dispose()
