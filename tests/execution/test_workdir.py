"""Source snapshots and per-trial working copies."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from hypersweep.execution import prepare_workdir, snapshot_source


def _tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "train.py").write_text("print('v1')\n")
    (root / "pkg" / "mod.py").write_text("X = 1\n")
    (root / "data.csv").write_text("a,b\n1,2\n")
    (root / "outputs").mkdir()
    (root / "outputs" / "old.txt").write_text("stale")
    for skipped in (".git", ".hypersweep/runs", "__pycache__", "pkg/__pycache__", "myenv"):
        (root / skipped).mkdir(parents=True, exist_ok=True)
        (root / skipped / "f").write_text("x")
    (root / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "stale.pyc").write_bytes(b"\0")
    (root / "env").mkdir()  # a user's package named env is not a virtualenv: kept
    (root / "env" / "__init__.py").write_text("")
    os.symlink("data.csv", root / "link.csv")


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_snapshot_skips_tool_state_and_keeps_links(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tree(src)
    snap = snapshot_source(src, tmp_path / "snap")
    assert _files(snap) == {
        "train.py",
        "pkg",
        "pkg/mod.py",
        "data.csv",
        "outputs",
        "outputs/old.txt",
        "env",
        "env/__init__.py",
        "link.csv",
    }
    assert os.readlink(snap / "link.csv") == "data.csv"


def test_snapshot_isolation(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tree(src)
    snap = snapshot_source(src, tmp_path / "snap")
    work = prepare_workdir(snap, tmp_path / "w0")
    (src / "train.py").write_text("print('v2')\n")  # edits after submit
    (src / "new.py").write_text("")
    (src / "data.csv").unlink()
    assert (work / "train.py").read_text() == "print('v1')\n"
    assert (snap / "train.py").read_text() == "print('v1')\n"
    assert not (work / "new.py").exists() and (work / "data.csv").exists()


def test_workdir_links_files_and_has_empty_outputs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tree(src)
    snap = snapshot_source(src, tmp_path / "snap")
    w0 = prepare_workdir(snap, tmp_path / "w0")
    w1 = prepare_workdir(snap, tmp_path / "w1", link=False)
    for w in (w0, w1):
        assert list((w / "outputs").iterdir()) == []
        assert (w / "pkg" / "mod.py").read_text() == "X = 1\n"
        assert os.path.islink(w / "link.csv")
    assert os.path.samefile(w0 / "train.py", snap / "train.py")  # hard link, no data copied
    assert not os.path.samefile(w1 / "train.py", snap / "train.py")
    (w0 / "outputs" / "model.pt").write_text("w")
    assert not (w1 / "outputs" / "model.pt").exists()


def test_workdir_on_another_file_system_copies_what_it_cannot_link(tmp_path: Path) -> None:
    # A hard link across file systems fails with EXDEV: the copy falls back to copying, for
    # that file and every later one. A tmpfs is a real second file system on Linux.
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system (/dev/shm) to copy across")
    src = tmp_path / "src"
    _tree(src)
    snap = snapshot_source(src, tmp_path / "snap")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        work = prepare_workdir(snap, Path(other) / "w0")
        assert (work / "pkg" / "mod.py").read_text() == "X = 1\n"
        assert (work / "train.py").read_text() == "print('v1')\n"
        assert not os.path.samefile(work / "train.py", snap / "train.py")
        assert os.stat(snap / "train.py").st_nlink == 1  # nothing linked to the snapshot
        assert os.readlink(work / "link.csv") == "data.csv"
        assert list((work / "outputs").iterdir()) == []


def test_destination_inside_source(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tree(src)
    snap = snapshot_source(src, src / "snapshots" / "s1")
    assert not (snap / "snapshots" / "s1").exists()  # not copied into itself


def test_missing_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"source_directory .*nope"):
        snapshot_source(tmp_path / "nope", tmp_path / "snap")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match="not a directory"):
        snapshot_source(tmp_path / "file", tmp_path / "snap")
