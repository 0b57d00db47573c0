"""A big sweep's first screen, answered from the store's queries before its snapshot is read:
the same rows, counts, best trial, best-so-far line, parameter sample and curves as the
snapshot's answers; in the browser, the page then replaces them with the full ones."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.dashboard.pages import open_page

from hypersweep import Workspace
from hypersweep.dashboard import ServerThread, first_screen, views
from hypersweep.dashboard.cache import SweepCache
from hypersweep.dashboard.demo import synthesize_sweep
from hypersweep.spec import SweepSpec


def _both(workspace: Workspace, sweep_id: str) -> tuple[Any, SweepSpec]:
    snap = SweepCache(workspace.store, sweep_id).snapshot()
    return snap, snap.spec


@pytest.mark.parametrize(("sort", "desc"), [("index", False), ("index", True), ("best", True)])
@pytest.mark.parametrize("status", [[], ["Canceled"], ["Completed", "Failed"]])
@pytest.mark.parametrize(("offset", "limit"), [(0, 50), (7, 10), (55, 10), (200, 5)])
def test_table_pages_are_the_snapshots(synthetic: tuple[Workspace, str], sort: str, desc: bool,
                                       status: list[str], offset: int, limit: int) -> None:
    workspace, sweep_id = synthetic
    snap, spec = _both(workspace, sweep_id)
    quick = first_screen.table(workspace.store, sweep_id, spec, sort=sort, desc=desc,
                               status=status, offset=offset, limit=limit)
    full = views.table(snap, sort=sort, desc=desc, status=status, offset=offset, limit=limit)
    assert quick is not None and quick.pop("partial") is True
    assert quick == full
    assert full["rows"] or offset >= full["matched"]  # (the cases compare some rows)


def test_orders_the_store_has_not_are_left_to_the_snapshot(
        synthetic: tuple[Workspace, str]) -> None:
    workspace, sweep_id = synthetic
    _, spec = _both(workspace, sweep_id)
    assert spec.objective.maximize  # so best-first is descending
    for sort, desc, status in (("best", False, []), ("param:lr", False, []),
                               ("duration", True, []), ("index", False, ["Nonsense"])):
        assert first_screen.table(workspace.store, sweep_id, spec, sort=sort, desc=desc,
                                  status=status) is None


def test_summary_is_the_snapshots(synthetic: tuple[Workspace, str]) -> None:
    workspace, sweep_id = synthetic
    snap, spec = _both(workspace, sweep_id)
    quick = first_screen.summary(workspace.store, workspace.store.get_sweep(sweep_id), spec)
    full = views.sweep_summary(snap)
    assert quick.pop("partial") is True and "partial" not in full
    for varying in ("version", "duration"):
        quick.pop(varying), full.pop(varying)
    assert quick == full
    assert full["best"] is not None and sum(full["counts"].values()) == 60


def test_charts_in_view_are_the_snapshots(synthetic: tuple[Workspace, str]) -> None:
    """The best-so-far line, the sample the parameter charts draw and the metric curves are
    the snapshot's exactly; the charts that need every trial say they wait for it."""
    workspace, sweep_id = synthetic
    snap, spec = _both(workspace, sweep_id)
    store, sweep = workspace.store, workspace.store.get_sweep(sweep_id)
    bests = store.trial_bests(sweep_id, spec.objective.metric, spec.objective.maximize)
    quick, full = first_screen.charts(store, sweep, spec, bests), views.charts(snap)
    assert quick["partial"] is True and "partial" not in full
    for exact in ("metric", "maximize", "total", "history", "sample"):
        assert quick[exact] == full[exact], exact
    assert full["terminations"]["count"] > 0 and full["importance"]  # (so both differ)
    assert quick["terminations"]["count"] == 0 and quick["importance"] == {}
    assert quick["pending"] == quick["importance_note"] == "drawn once all 60 trials are read"
    for metric in (None, "loss"):
        assert first_screen.curves(store, sweep, spec, bests, metric) == \
            views.curves(store, snap, metric)


def test_charts_sample_a_big_sweep_as_the_snapshot_does(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the chart's limits (here made small) the sample and the curves are picked among
    many trials, the best ones kept: the same picks from the store's columns as from rows."""
    monkeypatch.setattr(views, "CHART_POINTS", 25)
    monkeypatch.setattr(views, "CURVES", 10)
    workspace = Workspace(tmp_path / "ws")
    sweep_id = synthesize_sweep(workspace.store, "big", n_trials=300, points_per_trial=4)
    snap, spec = _both(workspace, sweep_id)
    store, sweep = workspace.store, workspace.store.get_sweep(sweep_id)
    bests = store.trial_bests(sweep_id, spec.objective.metric, spec.objective.maximize)
    quick, full = first_screen.charts(store, sweep, spec, bests), views.charts(snap)
    assert 50 < quick["history"]["shown"] < 80  # 25 spread + the 50 best (some shared)
    assert quick["history"] == full["history"] and quick["sample"] == full["sample"]
    best = max((i for i, b in zip(*bests, strict=True) if b is not None),
               key=lambda i: bests.bests[i])  # type: ignore[arg-type,return-value]
    assert best in quick["sample"]["index"]
    assert first_screen.curves(store, sweep, spec, bests) == views.curves(store, snap)


_FRESH_SERVER = """
import sys, uvicorn
from hypersweep.dashboard import create_app
from hypersweep.viz import importance
assert importance.importing(), "scikit-learn imported before any request"
uvicorn.run(create_app(workspace=sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning")
"""


def test_a_small_sweeps_charts_do_not_wait_for_scikit_learn(
        synthetic: tuple[Workspace, str], tmp_path: Path) -> None:
    """A sweep read at once (under first_screen_from) has its charts partial too while
    building them would first import scikit-learn (a fresh server process, without the
    warm-up), complete when asked, and from then on."""
    workspace, sweep_id = synthetic
    with socket.socket() as probe:  # a free port for the real server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", _FRESH_SERVER, str(workspace.path),
                               str(port)], stderr=subprocess.PIPE, text=True)
    api = f"http://127.0.0.1:{port}/api/sweeps/{sweep_id}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                summary = _get(api)
                break
            except urllib.error.URLError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert "partial" not in summary
        partial = _get(api + "/charts")
        assert partial["partial"] is True and partial["pending"] == "being computed"
        complete = _get(api + "/charts?complete=true")
        assert "partial" not in complete and _get(api + "/charts") == complete
    finally:
        server.terminate()
        server.wait(timeout=20)


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url) as response:
        return dict(json.load(response))


def test_server_answers_first_then_reads(synthetic: tuple[Workspace, str],
                                         serve: Callable[..., ServerThread]) -> None:
    workspace, sweep_id = synthetic
    server = serve(workspace, first_screen_from=0)
    api = f"{server.url}/api/sweeps/{sweep_id}"
    first = _get(api)
    # the first answer (the summary) starts the read; a later one is the snapshot's
    assert first["partial"] is True and first["trials"] == 60
    deadline = time.monotonic() + 60
    while (summary := _get(api)).get("partial") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "partial" not in summary and summary["version"] >= 1
    assert summary["counts"] == first["counts"] and summary["best"] == first["best"]
    page = _get(api + "/trials?sort=index&desc=true&limit=5")
    assert "partial" not in page and [r["index"] for r in page["rows"]] == [59, 58, 57, 56, 55]
    # read, but its importance not computed: the charts are partial unless asked complete,
    # and complete from then on
    quick = _get(api + "/charts")
    assert quick["partial"] is True and quick["importance"] == {}
    complete = _get(api + "/charts?complete=true")
    assert "partial" not in complete and complete["importance"]
    assert complete["terminations"]["count"] > 0
    assert _get(api + "/charts") == complete
    assert {k: v for k, v in quick.items() if k in ("history", "sample")} == \
        {k: v for k, v in complete.items() if k in ("history", "sample")}
    # the charts of a sweep not read yet: partial at once, or complete once it is read
    fresh = serve(workspace, first_screen_from=0)
    api = f"{fresh.url}/api/sweeps/{sweep_id}"
    assert _get(api + "/charts")["partial"] is True
    assert _get(api + "/charts?complete=true") == complete
    # a small sweep (under first_screen_from) is read at once
    small = serve(workspace)
    assert "partial" not in _get(f"{small.url}/api/sweeps/{sweep_id}")


def test_page_shows_the_first_screen_then_the_full_one(
        synthetic: tuple[Workspace, str], serve: Callable[..., ServerThread], page: Any) -> None:
    workspace, sweep_id = synthetic
    server = serve(workspace, first_screen_from=0)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.split(sweep_id, 1)[-1])
            if "/api/sweeps/" in r.url else None)
    open_page(page, f"{server.url}/sweeps/{sweep_id}")
    # the first screen is asked for before the charts; once they came, the complete charts,
    # then the full summary
    charts = asked.index("/charts")
    assert asked.index("") < charts and any(a.startswith("/trials") for a in asked[:charts])
    complete = asked.index("/charts?complete=true")
    assert charts < complete < len(asked) - 1 - asked[::-1].index("")
    assert asked.count("") >= 2
    assert page.evaluate("document.body.dataset.version") != "0"
    assert page.locator("#trials tbody tr").count() == 50
    assert page.locator("#chart-importance .bars path").count() == 4
    assert page.locator("#best-link").count() == 1
    assert not page.console.errors
