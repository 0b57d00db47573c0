"""The small records in a trial's folder, read as the trial may have left them.

The supervisor and the executor write ``exit_status`` and ``supervisor.json`` (and, on Dask or
in earlier versions, ``handle.json``) into the trial's folder, and the trial's own
``stderr.log`` lands there too; but the trial can write that folder as well, and may have
swapped any of them for a FIFO (an ordinary open would block the controller forever), a link
to ``/dev/zero`` (a read would never end), a link to a file outside the folder (its contents
would show as the trial's), a folder, or garbage. Every read here goes through
:mod:`hypersweep.execution.trial_files` and is bounded, and a record that is no record raises
`TamperedRecord`: the caller decides what that trial's fate is, never the controller's.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> trial = Path(tempfile.mkdtemp())
>>> write_exit_record(trial, 3, 1700000000.0)
>>> exit_record(trial)
(3, 1700000000.0)
>>> _ = (trial / "handle.json").write_text("[1, 2]")
>>> read_record(trial, "handle.json")
Traceback (most recent call last):
...
hypersweep.execution.trial_records.TamperedRecord: handle.json is not a JSON object
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from hypersweep.execution.layout import EXIT_STATUS
from hypersweep.execution.trial_files import (
    UnsafePathError,
    open_in_folder,
    open_trial_file,
    read_trial_file,
    replace_trial_file,
)

__all__ = [
    "TamperedRecord",
    "exit_record",
    "names_a_process",
    "read_exit_record",
    "read_record",
    "stderr_tail",
    "write_exit_record",
]

_TAIL_BYTES = 4096
_TAIL_LINES = 40

#: Most bytes read of a record the supervisor or executor writes (``exit_status``,
#: ``handle.json``, ``supervisor.json``: under 300 bytes); more is a trial's garbage.
_RECORD_BYTES = 64 << 10

# exit codes and end times a record may hold; beyond them it is garbage, not an exit
_EXIT_CODES = range(-255, 256)
_END_TIMES = (0.0, 253402300799.0)  # 1970 to the last second of 9999, as the store keeps


class TamperedRecord(ValueError):
    """A record that is there but is no record: the trial replaced it."""


def read_record(trial_dir: str | os.PathLike[str], name: str,
                folder: int | None = None) -> dict[str, Any] | None:
    """The JSON object in ``trial_dir/name``; None if absent; `TamperedRecord` if unreadable.

    Read bounded and never blocking, never out of the folder: the trial can replace the file
    with a FIFO, a link to ``/dev/zero`` or anything else. ``folder``: a descriptor held on
    ``trial_dir`` (see `open_in_folder`), which spares resolving its path again.
    """
    try:
        if folder is None:
            data = read_trial_file(trial_dir, name, _RECORD_BYTES)
        else:
            with open_in_folder(folder, trial_dir, name) as handle:
                data = handle.read(_RECORD_BYTES)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise TamperedRecord(f"{name}: {err}") from None
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError):
        raise TamperedRecord(f"{name} is not JSON") from None
    if not isinstance(obj, dict):
        raise TamperedRecord(f"{name} is not a JSON object")
    return obj


def exit_record(trial_dir: str | os.PathLike[str],
                folder: int | None = None) -> tuple[int | None, float] | None:
    """``(exit_code, end_time)`` from ``exit_status``; None if absent; `TamperedRecord` if
    it is garbage (a code beyond -255..255, a time the store cannot keep, no JSON).
    ``folder`` as for `read_record`."""
    obj = read_record(trial_dir, EXIT_STATUS, folder)
    if obj is None:
        return None
    code, end = obj.get("exit_code"), obj.get("end_time", time.time())
    if code is not None and (type(code) is not int or code not in _EXIT_CODES):
        raise TamperedRecord(f"exit_status: exit code {code!r}")
    if type(end) not in (int, float) or not _END_TIMES[0] <= end <= _END_TIMES[1]:
        raise TamperedRecord(f"exit_status: end time {end!r}")
    return code, float(end)


def read_exit_record(trial_dir: str | os.PathLike[str]) -> tuple[int | None, float] | None:
    """Return ``(exit_code, end_time)`` from ``trial_dir/exit_status``, or None if absent.

    A record that is not one (a FIFO, a link out of the folder, garbage) reads as an unknown
    exit code ending now: the supervisor writes it atomically, so only the trial made it so.

    Examples
    --------
    >>> import tempfile
    >>> read_exit_record(tempfile.mkdtemp()) is None
    True
    """
    try:
        return exit_record(trial_dir)
    except TamperedRecord:
        return None, time.time()


def write_exit_record(trial_dir: Path, code: int | None, end_time: float) -> None:
    """Record an exit the supervisor could not (it was SIGKILLed with its group), unless
    something is at ``exit_status`` already; never through a link the trial put there."""
    with contextlib.suppress(OSError):
        if os.path.lexists(trial_dir / EXIT_STATUS):
            return
        data = json.dumps({"exit_code": code, "end_time": end_time}) + "\n"
        replace_trial_file(trial_dir, EXIT_STATUS, data.encode())


def stderr_tail(path: str | os.PathLike[str], folder: int | None = None) -> str:
    """The last ~40 lines / 4 KB of a trial's log file ("" if missing), decoded leniently.

    Read as :func:`~hypersweep.execution.trial_files.open_trial_file` opens it: a log the
    trial replaced with a FIFO, a device or a link out of its folder is not read (that would
    block the controller, or show another file's contents as the trial's error); the tail
    then says so. ``folder``: a descriptor held on the log's folder (see `open_in_folder`).

    Examples
    --------
    >>> stderr_tail("/nonexistent/stderr.log")
    ''
    """
    parent, name = os.path.split(os.path.abspath(path))
    try:
        with (open_trial_file(parent, name) if folder is None
              else open_in_folder(folder, parent, name)) as f:
            size = f.seek(0, os.SEEK_END)
            start = max(0, size - _TAIL_BYTES)
            f.seek(start)
            data = f.read(_TAIL_BYTES)
    except FileNotFoundError:
        return ""
    except UnsafePathError:
        return f"hypersweep: {name} is not a regular file in the trial folder: not shown"
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if start > 0 and lines:
        lines = lines[1:]  # the first line was cut in the middle
    return "\n".join(lines[-_TAIL_LINES:])


def names_a_process(record: dict[str, Any]) -> bool:
    """Whether a handle read from the trial folder names a process the executor can watch:
    never pid 1 (init) or below, which a trial could write to have its "supervisor" killed."""
    pid, ticks = record.get("pid"), record.get("start_ticks")
    return (type(pid) is int and 1 < pid < 1 << 31
            and (ticks is None or (type(ticks) is int and ticks >= 0)))
