"""A full disk during `hypersweep run` ends it with one line, not a screen of tracebacks.

The workspace lives on a real 1 MB tmpfs (this needs root where mounting is allowed; the test
is skipped otherwise) and trials log until the database cannot grow.
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.project import Project

CHATTY = """\
import argparse
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a, _ = p.parse_known_args()
run = Run.get_context()
for i in range(400):
    run.log("score", a.x + i)
    run.log_list("noise", [a.x * j for j in range(50)])
"""

SWEEP = """\
type: sweep
trial:
  command: python chatty.py --x ${{search_space.x}}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
sampling_algorithm: {type: random, seed: 1}
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: 40, max_concurrent_trials: 4}
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.mark.slow
def test_full_disk_is_one_line(project: Project, small_disk: Path) -> None:
    (project.root / "chatty.py").write_text(CHATTY)
    project.write(SWEEP)
    workspace = small_disk / "ws"
    result = subprocess.run(
        ["hypersweep", "run", "sweep.yml", "--workspace", str(workspace)],
        capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    match = re.fullmatch(r"error: disk full: cannot write to (.+) \(No space left on device\)",
                         lines[0])
    assert match, lines[0]
    assert Path(match.group(1)).is_relative_to(workspace)


def test_disk_full_messages() -> None:
    from hypersweep.cli._errors import disk_full_message
    from hypersweep.errors import StoreError

    err = OSError(28, os.strerror(28), "/data/ws/runs/x/stdout.log")
    assert disk_full_message(err) == (
        "disk full: cannot write to /data/ws/runs/x/stdout.log (No space left on device)")
    wrapped = StoreError("store sqlite:////data/my ws/hypersweep.db: database or disk is full")
    wrapped.__cause__ = RuntimeError("inner")
    assert disk_full_message(RuntimeError("outer")) is None
    chained = RuntimeError("controller stopped")
    chained.__cause__ = wrapped
    assert disk_full_message(chained) == (
        "disk full: cannot write to /data/my ws/hypersweep.db (No space left on device)")
    assert disk_full_message(OSError(2, "No such file or directory", "/x")) is None
    text = textwrap.dedent("""\
        not a store error: database or disk is full""")
    assert disk_full_message(RuntimeError(text)) == (
        "disk full: cannot write to the record store (No space left on device)")


def test_a_warning_with_an_exception_is_one_line_and_not_a_controller_death(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The controller warns about a trial it could not launch, exception attached: the CLI
    prints the warning alone and does not take it for what its controller died of."""
    import logging

    from hypersweep.cli._errors import capture_errors, captured

    with capture_errors():
        try:
            raise ValueError("embedded null byte")
        except ValueError as err:
            logging.getLogger("hypersweep.controller").warning(
                "trial T_0: cannot launch: %s", err, exc_info=err)
        assert captured() == []
        try:
            raise OSError(28, "No space left on device", "/ws/hypersweep.db")
        except OSError:
            logging.getLogger("hypersweep.controller").exception("controller of S stopped")
        assert [str(e) for e in captured()] == [
            "[Errno 28] No space left on device: '/ws/hypersweep.db'"]
    assert capfd.readouterr().err == "trial T_0: cannot launch: embedded null byte\n"


def test_debug_shows_the_tracebacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """HYPERSWEEP_DEBUG=1: Python's own reporting stays (no handler, no thread hook)."""
    import logging
    import threading

    from hypersweep.cli._errors import capture_errors

    logger = logging.getLogger("hypersweep")
    before, hook = list(logger.handlers), threading.excepthook
    with capture_errors():
        assert len(logger.handlers) == len(before) + 1 and threading.excepthook is not hook
    monkeypatch.setenv("HYPERSWEEP_DEBUG", "1")
    with capture_errors():
        assert logger.handlers == before and threading.excepthook is hook
