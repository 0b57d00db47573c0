"""Fixtures for the integration tests: workspaces, trial scripts, and whether MLflow is here."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hypersweep import Workspace


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Workspace:
    """A workspace in tmp_path whose store is a real SQLite file."""
    return Workspace(tmp_path / "ws")


@pytest.fixture
def make_source(tmp_path: Path) -> Callable[..., Path]:
    """Write a training script ``train.py`` into a fresh source folder; return the folder."""
    counter = iter(range(1000))

    def make(body: str, name: str = "train.py") -> Path:
        source = tmp_path / f"src{next(counter)}"
        source.mkdir()
        (source / name).write_text(textwrap.dedent(body))
        return source

    return make


@pytest.fixture(autouse=True)
def _no_trial_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests see no trial or MLflow variables from outside, and no cached run."""
    from hypersweep.tracking import context

    for key in list(os.environ):
        if key.startswith(("HYPERSWEEP_", "MLFLOW_")):
            monkeypatch.delenv(key)
    context._reset_context()
    yield
    context._reset_context()
