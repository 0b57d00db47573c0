"""Source snapshots and per-trial working copies.

At submit, the user's source directory is copied once (:func:`snapshot_source`), so edits made
during a sweep never reach its trials. Each trial then runs in its own working copy of the
snapshot (:func:`prepare_workdir`) with an empty ``outputs/`` folder, as on Azure, where the
script runs in the snapshot and ``./outputs`` is the run's own.

Working copies are hard links to the snapshot's files (falling back to copies across
filesystems), so preparing a trial costs a directory walk, not a data copy. The one caveat: a
script that rewrites one of its *source* files in place (``open(existing, "w")``) changes it for
the snapshot too. New files, deleted files and files replaced by rename are private to the trial.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> root = Path(tempfile.mkdtemp())
>>> (root / "src").mkdir(); _ = (root / "src" / "train.py").write_text("print(1)")
>>> snap = snapshot_source(root / "src", root / "snap")
>>> work = prepare_workdir(snap, root / "trial0")
>>> sorted(p.name for p in work.iterdir())
['outputs', 'train.py']
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from hypersweep.execution.layout import OUTPUTS

__all__ = ["IGNORED_NAMES", "prepare_workdir", "snapshot_source"]

#: Folder and file names never copied into a snapshot: tool state, caches and version control.
IGNORED_NAMES = frozenset(
    {
        ".hypersweep",
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".ipynb_checkpoints",
    }
)


def _is_virtualenv(path: Path) -> bool:
    # Recognised by content, not name: "env/" may well be a user's own package.
    return (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir()


def _snapshot_ignore(dest: Path) -> Callable[[str, list[str]], set[str]]:
    dest_real = os.path.realpath(dest)

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            if name in IGNORED_NAMES or name.endswith((".pyc", ".pyo")):
                skipped.add(name)
                continue
            full = os.path.join(folder, name)
            # A destination inside the source would otherwise be copied into itself.
            if (
                os.path.isdir(full)
                and not os.path.islink(full)
                and (os.path.realpath(full) == dest_real or _is_virtualenv(Path(full)))
            ):
                skipped.add(name)
        return skipped

    return ignore


def snapshot_source(source_dir: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Copy ``source_dir`` to ``dest`` (which must not exist) and return ``dest``.

    Skips :data:`IGNORED_NAMES`, ``*.pyc`` files and virtual environments (folders holding a
    ``pyvenv.cfg`` or ``conda-meta``). Symbolic links are copied as links.

    Raises
    ------
    FileNotFoundError
        If ``source_dir`` does not exist or is not a directory.

    Examples
    --------
    >>> snapshot_source("/no/such/dir", "/tmp/x")
    Traceback (most recent call last):
    ...
    FileNotFoundError: source_directory '/no/such/dir' does not exist or is not a directory
    """
    src = Path(source_dir)
    if not src.is_dir():
        raise FileNotFoundError(
            f"source_directory '{source_dir}' does not exist or is not a directory"
        )
    out = Path(dest)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, out, symlinks=True, ignore=_snapshot_ignore(out))
    return out


def prepare_workdir(
    snapshot: str | os.PathLike[str], workdir: str | os.PathLike[str], link: bool = True
) -> Path:
    """Make a trial's working copy of ``snapshot`` at ``workdir``, with an empty ``outputs/``.

    Parameters
    ----------
    snapshot : path
        A folder made by :func:`snapshot_source`.
    workdir : path
        Where the copy goes. A folder already there (left by a launch that was interrupted
        before its process started) is replaced.
    link : bool
        Hard-link files (default; falls back to copying across filesystems or where links are
        not allowed). False copies every file.

    Returns
    -------
    Path
        ``workdir``.
    """
    snap, out = os.fspath(snapshot), os.fspath(workdir)
    if not os.path.isdir(snap):
        raise FileNotFoundError(f"snapshot '{snapshot}' does not exist or is not a directory")

    def link_or_copy(src: str, dst: str) -> str:
        nonlocal link
        if link:
            try:
                os.link(src, dst)
                return dst
            except OSError as err:
                if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                link = False  # one failure means every file will fail: stop trying
        return str(shutil.copy2(src, dst))

    def ignore(folder: str, names: list[str]) -> set[str]:
        # The trial's outputs start empty even if the snapshot has an outputs/ folder.
        # copytree names its top folder as given and every other one longer, so a string
        # test tells it: os.path.samefile's two stats a folder were most of a launch's copy.
        return {OUTPUTS} if folder == snap and OUTPUTS in names else set()

    if os.path.lexists(out):
        shutil.rmtree(out)
    shutil.copytree(snap, out, symlinks=True, copy_function=link_or_copy, ignore=ignore)
    os.mkdir(os.path.join(out, OUTPUTS))
    return Path(out)
