"""Fixtures for the command line: a project folder with a trial script, and a CLI runner."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.cli.project import TRAIN, Project

from hypersweep.cli import cli


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "proj"
    (root / "data").mkdir(parents=True)
    (root / "data" / "in.txt").write_text("hello\n")
    (root / "train.py").write_text(TRAIN)
    monkeypatch.chdir(root)
    monkeypatch.delenv("HYPERSWEEP_WORKSPACE", raising=False)
    monkeypatch.delenv("HYPERSWEEP_STORE", raising=False)
    # `python` in trial commands must be this interpreter (with hypersweep installed).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return Project(root)


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """Run ``hypersweep <args>`` in this process; stdout and stderr kept apart."""
    runner = CliRunner()

    def call(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return call
