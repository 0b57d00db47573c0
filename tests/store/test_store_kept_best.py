"""The best values a trial keeps beside it (``trials.best_low`` / ``best_high`` of its sweep's
primary metric) against the metric points themselves: after points added in batches, again,
with NaN, ±inf, text and other metrics; through ``add_metrics`` and ``save_trials``; when the
sweep's primary metric changes; and after migrating a database from before they were kept.

Every ranked, listed and counted answer for the primary metric (read from the kept values) must
equal the answer computed here from ``get_metrics``, and the same answer the store gives for a
metric it keeps nothing for (read from the metric points); on SQLite, PostgreSQL and in memory.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from pathlib import Path

from _store_helpers import make_trial, utc
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from hypersweep.store import (
    MetricPoint,
    SqlStore,
    Status,
    Store,
    SweepRecord,
    migrate,
    new_sweep_id,
)
from hypersweep.store.engine import normalise_url

T0 = utc(2024, 3, 1)
VALUES = [0.5, -1.0, 2.0, 0.0, -0.0, 1e-300, 3.5, math.nan, math.inf, -math.inf, None]


def _config(metric: str) -> dict[str, object]:
    return {"version": 2, "objectives": [{"metric": metric, "goal": "minimize"}]}


def _random_points(rng: random.Random, seq0: int, n: int) -> list[MetricPoint]:
    points = []
    for k in range(n):
        name = rng.choice(["loss", "loss", "acc", "loss_other"])
        value = rng.choice(VALUES)
        text_ = "note" if value is None else None
        points.append(MetricPoint(seq0 + k, 0, name, k, value, text_, "scalar",
                                  T0 + timedelta(seconds=seq0 + k)))
    return points


def _reference(store: Store, sweep_id: str, metric: str, maximize: bool) -> dict[str, float]:
    """Each trial's best numeric, non-NaN value of ``metric``, from its points."""
    best: dict[str, float] = {}
    for trial in store.list_trials(sweep_id):
        values = [p.value for p in store.get_metrics(trial.id, metric)
                  if p.value is not None and not math.isnan(p.value)]
        if values:
            best[trial.id] = (max if maximize else min)(values)
    return best


def _check(store: Store, sweep_id: str) -> None:
    trials = store.list_trials(sweep_id)
    for metric in ("loss", "acc"):
        for maximize in (False, True):
            ref = _reference(store, sweep_id, metric, maximize)
            sign = -1.0 if maximize else 1.0
            ranked = sorted(trials, key=lambda t: (t.id not in ref,
                                                   sign * ref.get(t.id, 0.0), t.index))
            page = store.trial_page(sweep_id, metric, maximize)
            assert [(s.trial.id, s.best) for s in page] == [(t.id, ref.get(t.id))
                                                            for t in ranked]
            assert [(s.trial.id, s.best) for s in store.trial_page(
                sweep_id, metric, maximize, limit=3, offset=2, statuses=["Completed"])] == [
                (t.id, ref.get(t.id)) for t in ranked if t.status == Status.COMPLETED][2:5]
            by_index = store.trial_page(sweep_id, metric, maximize, order="index", limit=4,
                                        offset=1)
            assert [(s.trial.id, s.best) for s in by_index] == [(t.id, ref.get(t.id))
                                                                for t in trials[1:5]]
            lines = store.trial_lines(sweep_id, metric, maximize, after=0, limit=50)
            assert [(line.id, line.best) for line in lines] == [(t.id, ref.get(t.id))
                                                                for t in trials[1:51]]
            assert store.best_values([sweep_id], metric, maximize) == ref
            counts = store.trial_counts(sweep_id, metric, maximize)
            assert counts.total == len(trials) and counts.scored == len(ref)
            assert (counts.best and (counts.best.trial.id, counts.best.best)) == (
                (ranked[0].id, ref[ranked[0].id]) if ref else None)


def _sweep(store: Store, metric: str = "loss") -> SweepRecord:
    sweep = SweepRecord(new_sweep_id(), "exp", Status.RUNNING, _config(metric), T0)
    store.create_sweep(sweep)
    return sweep


def test_kept_best_values_answer_as_the_metric_points(store: Store) -> None:
    rng = random.Random(7)
    sweep = _sweep(store)
    statuses = [Status.COMPLETED, Status.FAILED, Status.RUNNING]
    first = [make_trial(sweep, i, status=statuses[i % 3]) for i in range(12)]
    store.save_trials(first, {t.id: _random_points(rng, 0, rng.randint(0, 6)) for t in first})
    later = [make_trial(sweep, i, status=Status.COMPLETED) for i in range(12, 20)]
    for trial in later:
        store.create_trial(trial)
    _check(store, sweep.id)
    for round_ in range(1, 5):  # more points, some again (no-ops), by both writers
        for trial in rng.sample([*first, *later], 8):
            points = _random_points(rng, round_ * 100, rng.randint(1, 5))
            store.add_metrics(trial.id, points)
            store.add_metrics(trial.id, points[: len(points) // 2])
        batch = rng.sample(first, 4)
        store.save_trials([t.replace(status=Status.COMPLETED) for t in batch],
                          {t.id: _random_points(rng, round_ * 100 + 50, 3) for t in batch})
        _check(store, sweep.id)


def test_changing_the_primary_metric_keeps_the_other_metrics_best_values(store: Store) -> None:
    rng = random.Random(3)
    sweep = _sweep(store)
    trials = [make_trial(sweep, i, status=Status.COMPLETED) for i in range(10)]
    store.save_trials(trials, {t.id: _random_points(rng, 0, 8) for t in trials})
    store.update_sweep(sweep.id, config=_config("acc"))
    _check(store, sweep.id)
    store.update_sweep(sweep.id, config={"no": "objective"})
    _check(store, sweep.id)
    store.update_sweep(sweep.id, config=_config("loss"))
    _check(store, sweep.id)


def test_best_values_of_several_sweeps_kept_or_not(store: Store) -> None:
    """One call over sweeps ranking by the metric, by another, and by none."""
    rng = random.Random(9)
    sweeps = [_sweep(store, "loss"), _sweep(store, "acc"), _sweep(store, "loss")]
    store.update_sweep(sweeps[2].id, config={})
    for sweep in sweeps:
        trials = [make_trial(sweep, i, status=Status.COMPLETED) for i in range(8)]
        store.save_trials(trials, {t.id: _random_points(rng, 0, 6) for t in trials})
    ids = [s.id for s in sweeps]
    for maximize in (False, True):
        expected: dict[str, float] = {}
        for sid in ids:
            expected.update(_reference(store, sid, "loss", maximize))
        assert store.best_values(ids, "loss", maximize) == expected
        assert store.best_values([*ids, "HD_unknown"], "loss", maximize) == expected
    assert store.best_values([], "loss", True) == {}


def test_a_sweep_of_every_trial_nan_or_unlogged_has_no_best(store: Store) -> None:
    sweep = _sweep(store)
    trials = [make_trial(sweep, i, status=Status.COMPLETED) for i in range(3)]
    nan = MetricPoint(0, 0, "loss", 0, math.nan, None, "scalar", T0)
    store.save_trials(trials, {trials[0].id: [nan]})
    counts = store.trial_counts(sweep.id, "loss", maximize=False)
    assert counts.scored == 0 and counts.best is None
    assert [s.best for s in store.trial_page(sweep.id, "loss", maximize=True)] == [None] * 3


def test_a_database_from_before_kept_best_values_is_migrated_with_them(store_url: str) -> None:
    """A 0004 database: its sweeps' primary metrics (both config forms, or none) and its
    trials' best values are filled in by the upgrade."""
    from alembic import command

    if store_url.startswith("sqlite"):
        Path(store_url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(11)
    configs = {"HD_v2": '{"version": 2, "objectives": [{"metric": "loss", "goal": "minimize"}]}',
               "HD_v1": '{"version": 1, "objective": {"primary_metric": "acc", "goal": "max"}}',
               "HD_none": '{"max_total_runs": 4}'}
    engine = create_engine(normalise_url(store_url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "0004")
            conn.execute(text("INSERT INTO experiments (name, created_time) "
                              "VALUES ('old', '2024-01-01')"))
            for sid, config in configs.items():
                conn.execute(text(
                    "INSERT INTO sweeps (id, experiment, status, config, created_time, warnings,"
                    " properties) VALUES (:sid, 'old', 'Completed', :config, '2024-01-01',"
                    " '[]', '{}')"), {"sid": sid, "config": config})
                for i in range(6):
                    conn.execute(text(
                        "INSERT INTO trials (id, sweep_id, trial_index, params, status,"
                        " created_time, arguments) VALUES (:tid, :sid, :i, '{}', 'Completed',"
                        " '2024-01-01', '[]')"), {"tid": f"{sid}_{i}", "sid": sid, "i": i})
                    for seq, point in enumerate(_random_points(rng, 0, rng.randint(0, 6))):
                        nan = point.value is not None and math.isnan(point.value)
                        conn.execute(text(
                            "INSERT INTO metrics (trial_id, seq, pos, name, step, value, is_nan,"
                            " text, kind, time) VALUES (:tid, :seq, 0, :name, 0, :value, :nan,"
                            " :text, 'scalar', '2024-01-01')"),
                            {"tid": f"{sid}_{i}", "seq": seq, "name": point.name,
                             "value": None if nan else point.value, "nan": nan,
                             "text": point.text})
    finally:
        engine.dispose()
    with SqlStore(store_url) as store:
        for sid in configs:
            _check(store, sid)
        with store._engine.connect() as conn:
            kept = dict(conn.execute(text("SELECT id, primary_metric FROM sweeps")).all())
            assert kept == {"HD_v2": "loss", "HD_v1": "acc", "HD_none": None}
            rows = conn.execute(text("SELECT id, best_low, best_high FROM trials "
                                     "WHERE sweep_id = 'HD_v2' ORDER BY trial_index")).all()
        low = _reference(store, "HD_v2", "loss", maximize=False)
        high = _reference(store, "HD_v2", "loss", maximize=True)
        assert [(tid, lo, hi) for tid, lo, hi in rows] == [
            (tid, low.get(tid), high.get(tid)) for tid, _, _ in rows]


def test_param_names_as_decoding_every_trial_finds_them(store: Store) -> None:
    """Keys first seen in later trials, at any position, in any order; odd spellings."""
    rng = random.Random(5)
    names = ["lr", "b", "a.b", 'q"uote', "ünï", "", "10", "x y", "depth", "A"]
    sweep = _sweep(store)
    trials = []
    for i in range(60):
        keys = rng.sample(names[: 3 + i // 8], rng.randint(0, 3 + i // 8))
        params = {k: rng.choice([1, 0.5, "s", None, [1, 2], {"n": 1}]) for k in keys}
        trials.append(make_trial(sweep, i, params=params))
    rng.shuffle(trials)  # saved out of order: the order is by trial number
    store.save_trials(trials)
    expected: dict[str, None] = {}
    for trial in store.list_trials(sweep.id):
        expected.update(dict.fromkeys(trial.params))
    assert store.param_names(sweep.id) == list(expected)
    assert len(expected) > 5


def test_concurrent_writers_of_one_trial_leave_its_best_values_exact(store_url: str) -> None:
    """Two stores add points to the same trials at once, each point a new extreme: the kept
    values are the extremes of every point (a writer's recount must see the other's)."""
    from concurrent.futures import ThreadPoolExecutor

    with Store(store_url) as one, Store(store_url) as two:
        sweep = _sweep(one)
        trials = [make_trial(sweep, i, status=Status.RUNNING) for i in range(3)]
        one.save_trials(trials)

        def write(store: Store, sign: float, seq0: int) -> None:
            for k in range(60):
                value = sign * (k + 1)
                point = MetricPoint(seq0 + k, 0, "loss", k, value, None, "scalar", T0)
                if k % 2:
                    store.add_metrics(trials[k % 3].id, [point])
                else:
                    store.save_trials([], {trials[k % 3].id: [point]})

        with ThreadPoolExecutor(2) as pool:
            for done in [pool.submit(write, one, 1.0, 0), pool.submit(write, two, -1.0, 1000)]:
                done.result()
        _check(one, sweep.id)
