"""Opening a file in a folder a trial can write, never following a link out of that folder.

A trial is untrusted code with write access to its own folder: it may replace any file there
(its journal, ``stdout.log``, ``exit_status``), or any folder on the way, with a symbolic link
to ``/etc/passwd`` or ``/``, a FIFO, or a device. Whoever reads such a file — the journal
reader here, the trial-file listing and records of :mod:`hypersweep.execution.trial_files` —
opens it through this module:

- `open_trial_file` resolves the requested path (symlinks included), refuses it unless the
  real path stays inside the folder, then opens that real path one component at a time with
  ``O_NOFOLLOW`` relative to the folder it has already opened, so a link swapped in between
  the check and the open is refused too, not followed. Only regular files open (never a FIFO,
  which would block the reader, or a device).
- `trial_folder`, `resolve_inside` and `open_without_links` are those three steps, for
  callers that walk or write a folder the same way.
- `open_in_folder` is the same check for one file by name through a descriptor the caller
  holds on the folder (the executor holds one on each trial's folder while it watches it).

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
hypersweep.tracking.safe_open.UnsafePathError: stderr.log leads out of the trial folder
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath
from typing import BinaryIO

__all__ = [
    "DIRECTORY_FLAGS",
    "REGULAR_FILE_FLAGS",
    "UnsafePathError",
    "open_in_folder",
    "open_trial_file",
    "open_without_links",
    "read_trial_file",
    "regular_file",
    "resolve_inside",
    "trial_folder",
]

#: ``os.open`` flags for a folder on the way: never a link.
DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: ``os.open`` flags for the file read. O_NONBLOCK: opening a FIFO for reading would wait for a
#: writer forever.
REGULAR_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class UnsafePathError(PermissionError):
    """The requested path leaves the trial folder, or is not a regular file."""


def trial_folder(root: str | os.PathLike[str]) -> tuple[Path, str]:
    """``root`` as a path and its real path; raises `UnsafePathError` if ``root`` is a link."""
    path = Path(root)
    # the trial folder itself is made by hypersweep; a trial that swapped it for a link is
    # not followed anywhere
    if path.is_symlink():
        raise UnsafePathError(f"{path.name} is a link: not a trial folder")
    return path, os.path.realpath(path)


def resolve_inside(root_real: str, root: Path,
                   relative: str | os.PathLike[str]) -> PurePosixPath:
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


def open_without_links(root_real: str, parts: tuple[str, ...], last_flags: int) -> int:
    """Open ``root_real/parts...`` following no link on the way; the descriptor of the last.

    Every component but the last opens with `DIRECTORY_FLAGS`, the last with ``last_flags``;
    with no parts, the descriptor is the root folder's own.
    """
    fd = os.open(root_real, DIRECTORY_FLAGS)
    try:
        for i, part in enumerate(parts):
            if part in ("", ".", ".."):  # a resolved path has none: refuse, never walk up
                raise UnsafePathError(f"{part!r} in a resolved path")
            flags = last_flags if i == len(parts) - 1 else DIRECTORY_FLAGS
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
    path, root_real = trial_folder(root)
    parts = resolve_inside(root_real, path, relative).parts
    if not parts:
        raise UnsafePathError(f"{relative} is a folder, not a file")
    return regular_file(open_without_links(root_real, parts, REGULAR_FILE_FLAGS), relative)


def open_in_folder(folder: int, root: str | os.PathLike[str], name: str) -> BinaryIO:
    """`open_trial_file` of ``root / name`` (one component), through the descriptor
    ``folder`` held on ``root`` since hypersweep made it.

    The executor reads a running trial's journal and records by name; `open_trial_file`
    resolves the folder's path and the file's (a ``realpath``, an ``lstat`` a component) to
    learn what the held descriptor already pins down: 70-80 us against 3-4 us for one
    ``O_NOFOLLOW`` open relative to it, the same check for a plain file, which refuses a FIFO
    or device alike. A link at the name is left to `open_trial_file`, which serves one whose
    target stays inside the folder.

    >>> import tempfile
    >>> trial = Path(tempfile.mkdtemp())
    >>> _ = (trial / "exit_status").write_text("{}")
    >>> folder = os.open(trial, DIRECTORY_FLAGS)
    >>> with open_in_folder(folder, trial, "exit_status") as handle:
    ...     handle.read()
    b'{}'
    >>> os.close(folder)
    """
    if "/" in name or name in ("", ".", ".."):
        raise UnsafePathError(f"{name!r} is not a file name")
    try:
        fd = os.open(name, REGULAR_FILE_FLAGS, dir_fd=folder)
    except OSError as err:
        if err.errno == errno.ELOOP:  # a link: where it leads is for the full check to say
            return open_trial_file(root, name)
        raise
    return regular_file(fd, name)


def regular_file(fd: int, name: str | os.PathLike[str]) -> BinaryIO:
    """The descriptor ``fd`` (opened with `REGULAR_FILE_FLAGS`) as a binary file for
    blocking reads; it is closed and `UnsafePathError` raised unless it is a regular file
    (a FIFO or a device opened without blocking)."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"{name} is not a regular file")
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
