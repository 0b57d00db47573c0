"""The dashboard's data: the cache's incremental refresh, the trials table, chart payloads."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hypersweep import Workspace
from hypersweep.dashboard import views
from hypersweep.dashboard.cache import SweepCache
from hypersweep.dashboard.demo import synthesize_sweep
from hypersweep.store import MetricPoint, Status, TrialRecord, trial_id
from hypersweep.viz.importance import param_importance


def _snap(workspace: Workspace, sweep_id: str) -> views.Snapshot:
    return SweepCache(workspace.store, sweep_id).snapshot()


def test_table_sorts_filters_and_pages(synthetic: tuple[Workspace, str]) -> None:
    snap = _snap(*synthetic)
    page = views.table(snap, sort="best", desc=True, limit=10)
    values = [r["best"] for r in page["rows"]]
    assert page["total"] == 60 and len(values) == 10
    assert values == sorted(values, reverse=True)
    assert values[0] == max(r.best for r in snap.rows if r.best is not None)
    # missing values sort last in both directions
    for desc in (False, True):
        everything = views.table(snap, sort="best", desc=desc, limit=1000)["rows"]
        nones = [i for i, r in enumerate(everything) if r["best"] is None]
        assert nones == list(range(len(everything) - len(nones), len(everything)))
    by_param = views.table(snap, sort="param:learning_rate", limit=1000)["rows"]
    lrs = [r["params"]["learning_rate"] for r in by_param]
    assert lrs == sorted(lrs)
    canceled = views.table(snap, status=["Canceled"], limit=1000)
    assert canceled["matched"] == sum(r.status == "Canceled" for r in snap.rows) > 0
    assert {r["status"] for r in canceled["rows"]} == {"Canceled"}
    ranged = views.table(snap, ranges={"dropout": (0.1, 0.3)}, metric_min=0.5, limit=1000)
    assert all(0.1 <= r["params"]["dropout"] <= 0.3 and r["best"] >= 0.5
               for r in ranged["rows"])
    assert views.table(snap, match={"optimizer": "ADA"}, limit=1000)["matched"] == sum(
        r.params["optimizer"] == "adam" for r in snap.rows)
    second = views.table(snap, offset=50, limit=50)
    assert [r["index"] for r in second["rows"]] == list(range(50, 60))
    with pytest.raises(ValueError, match="unknown column"):
        views.table(snap, sort="nope")


def test_charts_are_bounded_and_consistent(synthetic: tuple[Workspace, str]) -> None:
    workspace, sweep_id = synthetic
    snap = _snap(workspace, sweep_id)
    charts = views.charts(snap)
    best = max(r.best for r in snap.rows if r.best is not None)
    assert charts["history"]["best"][-1] == best
    assert charts["history"]["best"] == sorted(charts["history"]["best"])  # maximize
    assert {c["name"] for c in charts["sample"]["columns"]} == {
        "learning_rate", "dropout", "batch_size", "optimizer"}
    optimizer = next(c for c in charts["sample"]["columns"] if c["name"] == "optimizer")
    assert optimizer["kind"] == "categorical" and optimizer["labels"] == ["adam", "rmsprop", "sgd"]
    assert next(iter(charts["importance"])) == "learning_rate"  # the synthetic ridge
    stopped = [r for r in snap.rows if r.reason == "early_termination"]
    assert charts["terminations"]["count"] == len(stopped) > 0
    assert all(d["policy"] == "bandit" and d["threshold"] is not None
               for d in charts["terminations"]["rows"])
    assert max(charts["timeline"]["running"]) >= 2
    curves = views.curves(workspace.store, snap)
    assert curves["shown"] == 60 and all(len(t["x"]) == len(t["y"]) for t in curves["trials"])
    assert views.charts(snap) is charts  # memoised on the snapshot


def test_chart_sample_caps_points_and_keeps_the_best(tmp_path: object) -> None:
    from hypersweep.viz.analysis import evenly_spaced

    picks = evenly_spaced(10_000, views.CHART_POINTS, keep=[1234])
    assert len(picks) <= views.CHART_POINTS + 1 and 1234 in picks


def test_importance_finds_the_parameter_that_matters() -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    params = [{"a": float(a), "b": float(b), "c": str(c)}
              for a, b, c in zip(rng.random(300), rng.random(300), rng.choice(["x", "y"], 300),
                                 strict=True)]
    scores = [p["a"] ** 2 + (0.3 if p["c"] == "x" else 0) + rng.normal(0, 0.01) for p in params]
    shares = param_importance(params, scores).shares
    assert list(shares)[:2] == ["a", "c"] and shares["b"] < 0.05
    assert abs(sum(shares.values()) - 1) < 1e-9
    assert param_importance(params[:2], scores[:2]).shares == {}


def test_cache_refreshes_only_what_changes(any_workspace: Workspace) -> None:
    store = any_workspace.store
    sweep_id = synthesize_sweep(store, "live", n_trials=4, points_per_trial=4,
                                status=Status.RUNNING)
    cache = SweepCache(store, sweep_id, min_interval=0.0)
    first = cache.snapshot()
    assert len(first.rows) == 4
    assert cache.snapshot().version == first.version  # nothing changed: same version
    now = datetime.now(timezone.utc)
    new_id = trial_id(sweep_id, 4)
    store.create_trial(TrialRecord(new_id, sweep_id, 4, {"lr": 0.5}, Status.RUNNING, now,
                                   start_time=now))
    second = cache.snapshot()
    assert len(second.rows) == 5 and second.version > first.version
    assert second.rows[-1].best is None
    store.add_metrics(new_id, [MetricPoint(0, 0, "accuracy", 0, 0.999, None, "scalar", now)])
    third = cache.snapshot()
    assert third.rows[-1].best == 0.999 and third.version > second.version
    assert views.sweep_summary(third)["best"]["id"] == new_id
    store.update_trial(new_id, status=Status.COMPLETED, end_time=now)
    store.update_sweep(sweep_id, status=Status.COMPLETED, end_time=now)
    final = cache.snapshot()
    assert final.rows[-1].status == "Completed" and final.sweep.status is Status.COMPLETED
    # finished and read after finishing: frozen, no more database reads
    store.update_trial(new_id, error="changed behind our back")
    assert cache.snapshot() is final


def test_running_sweep_rereads_only_unfinished_curves(tmp_path: object) -> None:
    from pathlib import Path

    workspace = Workspace(Path(str(tmp_path)) / "ws")
    store = workspace.store
    sweep_id = synthesize_sweep(store, "live", n_trials=6, points_per_trial=8,
                                status=Status.RUNNING)
    now = datetime.now(timezone.utc)
    running = trial_id(sweep_id, 6)
    store.create_trial(TrialRecord(running, sweep_id, 6, {"lr": 0.5}, Status.RUNNING, now,
                                   start_time=now))
    store.add_metrics(running, [MetricPoint(0, 0, "accuracy", 0, 0.5, None, "scalar", now)])
    cache = SweepCache(store, sweep_id, min_interval=0.0)
    reads: list[str] = []
    since: list[tuple[int, int] | None] = []  # the cache's reads of the running trial
    get_metrics = store.get_metrics

    def counting(tid: str, name: str | None = None,
                 after: tuple[int, int] | None = None) -> list[MetricPoint]:
        reads.append(tid)
        if tid == running and after is not None:
            since.append(after)
        return get_metrics(tid, name, after)

    store.get_metrics = counting  # type: ignore[method-assign]
    first = cache.snapshot()
    whole = views.curves(store, first)
    assert len(whole["trials"]) == 7 and reads.count(running) >= 1
    store.add_metrics(running, [MetricPoint(1, 0, "accuracy", 1, 0.6, None, "scalar", now)])
    reads.clear()
    second = cache.snapshot()  # incremental: the running trial changed
    assert second.version > first.version and second.shared is first.shared
    again = views.curves(store, second)
    # the finished trials' curves came from the shared memo; only the running one was read
    assert [t for t in reads if t != running] == []
    assert since == [(0, 0)]  # the cache read only the point logged since its last read
    assert next(r for r in second.rows if r.id == running).best == 0.6
    ours = next(t for t in again["trials"] if t["id"] == running)
    assert ours["y"] == [0.5, 0.6]
    assert [t["y"] for t in again["trials"] if t["id"] != running] == [
        t["y"] for t in whole["trials"] if t["id"] != running]
    # a full read starts a new memo (it is what catches anything the incremental one missed)
    cache._full_at = -1e9
    store.add_metrics(running, [MetricPoint(2, 0, "accuracy", 2, 0.7, None, "scalar", now)])
    assert cache.snapshot().shared is not second.shared



def test_what_several_requests_ask_at_once_is_built_once(
        synthetic: tuple[Workspace, str]) -> None:
    import threading

    workspace, sweep_id = synthetic
    snap = _snap(workspace, sweep_id)
    started, release = threading.Event(), threading.Event()
    built: list[int] = []

    def build() -> str:
        built.append(1)
        started.set()
        release.wait(10)
        return "charts"

    answers: list[str] = []
    first = threading.Thread(target=lambda: answers.append(snap.derive("k", build)))
    first.start()
    assert started.wait(10)  # the first request is building ...
    second = threading.Thread(target=lambda: answers.append(snap.derive("k", build)))
    second.start()           # ... the second waits for it rather than building again
    release.set()
    first.join(10)
    second.join(10)
    assert answers == ["charts", "charts"] and built == [1]


def test_big_running_sweeps_keep_costly_values_for_a_while(
        any_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Snapshot.lasting`: in a running sweep of LASTING_ROWS trials or more, charts built for
    an earlier snapshot are kept (within the rebuild window); below that size, or once the
    sweep has finished, they are built from the snapshot asked about."""
    from hypersweep.dashboard import cache as cache_module

    store = any_workspace.store
    sweep_id = synthesize_sweep(store, "live", n_trials=12, points_per_trial=3,
                                status=Status.RUNNING)
    cache = SweepCache(store, sweep_id, min_interval=0.0)
    now = datetime.now(timezone.utc)

    def add_trial(index: int) -> views.Snapshot:
        store.create_trial(TrialRecord(trial_id(sweep_id, index), sweep_id, index,
                                       {"lr": 0.5}, Status.COMPLETED, now, start_time=now,
                                       end_time=now))
        return cache.snapshot()

    monkeypatch.setattr(cache_module, "_REBUILD_AFTER", 3600.0)
    monkeypatch.setattr(cache_module, "LASTING_ROWS", 100)  # 12 trials: always rebuilt
    first = views.charts(cache.snapshot())
    small = views.charts(add_trial(12))
    assert (first["total"], small["total"]) == (12, 13)
    monkeypatch.setattr(cache_module, "LASTING_ROWS", 10)  # now a "big" sweep
    snap = add_trial(13)
    kept = views.charts(snap)
    assert kept is small and kept["total"] == 13 and len(snap.rows) == 14
    assert views.sweep_summary(snap)["trials"] == 14  # counts are never held back
    store.update_sweep(sweep_id, status=Status.COMPLETED, end_time=now)
    assert views.charts(add_trial(14))["total"] == 15  # finished: its own snapshot's


def test_a_refresh_reads_only_unfinished_and_new_trials(any_workspace: Workspace) -> None:
    store = any_workspace.store
    sweep_id = synthesize_sweep(store, "live", n_trials=8, points_per_trial=2,
                                status=Status.RUNNING)
    now = datetime.now(timezone.utc)
    for index in (8, 9):
        store.create_trial(TrialRecord(trial_id(sweep_id, index), sweep_id, index, {"lr": 0.5},
                                       Status.RUNNING, now, start_time=now))
    cache = SweepCache(store, sweep_id, min_interval=0.0)
    cache.snapshot()
    read: list[str] = []
    get_trial = store.get_trial

    def counting(tid: str) -> TrialRecord:
        read.append(tid)
        return get_trial(tid)

    store.get_trial = counting  # type: ignore[method-assign]
    store.update_trial(trial_id(sweep_id, 8), status=Status.COMPLETED, end_time=now)
    second = cache.snapshot()
    assert read == [trial_id(sweep_id, i) for i in (8, 9, 10)]  # 10: is there a new one?
    assert [r.status for r in second.rows[8:]] == ["Completed", "Running"]
    read.clear()
    store.create_trial(TrialRecord(trial_id(sweep_id, 10), sweep_id, 10, {"lr": 0.1},
                                   Status.RUNNING, now, start_time=now))
    third = cache.snapshot()
    assert read == [trial_id(sweep_id, i) for i in (9, 10, 11)]
    assert [r.index for r in third.rows] == list(range(11))
    read.clear()
    cache.snapshot()
    assert read == [trial_id(sweep_id, i) for i in (9, 10, 11)]


def test_kept_totals_equal_a_recount(any_workspace: Workspace) -> None:
    """Counts, best (ties to the lowest number) and placed trials kept by refreshes equal
    those counted afresh from the rows, through trials that start, log, tie and end."""
    import random

    from hypersweep.dashboard.cache import Totals

    store = any_workspace.store
    sweep_id = synthesize_sweep(store, "live", n_trials=5, points_per_trial=2,
                                status=Status.RUNNING)
    cache = SweepCache(store, sweep_id, min_interval=0.0)
    rng = random.Random(3)
    now = datetime.now(timezone.utc)
    running: list[str] = []
    seq = 100
    for step in range(40):
        index = len(cache.snapshot().rows)
        if rng.random() < 0.4 or not running:
            tid = trial_id(sweep_id, index)
            store.create_trial(TrialRecord(
                tid, sweep_id, index, {"lr": 0.5}, Status.RUNNING, now, start_time=now,
                placement={"gpus": [step % 2]} if rng.random() < 0.2 else None))
            running.append(tid)
        tid = rng.choice(running)
        seq += 1  # values on a coarse grid: ties with other trials' bests happen
        value = rng.choice([0.2, 0.5, 0.9, 0.95, 1.0])
        store.add_metrics(tid, [MetricPoint(seq, 0, "accuracy", seq, value, None, "scalar",
                                            now)])
        if rng.random() < 0.3:
            store.update_trial(tid, status=rng.choice([Status.COMPLETED, Status.FAILED]),
                               end_time=now)
            running.remove(tid)
        snap = cache.snapshot()
        assert snap.totals == Totals.of(snap.rows, snap.maximize)
        summary = views.sweep_summary(snap)
        scored = [r for r in snap.rows if r.best is not None]
        top = max(scored, key=lambda r: r.best)  # type: ignore[arg-type,return-value]
        assert summary["best"]["id"] == top.id
        assert sum(summary["counts"].values()) == len(snap.rows)
    assert summary["placed"] == any(r.placement for r in snap.rows)
