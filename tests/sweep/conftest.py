"""Fixtures for whole sweeps: a workspace on SQLite or PostgreSQL, and trial scripts."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hypersweep import Experiment, Workspace


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Workspace:
    """A workspace in tmp_path whose store is a real SQLite file or a real PostgreSQL db."""
    store = None
    if request.param == "postgres":
        store = request.getfixturevalue("postgres_url")
    return Workspace(tmp_path / "ws", store=store)


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def experiment(workspace: Workspace) -> Experiment:
    return Experiment(workspace, "test")


@pytest.fixture
def make_source(tmp_path: Path) -> Callable[[str], Path]:
    """Write a training script ``train.py`` into a fresh source folder; return the folder."""
    counter = iter(range(1000))

    def make(body: str, name: str = "train.py") -> Path:
        source = tmp_path / f"src{next(counter)}"
        source.mkdir()
        (source / name).write_text(textwrap.dedent(body))
        return source

    return make


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)
