"""Paged and aggregate trial queries: ranking, ties, unscored and failed trials, keyset pages,
counts, parameter names, every trial's best, chosen trials; on SQLite, PostgreSQL and in memory
alike."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest
from _store_helpers import make_sweep, make_trial, utc

from hypersweep.store import (
    MetricPoint,
    ScoredTrial,
    Status,
    Store,
    SweepRecord,
    TrialBests,
    TrialLine,
)

T0 = utc(2024, 3, 1)
NAN, INF = math.nan, math.inf


def _points(values: list[float | None], name: str = "acc") -> list[MetricPoint]:
    return [MetricPoint(seq, 0, name, seq, value, None, "scalar",
                        T0 + timedelta(seconds=seq)) for seq, value in enumerate(values)]


def _sweep(store: Store, series: list[list[float | None]],
           statuses: list[Status] | None = None) -> SweepRecord:
    """A sweep whose trial i logged ``series[i]`` of ``acc`` (and a ``loss`` of -i)."""
    sweep = make_sweep()
    store.create_sweep(sweep)
    trials = [make_trial(sweep, i, status=(statuses or [Status.COMPLETED] * len(series))[i],
                         params={"lr": i / 10, **({"depth": i} if i % 2 else {})})
              for i in range(len(series))]
    loss = {t.id: MetricPoint(100, 0, "loss", 0, -float(t.index), None, "scalar", T0)
            for t in trials}
    store.save_trials(trials, {t.id: [*_points(values), loss[t.id]]
                               for t, values in zip(trials, series, strict=True)})
    return sweep


def _ranked(page: list[ScoredTrial]) -> list[tuple[int, float | None]]:
    return [(s.trial.index, s.best) for s in page]


SERIES: list[list[float | None]] = [
    [0.5, 0.7],        # 0: best 0.7 / low 0.5
    [],                # 1: nothing logged
    [0.7, 0.2],        # 2: ties 0 on max; 0.2 lowest
    [NAN],             # 3: only NaN: unscored
    [NAN, 0.9, None],  # 4: NaN and None skipped
    [-INF, 0.5],       # 5: -inf counts (lowest), ties 0 on the low value
    [INF],             # 6: +inf counts (highest)
]


def test_ranked_by_best_value_ties_by_number_unscored_last(store: Store) -> None:
    sweep = _sweep(store, SERIES)
    assert _ranked(store.trial_page(sweep.id, "acc", maximize=True)) == [
        (6, INF), (4, 0.9), (0, 0.7), (2, 0.7), (5, 0.5), (1, None), (3, None)]
    assert _ranked(store.trial_page(sweep.id, "acc", maximize=False)) == [
        (5, -INF), (2, 0.2), (0, 0.5), (4, 0.9), (6, INF), (1, None), (3, None)]


def test_pages_cut_the_same_ranking(store: Store) -> None:
    sweep = _sweep(store, SERIES)
    whole = _ranked(store.trial_page(sweep.id, "acc", True))
    pages = [_ranked(store.trial_page(sweep.id, "acc", True, limit=3, offset=o))
             for o in (0, 3, 6, 9)]
    assert pages[0] + pages[1] + pages[2] == whole
    assert pages[3] == []
    assert store.trial_page(sweep.id, "acc", True, limit=0) == []


def test_by_number_with_offsets_and_keyset(store: Store) -> None:
    sweep = _sweep(store, SERIES)
    page = store.trial_page(sweep.id, "acc", True, order="index", limit=3, offset=2)
    assert _ranked(page) == [(2, 0.7), (3, None), (4, 0.9)]
    after = store.trial_page(sweep.id, "acc", False, order="index", limit=2, after=4)
    assert _ranked(after) == [(5, -INF), (6, INF)]
    assert store.trial_page(sweep.id, "acc", True, order="index", after=6) == []
    # the records are whole, and the same as get_trial's
    assert page[0].trial == store.get_trial(page[0].trial.id)


def test_statuses_filter_the_page(store: Store) -> None:
    statuses = [Status.COMPLETED, Status.FAILED, Status.FAILED, Status.CANCELED,
                Status.COMPLETED, Status.RUNNING, Status.COMPLETED]
    sweep = _sweep(store, SERIES, statuses)
    failed_too = store.trial_page(sweep.id, "acc", True, statuses=[Status.FAILED, "Completed"])
    assert _ranked(failed_too) == [(6, INF), (4, 0.9), (0, 0.7), (2, 0.7), (1, None)]
    assert _ranked(store.trial_page(sweep.id, "acc", True, order="index", limit=1,
                                    statuses=[Status.FAILED])) == [(1, None)]


def test_a_second_metric_and_other_sweeps_do_not_mix(store: Store) -> None:
    sweep = _sweep(store, SERIES)
    other = _sweep(store, [[100.0]])
    assert _ranked(store.trial_page(sweep.id, "loss", False, limit=2)) == [(6, -6.0),
                                                                          (5, -5.0)]
    assert _ranked(store.trial_page(other.id, "acc", True)) == [(0, 100.0)]
    assert store.trial_page("HD_unknown", "acc", True) == []
    assert store.trial_page(sweep.id, "missing", True, limit=2)[0].best is None


def test_counts_are_aggregated(store: Store) -> None:
    statuses = [Status.COMPLETED, Status.FAILED, Status.FAILED, Status.CANCELED,
                Status.COMPLETED, Status.RUNNING, Status.COMPLETED]
    sweep = _sweep(store, SERIES, statuses)
    counts = store.trial_counts(sweep.id, "acc", maximize=False)
    assert counts.total == 7 and counts.scored == 5
    assert counts.statuses == {"Running": 1, "Completed": 3, "Failed": 2, "Canceled": 1}
    assert list(counts.statuses) == ["Running", "Completed", "Failed", "Canceled"]
    assert counts.best is not None
    assert (counts.best.trial.index, counts.best.best) == (5, -INF)
    empty = store.trial_counts(sweep.id, "missing", maximize=True)
    assert (empty.total, empty.scored, empty.best) == (7, 0, None)
    none = store.trial_counts("HD_unknown", "acc", maximize=True)
    assert (none.total, none.statuses, none.scored, none.best) == (0, {}, 0, None)


def test_param_names_in_first_appearance_order(store: Store) -> None:
    sweep = _sweep(store, SERIES)
    assert store.param_names(sweep.id) == ["lr", "depth"]
    assert store.param_names("HD_unknown") == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"order": "best"}, "trial order 'best'"),
    ({"limit": -1}, "limit -1"),
    ({"offset": -2}, "offset -2"),
    ({"after": 3}, "after=3 pages by trial number"),
])
def test_bad_paging_arguments_are_named(store: Store, kwargs: dict[str, object],
                                        message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store.trial_page("HD_x", "acc", True, **kwargs)  # type: ignore[arg-type]


def test_random_pages_match_a_python_ranking(store: Store) -> None:
    """Many trials with many ties: every page equals the slice of a ranking made in Python."""
    rng = random.Random(7)
    series: list[list[float | None]] = [
        [] if rng.random() < 0.1 else [float(rng.randint(0, 20)) for _ in range(3)]
        for _ in range(120)]
    sweep = _sweep(store, series)
    for maximize in (True, False):
        best = [None if not s else (max if maximize else min)(s) for s in series]
        expected = sorted(range(len(series)), key=lambda i: (
            best[i] is None, 0.0 if best[i] is None else (-1 if maximize else 1) * best[i]))
        for offset in (0, 17, 100):
            page = store.trial_page(sweep.id, "acc", maximize, limit=25, offset=offset)
            assert [s.trial.index for s in page] == expected[offset:offset + 25]
            assert [s.best for s in page] == [best[i] for i in expected[offset:offset + 25]]
        chunks, after = [], None
        while True:
            page = store.trial_page(sweep.id, "acc", maximize, order="index", limit=50,
                                    after=after)
            chunks += [(s.trial.index, s.best) for s in page]
            if len(page) < 50:
                break
            after = page[-1].trial.index
        assert chunks == list(enumerate(best))


def _line_of(scored: ScoredTrial) -> TrialLine:
    t = scored.trial
    return TrialLine(t.index, t.id, t.status.value, t.params, scored.best, t.created_time,
                     t.start_time, t.end_time, t.termination_reason, t.termination_detail,
                     t.error, t.placement)


def test_trial_lines_are_the_records_columns(store: Store) -> None:
    """Every field of a line equals the record's (times to the microsecond, in UTC; JSON
    decoded alike), on every backend, whole and in keyset pages."""
    sweep = make_sweep()
    store.create_sweep(sweep)
    east = timezone(timedelta(hours=5, minutes=30))
    odd = [
        make_trial(sweep, 0, status=Status.COMPLETED, params={"lr": 1e-12, "name": "a'b\"c",
                                                              "big": 2**53 + 1, "nan": NAN},
                   start_time=utc(2024, 3, 1, 12, 0, 0, 123456),
                   end_time=utc(2024, 3, 1, 12, 0, 7, 654321)),
        make_trial(sweep, 1, status=Status.CANCELED, params={"nested": {"k": [1, 2.5]}},
                   created_time=datetime(2024, 3, 1, 18, 0, tzinfo=east),
                   start_time=utc(2024, 3, 1, 12, 1), end_time=None,
                   termination_reason="early_termination",
                   termination_detail={"policy": "bandit", "value": 0.25, "x": INF},
                   placement={"gpus": [2], "cores": [4, 5]}),
        make_trial(sweep, 2, status=Status.FAILED, params={}, error="Traceback\nboom ✗",
                   exit_code=3, handle={"pid": 1}, arguments=["--lr", "0.1"]),
        make_trial(sweep, 3),
    ]
    store.save_trials(odd, {odd[0].id: _points([0.5, NAN, 0.9]), odd[2].id: _points([NAN])})
    whole = store.trial_page(sweep.id, "acc", True, order="index")
    lines = store.trial_lines(sweep.id, "acc", True)
    assert lines == [_line_of(s) for s in whole]
    assert [line.best for line in lines] == [0.9, None, None, None]
    assert lines[1].created_time == datetime(2024, 3, 1, 12, 30, tzinfo=timezone.utc)
    assert all(line.created_time.tzinfo is timezone.utc for line in lines)
    assert math.isnan(lines[0].params["nan"]) and lines[0].params["big"] == 2**53 + 1
    assert store.trial_lines(sweep.id, "acc", False)[0].best == 0.5
    assert store.trial_lines(sweep.id, "acc", True, after=0, limit=2) == lines[1:3]
    assert store.trial_lines(sweep.id, "acc", True, after=3) == []
    assert store.trial_lines(sweep.id, "acc", True, limit=0) == []
    assert store.trial_lines("HD_unknown", "acc", True) == []
    with pytest.raises(ValueError, match="limit -1"):
        store.trial_lines(sweep.id, "acc", True, limit=-1)


def test_trial_lines_page_like_trial_page(store: Store) -> None:
    sweep = _sweep(store, SERIES + [[float(i)] for i in range(30)])
    for maximize in (True, False):
        expected = [_line_of(s) for s in store.trial_page(sweep.id, "acc", maximize,
                                                          order="index")]
        pages, after = [], None
        while True:
            page = store.trial_lines(sweep.id, "acc", maximize, after=after, limit=8)
            pages += page
            if len(page) < 8:
                break
            after = page[-1].index
        assert pages == expected


def test_trial_bests_are_the_lines_numbers_and_bests(store: Store) -> None:
    """Every trial by number with its best value, scored as a page scores it (NaN skipped,
    ±inf counted, None where nothing was logged), on the primary metric's kept best and on
    another metric's points alike."""
    sweep = _sweep(store, SERIES + [[float(i)] for i in range(5)])
    for metric in ("acc", "loss"):
        for maximize in (True, False):
            lines = store.trial_lines(sweep.id, metric, maximize)
            bests = store.trial_bests(sweep.id, metric, maximize)
            assert bests == TrialBests([t.index for t in lines], [t.best for t in lines])
    assert store.trial_bests(sweep.id, "acc", True).bests[:7] == [
        0.7, None, 0.7, None, 0.9, 0.5, INF]
    assert store.trial_bests("HD_unknown", "acc", True) == TrialBests([], [])


def test_trial_lines_of_chosen_numbers(store: Store) -> None:
    sweep = _sweep(store, SERIES + [[float(i)] for i in range(30)])
    whole = store.trial_lines(sweep.id, "acc", True)
    chosen = {36, 0, 5, 17, 99}  # (any order; 99 is no trial's)
    assert store.trial_lines(sweep.id, "acc", True, indexes=chosen) == [
        whole[i] for i in sorted(chosen - {99})]
    assert store.trial_lines(sweep.id, "acc", True, indexes=range(3, 9), after=5, limit=2) == \
        whole[6:8]
    assert store.trial_lines(sweep.id, "acc", True, indexes=[]) == []
    many = list(range(0, 37, 2)) * 200  # a long list, repeats included: each trial once
    assert store.trial_lines(sweep.id, "acc", True, indexes=many) == whole[::2]
