"""Reading a trial's files without being led out of its folder.

A trial is untrusted code with write access to its own folder (``runs/<trial-id>/``): it may
replace ``stdout.log`` or ``work/outputs`` — or any folder on the way — with a symbolic link
to ``/etc/passwd`` or ``/``. Everything that shows a trial's files to someone (the dashboard,
``hypersweep logs``) therefore goes through this module:

- `open_trial_file` resolves the requested path (symlinks included), refuses it unless the
  real path stays inside the trial folder, then opens that real path one component at a time
  with ``O_NOFOLLOW`` relative to the folder it has already opened, so a link swapped in
  between the check and the open is refused too, not followed. Only regular files open
  (never a FIFO, which would block the reader, or a device).
- `list_trial_files` walks a folder without following any link to a folder, visits at most
  `MAX_VISITED` entries, and lists regular files plus links to regular files that stay inside
  the trial folder.

Policy on links: a link whose target stays inside the trial's folder (``outputs/best.pt ->
checkpoints/epoch3.pt``) is served and listed, as the file it points to; a link that leaves
the folder, or points at anything but a regular file, is refused and not listed.

Examples
--------
>>> import os, tempfile
>>> from pathlib import Path
>>> trial = Path(tempfile.mkdtemp())
>>> _ = (trial / "stdout.log").write_text("epoch 1\\n")
>>> with open_trial_file(trial, "stdout.log") as handle:
...     handle.read()
b'epoch 1\\n'
>>> os.symlink("/etc/passwd", trial / "stderr.log")
>>> open_trial_file(trial, "stderr.log")
Traceback (most recent call last):
...
hypersweep.execution.trial_files.UnsafePathError: stderr.log leads out of the trial folder
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections import deque
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

__all__ = [
    "MAX_VISITED",
    "TrialFile",
    "UnsafePathError",
    "list_trial_files",
    "open_trial_file",
    "read_trial_file",
    "replace_trial_file",
]

#: Most directory entries a listing looks at (a trial that writes a million files, or a
#: deep tree, is listed in bounded time; the listing then says it is truncated).
MAX_VISITED = 20_000

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO for reading would wait for a writer forever
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class UnsafePathError(PermissionError):
    """The requested path leaves the trial folder, or is not a regular file."""


@dataclass(frozen=True)
class TrialFile:
    """One file of a listing: its path relative to the listed folder, and its size."""

    path: str
    size: int


def _real_relative(root_real: str, root: Path, relative: str | os.PathLike[str]) -> PurePosixPath:
    """``root / relative`` resolved, relative to the real root; raises when it leaves it."""
    requested = PurePosixPath(os.fspath(relative))
    if requested.is_absolute() or "\x00" in str(requested):
        raise UnsafePathError(f"{relative} leads out of the trial folder")
    try:
        real = os.path.realpath(os.path.join(root, requested))
    except (OSError, ValueError):
        raise UnsafePathError(f"{relative} cannot be resolved") from None
    if real != root_real and not real.startswith(root_real.rstrip("/") + "/"):
        raise UnsafePathError(f"{relative} leads out of the trial folder")
    return PurePosixPath(os.path.relpath(real, root_real))


def _root(root: str | os.PathLike[str]) -> tuple[Path, str]:
    path = Path(root)
    # the trial folder itself is made by hypersweep; a trial that swapped it for a link is
    # not followed anywhere
    if path.is_symlink():
        raise UnsafePathError(f"{path.name} is a link: not a trial folder")
    return path, os.path.realpath(path)


def _walk_open(root_real: str, parts: tuple[str, ...], last_flags: int) -> int:
    """Open ``root_real/parts...`` following no link on the way; the descriptor of the last."""
    fd = os.open(root_real, _DIR_FLAGS)
    try:
        for i, part in enumerate(parts):
            if part in ("", ".", ".."):  # a resolved path has none: refuse, never walk up
                raise UnsafePathError(f"{part!r} in a resolved path")
            flags = last_flags if i == len(parts) - 1 else _DIR_FLAGS
            try:
                child = os.open(part, flags, dir_fd=fd)
            except OSError as err:
                if err.errno in (errno.ELOOP, errno.ENOTDIR):
                    # a file where a folder should be, or a link swapped in after the path
                    # was resolved: refused, never followed
                    raise UnsafePathError(f"{part} is a link or not a folder") from None
                raise
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_trial_file(root: str | os.PathLike[str], relative: str | os.PathLike[str]) -> BinaryIO:
    """Open the regular file ``root / relative`` for reading, never leaving ``root``.

    Parameters
    ----------
    root : path
        The trial's folder (``Workspace.trial_dir``), or a folder inside it the caller made.
    relative : path
        The file, relative to ``root`` (``"stdout.log"``, ``"work/outputs/model.pt"``).

    Returns
    -------
    BinaryIO
        The open file (close it, or use it in a ``with``).

    Raises
    ------
    UnsafePathError
        The path (or a link on the way) leads out of ``root``, or it is not a regular file.
    FileNotFoundError
        There is no such file.
    """
    path, root_real = _root(root)
    parts = _real_relative(root_real, path, relative).parts
    if not parts:
        raise UnsafePathError(f"{relative} is a folder, not a file")
    fd = _walk_open(root_real, parts, _FILE_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"{relative} is not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_trial_file(root: str | os.PathLike[str], relative: str | os.PathLike[str],
                    max_bytes: int) -> bytes:
    """The first ``max_bytes`` bytes of the regular file ``root / relative``, read as
    `open_trial_file` opens it (never out of ``root``, never blocking on a FIFO).

    For the small records a trial's folder holds (``exit_status``, ``handle.json``): a trial
    that swapped one for a huge file costs one bounded read, whose result will not parse.

    Raises
    ------
    UnsafePathError, FileNotFoundError
        As `open_trial_file`.

    Examples
    --------
    >>> import tempfile
    >>> trial = Path(tempfile.mkdtemp())
    >>> _ = (trial / "exit_status").write_text('{"exit_code": 0}')
    >>> read_trial_file(trial, "exit_status", 8)
    b'{"exit_c'
    """
    with open_trial_file(root, relative) as handle:
        return handle.read(max_bytes)


def replace_trial_file(root: str | os.PathLike[str], name: str, data: bytes) -> None:
    """Write ``root / name`` whole (temporary file + rename), never through a link.

    The controller writes a few records into a trial's folder (``launching``,
    ``handle.json``, ``exit_status``), which the trial can write too: a link or FIFO it put
    at the record's name, or at the temporary name, is replaced, never followed or opened.

    Raises
    ------
    OSError
        The folder is not writable, or is itself a link (`UnsafePathError`).
    """
    if "/" in name or name in ("", ".", ".."):
        raise UnsafePathError(f"{name!r} is not a file name")
    _, root_real = _root(root)
    folder = _walk_open(root_real, (), _DIR_FLAGS)
    tmp = f".{name}.{os.getpid()}.tmp"
    try:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            os.unlink(tmp, dir_fd=folder)
        # O_EXCL: whatever the trial put back at the temporary name is refused, not followed
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o644, dir_fd=folder)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
        raise
    finally:
        os.close(folder)


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
    path, root_real = _root(root)
    if not os.path.lexists(os.path.join(path, folder)):
        return [], False
    base = _real_relative(root_real, path, folder)
    try:
        top = _walk_open(root_real, base.parts, _DIR_FLAGS)
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
                                child = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
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
