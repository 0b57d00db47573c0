"""Reading a trial's files without being led out of its folder.

A trial is untrusted code with write access to its own folder (``runs/<trial-id>/``): it may
replace ``stdout.log`` or ``work/outputs`` — or any folder on the way — with a symbolic link
to ``/etc/passwd`` or ``/``. Everything that shows a trial's files to someone (the dashboard,
``hypersweep logs``) therefore goes through this module:

- `open_trial_file` (and `read_trial_file`, a bounded read) open one file the way
  :mod:`hypersweep.tracking.safe_open` does: the real path must stay inside the trial folder,
  and it is opened one component at a time with ``O_NOFOLLOW``, so a link swapped in between
  the check and the open is refused, not followed. Only regular files open.
- `list_trial_files` walks a folder without following any link to a folder, visits at most
  `MAX_VISITED` entries, and lists regular files plus links to regular files that stay inside
  the trial folder.
- `replace_trial_file` writes one of the records hypersweep keeps in a trial's folder, never
  through a link (`create_in_folder` writes one into a folder just made).
- `open_in_folder` (from :mod:`hypersweep.tracking.safe_open`, which the journal reader shares)
  opens one file by name through a descriptor held on the trial's folder.

Policy on links: a link whose target stays inside the trial's folder (``outputs/best.pt ->
checkpoints/epoch3.pt``) is served and listed, as the file it points to; a link that leaves
the folder, or points at anything but a regular file, is refused and not listed.

Examples
--------
>>> import os, tempfile
>>> from pathlib import Path
>>> trial = Path(tempfile.mkdtemp())
>>> _ = (trial / "stdout.log").write_text("epoch 1\\n")
>>> os.symlink("/etc/passwd", trial / "stderr.log")  # leaves the folder: not listed
>>> list_trial_files(trial)
([TrialFile(path='stdout.log', size=8)], False)
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import deque
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hypersweep.tracking.safe_open import (
    DIRECTORY_FLAGS,
    UnsafePathError,
    open_in_folder,
    open_trial_file,
    open_without_links,
    read_trial_file,
    resolve_inside,
    trial_folder,
)

__all__ = [
    "MAX_VISITED",
    "TrialFile",
    "UnsafePathError",
    "create_in_folder",
    "list_trial_files",
    "open_in_folder",
    "open_trial_file",
    "read_trial_file",
    "replace_in_folder",
    "replace_trial_file",
]

#: Most directory entries a listing looks at (a trial that writes a million files, or a
#: deep tree, is listed in bounded time; the listing then says it is truncated).
MAX_VISITED = 20_000


@dataclass(frozen=True)
class TrialFile:
    """One file of a listing: its path relative to the listed folder, and its size."""

    path: str
    size: int


def replace_trial_file(root: str | os.PathLike[str], name: str, data: bytes) -> None:
    """Write ``root / name`` whole (temporary file + rename), never through a link.

    The controller writes a few records into a trial's folder (``launching`` when the
    folder was there before, ``exit_status``), which the trial can write too: a link or FIFO
    it put at the record's name, or at the temporary name, is replaced, never followed or
    opened.

    Raises
    ------
    OSError
        The folder is not writable, or is itself a link (`UnsafePathError`).
    """
    _, root_real = trial_folder(root)
    folder = open_without_links(root_real, (), DIRECTORY_FLAGS)
    try:
        replace_in_folder(folder, name, data)
    finally:
        os.close(folder)


def replace_in_folder(folder: int, name: str, data: bytes) -> None:
    """`replace_trial_file` in the folder open as descriptor ``folder`` (opened with
    `DIRECTORY_FLAGS` by whoever made it), without resolving its path again."""
    if "/" in name or name in ("", ".", ".."):
        raise UnsafePathError(f"{name!r} is not a file name")
    tmp = f".{name}.{os.getpid()}.tmp"
    try:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            os.unlink(tmp, dir_fd=folder)
        # O_EXCL: whatever the trial put back at the temporary name is refused, not followed
        create_in_folder(folder, tmp, data)
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
        raise


def create_in_folder(folder: int, name: str, data: bytes) -> None:
    """Write a new file ``name`` in the folder open as ``folder``: for a folder just made,
    where nothing can be at that name yet, one file's creation where `replace_in_folder`
    makes a temporary file and renames it. Never through a link; ``FileExistsError`` if
    anything is at ``name``. A write that fails leaves the file part-written: for a marker,
    whose contents nobody relies on, not for a record.

    Examples
    --------
    >>> import tempfile
    >>> from hypersweep.tracking.safe_open import DIRECTORY_FLAGS
    >>> trial = tempfile.mkdtemp()
    >>> fd = os.open(trial, DIRECTORY_FLAGS)
    >>> create_in_folder(fd, "launching", b"1.5\\n")
    >>> create_in_folder(fd, "launching", b"2.5\\n")
    Traceback (most recent call last):
    ...
    FileExistsError: [Errno 17] File exists: 'launching'
    >>> os.close(fd)
    """
    if "/" in name or name in ("", ".", ".."):
        raise UnsafePathError(f"{name!r} is not a file name")
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o644, dir_fd=folder)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def list_trial_files(
    root: str | os.PathLike[str], folder: str | os.PathLike[str] = ".",
    limit: int = 10_000, max_visited: int = MAX_VISITED,
) -> tuple[list[TrialFile], bool]:
    """Regular files under ``root / folder`` (paths relative to it), sorted, and whether the
    listing was cut short (more than ``limit`` files, or ``max_visited`` entries looked at).

    No link to a folder is followed; a link to a file is listed when it stays inside
    ``root`` (see the module's policy). A missing folder lists nothing.

    Raises
    ------
    UnsafePathError
        ``folder`` itself leads out of ``root``.

    Examples
    --------
    >>> import tempfile
    >>> trial = Path(tempfile.mkdtemp())
    >>> (trial / "out" / "sub").mkdir(parents=True)
    >>> _ = (trial / "out" / "sub" / "m.txt").write_text("w")
    >>> list_trial_files(trial, "out")
    ([TrialFile(path='sub/m.txt', size=1)], False)
    """
    path, root_real = trial_folder(root)
    if not os.path.lexists(os.path.join(path, folder)):
        return [], False
    base = resolve_inside(root_real, path, folder)
    try:
        top = open_without_links(root_real, base.parts, DIRECTORY_FLAGS)
    except FileNotFoundError:
        return [], False
    except NotADirectoryError:
        raise UnsafePathError(f"{folder} is not a folder") from None
    files: list[TrialFile] = []
    visited, truncated = 0, False
    pending: deque[tuple[int, PurePosixPath]] = deque([(top, PurePosixPath())])
    try:
        while pending:
            fd, where = pending.popleft()
            try:
                with os.scandir(fd) as entries:
                    for entry in entries:
                        visited += 1
                        if visited > max_visited or len(files) >= limit:
                            truncated = True
                            break
                        name = where / entry.name
                        info = entry.stat(follow_symlinks=False)
                        if stat.S_ISREG(info.st_mode):
                            files.append(TrialFile(str(name), info.st_size))
                        elif stat.S_ISDIR(info.st_mode):
                            try:
                                child = os.open(entry.name, DIRECTORY_FLAGS, dir_fd=fd)
                            except OSError:
                                continue  # gone, or swapped for a link meanwhile
                            pending.append((child, name))
                        elif stat.S_ISLNK(info.st_mode):
                            size = _link_size(path, base / name)
                            if size is not None:
                                files.append(TrialFile(str(name), size))
            finally:
                os.close(fd)
            if truncated:
                break
    finally:
        for fd, _ in pending:
            os.close(fd)
    return sorted(files, key=lambda f: f.path), truncated


def _link_size(root: Path, relative: PurePosixPath) -> int | None:
    """The size of the regular file a link leads to inside the root, else None."""
    try:
        with open_trial_file(root, relative) as handle:
            return os.fstat(handle.fileno()).st_size
    except OSError:
        return None
