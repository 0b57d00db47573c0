"""Sweeps, trials and tags round-trip through the store unchanged, on both backends."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from _store_helpers import make_sweep, make_trial, utc

from hypersweep.errors import StoreError
from hypersweep.store import Status, Store, SweepRecord, TrialRecord, new_sweep_id, trial_id

NASTY = 'Robert\'); DROP TABLE sweeps;-- "quoted" \\ ünïcødé ✓ 学习率 \x01 \n\t%s %(x)s ?'


def test_status_values_and_terminal() -> None:
    assert [s.value for s in Status] == [
        "Queued", "Running", "CancelRequested", "Completed", "Failed", "Canceled"
    ]
    assert [s for s in Status if s.is_terminal] == [
        Status.COMPLETED,
        Status.FAILED,
        Status.CANCELED,
    ]
    assert Status("Running") is Status.RUNNING and str(Status.FAILED) == "Failed"


def test_ids() -> None:
    sid = new_sweep_id()
    assert sid.startswith("HD_") and len(sid) == 39
    assert trial_id(sid, 7) == f"{sid}_7"


def test_sweep_round_trip_every_field(store: Store) -> None:
    sweep = SweepRecord(
        id=new_sweep_id(),
        experiment=NASTY,
        status=Status.RUNNING,
        config={
            "nested": {"a": [1, 2.5, None, True, "x"], "b": {"c": NASTY}},
            "nan": math.inf,
            "neg": -math.inf,
            "max_total_runs": 20,
        },
        created_time=utc(2024, 1, 2, 3, 4, 5, 678901),
        start_time=datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        end_time=utc(2024, 1, 3),
        error=NASTY,
        controller="host:123:abc",
        heartbeat_time=utc(2024, 1, 2, 4),
        warnings=["primary metric 'acc' never logged", NASTY],
        properties={"best_child_run_id": "HD_x_3", "score": 0.5},
    )
    store.create_sweep(sweep)
    got = store.get_sweep(sweep.id)
    assert got == sweep
    assert got.start_time is not None and got.start_time.tzinfo == timezone.utc
    assert got.start_time == utc(2024, 1, 2, 3, 4, 5)  # same instant, normalised to UTC
    assert got.created_time.tzinfo == timezone.utc
    assert store.list_experiments() == [NASTY]


def test_sweep_defaults_round_trip(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    got = store.get_sweep(sweep.id)
    assert got == sweep
    assert got.warnings == [] and got.properties == {} and got.start_time is None


def test_nan_in_json_fields_round_trips(store: Store) -> None:
    sweep = make_sweep(properties={"x": math.nan})
    store.create_sweep(sweep)
    assert math.isnan(store.get_sweep(sweep.id).properties["x"])


def test_trial_round_trip_every_field(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    trial = TrialRecord(
        id=trial_id(sweep.id, 0),
        sweep_id=sweep.id,
        index=0,
        params={
            "model.C": 1e-5,
            "kernel": NASTY,
            "n": 3,
            "flag": False,
            "none": None,
            "inf": math.inf,
        },
        status=Status.CANCELED,
        created_time=utc(2024, 5, 1),
        start_time=utc(2024, 5, 1, 0, 0, 1),
        end_time=utc(2024, 5, 1, 0, 10),
        exit_code=-15,
        error=NASTY * 100,
        termination_reason="early_termination",
        handle={"pid": 1234, "pgid": 1234, "host": "box", "extra": {"k": [1, 2]}},
        arguments=["--kernel", NASTY, "--model.C", "1e-05"],
        resumed_from="HD_old_4",
    )
    store.create_trial(trial)
    assert store.get_trial(trial.id) == trial
    assert store.list_trials(sweep.id) == [trial]


def test_trial_defaults_round_trip(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    trial = make_trial(sweep, 0)
    store.create_trial(trial)
    got = store.get_trial(trial.id)
    assert got == trial and got.handle is None and got.arguments == []


def test_status_given_as_string_is_converted(store: Store) -> None:
    sweep = SweepRecord(new_sweep_id(), "e", "Running", {}, utc(2024, 1, 1))  # type: ignore[arg-type,unused-ignore]
    assert sweep.status is Status.RUNNING
    store.create_sweep(sweep)
    store.update_sweep(sweep.id, status="Completed")
    assert store.get_sweep(sweep.id).status is Status.COMPLETED


def test_list_sweeps_newest_first_and_by_experiment(store: Store) -> None:
    base = utc(2024, 1, 1)
    a1 = make_sweep("a", base)
    b1 = make_sweep("b", base + timedelta(seconds=1))
    a2 = make_sweep("a", base + timedelta(seconds=2))
    for sweep in (a1, b1, a2):
        store.create_sweep(sweep)
    assert [s.id for s in store.list_sweeps()] == [a2.id, b1.id, a1.id]
    assert [s.id for s in store.list_sweeps("a")] == [a2.id, a1.id]
    assert store.list_sweeps("nope") == []
    assert store.list_experiments() == ["a", "b"]


def test_list_trials_by_index(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    for index in (2, 0, 10, 1):
        store.create_trial(make_trial(sweep, index))
    assert [t.index for t in store.list_trials(sweep.id)] == [0, 1, 2, 10]
    assert store.list_trials("HD_missing") == []


def test_count_trials_of_several_sweeps(store: Store) -> None:
    one, two, empty = make_sweep(), make_sweep(), make_sweep()
    for sweep, n in ((one, 3), (two, 1), (empty, 0)):
        store.create_sweep(sweep)
        for index in range(n):
            store.create_trial(make_trial(sweep, index))
    assert store.count_trials([one.id, two.id, empty.id, "HD_missing"]) == {
        one.id: 3, two.id: 1, empty.id: 0, "HD_missing": 0}
    assert store.count_trials([]) == {}


def test_update_sweep_and_trial(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    end = utc(2024, 2, 2)
    store.update_sweep(
        sweep.id, status=Status.COMPLETED, end_time=end, properties={"best_child_run_id": "x"}
    )
    got = store.get_sweep(sweep.id)
    assert got == sweep.replace(
        status=Status.COMPLETED, end_time=end, properties={"best_child_run_id": "x"}
    )
    store.update_sweep(sweep.id, experiment="moved")
    assert store.get_sweep(sweep.id).experiment == "moved" and "moved" in store.list_experiments()
    store.update_sweep(sweep.id)  # nothing to change is fine

    trial = make_trial(sweep, 0)
    store.create_trial(trial)
    store.update_trial(
        trial.id,
        status=Status.FAILED,
        exit_code=2,
        error=NASTY,
        handle={"pid": 9},
        arguments=["-x"],
    )
    assert store.get_trial(trial.id) == trial.replace(
        status=Status.FAILED, exit_code=2, error=NASTY, handle={"pid": 9}, arguments=["-x"]
    )
    store.update_trial(trial.id, handle=None, error=None)
    got_trial = store.get_trial(trial.id)
    assert got_trial.handle is None and got_trial.error is None


def test_unknown_field_raises_type_error(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    store.create_trial(make_trial(sweep, 0))
    with pytest.raises(TypeError, match="bogus"):
        store.update_sweep(sweep.id, bogus=1)
    with pytest.raises(TypeError, match="exit_kode"):
        store.update_trial(f"{sweep.id}_0", exit_kode=1)
    with pytest.raises(TypeError, match="id"):
        store.update_trial(f"{sweep.id}_0", id="other")
    with pytest.raises(TypeError, match="index"):  # a trial field, not a sweep field
        store.update_sweep(sweep.id, index=3)


def test_missing_ids_raise_key_error_naming_them(store: Store) -> None:
    with pytest.raises(KeyError, match="HD_nope"):
        store.get_sweep("HD_nope")
    with pytest.raises(KeyError, match="HD_nope_1"):
        store.get_trial("HD_nope_1")
    with pytest.raises(KeyError, match="HD_nope"):
        store.update_sweep("HD_nope", status=Status.FAILED)
    with pytest.raises(KeyError, match="HD_nope_1"):
        store.update_trial("HD_nope_1", status=Status.FAILED)
    with pytest.raises(KeyError, match="HD_nope"):
        store.add_sweep_warning("HD_nope", "w")
    with pytest.raises(KeyError, match="HD_nope"):
        store.create_trial(make_trial(make_sweep(), 0).replace(sweep_id="HD_nope"))


def test_duplicates_are_store_errors(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    with pytest.raises(StoreError, match="already exists"):
        store.create_sweep(sweep)
    store.create_trial(make_trial(sweep, 0))
    with pytest.raises(StoreError, match="index 0"):
        store.create_trial(make_trial(sweep, 0, id=f"{sweep.id}_other"))
    with pytest.raises(StoreError, match="already has a trial"):
        store.create_trial(make_trial(sweep, 1, id=f"{sweep.id}_0"))
    store.create_trial(make_trial(sweep, 1))
    with pytest.raises(StoreError, match="cannot set"):
        store.update_trial(f"{sweep.id}_1", index=0)
    # the store still works after the failures
    assert [t.index for t in store.list_trials(sweep.id)] == [0, 1]


def test_naive_datetime_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.create_sweep(make_sweep(created=datetime(2024, 1, 1)))


def test_warnings_append_without_duplicates(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    for message in ["metric 'acc' never logged", NASTY, "metric 'acc' never logged"]:
        store.add_sweep_warning(sweep.id, message)
    assert store.get_sweep(sweep.id).warnings == ["metric 'acc' never logged", NASTY]


def test_tags(store: Store) -> None:
    sweep = make_sweep()
    store.create_sweep(sweep)
    tid = f"{sweep.id}_0"
    store.create_trial(make_trial(sweep, 0))
    assert store.get_tags(tid) == {}
    store.set_tags(tid, {"a": "1", "quote": NASTY})
    store.set_tags(tid, {"a": "2", "b": "x"})
    store.set_tags(tid, {})
    assert store.get_tags(tid) == {"a": "2", "b": "x", "quote": NASTY}
    with pytest.raises(KeyError, match="HD_nope_0"):
        store.set_tags("HD_nope_0", {"a": "1"})


@pytest.mark.parametrize("moment", [
    datetime(1, 1, 1, tzinfo=timezone.utc),
    datetime(999, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
    datetime(2024, 1, 1, tzinfo=timezone.utc),
    datetime(2024, 6, 1, 12, 30, 5, 7, tzinfo=timezone.utc),
    datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=2))),
    None])
def test_sqlite_times_bind_as_the_dialect_writes_them(moment: datetime | None) -> None:
    """UTCDateTime's one-step SQLite bind of a UTC time gives the dialect's own text (the
    general path: the zone check, then SQLite's DATETIME format), other zones included."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.types import TypeDecorator

    from hypersweep.store.schema import UTCDateTime

    dialect = sqlite.dialect()
    bound = UTCDateTime().dialect_impl(dialect)
    general = TypeDecorator.bind_processor(bound, dialect)
    fast = bound.bind_processor(dialect)
    assert general is not None and fast is not None and fast is not general
    assert fast(moment) == general(moment)
    with pytest.raises(ValueError, match="naive"):
        fast(datetime(2024, 1, 1))
