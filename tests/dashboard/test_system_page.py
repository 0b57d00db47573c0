"""What a trial used of its machine, on the dashboard: the JSON API draws its system.jsonl
(bounded, revalidated, never through a link the trial put there) and the trial page charts it
(in real headless Chromium)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.dashboard.handmade_sweeps import make_sweep
from tests.dashboard.pages import open_page
from tests.dashboard.raw_http import get_json, request

from hypersweep import Workspace
from hypersweep.api.run import Run
from hypersweep.dashboard import ServerThread
from hypersweep.execution import layout


def sample(t: float, gpu: bool = False) -> dict[str, Any]:
    line: dict[str, Any] = {"time": 1_700_000_000.0 + t, "cpu_percent": 95.0 + t % 3,
                            "rss_mib": 100.0 + t, "processes": 2}
    if gpu:
        line.update({"gpus": [2], "gpu_util_percent": 70.0, "gpu_memory_mib": 3000.0 + t,
                     "gpu_memory_total_mib": 40960.0, "gpu_memory_of": "processes"})
    return line


def write_samples(workspace: Workspace, trial_id: str, lines: list[dict[str, Any]],
                  garbage: bytes = b"") -> Path:
    folder = workspace.trial_dir(trial_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / layout.SYSTEM
    path.write_bytes(garbage + b"".join(json.dumps(x).encode() + b"\n" for x in lines))
    return path


def test_api_serves_the_samples_and_revalidates(tmp_path: Path,
                                                serve: Callable[..., ServerThread]) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [0.3, 0.2, 0.1],
                          placements=[{"gpus": [2], "cores": []}, None, None])
    write_samples(workspace, f"{sweep_id}_0", [sample(i, gpu=True) for i in range(5000)],
                  garbage=b"not json\n" + b"[" * 50_000 + b"\n")
    write_samples(workspace, f"{sweep_id}_1", [sample(i) for i in range(3)])
    server = serve(workspace)

    gpu = get_json(server, f"/api/trials/{sweep_id}_0/system")
    assert gpu["count"] == 5000 and len(gpu["time"]) <= 2000
    assert gpu["time"][0] == 1_700_000_000.0 and gpu["time"][-1] == 1_700_004_999.0
    assert gpu["series"]["gpu_memory_mib"][-1] == 7999.0
    assert gpu["devices"] == {"gpus": [2], "gpu_memory_of": "processes",
                              "gpu_memory_total_mib": 40960.0}
    plain = get_json(server, f"/api/trials/{sweep_id}_1/system")
    assert sorted(plain["series"]) == ["cpu_percent", "processes", "rss_mib"]
    assert plain["devices"]["gpus"] == [] and plain["devices"]["gpu_memory_of"] is None
    assert get_json(server, f"/api/trials/{sweep_id}_2/system")["count"] == 0

    url = f"/api/trials/{sweep_id}_1/system"
    _, headers, _ = request(server, url)
    status, _, _ = request(server, url, headers={"If-None-Match": headers["etag"]})
    assert status == 304
    write_samples(workspace, f"{sweep_id}_1", [sample(i) for i in range(4)])
    assert get_json(server, url, headers={"If-None-Match": headers["etag"]})["count"] == 4
    assert request(server, "/api/trials/nope/system")[0] == 404


def test_a_system_file_linked_out_of_the_trial_folder_is_not_read(
        tmp_path: Path, serve: Callable[..., ServerThread]) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [0.3])
    outside = tmp_path / "outside.jsonl"
    outside.write_text(json.dumps({"time": 1.0, "cpu_percent": 1.0}) + "\n")
    folder = workspace.trial_dir(f"{sweep_id}_0")
    folder.mkdir(parents=True)
    os.symlink(outside, folder / layout.SYSTEM)
    assert Run(workspace, f"{sweep_id}_0").get_system_metrics() == []
    assert get_json(serve(workspace), f"/api/trials/{sweep_id}_0/system")["count"] == 0


@pytest.mark.slow  # loads pages in Chromium
def test_the_trial_page_charts_the_samples_in_chromium(
        tmp_path: Path, serve: Callable[..., ServerThread], page: Any) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [0.3, 0.2],
                          placements=[{"gpus": [2], "cores": []}, None])
    write_samples(workspace, f"{sweep_id}_0", [sample(i, gpu=True) for i in range(50)])
    server = serve(workspace)

    open_page(page, f"{server.url}/trials/{sweep_id}_0")
    section = page.locator("#system")
    assert section.is_visible()
    titles = page.locator("#system-charts h3").all_text_contents()
    assert [t.split(" ")[0] for t in titles] == ["CPU", "Memory", "Processes", "GPU", "GPU"]
    page.wait_for_function("document.querySelectorAll('#system-charts .main-svg').length >= 5")
    info = page.locator("#system-info").inner_text()
    assert "50 samples" in info and "GPU 2" in info and "its own processes" in info

    open_page(page, f"{server.url}/trials/{sweep_id}_1")  # no samples: no section
    assert not page.locator("#system").is_visible()
    assert not page.console.errors
