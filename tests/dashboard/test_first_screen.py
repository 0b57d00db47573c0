"""A big sweep's first screen, answered from the store's queries before its snapshot is read:
the same rows, counts and best trial as the snapshot's answers; in the browser, the page then
replaces them with the full ones."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from tests.dashboard.pages import open_page

from hypersweep import Workspace
from hypersweep.dashboard import ServerThread, first_screen, views
from hypersweep.dashboard.cache import SweepCache
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
    # the first screen is asked for before the charts; once they came, the full summary
    charts = asked.index("/charts")
    assert asked.index("") < charts and any(a.startswith("/trials") for a in asked[:charts])
    assert asked.count("") >= 2
    assert page.evaluate("document.body.dataset.version") != "0"
    assert page.locator("#trials tbody tr").count() == 50
    assert page.locator("#chart-importance .bars path").count() == 4
    assert page.locator("#best-link").count() == 1
    assert not page.console.errors
