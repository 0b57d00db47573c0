"""What a launch leaves in the trial folder to say it started a process, and how a restarted
controller reads it: the launch marker becomes the supervisor's record (no handle.json), a
folder written by an earlier version (with its handle.json) still resumes, and a crash between
the marker and the record reads as "not launched"."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hypersweep.execution import LocalProcessExecutor, TrialSpec
from hypersweep.execution.local import LAUNCH_GRACE, SUPERVISOR

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

Make = Callable[..., TrialSpec]

WAITS = "import time\nopen('ready', 'w').write('1\\n')\ntime.sleep(60)\n"


def _launch_and_lose_the_controller(spec: TrialSpec, h: Any) -> dict[str, Any]:
    """Launch ``spec``, wait until its script runs, then let the executor go (the trial runs
    on); the handle it returned."""
    first = LocalProcessExecutor()
    handle = first.launch(spec)
    h.wait_for_file(spec.workdir / "ready")
    first.shutdown()
    return handle


def _end_group(pgid: int) -> None:
    """SIGKILL the trial's process group, led by its supervisor, if it is still there."""
    assert pgid > 1 and pgid != os.getpgrp()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _long_ago(path: Path) -> None:
    """Date ``path`` beyond the launch grace: a supervisor would have renamed it by now."""
    then = time.time() - 10 * LAUNCH_GRACE
    os.utime(path, (then, then))


def test_the_launch_marker_becomes_the_supervisors_record(make_spec: Make, h: Any) -> None:
    spec = make_spec(WAITS)
    handle = _launch_and_lose_the_controller(spec, h)
    try:
        # no marker left, no temporary file, no handle.json: the record is all there is
        assert sorted(p.name for p in spec.trial_dir.iterdir()) == [
            "stderr.log", "stdout.log", "supervisor.json"]
        record = json.loads((spec.trial_dir / "supervisor.json").read_text())
        assert {k: record[k] for k in ("pid", "pgid", "start_ticks", "host", "boot_id")} == {
            k: handle[k] for k in ("pid", "pgid", "start_ticks", "host", "boot_id")}
        assert record["host"] == socket.gethostname()
        second = LocalProcessExecutor()
        assert second.launched(spec)
        assert second.adopt(spec, {}) is not None and second.running() == {spec.trial_id}
        second.stop(spec.trial_id, grace=0)
        assert h.wait_exit(second, spec.trial_id).exits[spec.trial_id].exit_code == -9
    finally:
        _end_group(handle["pgid"])


@pytest.mark.parametrize("host", ["this", "another-machine"])
def test_a_folder_written_by_the_previous_version_still_resumes(
    make_spec: Make, h: Any, host: str
) -> None:
    """The previous version kept ``launching``, wrote ``supervisor.json`` without the host
    and the executor's ``handle.json`` beside it: a restarted controller reads the handle,
    host included (a trial on another machine is not adopted by its pid here)."""
    spec = make_spec(WAITS)
    handle = _launch_and_lose_the_controller(spec, h)
    try:
        folder = spec.trial_dir
        record = json.loads((folder / "supervisor.json").read_text())
        old_record = {k: record[k] for k in ("pid", "pgid", "start_ticks", "cores")}
        (folder / "supervisor.json").write_text(json.dumps(old_record) + "\n")
        old_handle = dict(handle, host=handle["host"] if host == "this" else host)
        (folder / "handle.json").write_text(json.dumps(old_handle) + "\n")
        (folder / "launching").write_text(f"{handle['launched_at']!r}\n")
        _long_ago(folder / "launching")

        second = LocalProcessExecutor()
        assert second.launched(spec)  # it ran: never launched again
        found = second.adopt(spec, {})
        if host == "this":
            assert found is not None and found["host"] == handle["host"]
            assert (found["pid"], found["start_ticks"]) == (handle["pid"],
                                                           handle["start_ticks"])
            second.stop(spec.trial_id, grace=0)
            assert h.wait_exit(second, spec.trial_id).exits[spec.trial_id].exit_code == -9
        else:
            assert found is None and second.running() == set()
        second.shutdown()
    finally:
        _end_group(handle["pgid"])


def test_a_relaunch_in_an_old_folder_clears_its_handle(make_spec: Make, h: Any) -> None:
    """A stale ``handle.json`` (an earlier version's attempt) would name the wrong process."""
    spec = make_spec("pass\n")
    spec.trial_dir.mkdir()
    stale = {"executor": "local", "pid": 1, "pgid": 1, "start_ticks": 0, "host": "x"}
    (spec.trial_dir / "handle.json").write_text(json.dumps(stale) + "\n")
    executor = LocalProcessExecutor()
    handle = executor.launch(spec)
    assert h.wait_exit(executor, spec.trial_id).exits[spec.trial_id].exit_code == 0
    assert not (spec.trial_dir / "handle.json").exists()
    found = LocalProcessExecutor().adopt(spec, {})
    assert found is not None and found["pid"] == handle["pid"]
    executor.shutdown()


def test_a_supervisor_that_died_before_renaming_the_marker_never_launched(
    make_spec: Make,
) -> None:
    """What a supervisor killed between writing its record into the marker and renaming it
    leaves: the command was not started, and a restarted controller says so."""
    spec = make_spec("pass\n")
    spec.trial_dir.mkdir()
    marker = spec.trial_dir / "launching"
    marker.write_text('{"pid": 4194000, "pgid": 4194000, "start_ticks": 1, "cor')
    _long_ago(marker)
    executor = LocalProcessExecutor()
    assert not executor.launched(spec)
    assert executor.adopt(spec, {}) is None


def test_a_record_garbled_after_the_rename_still_reads_as_launched(make_spec: Make) -> None:
    """The rename comes just before the command starts: with the marker gone, a record the
    trial replaced with garbage still says the launch started something (it is not run
    twice), though no process can be adopted."""
    spec = make_spec("pass\n")
    spec.trial_dir.mkdir()
    (spec.trial_dir / "supervisor.json").write_text("garbage")
    executor = LocalProcessExecutor()
    assert executor.launched(spec)
    assert executor.adopt(spec, {}) is None


def test_the_record_is_read_again_when_the_marker_goes_meanwhile(
    make_spec: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The supervisor renames the marker between the look for its record and the look at the
    marker: the record is there then, and is found."""
    spec = make_spec("pass\n")
    spec.trial_dir.mkdir()
    pid = 2**22 + 12345  # read, never signalled (the test's own pid is refused: own_lineage)
    record = {"pid": pid, "pgid": pid, "start_ticks": None, "cores": []}
    (spec.trial_dir / "supervisor.json").write_text(json.dumps(record) + "\n")
    executor = LocalProcessExecutor()
    real = executor._record_in
    looks = []

    def first_look_too_early(trial_dir: Path) -> dict[str, Any] | None:
        looks.append(trial_dir)
        return None if len(looks) == 1 else real(trial_dir)

    monkeypatch.setattr(executor, "_record_in", first_look_too_early)
    found = executor._handle_from_files(spec.trial_dir.resolve())
    assert found is not None and found["pid"] == pid and len(looks) == 2


@pytest.mark.parametrize("marker", ["absent", "fifo", "link", "folder"])
def test_the_supervisor_records_itself_whatever_is_at_the_markers_name(
    tmp_path: Path, marker: str
) -> None:
    """Told of a marker that is not the file an executor made, the supervisor writes its
    record through a temporary file of its own, as without one; nothing blocks or is
    written through a link."""
    target = tmp_path / "elsewhere"
    target.write_text("untouched\n")
    at = tmp_path / "launching"
    if marker == "fifo":
        os.mkfifo(at)
    elif marker == "link":
        at.symlink_to(target)
    elif marker == "folder":
        at.mkdir()
    done = subprocess.run(
        [sys.executable, "-I", "-S", SUPERVISOR, "--host", 'odd "host"\n', "--marker",
         "launching", str(tmp_path), "--", sys.executable, "-c", "raise SystemExit(3)"],
        timeout=30, capture_output=True, check=False)
    assert done.returncode == 3, done.stderr
    record = json.loads((tmp_path / "supervisor.json").read_text())
    assert record["host"] == 'odd "host"\n' and "boot_id" not in record
    assert target.read_text() == "untouched\n"
    assert os.path.lexists(at) == (marker != "absent")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["elsewhere", "exit_status", "supervisor.json"] + ([] if marker == "absent"
                                                           else ["launching"]))
