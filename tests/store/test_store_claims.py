"""Claims that take over a dead controller, and trial inserts guarded by the claim (with the
records saved in the same transaction).

A controller killed a moment ago leaves a fresh heartbeat: a claim may replace it by name (a
compare-and-set on that name), and a controller that lost its sweep writes no more trials.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from _store_helpers import make_point, make_sweep, make_trial

from hypersweep.errors import StoreError
from hypersweep.store import Status, Store, TrialRecord, utcnow

FORK = multiprocessing.get_context("fork")


def test_claim_replacing_a_dead_owner_is_a_compare_and_set(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    assert store.claim_sweep(sweep.id, "dead", stale_after=60)
    assert not store.claim_sweep(sweep.id, "b", stale_after=60)  # fresh heartbeat
    assert not store.claim_sweep(sweep.id, "b", stale_after=60, replacing="other")
    assert store.claim_sweep(sweep.id, "b", stale_after=60, replacing="dead")
    # c also saw "dead" holding it, but b got there first: c must not take it from b
    assert not store.claim_sweep(sweep.id, "c", stale_after=60, replacing="dead")
    assert store.get_sweep(sweep.id).controller == "b"
    assert not store.heartbeat(sweep.id, "dead")
    assert store.claim_sweep(sweep.id, "b", stale_after=60, replacing="dead")  # b again: fine
    with pytest.raises(KeyError, match="HD_nope"):
        store.claim_sweep("HD_nope", "b", stale_after=60, replacing="dead")


def test_create_trial_only_while_the_owner_holds_the_sweep(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    assert store.claim_sweep(sweep.id, "a", stale_after=60)
    assert store.create_trial(make_trial(sweep, 0), owner="a")
    assert store.claim_sweep(sweep.id, "b", stale_after=60, replacing="a")
    assert not store.create_trial(make_trial(sweep, 1), owner="a")  # a lost it: nothing written
    assert [t.index for t in store.list_trials(sweep.id)] == [0]
    assert store.create_trial(make_trial(sweep, 1), owner="b")
    # a still believes it owns the sweep and writes the index b wrote: told, not crashed
    assert not store.create_trial(make_trial(sweep, 1, params={"lr": 9}), owner="a")
    assert store.get_trial(f"{sweep.id}_1").params == {"lr": 0.2}
    with pytest.raises(StoreError, match="index 1"):  # the owner itself: a real conflict
        store.create_trial(make_trial(sweep, 1), owner="b")
    assert store.create_trial(make_trial(sweep, 2))  # without an owner: unguarded, as before
    missing = make_sweep()
    with pytest.raises(KeyError, match=missing.id):
        store.create_trial(make_trial(missing, 0), owner="b")


def _claim_dead_worker(url: str, owner: str, sweep_ids: list[str], barrier: Any,
                       out: Any) -> None:
    store = Store(url)
    barrier.wait()
    won = [sid for sid in sweep_ids
           if store.claim_sweep(sid, owner, stale_after=60, replacing="dead")]
    store.close()
    out.put((owner, won))


def test_takeover_race_between_processes_exactly_one_wins(store_url: str) -> None:
    """Every process sees the dead owner and claims replacing it: one wins each sweep."""
    with Store(store_url) as store:
        sweeps = [make_sweep() for _ in range(25)]
        for sweep in sweeps:
            store.create_sweep(sweep)
            assert store.claim_sweep(sweep.id, "dead", stale_after=60)
        ids = [s.id for s in sweeps]
        n = 4
        barrier, out = FORK.Barrier(n), FORK.Queue()
        procs = [FORK.Process(target=_claim_dead_worker,
                              args=(store_url, f"p{i}", ids, barrier, out)) for i in range(n)]
        for proc in procs:
            proc.start()
        results = dict(out.get(timeout=60) for _ in procs)
        for proc in procs:
            proc.join(30)
            assert proc.exitcode == 0
        assert sorted(sid for won in results.values() for sid in won) == sorted(ids)
        for owner, won in results.items():
            assert all(store.get_sweep(sid).controller == owner for sid in won)


def _writer(url: str, sweep_ids: list[str], barrier: Any, out: Any) -> None:
    """The old controller: writes trial after trial while it holds each sweep."""
    store = Store(url)
    for sweep_id in sweep_ids:
        record = store.get_sweep(sweep_id)
        barrier.wait()
        index = 0
        while store.create_trial(make_trial(record, index), owner="old"):
            index += 1
        out.put((sweep_id, index))
    store.close()


def _thief(url: str, sweep_ids: list[str], barrier: Any, out: Any) -> None:
    """The new controller: takes the sweep mid-write, then writes the next trial."""
    rng = random.Random(7)
    store = Store(url)
    for sweep_id in sweep_ids:
        record = store.get_sweep(sweep_id)
        barrier.wait()
        time.sleep(rng.uniform(0.0, 0.03))
        assert store.claim_sweep(sweep_id, "new", stale_after=60, replacing="old")
        index = len(store.list_trials(sweep_id))
        try:
            written = store.create_trial(make_trial(record, index), owner="new")
        except StoreError as err:  # the old controller's trial appeared after the claim
            out.put((sweep_id, f"new controller failed: {err}"))
            continue
        out.put((sweep_id, index if written else "new controller refused"))
    store.close()


def test_a_claim_and_a_guarded_insert_never_interleave(store_url: str) -> None:
    """The old controller's last trial is wholly before the claim or not written at all."""
    with Store(store_url) as store:
        sweeps = [make_sweep() for _ in range(30)]
        for sweep in sweeps:
            store.create_sweep(sweep)
            assert store.claim_sweep(sweep.id, "old", stale_after=60)
        ids = [s.id for s in sweeps]
        barrier, written, taken = FORK.Barrier(2), FORK.Queue(), FORK.Queue()
        procs = [FORK.Process(target=_writer, args=(store_url, ids, barrier, written)),
                 FORK.Process(target=_thief, args=(store_url, ids, barrier, taken))]
        for proc in procs:
            proc.start()
        old_count = dict(written.get(timeout=120) for _ in ids)
        new_index = dict(taken.get(timeout=120) for _ in ids)
        for proc in procs:
            proc.join(30)
            assert proc.exitcode == 0
        for sweep_id in ids:
            assert new_index[sweep_id] == old_count[sweep_id], sweep_id
            trials = store.list_trials(sweep_id)
            assert [t.index for t in trials] == list(range(old_count[sweep_id] + 1))


def _ended(trial: TrialRecord) -> TrialRecord:
    return dataclasses.replace(trial, status=Status.COMPLETED, end_time=utcnow(), exit_code=0)


def test_create_trial_saves_what_it_is_given_first_whatever_the_claim(store: Store) -> None:
    """The end that freed a slot rides with the row of the trial that takes it: saved as
    `save_trials` would save it, even when the claim is lost or the insert conflicts."""
    sweep = make_sweep()
    store.create_sweep(sweep)
    assert store.claim_sweep(sweep.id, "a", stale_after=60)
    first = make_trial(sweep, 0, status=Status.RUNNING)
    assert store.create_trial(first, owner="a")
    assert store.create_trial(make_trial(sweep, 1), owner="a", records=[_ended(first)],
                              points={first.id: [make_point(1, 0.5, name="score")]},
                              tags={first.id: {"k": "v"}})
    got = store.get_trial(first.id)
    assert (got.status, got.exit_code) == (Status.COMPLETED, 0)
    assert [p.value for p in store.get_metrics(first.id)] == [0.5]
    assert store.get_tags(first.id) == {"k": "v"}
    assert store.best_values([sweep.id], "score", maximize=True) == {first.id: 0.5}
    # a lost claim: the trial is not written, what came with it is
    assert store.claim_sweep(sweep.id, "b", stale_after=60, replacing="a")
    second = make_trial(sweep, 1)
    assert not store.create_trial(make_trial(sweep, 2), owner="a",
                                  records=[_ended(second)], tags={second.id: {"late": "1"}})
    assert [t.index for t in store.list_trials(sweep.id)] == [0, 1]
    assert store.get_trial(second.id).status is Status.COMPLETED
    assert store.get_tags(second.id) == {"late": "1"}
    # an index another controller wrote first: told, and what came with it is kept
    assert not store.create_trial(make_trial(sweep, 1, params={"lr": 9}), owner="a",
                                  points={second.id: [make_point(1, 0.7)]})
    assert [p.value for p in store.get_metrics(second.id)] == [0.7]
    with pytest.raises(StoreError, match="index 1"):  # the owner itself: a real conflict
        store.create_trial(make_trial(sweep, 1), owner="b", tags={first.id: {"k": "w"}})
    assert store.get_tags(first.id) == {"k": "w"}
    with pytest.raises(KeyError):  # a trial of points that does not exist: nothing written
        store.create_trial(make_trial(sweep, 3), owner="b",
                           points={"nope": [make_point(1, 1.0)]})
    assert [t.index for t in store.list_trials(sweep.id)] == [0, 1]


@pytest.mark.parametrize("driver", ["sqlite", "sqlite+pysqlite"])  # SqliteStore, SqlStore
def test_create_trial_with_what_it_saves_is_one_commit(
        driver: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One transaction for the end and the new row: one commit a trial, not two."""
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(statements.append)
        return connection

    # both stores' connections, made by the driver (SQLAlchemy's through dbapi2)
    monkeypatch.setattr(sqlite3, "connect", traced)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", traced)
    with Store(f"{driver}:///{tmp_path / 'h.db'}") as store:
        sweep = make_sweep()
        store.create_sweep(sweep)
        first = make_trial(sweep, 0, status=Status.RUNNING)
        assert store.create_trial(first)
        statements.clear()
        assert store.create_trial(make_trial(sweep, 1), records=[_ended(first)],
                                  points={first.id: [make_point(1, 0.5)]})
        assert [s for s in statements if s.startswith(("BEGIN", "COMMIT"))] == [
            "BEGIN IMMEDIATE", "COMMIT"]
        assert store.get_trial(first.id).status is Status.COMPLETED
        assert store.get_trial(f"{sweep.id}_1").index == 1
