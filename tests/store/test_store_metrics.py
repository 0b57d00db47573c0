"""Metric points: idempotent ingestion, NaN/inf, series, best values, on both backends."""

from __future__ import annotations

import math

import pytest
from _store_helpers import make_point as point
from _store_helpers import make_sweep, make_trial

from hypersweep.store import Store, SweepRecord


def sweep_with_trials(store: Store, n: int) -> tuple[SweepRecord, list[str]]:
    sweep = make_sweep()
    store.create_sweep(sweep)
    ids = []
    for index in range(n):
        trial = make_trial(sweep, index)
        store.create_trial(trial)
        ids.append(trial.id)
    return sweep, ids


def same(a: float | None, b: float | None) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def test_points_round_trip_every_field(store: Store) -> None:
    _, (tid,) = sweep_with_trials(store, 1)
    points = [
        point(0, 0.5),
        point(1, math.nan),
        point(2, math.inf),
        point(3, -math.inf),
        point(4, None, text="hello 'world'; DROP TABLE metrics;--"),
        point(5, None, text="true", name="flag"),
        point(6, 3, name="epochs"),  # an int is numeric
        point(7, -1e-300, name="tiny"),
        point(8, 1.0, name="loss", kind="list", step=0),
        point(8, 0.5, name="loss", kind="list", step=1, pos=1),
        point(9, None, name="row ✓", kind="row", text='{"a": 1, "b": "x"}'),
        point(2**40, 1e300, name="学习率"),
    ]
    assert store.add_metrics(tid, points) == len(points)
    got = store.get_metrics(tid)
    assert len(got) == len(points)
    for expected, actual in zip(points, got, strict=True):
        assert same(actual.value, None if expected.value is None else float(expected.value))
        assert (actual.seq, actual.pos, actual.name, actual.step, actual.text, actual.kind) == (
            expected.seq,
            expected.pos,
            expected.name,
            expected.step,
            expected.text,
            expected.kind,
        )
        assert actual.time == expected.time and actual.time.tzinfo is not None
    assert [p.seq for p in store.get_metrics(tid, "loss")] == [8, 8]
    assert [p.pos for p in store.get_metrics(tid, "loss")] == [0, 1]
    assert store.get_metrics(tid, "nope") == []


def test_bool_and_str_values_are_refused_as_numbers(store: Store) -> None:
    _, (tid,) = sweep_with_trials(store, 1)
    with pytest.raises(TypeError, match="int, a float or None"):
        store.add_metrics(tid, [point(0, True)])
    with pytest.raises(TypeError):
        store.add_metrics(tid, [point(0, "0.5")])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        store.add_metrics(tid, [point(0, 0.5, kind="histogram")])
    assert store.get_metrics(tid) == []


def test_add_metrics_is_idempotent(store: Store) -> None:
    _, (tid,) = sweep_with_trials(store, 1)
    first = [point(i, float(i)) for i in range(5)]
    assert store.add_metrics(tid, first) == 5
    assert store.add_metrics(tid, first) == 0
    # overlapping re-ingestion: only the new ones count; duplicates within one call count once
    again = [*first[3:], point(5, 5.0), point(6, 6.0), point(6, 6.0)]
    assert store.add_metrics(tid, again) == 2
    assert store.add_metrics(tid, []) == 0
    # a re-added point keeps its first value (the journal is append-only)
    assert store.add_metrics(tid, [point(0, 99.0)]) == 0
    assert [p.value for p in store.get_metrics(tid)] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_add_metrics_many_points_in_chunks(store: Store) -> None:
    _, (tid,) = sweep_with_trials(store, 1)
    points = [point(i // 3, float(i), pos=i % 3) for i in range(1234)]
    assert store.add_metrics(tid, points) == 1234
    assert store.add_metrics(tid, points[600:]) == 0
    assert len(store.get_metrics(tid)) == 1234


def test_get_metrics_after_a_point(store: Store) -> None:
    _, (tid,) = sweep_with_trials(store, 1)
    store.add_metrics(tid, [point(0, 0.1), point(1, 0.2, pos=0), point(1, 0.3, pos=1),
                            point(1, 9.0, name="other", pos=2), point(2**40, 0.4)])

    def values(after: tuple[int, int] | None) -> list[float | None]:
        return [p.value for p in store.get_metrics(tid, "acc", after=after)]

    assert values(None) == [0.1, 0.2, 0.3, 0.4]
    assert values((0, 0)) == [0.2, 0.3, 0.4]
    assert values((1, 0)) == [0.3, 0.4]  # a later position of the same record counts
    assert values((1, 2)) == [0.4]
    assert values((2**40, 0)) == []


def test_add_metrics_unknown_trial(store: Store) -> None:
    with pytest.raises(KeyError, match="HD_nope_0"):
        store.add_metrics("HD_nope_0", [point(0, 1.0)])


def test_metric_series_in_logging_order(store: Store) -> None:
    sweep, (t0, t1, t2) = sweep_with_trials(store, 3)
    # logged out of order on purpose: the series follows (seq, pos), not insertion order
    store.add_metrics(t1, [point(10, 0.3), point(2, 0.1), point(5, 0.2)])
    store.add_metrics(
        t0,
        [
            point(0, 1.0),
            point(1, None, text="n/a"),  # non-numeric: skipped
            point(2, math.nan),  # NaN is numeric: kept
            point(3, 2.0, name="loss"),  # other metric
            point(4, 3.0, kind="list", pos=0),
            point(4, 4.0, kind="list", pos=1),
        ],
    )
    series = store.metric_series(sweep.id, "acc")
    assert list(series) == [t0, t1, t2]
    assert series[t1] == [0.1, 0.2, 0.3]
    assert series[t0][0] == 1.0 and math.isnan(series[t0][1]) and series[t0][2:] == [3.0, 4.0]
    assert series[t2] == []
    assert store.metric_series(sweep.id, "loss") == {t0: [2.0], t1: [], t2: []}
    assert store.metric_series("HD_nope", "acc") == {}


def test_best_values_max_min_nan_ignored(store: Store) -> None:
    sweep, (t0, t1, t2, t3) = sweep_with_trials(store, 4)
    other, (o0,) = sweep_with_trials(store, 1)
    store.add_metrics(t0, [point(0, 0.5), point(1, math.nan), point(2, 0.9), point(3, 0.1)])
    store.add_metrics(t1, [point(0, math.nan)])  # only NaN: absent from the answer
    store.add_metrics(t2, [point(0, None, text="x"), point(1, 7.0, name="loss")])
    store.add_metrics(t3, [point(0, -math.inf), point(1, 2.0)])
    store.add_metrics(o0, [point(0, 0.7), point(1, math.inf)])
    assert store.best_values([sweep.id], "acc", maximize=True) == {t0: 0.9, t3: 2.0}
    assert store.best_values([sweep.id], "acc", maximize=False) == {t0: 0.1, t3: -math.inf}
    assert store.best_values([sweep.id, other.id], "acc", maximize=True) == {
        t0: 0.9,
        t3: 2.0,
        o0: math.inf,
    }
    assert store.best_values([], "acc", maximize=True) == {}
    assert store.best_values([sweep.id], "nope", maximize=True) == {}


def test_metric_names(store: Store) -> None:
    sweep, (t0, t1) = sweep_with_trials(store, 2)
    store.add_metrics(t0, [point(0, 1.0, name="b"), point(1, 1.0, name="a")])
    store.add_metrics(t1, [point(0, 1.0, name="a"), point(1, None, name="c ✓", text="x")])
    assert store.metric_names(sweep.id) == ["a", "b", "c ✓"]
    assert store.metric_names("HD_nope") == []
