"""Fixtures for the dashboard tests: synthetic and real sweeps, a live server, headless Chromium.

Browser tests drive the Debian ``chromium`` (``/usr/bin/chromium``) through Playwright; they
skip, saying why, only when that browser or the playwright package is missing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.dashboard.hostile import XSS, XSS_FILE

from hypersweep import Workspace
from hypersweep.dashboard import ServerThread, create_app
from hypersweep.dashboard.demo import synthesize_sweep

CHROMIUM = "/usr/bin/chromium"


def _browser_problem() -> str | None:
    if not os.path.exists(CHROMIUM) and shutil.which("chromium") is None:
        return "Debian chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Workspace:
    """An empty workspace whose store is a SQLite file or a fresh PostgreSQL database."""
    store = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    return Workspace(tmp_path / "ws", store=store)


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[Workspace, str]:
    """A workspace holding one finished synthetic sweep of 60 trials (20 points each)."""
    workspace = Workspace(tmp_path / "ws")
    sweep_id = synthesize_sweep(workspace.store, "synthetic", n_trials=60, points_per_trial=20)
    return workspace, sweep_id


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Workspace, str]:
    """A sweep whose experiment name, a parameter value, a metric name and log are markup."""
    from datetime import datetime, timezone

    from hypersweep.store import MetricPoint

    workspace = Workspace(tmp_path / "ws")
    sweep_id = synthesize_sweep(workspace.store, XSS, n_trials=8, points_per_trial=6,
                                extra_params={XSS: XSS})
    trial = workspace.store.list_trials(sweep_id)[0]
    now = datetime.now(timezone.utc)
    workspace.store.add_metrics(trial.id, [
        MetricPoint(1000, 0, XSS, 0, 1.0, None, "scalar", now),
        MetricPoint(1001, 0, "note", 0, None, json.dumps(XSS), "scalar", now)])
    folder = workspace.trial_dir(trial.id)
    (folder / "work" / "outputs").mkdir(parents=True)
    (folder / "stdout.log").write_text(f"epoch 1 {XSS}\n<img src=x onerror=alert(2)>\n")
    (folder / "work" / "outputs" / f"{XSS_FILE}.txt").write_text("x")
    return workspace, sweep_id


@pytest.fixture
def serve() -> Iterator[Callable[..., ServerThread]]:
    """Start dashboards in background threads: ``serve(workspace, **create_app_kwargs)``."""
    servers: list[ServerThread] = []

    def start(workspace: Workspace, host: str = "127.0.0.1", **kwargs: Any) -> ServerThread:
        app = create_app(store_url=workspace.store_url, workspace=workspace.path, **kwargs)
        server = ServerThread(app, host=host).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = _browser_problem()
    if problem is not None:
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


class Console:
    """Console errors, uncaught exceptions and dialogs a page produced."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.console = Console(page)
    page.set_default_timeout(30_000)
    yield page
    context.close()
