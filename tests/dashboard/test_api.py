"""The JSON API through a real server: paging, ETags, files, token, Host check, cancel."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.dashboard.raw_http import get_json, request

from hypersweep import Workspace
from hypersweep.dashboard import ServerThread, create_app, views
from hypersweep.dashboard import app as app_module


def test_sweep_endpoints_and_etag(synthetic: tuple[Workspace, str],
                                  serve: Callable[..., ServerThread]) -> None:
    workspace, sweep_id = synthetic
    server = serve(workspace)
    listed = get_json(server, "/api/sweeps")["sweeps"]
    assert [s["id"] for s in listed] == [sweep_id] and listed[0]["trials"] == 60
    status, headers, body = request(server, f"/api/sweeps/{sweep_id}")
    summary = json.loads(body)
    assert summary["metric"] == "accuracy" and summary["config"]["early_termination"]
    assert not summary["allow_cancel"]
    again, _, empty = request(server, f"/api/sweeps/{sweep_id}",
                              headers={"If-None-Match": headers["etag"]})
    assert (status, again, empty) == (200, 304, b"")
    page = get_json(server, f"/api/sweeps/{sweep_id}/trials?sort=best&desc=true&limit=5"
                            "&status=Completed,Canceled&range=dropout:0:0.6")
    assert len(page["rows"]) == 5 and page["matched"] <= 60
    bad, _, _ = request(server, f"/api/sweeps/{sweep_id}/trials?range=dropout:x:1")
    assert bad == 400
    charts = get_json(server, f"/api/sweeps/{sweep_id}/charts")
    assert charts["history"]["scored"] == 60
    assert get_json(server, f"/api/sweeps/{sweep_id}/curves?metric=loss")["metric"] == "loss"
    assert request(server, "/api/sweeps/HD_nope")[0] == 404
    schema = get_json(server, "/api/openapi.json")
    assert "/api/sweeps/{sweep_id}/trials" in schema["paths"]


def test_trial_endpoints_log_and_outputs(synthetic: tuple[Workspace, str],
                                         serve: Callable[..., ServerThread]) -> None:
    workspace, sweep_id = synthetic
    trial = workspace.store.list_trials(sweep_id)[1]
    folder = workspace.trial_dir(trial.id)
    (folder / "work" / "outputs" / "sub").mkdir(parents=True)
    (folder / "work" / "outputs" / "sub" / "model.txt").write_text("weights")
    (folder / "stdout.log").write_text("".join(f"line {i}\n" for i in range(20_000)))
    server = serve(workspace)
    detail = get_json(server, f"/api/trials/{trial.id}")
    assert detail["command"].startswith("cd /src && python train.py --epochs 50 --learning_rate ")
    assert detail["metrics"]["accuracy"]["count"] == 10 and detail["primary_metric"] == "accuracy"
    tail = get_json(server, f"/api/trials/{trial.id}/log")
    assert tail["start"] > 0 and tail["text"].endswith("line 19999\n") and not tail["running"]
    follow = get_json(server, f"/api/trials/{trial.id}/log?offset={tail['size'] - 11}")
    assert follow["text"] == "line 19999\n"
    files = get_json(server, f"/api/trials/{trial.id}/outputs")["files"]
    assert files == [{"path": "sub/model.txt", "size": 7}]
    status, headers, body = request(server, f"/api/trials/{trial.id}/outputs/sub/model.txt")
    assert (status, body) == (200, b"weights") and "attachment" in headers["content-disposition"]


def test_path_traversal_is_refused(synthetic: tuple[Workspace, str],
                                   serve: Callable[..., ServerThread], tmp_path: Path) -> None:
    workspace, sweep_id = synthetic
    trial = workspace.store.list_trials(sweep_id)[0]
    outputs = workspace.trial_dir(trial.id) / "work" / "outputs"
    outputs.mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    os.symlink(secret, outputs / "link.txt")
    server = serve(workspace)
    base = f"/api/trials/{trial.id}/outputs/"
    for attack in ["../../../../../../etc/passwd", "..%2F..%2F..%2Fstdout.log",
                   "%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt", quote(str(secret), safe=""),
                   "link.txt", "..%5c..%5cstdout.log"]:
        status, _, body = request(server, base + attack)
        assert status in (403, 404), (attack, status)
        assert b"secret" not in body and b"root:" not in body
    listed = get_json(server, f"/api/trials/{trial.id}/outputs")["files"]
    assert listed == []  # the symlink out of the folder is not even listed
    assert request(server, f"/api/trials/{trial.id}/log?stream=../../etc/passwd")[0] == 400


def test_token_required_when_given(synthetic: tuple[Workspace, str],
                                   serve: Callable[..., ServerThread]) -> None:
    workspace, _ = synthetic
    server = serve(workspace, token="s3cret-token")
    assert request(server, "/api/sweeps")[0] == 401
    assert request(server, "/")[0] == 401
    assert request(server, "/api/sweeps?token=wrong")[0] == 401
    bearer = {"Authorization": "Bearer s3cret-token"}
    assert request(server, "/api/sweeps", headers=bearer)[0] == 200
    status, headers, _ = request(server, "/?token=s3cret-token")
    assert status == 200 and "hypersweep_token=s3cret-token" in headers["set-cookie"]
    assert "HttpOnly" in headers["set-cookie"]
    cookie = {"Cookie": "hypersweep_token=s3cret-token"}
    assert request(server, "/api/sweeps", headers=cookie)[0] == 200
    # with a token any Host is fine (the server may be reached by its LAN name)
    assert request(server, "/api/sweeps", headers={**cookie, "Host": "gpu-box:8765"})[0] == 200


def test_loopback_server_refuses_foreign_host(synthetic: tuple[Workspace, str],
                                              serve: Callable[..., ServerThread]) -> None:
    workspace, _ = synthetic
    server = serve(workspace)
    assert request(server, "/api/sweeps", headers={"Host": "evil.example:8765"})[0] == 403
    assert request(server, "/api/sweeps", headers={"Host": "localhost:8765"})[0] == 200


def test_serve_beyond_loopback_generates_a_token(monkeypatch: Any, tmp_path: Path,
                                                 capsys: Any) -> None:
    import uvicorn

    from hypersweep.dashboard import server as server_module

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: seen.setdefault("app", self.config.app))
    server_module.serve(workspace=tmp_path / "ws", host="0.0.0.0", port=9999)
    printed = capsys.readouterr().out
    assert "http://0.0.0.0:9999/?token=" in printed and "(read-only)" in printed
    token = printed.split("token=")[1].split()[0]
    assert len(token) >= 24
    monkeypatch.undo()  # uvicorn.Server.run again: serve the app serve() built
    with ServerThread(seen["app"]) as server:  # the app serve() built demands that token
        assert request(server, "/api/sweeps")[0] == 401
        assert request(server, f"/api/sweeps?token={token}")[0] == 200


def test_cancel_needs_allow_cancel_and_the_action_header(
        any_workspace: Workspace, serve: Callable[..., ServerThread]) -> None:
    from hypersweep.dashboard.demo import synthesize_sweep
    from hypersweep.store import Status

    sweep_id = synthesize_sweep(any_workspace.store, "cancel-me", n_trials=3,
                                points_per_trial=2, status=Status.RUNNING)
    read_only = serve(any_workspace)
    action = {"X-Hypersweep-Action": "1"}
    assert request(read_only, f"/api/sweeps/{sweep_id}/cancel", "POST", action)[0] == 403
    writable = serve(any_workspace, allow_cancel=True)
    # a cross-site form cannot add the header: refused before anything happens
    assert request(writable, f"/api/sweeps/{sweep_id}/cancel", "POST")[0] == 403
    assert any_workspace.store.get_sweep(sweep_id).status is Status.RUNNING
    status, _, body = request(writable, f"/api/sweeps/{sweep_id}/cancel", "POST", action)
    assert status == 200 and json.loads(body)["status"] == "CancelRequested"
    assert any_workspace.store.get_sweep(sweep_id).status is Status.CANCEL_REQUESTED


def test_pages_load_the_vendored_partial_plotly_and_versioned_files(
        synthetic: tuple[Workspace, str], serve: Callable[..., ServerThread]) -> None:
    workspace, sweep_id = synthetic
    server = serve(workspace)
    vendor = Path(app_module.__file__).parent / "static" / "vendor" / "plotly"
    manifest = json.loads((vendor / "manifest.json").read_text())
    recipe = json.loads((vendor.parents[2] / "plotly-bundle" / "package.json").read_text())
    assert manifest["plotly.js"] == recipe["devDependencies"]["plotly.js"]
    assert (vendor / "LICENSE").read_text().startswith("MIT License")
    assets = app_module.plotly_assets()
    for page in (f"/sweeps/{sweep_id}", f"/trials/{sweep_id}_0"):
        status, _, body = request(server, page)
        html = body.decode()
        assert status == 200 and "plotly.min.js" not in html
        assert f'type="module" async src="{assets["base"]}" data-gl="{assets["gl"]}"' in html
        assert f'<link rel="modulepreload" href="{assets["preload"][0]}">' in html
    sizes = {}
    for url in [assets["base"], assets["gl"], *assets["preload"]]:
        status, headers, body = request(server, url)
        assert status == 200 and headers["cache-control"] == app_module.IMMUTABLE, url
        assert "javascript" in headers["content-type"]
        assert body.startswith(f"/*! plotly.js v{manifest['plotly.js']} ".encode())
        sizes[url] = len(body)
    # what a page needs before its first chart: 1.1 MB (the full plotly.min.js is 4.8 MB)
    assert sizes[assets["base"]] + sum(sizes[u] for u in assets["preload"]) < 1_200_000
    # the page's own files: a versioned URL is cached for good; bare or stale ones revalidate
    html = request(server, f"/sweeps/{sweep_id}")[2].decode()
    for name in ("sweep.js", "common.js", "dashboard.css"):
        found = re.search(rf'"(/static/{re.escape(name)}\?v=([0-9a-f]{{12}}))"', html)
        assert found is not None, name
        status, headers, body = request(server, found[1])
        assert status == 200 and headers["cache-control"] == app_module.IMMUTABLE
        assert hashlib.sha256(body).hexdigest()[:12] == found[2]
        for stale in (f"/static/{name}", f"/static/{name}?v=000000000000"):
            status, headers, _ = request(server, stale)
            assert status == 200 and headers["cache-control"] == "no-cache" and headers["etag"]
            again = request(server, stale, headers={"If-None-Match": headers["etag"]})
            assert again[0] == 304
    assert request(server, "/vendor/plotly.min.js")[0] == 404


def test_pages_do_not_wait_for_the_sweep_and_serve_warms_the_cache(
        synthetic: tuple[Workspace, str], monkeypatch: Any) -> None:
    workspace, sweep_id = synthetic
    app = create_app(store_url=workspace.store_url, workspace=workspace.path)
    with ServerThread(app) as server:
        assert request(server, f"/sweeps/{sweep_id}")[0] == 200
        assert app.state.dashboard._caches == {}  # one row read, not the sweep's trials
        assert request(server, "/sweeps/HD_nope")[0] == 404
        # chart bodies are encoded once per snapshot, whoever asks
        built: list[int] = []
        charts = views._charts
        monkeypatch.setattr(views, "_charts", lambda snap: built.append(1) or charts(snap))
        first = request(server, f"/api/sweeps/{sweep_id}/charts?complete=true")
        second = request(server, f"/api/sweeps/{sweep_id}/charts")
        assert first[0] == second[0] == 200 and first[2] == second[2] and built == [1]
    warm = create_app(store_url=workspace.store_url, workspace=workspace.path, warm=True)
    state = warm.state.dashboard
    deadline = time.monotonic() + 30
    while not (sweep_id in state._caches and state._caches[sweep_id]._snap is not None
               and ("curves", "accuracy") in state._caches[sweep_id]._snap.derived):
        assert time.monotonic() < deadline, "the warm-up did not read the sweep"
        time.sleep(0.05)
    assert "charts" in state._caches[sweep_id]._snap.derived
