"""Fixtures: a workspace on each record backend (memory, SQLite file, real PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypersweep import Workspace


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Workspace:
    if request.param == "memory":
        return Workspace(tmp_path / "ws", store="memory://")
    if request.param == "sqlite":
        return Workspace(tmp_path / "ws")
    return Workspace(tmp_path / "ws", store=request.getfixturevalue("postgres_url"))
