"""The light status read, and the write statements a store builds once and reuses: successive
calls with different columns, keys and owners each write only their own values."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from _store_helpers import make_sweep, make_trial, utc

from hypersweep.errors import StoreError
from hypersweep.store import MetricPoint, Status, Store


def test_sweep_status_follows_the_record(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    assert store.sweep_status(sweep.id) is Status.QUEUED
    for status in (Status.RUNNING, Status.CANCEL_REQUESTED, Status.CANCELED):
        store.update_sweep(sweep.id, status=status)
        assert store.sweep_status(sweep.id) is status
        assert store.get_sweep(sweep.id).status is status
    other = make_sweep()
    store.create_sweep(other)
    assert store.sweep_status(other.id) is Status.QUEUED  # per sweep
    with pytest.raises(KeyError, match="no sweep 'nope'"):
        store.sweep_status("nope")


def test_updates_with_different_columns_set_only_their_own(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    first, second = make_trial(sweep, 0), make_trial(sweep, 1)
    assert store.create_trial(first) and store.create_trial(second)
    start = utc(2024, 5, 1, 12)
    store.update_trial(first.id, status=Status.RUNNING, start_time=start)
    store.update_trial(second.id, status=Status.CANCEL_REQUESTED)
    store.update_trial(first.id, exit_code=3, end_time=start + timedelta(seconds=5))
    store.update_trial(first.id)  # nothing to set: a no-op on a known trial
    got = store.get_trial(first.id)
    assert (got.status, got.start_time, got.exit_code) == (Status.RUNNING, start, 3)
    assert got.end_time == start + timedelta(seconds=5)
    assert got.params == first.params
    untouched = store.get_trial(second.id)
    assert (untouched.status, untouched.start_time, untouched.exit_code) == (
        Status.CANCEL_REQUESTED, None, None)
    for fields in ({"status": Status.FAILED}, {}):
        with pytest.raises(KeyError, match="no trial 'nope'"):
            store.update_trial("nope", **fields)
    with pytest.raises(KeyError, match="no sweep 'nope'"):
        store.update_sweep("nope", status=Status.FAILED)
    with pytest.raises(TypeError):
        store.update_trial(first.id, nonsense=1)


def test_create_trial_checks_the_holder_each_call(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    assert store.claim_sweep(sweep.id, "a", stale_after=60)
    assert store.create_trial(make_trial(sweep, 0), owner="a")
    assert not store.create_trial(make_trial(sweep, 1), owner="b")
    assert store.create_trial(make_trial(sweep, 2))
    assert [t.index for t in store.list_trials(sweep.id)] == [0, 2]
    with pytest.raises(StoreError, match="already has a trial"):
        store.create_trial(make_trial(sweep, 0))
    with pytest.raises(KeyError, match="no sweep"):
        store.create_trial(make_trial(make_sweep(), 0), owner="a")
    with pytest.raises(KeyError, match="no sweep"):
        store.create_trial(make_trial(make_sweep(), 0))


def test_heartbeat_and_release_touch_only_their_owner(store: Store) -> None:
    sweep, other = make_sweep(), make_sweep()
    store.create_sweep(sweep)
    store.create_sweep(other)
    assert store.claim_sweep(sweep.id, "a", stale_after=60)
    assert store.claim_sweep(other.id, "b", stale_after=60)
    assert store.heartbeat(sweep.id, "a") and not store.heartbeat(sweep.id, "b")
    store.release_sweep(sweep.id, "b")  # not the holder: nothing changes
    assert store.get_sweep(sweep.id).controller == "a"
    store.release_sweep(sweep.id, "a")
    assert store.get_sweep(sweep.id).controller is None
    assert store.get_sweep(other.id).controller == "b"
    assert not store.heartbeat(sweep.id, "a")


def test_save_trials_repeatedly_upserts_and_keeps_best(store: Store) -> None:
    sweep = dataclasses.replace(
        make_sweep(), config={"version": 2, "objectives": [{"metric": "acc", "goal": "max"}]})
    store.create_sweep(sweep)
    now = utc(2024, 5, 1)
    trial = make_trial(sweep, 0)
    for step, value in enumerate([0.5, 0.9, 0.7]):
        record = make_trial(sweep, 0, status=Status.RUNNING, exit_code=step)
        point = MetricPoint(step, 0, "acc", step, value, None, "scalar", now)
        store.save_trials([record], {trial.id: [point]}, {trial.id: {"step": str(step)}})
    got = store.get_trial(trial.id)
    assert (got.status, got.exit_code) == (Status.RUNNING, 2)
    assert store.best_values([sweep.id], "acc", maximize=True) == {trial.id: 0.9}
    assert store.best_values([sweep.id], "acc", maximize=False) == {trial.id: 0.5}
    # the values the trial keeps beside it (its sweep ranks by acc)
    assert [s.best for s in store.trial_page(sweep.id, "acc", maximize=True)] == [0.9]
    assert [s.best for s in store.trial_page(sweep.id, "acc", maximize=False)] == [0.5]
    assert store.get_tags(trial.id) == {"step": "2"}
    assert [p.value for p in store.get_metrics(trial.id)] == [0.5, 0.9, 0.7]


def test_get_metrics_in_turn_reads_each_calls_trial_name_and_start(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    first, second = make_trial(sweep, 0), make_trial(sweep, 1)
    store.create_trial(first)
    store.create_trial(second)
    when = utc(2024, 1, 1)
    for trial, offset in ((first, 0.0), (second, 100.0)):
        store.add_metrics(trial.id, [MetricPoint(seq, pos, name, seq, offset + seq + pos / 10,
                                                 None, "scalar", when)
                                     for seq in range(3) for pos, name in enumerate("ab")])
    for _ in range(2):  # the same prebuilt statements again, with other values
        for trial, offset in ((first, 0.0), (second, 100.0)):
            assert [p.value for p in store.get_metrics(trial.id)] == [
                offset + v for v in (0.0, 0.1, 1.0, 1.1, 2.0, 2.1)]
            assert [p.value for p in store.get_metrics(trial.id, "b")] == [
                offset + v for v in (0.1, 1.1, 2.1)]
            assert [(p.seq, p.pos) for p in store.get_metrics(trial.id, after=(1, 0))] == [
                (1, 1), (2, 0), (2, 1)]
            assert [p.name for p in store.get_metrics(trial.id, "a", after=(0, 1))] == ["a", "a"]
    assert store.get_metrics("nope") == []


def test_claims_in_turn_judge_each_calls_owner_staleness_and_replaced_holder(
        store: Store) -> None:
    sweeps = [make_sweep(), make_sweep()]
    for sweep in sweeps:
        store.create_sweep(sweep)
    a, b = (s.id for s in sweeps)
    assert store.claim_sweep(a, "one", stale_after=60)
    assert store.claim_sweep(b, "two", stale_after=60)
    assert not store.claim_sweep(a, "two", stale_after=60)  # held, fresh
    assert store.claim_sweep(a, "one", stale_after=60)  # its own holder again
    assert not store.claim_sweep(b, "three", stale_after=60, replacing="one")  # not b's holder
    assert store.claim_sweep(b, "three", stale_after=60, replacing="two")
    assert store.claim_sweep(a, "three", stale_after=0)  # any heartbeat is stale
    assert (store.get_sweep(a).controller, store.get_sweep(b).controller) == ("three", "three")
    with pytest.raises(KeyError):
        store.claim_sweep("nope", "one", stale_after=60)
