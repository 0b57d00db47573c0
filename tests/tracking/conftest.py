"""Helpers for the tracking tests: run small scripts in real child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
if SRC not in sys.path:  # the package may not be installed in the test environment
    sys.path.insert(0, SRC)


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment with hypersweep importable and no trial variables inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERSWEEP_")}
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.fixture
def run_script(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Write ``code`` to a file and run it with ``sys.executable``; returns the finished process."""

    def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
        script = tmp_path / "script.py"
        script.write_text(code)
        return subprocess.run(
            [sys.executable, str(script)],
            env=child_env(**env),
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )

    return run


@pytest.fixture(autouse=True)
def _fresh_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test sees no trial environment and no cached run."""
    from hypersweep.tracking import context

    for key in list(os.environ):
        if key.startswith("HYPERSWEEP_"):
            monkeypatch.delenv(key)
    context._reset_context()
    yield
    context._reset_context()
