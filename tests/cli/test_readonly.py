"""A workspace that cannot be written (a read-only mount, an archived copy) can still be read.

The folder is made read-only for real: a read-only bind mount when this process may mount
(root in a container that allows it), else ``chattr +i`` (root), else ``chmod a-w`` (a user).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import Result
from tests.cli.project import Project

SWEEP = """\
type: sweep
trial:
  command: python train.py --x ${{search_space.x}}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
sampling_algorithm: {type: random, seed: 3}
objective: {primary_metric: score, goal: maximize}
limits: {max_total_trials: 3}
"""


def _run(*args: str) -> bool:
    return subprocess.run(args, capture_output=True).returncode == 0


@contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """``folder`` seen read-only: yields the path to read it by."""
    if os.geteuid() == 0:
        view = folder.with_name(folder.name + "-ro")
        view.mkdir()
        if _run("mount", "--bind", str(folder), str(view)):
            try:
                if _run("mount", "-o", "remount,ro,bind", str(view)):
                    yield view
                    return
            finally:
                # lazily: stores opened by in-process commands may still hold the file open
                _run("umount", "-l", str(view))
        if shutil.which("chattr") and _run("chattr", "-R", "+i", str(folder)):
            try:
                yield folder
            finally:
                _run("chattr", "-R", "-i", str(folder))
            return
        pytest.skip("root without mount or chattr: cannot make a folder read-only here")
    _run("chmod", "-R", "a-w", str(folder))
    try:
        yield folder
    finally:
        _run("chmod", "-R", "u+w", str(folder))


def _check_writes_refused(folder: Path) -> None:
    with pytest.raises(OSError):
        (folder / "probe").write_text("x")


@pytest.fixture
def finished_sweep(project: Project) -> str:
    """A sweep run by a real `hypersweep run` that exited (so no WAL files are left)."""
    project.write(SWEEP)
    result = subprocess.run(["hypersweep", "run", "sweep.yml", "--json"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["sweep_id"])


def _read_everything(invoke: Callable[..., Result], workspace: Path, sweep_id: str) -> None:
    where = ("--workspace", str(workspace))
    listed = invoke("ls", "--json", *where)
    assert listed.exit_code == 0, listed.stderr
    assert [s["sweep_id"] for s in json.loads(listed.stdout)] == [sweep_id]
    shown = invoke("show", sweep_id[:11], "--json", *where)
    assert shown.exit_code == 0, shown.stderr
    assert len(json.loads(shown.stdout)["trials"]) == 3
    assert invoke("show", sweep_id, *where).exit_code == 0
    best = invoke("best", sweep_id, "--json", *where)
    assert best.exit_code == 0, best.stderr
    assert json.loads(best.stdout)["run_id"].startswith(sweep_id)
    exported = invoke("export", sweep_id, "--format", "json", *where)
    assert exported.exit_code == 0, exported.stderr
    assert len(json.loads(exported.stdout)) == 3
    logs = invoke("logs", f"{sweep_id}_0", *where)
    assert logs.exit_code == 0, logs.stderr
    assert "trained" in logs.stdout


def test_read_commands_on_a_read_only_workspace(
    project: Project, invoke: Callable[..., Result], finished_sweep: str,
) -> None:
    assert not (project.workspace / "hypersweep.db-wal").exists()
    with read_only(project.workspace) as view:
        _check_writes_refused(view)
        _read_everything(invoke, view, finished_sweep)
        assert sorted(p.name for p in view.iterdir()) == [
            "hypersweep.db", "runs", "shims", "snapshots"]


def test_read_only_copy_taken_while_a_writer_had_it_open(
    project: Project, invoke: Callable[..., Result], finished_sweep: str, tmp_path: Path,
) -> None:
    """The -wal and -shm files are in the copy: what the WAL holds must be read too."""
    db = project.workspace / "hypersweep.db"
    writer = sqlite3.connect(db)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        # a change that lives only in the WAL (no checkpoint before the copy)
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("UPDATE sweeps SET experiment = 'renamed'")
        writer.commit()
        copy = tmp_path / "copy"
        shutil.copytree(project.workspace, copy)
    finally:
        writer.close()
    assert (copy / "hypersweep.db-wal").stat().st_size > 0
    with read_only(copy) as view:
        _read_everything(invoke, view, finished_sweep)
        listed = json.loads(invoke("ls", "--json", "--workspace", str(view)).stdout)
        assert listed[0]["experiment"] == "renamed"


def test_writing_to_a_read_only_workspace_is_one_line(
    project: Project, invoke: Callable[..., Result], finished_sweep: str,
) -> None:
    with read_only(project.workspace) as view:
        result = invoke("run", "sweep.yml", "--workspace", str(view))
        assert result.exit_code == 1
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (
            result.stderr)
        assert "read-only" in result.stderr


def test_a_database_being_created_is_read_by_migrating_it(
    project: Project, invoke: Callable[..., Result],
) -> None:
    """`ls` racing the first `run` finds an empty database file: where the folder can be
    written, the read command migrates it as the run would, rather than failing."""
    project.workspace.mkdir()
    (project.workspace / "hypersweep.db").touch()
    listed = invoke("ls", "--json")
    assert (listed.exit_code, listed.stdout, listed.stderr) == (0, "[]\n", "")


def test_ls_while_the_first_run_migrates_the_database(
    project: Project, invoke: Callable[..., Result],
) -> None:
    """The next moment of that race: the database is in WAL mode and its creator holds the
    write lock to migrate it. `ls` waits for the lock (the busy timeout) instead of failing
    with 'attempt to write a readonly database'."""
    import threading

    project.workspace.mkdir()
    creator = sqlite3.connect(project.workspace / "hypersweep.db", isolation_level=None,
                              check_same_thread=False)
    creator.execute("PRAGMA journal_mode=WAL")
    creator.execute("BEGIN IMMEDIATE")
    creator.execute("CREATE TABLE being_created (x)")  # uncommitted, as a migration is
    release = threading.Timer(0.5, lambda: creator.execute("COMMIT"))
    release.start()
    try:
        listed = invoke("ls", "--json")
    finally:
        release.join()
        creator.close()
    assert (listed.exit_code, listed.stdout, listed.stderr) == (0, "[]\n", "")


@pytest.mark.slow
def test_dashboard_of_a_read_only_workspace(project: Project, finished_sweep: str) -> None:
    import importlib.util
    import socket
    import time
    import urllib.error
    import urllib.request

    if importlib.util.find_spec("uvicorn") is None:
        pytest.skip("the dashboard extra is not installed")
    with read_only(project.workspace) as view:
        refused = subprocess.run(["hypersweep", "ui", "--workspace", str(view), "--port", "0",
                                  "--allow-cancel"], capture_output=True, text=True, timeout=60)
        assert (refused.returncode, refused.stderr) == (
            1, f"error: workspace {view} is read-only: --allow-cancel needs to record "
               "cancels there\n")
        with socket.socket() as probe:  # a free port for the real server
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        ui = subprocess.Popen(["hypersweep", "ui", "--workspace", str(view), "--port",
                               str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sweeps",
                                                timeout=5) as response:
                        sweeps = json.loads(response.read())
                    break
                except urllib.error.URLError:
                    assert ui.poll() is None, ui.communicate()[0]
                    assert time.monotonic() < deadline, "ui did not start"
                    time.sleep(0.2)
        finally:
            ui.terminate()
            ui.wait(timeout=20)
        assert finished_sweep in json.dumps(sweeps)
