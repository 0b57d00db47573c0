"""One line for an error, whichever thread it happened in.

A foreground ``hypersweep run`` drives its sweep in a controller thread of the same process.
When that thread dies (a full disk, a store that went away), Python would print its traceback
(``logging``'s last-resort handler, then ``threading.excepthook``) and the command would end
with a second message of its own. `capture_errors` keeps those errors instead, so the command
can end with one line that says what happened (`failure_line`): ``disk full: cannot write to
<path> (No space left on device)``, or the error itself.

Examples
--------
>>> disk_full_message(OSError(28, "No space left on device", "/ws/runs/t/stdout.log"))
'disk full: cannot write to /ws/runs/t/stdout.log (No space left on device)'
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["capture_errors", "captured", "disk_full_message", "failure_line"]

#: The errors that mean "no room to write": the disk, a quota, the file size limit.
_NO_ROOM = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded",
            errno.EFBIG: "file too large"}
# SQLite's SQLITE_FULL, as the store reports it: "store sqlite:////path/x.db: database or ..."
_SQLITE_FULL = "database or disk is full"
_STORE_PATH = re.compile(r"sqlite:///(?P<path>.+?): " + re.escape(_SQLITE_FULL))

_captured: list[BaseException] | None = None
_lock = threading.Lock()


def _chain(err: BaseException) -> Iterator[BaseException]:
    """``err`` and the errors it was raised from, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def disk_full_message(err: BaseException) -> str | None:
    """``disk full: cannot write to <path> (<reason>)`` when ``err`` (or its cause) is a
    write that found no room; None otherwise."""
    for cause in _chain(err):
        if isinstance(cause, OSError) and cause.errno in _NO_ROOM:
            where = cause.filename if cause.filename is not None else "a file"
            return (f"{_NO_ROOM[cause.errno]}: cannot write to {os.fsdecode(where)} "
                    f"({os.strerror(cause.errno)})")
        text = str(cause)
        if _SQLITE_FULL in text:
            match = _STORE_PATH.search(text)
            where = match.group("path") if match else "the record store"
            return f"disk full: cannot write to {where} ({os.strerror(errno.ENOSPC)})"
    return None


def failure_line(err: BaseException) -> str:
    """The one line that reports ``err``: the disk-full form, else its first line."""
    full = disk_full_message(err)
    if full is not None:
        return full
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def captured() -> list[BaseException]:
    """The errors the controller threads of this command died of, first first."""
    with _lock:
        return list(_captured or [])


class _OneLineHandler(logging.Handler):
    """Keeps the exceptions hypersweep logs as errors; prints other records (warnings, with
    an exception or not) as the message alone, as logging's last-resort handler would, so no
    traceback reaches the terminal."""

    def emit(self, record: logging.LogRecord) -> None:
        if (record.levelno >= logging.ERROR and record.exc_info
                and record.exc_info[1] is not None):
            _keep(record.exc_info[1])
            return
        try:
            print(record.getMessage(), file=sys.stderr, flush=True)
        except Exception:  # a closed stderr must not break the sweep
            self.handleError(record)


def _keep(err: BaseException) -> None:
    with _lock:
        if _captured is not None and all(err is not e for e in _captured):
            _captured.append(err)


@contextmanager
def capture_errors() -> Iterator[None]:
    """While a command runs: keep what its hypersweep threads die of instead of printing it.

    Errors logged with a traceback on the ``hypersweep`` loggers, and exceptions that end a
    ``hypersweep-*`` thread, are collected (`captured`); other threads are left alone. With
    ``HYPERSWEEP_DEBUG=1`` in the environment nothing is held back: the tracebacks print as
    Python prints them, for a bug report.
    """
    global _captured
    if os.environ.get("HYPERSWEEP_DEBUG", "") not in ("", "0"):
        yield
        return
    handler = _OneLineHandler(logging.WARNING)
    logger = logging.getLogger("hypersweep")
    previous_hook = threading.excepthook

    def hook(args: Any) -> None:
        thread = args.thread
        if thread is not None and thread.name.startswith("hypersweep-") and (
                args.exc_value is not None):
            _keep(args.exc_value)
            return
        previous_hook(args)

    with _lock:
        outer = _captured
        _captured = []
    logger.addHandler(handler)
    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous_hook
        logger.removeHandler(handler)
        with _lock:
            _captured = outer
