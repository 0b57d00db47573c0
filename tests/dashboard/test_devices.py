"""The devices and cores a trial held, on the dashboard: the trial page says which, the sweep
page's table has a Devices column only when some trial held any (JSON API, and in real
headless Chromium)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.dashboard.handmade_sweeps import make_sweep
from tests.dashboard.pages import open_page
from tests.dashboard.raw_http import get_json

from hypersweep import Workspace
from hypersweep.dashboard import ServerThread, views
from hypersweep.dashboard.cache import SweepCache
from hypersweep.store import Status

PLACED = [{"gpus": [2], "cores": [4, 5]}, {"gpus": [0, 1, 3], "cores": []}, None]


def test_api_carries_the_placement_and_its_text(tmp_path: Path,
                                                serve: Callable[..., ServerThread]) -> None:
    workspace = Workspace(tmp_path / "ws")
    placed = make_sweep(workspace.store, [0.3, 0.2, 0.1], placements=PLACED)
    plain = make_sweep(workspace.store, [0.3, 0.2], name="plain")
    server = serve(workspace)
    assert get_json(server, f"/api/sweeps/{placed}")["placed"] is True
    assert get_json(server, f"/api/sweeps/{plain}")["placed"] is False
    rows = get_json(server, f"/api/sweeps/{placed}/trials")["rows"]
    assert [r["placement"] for r in rows] == PLACED
    assert [r["devices"] for r in rows] == ["gpu 2 · cores 4-5", "gpus 0-1,3", None]
    trial = get_json(server, f"/api/trials/{placed}_0")
    assert (trial["placement"], trial["devices"]) == (PLACED[0], "gpu 2 · cores 4-5")
    assert get_json(server, f"/api/trials/{plain}_0")["devices"] is None


def test_a_trial_placed_while_the_page_is_live_adds_the_column(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    store = workspace.store
    sweep_id = make_sweep(store, [None, None], statuses=[Status.RUNNING] * 2)
    store.update_sweep(sweep_id, status=Status.RUNNING, end_time=None)
    cache = SweepCache(store, sweep_id, min_interval=0)
    assert views.sweep_summary(cache.snapshot())["placed"] is False
    store.update_trial(f"{sweep_id}_1", placement={"gpus": [1], "cores": [2, 3]})
    snap = cache.snapshot()  # an incremental refresh: running trials are read again
    assert views.sweep_summary(snap)["placed"] is True
    assert views.table(snap)["rows"][1]["devices"] == "gpu 1 · cores 2-3"


def _headers(page: Any) -> list[str]:
    return [h.strip() for h in page.locator("#trials thead th").all_inner_texts()]


@pytest.mark.slow  # loads pages in Chromium
def test_pages_show_devices_in_chromium(tmp_path: Path, serve: Callable[..., ServerThread],
                                        page: Any) -> None:
    workspace = Workspace(tmp_path / "ws")
    placed = make_sweep(workspace.store, [0.3, 0.2, 0.1], placements=PLACED)
    plain = make_sweep(workspace.store, [0.3, 0.2], name="plain")
    server = serve(workspace)

    open_page(page, f"{server.url}/sweeps/{placed}")
    headers = _headers(page)
    assert "Devices" in headers and headers[-2:] == ["Duration", "Reason"]
    column = headers.index("Devices")
    cells = [row.locator("td").nth(column).inner_text()
             for row in page.locator("#trials tbody tr").all()]
    assert cells == ["gpu 2 · cores 4-5", "gpus 0-1,3", ""]

    open_page(page, f"{server.url}/trials/{placed}_0")
    state = page.locator("#state").inner_text()
    assert "devices" in state and "gpu 2 · cores 4-5" in state

    open_page(page, f"{server.url}/sweeps/{plain}")
    assert "Devices" not in _headers(page) and len(_headers(page)) > 3
    open_page(page, f"{server.url}/trials/{plain}_0")
    assert "devices" not in page.locator("#state").inner_text()
    assert not [e for e in page.console.errors if "Failed to load resource" not in e]
