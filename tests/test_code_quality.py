"""The code checks the README promises, run with the tests so that CI keeps them true.

ruff (style and likely bugs), mypy (types, configured in pyproject.toml) and lint-imports (the
layer contracts of DESIGN.md, in pyproject.toml's ``[tool.importlinter]``) each run over the
checkout as a user would run them; a finding fails the test with the tool's own report.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*command: str) -> None:
    if shutil.which(command[0]) is None and command[0] != sys.executable:
        pytest.skip(f"{command[0]} is not installed (it comes with the test extra)")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def test_ruff_finds_nothing() -> None:
    _run("ruff", "check", "src", "tests")


@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    _run(sys.executable, "-m", "mypy")


def test_the_layer_contracts_hold() -> None:
    _run("lint-imports")
