"""Where a launch puts a trial: resolved folders and working copies, as the records name them.

The executor resolves a trial folder's parent once and makes the folder itself; what a launch
finds already there (a launch tried again) is resolved in full. Either way the handle, the cwd
and the journal name the real folder, which is what ``/proc`` shows of the trial's output
(`writes_to`, which adoption trusts).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from hypersweep.execution import LocalProcessExecutor, TrialSpec, prepare_workdir
from hypersweep.execution.layout import trial_dir, workdir
from hypersweep.execution.processes import writes_to

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

SCRIPT = ("import json, os, time\nprint(json.dumps({'cwd': os.getcwd(), "
          "'journal': os.environ['HYPERSWEEP_JOURNAL']}))\ntime.sleep(float(os.environ['T']))\n")


def _snapshot(root: Path) -> Path:
    snap = root / "snap"
    (snap / "pkg").mkdir(parents=True)
    (snap / "train.py").write_text(SCRIPT)
    return snap


def _spec(workspace: Path, snap: Path, tid: str, seconds: float = 0.0) -> TrialSpec:
    folder = trial_dir(workspace, tid)
    return TrialSpec(tid, [sys.executable, "train.py"], {"T": str(seconds)}, workdir(folder),
                     folder, snapshot=snap)


def test_a_workspace_reached_through_a_link_is_named_by_its_real_path(
    tmp_path: Path, executor: LocalProcessExecutor, h: Any
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "ws").symlink_to(real)
    snap = _snapshot(tmp_path)
    for tid in ("HD_a_0", "HD_a_1"):  # the second from the parent resolved once
        handle = executor.launch(_spec(tmp_path / "ws", snap, tid, seconds=0.5))
        folder = real / "runs" / tid
        assert handle["trial_dir"] == str(folder)
        h.wait_for_file(folder / "supervisor.json")  # written once its output is in place
        assert writes_to(handle["pid"], folder / "stdout.log")
        exit_ = h.wait_exit(executor, tid).exits[tid]
        assert exit_.exit_code == 0, exit_.stderr_tail
        seen = json.loads((folder / "stdout.log").read_text())
        assert seen == {"cwd": str(folder / "work"), "journal": str(folder / "metrics.jsonl")}


def test_a_trial_folder_already_there_as_a_link_is_resolved_in_full(
    tmp_path: Path, executor: LocalProcessExecutor, h: Any
) -> None:
    snap = _snapshot(tmp_path)
    ws = tmp_path / "ws"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ws / "runs").mkdir(parents=True)
    (ws / "runs" / "HD_b_0").symlink_to(elsewhere)
    handle = executor.launch(_spec(ws, snap, "HD_b_0"))
    assert handle["trial_dir"] == str(elsewhere)
    assert h.wait_exit(executor, "HD_b_0").exits["HD_b_0"].exit_code == 0
    assert json.loads((elsewhere / "stdout.log").read_text())["cwd"] == str(elsewhere / "work")


def test_a_working_copy_replaces_what_was_there_and_keeps_folder_modes(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path)
    (snap / "pkg").chmod(0o750)
    (snap / "outputs").mkdir()
    (snap / "outputs" / "old.txt").write_text("stale")
    work = tmp_path / "trial" / "work"
    (work / "leftover").mkdir(parents=True)
    assert prepare_workdir(snap, work) == work
    assert sorted(p.name for p in work.iterdir()) == ["outputs", "pkg", "train.py"]
    assert list((work / "outputs").iterdir()) == []
    assert stat.S_IMODE(os.stat(work / "pkg").st_mode) == 0o750
    with pytest.raises(FileNotFoundError, match="snapshot"):
        prepare_workdir(tmp_path / "nope", tmp_path / "w2")
    assert not (tmp_path / "w2").exists()
