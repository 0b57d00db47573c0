"""The metrics journal: the wire format between a trial and the controller.

A trial appends one JSON object per line to a file; the controller tails the file. Nothing else
connects them, so logging a metric never waits on the controller or on a database lock, and a
controller that crashes and restarts simply reads on from the offset it had ingested.

Each line is written by a single ``os.write`` on a descriptor opened with ``O_APPEND``: Linux
appends it atomically (lines from several threads or forked workers never interleave) and once
the call returns the bytes are in the kernel's page cache, so they survive the trial crashing.

A line looks like ``{"t":1717171717.5,"k":"metric","n":"accuracy","v":0.93,"s":4}`` — time,
kind, name, value, step. The byte offset of a line is not stored; the reader computes it, and it
is the idempotency key downstream (ingesting the same offset twice is a no-op).

Anything may end up in the file (a script can write to it, a disk can corrupt it), so the reader
checks every line against what the store can hold (:mod:`hypersweep.tracking.storable`, the
same check ``run.log`` makes) and turns a line it cannot take into a :data:`SKIPPED` record
carrying the reason, never into an exception. A skipped line is consumed like any other: reading
the journal again from its start skips it again, at the same offset.

Examples
--------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "metrics.jsonl")
>>> writer = JournalWriter(path)
>>> writer.write("metric", "loss", 0.5, step=0)
>>> [(r.kind, r.name, r.value, r.step) for r in JournalReader(path).read()]
[('metric', 'loss', 0.5, 0)]
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from typing import Any

from hypersweep.frozen import FrozenRecord
from hypersweep.tracking.safe_open import open_in_folder, open_trial_file
from hypersweep.tracking.storable import (
    MetricValueError,
    check_record,
    describe,
    printable_text,
    to_json_value,
)

__all__ = [
    "KINDS",
    "MAX_LINE_BYTES",
    "SKIPPED",
    "JournalReader",
    "JournalRecord",
    "JournalWriter",
    "to_json_value",
]

#: The record kinds a journal may contain.
KINDS = frozenset({"metric", "list", "row", "tag", "complete", "fail"})

#: The kind of the record the reader returns for a line it skipped (never written to a file).
SKIPPED = "skipped"

#: The longest line the writer writes and the reader reads; a longer one is skipped unread.
MAX_LINE_BYTES = 16 << 20

# Times a stored datetime can take: 0001-01-01 to the last second of 9999 (UTC).
_TIME_MIN = -62135596800.0
_TIME_MAX = 253402300799.0

# Compact separators: fewer bytes per line, and dumps is a little faster.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=True, ensure_ascii=False)


class JournalRecord(FrozenRecord):
    """One line of a metrics journal.

    Attributes
    ----------
    offset : int
        Byte offset of the line in the journal file; unique per trial, so it is the key that
        makes ingestion idempotent.
    time : float
        ``time.time()`` in the trial when the record was written.
    kind : str
        ``"metric"`` (``Run.log``), ``"list"`` (``log_list``), ``"row"`` (``log_row``, value is a
        dict), ``"tag"``, ``"complete"`` or ``"fail"``; or :data:`SKIPPED` for a line the
        reader could not take (``value`` says why, ``step`` counts the reader's skips so far,
        ``time`` is 0).
    name : str
        Metric or tag name (``""`` for ``complete``/``fail``).
    value : Any
        A JSON value: number (``nan``/``inf`` included), str, bool, list, dict or None.
    step : int or None
        For ``metric`` and ``row``: how many times this name was logged before (from 0), or
        the step given to ``Run.log``.
    """

    offset: int
    time: float
    kind: str
    name: str
    value: Any
    step: int | None = None


class JournalWriter:
    """Append records to a journal file, one atomic ``os.write`` per line.

    Parameters
    ----------
    path : str or os.PathLike
        The journal file; created if missing, never truncated.

    Examples
    --------
    >>> import tempfile, os
    >>> w = JournalWriter(os.path.join(tempfile.mkdtemp(), "m.jsonl"))
    >>> w.write("tag", "model", "resnet")
    >>> w.close()
    """

    #: Longest line written; a longer record raises :class:`MetricValueError` (the reader
    #: would skip it).
    MAX_LINE = MAX_LINE_BYTES

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        # O_APPEND makes every write land at the current end of file, atomically, even when
        # forked data-loader workers share this descriptor.
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        self._fd: int | None = os.open(self.path, flags, 0o644)
        self._heads: dict[tuple[str, str], str] = {}

    def _head(self, kind: str, name: str) -> str:
        """The encoded ``"k":...,"n":...,`` part of a line, cached per metric name."""
        head = f'"k":{_ENCODER.encode(kind)},"n":{_ENCODER.encode(name)},'
        if len(self._heads) < 10_000:  # names are few; a script inventing names must not leak
            self._heads[(kind, name)] = head
        return head

    def write(self, kind: str, name: str, value: Any = None, step: int | None = None) -> None:
        """Append one record whose fields passed :func:`~hypersweep.tracking.storable.check_record`.

        Raises
        ------
        MetricValueError
            When the line would be longer than :attr:`MAX_LINE` (nothing is written).
        """
        fd = self._fd
        if fd is None:
            raise ValueError(f"journal {self.path} is closed")
        vtype = type(value)
        if vtype is float or vtype is int:
            # The hot path (a number per training step), formatted by hand: the general JSON
            # encoder would take most of a log() call's time.
            head = self._heads.get((kind, name))
            if head is None:
                head = self._head(kind, name)
            if vtype is float and not math.isfinite(value):
                v = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
            else:
                v = repr(value)
            tail = "}\n" if step is None else f',"s":{int(step)}}}\n'
            data = f'{{"t":{time.time()!r},{head}"v":{v}{tail}'.encode()
        else:
            obj: dict[str, Any] = {"t": time.time(), "k": kind, "n": name, "v": value}
            if step is not None:
                obj["s"] = step
            data = (_ENCODER.encode(obj) + "\n").encode("utf-8")
        if len(data) > self.MAX_LINE:
            raise MetricValueError(
                f"{kind} {describe(name)}: the record takes {len(data)} bytes, more than the "
                f"{self.MAX_LINE} a journal line may hold; log it in parts"
            )
        written = os.write(fd, data)
        while written < len(data):
            # Only on exotic filesystems or a full disk; regular files take the whole buffer.
            written += os.write(fd, data[written:])

    def close(self) -> None:
        """Close the file descriptor (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JournalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_json_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_line(line: bytes, offset: int) -> JournalRecord:
    """The record of one journal line (without its newline), or a ValueError saying why not.

    The line must be a UTF-8 JSON object of a known kind, with a time a stored datetime can
    take, and a name, value and step that pass
    :func:`~hypersweep.tracking.storable.check_record`.

    Examples
    --------
    >>> parse_line(b'{"t":1.5,"k":"metric","n":"a","v":2,"s":0}', 0).value
    2
    >>> parse_line(b'{"t":1e999,"k":"metric","n":"a","v":2}', 0)
    Traceback (most recent call last):
    ...
    ValueError: time inf is not a time the store can keep (seconds since 1970, years 1 to 9999)
    """
    try:
        obj = json.loads(line.decode("utf-8"))
    except RecursionError:
        raise ValueError("not valid JSON: nested too deeply") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"not valid UTF-8: {err}") from None
    except ValueError as err:  # JSONDecodeError, or an integer of over 4,300 digits
        raise ValueError(f"not valid JSON: {err}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"not a JSON object but {type(obj).__name__}")
    kind = obj.get("k")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown record kind {describe(kind)}")
    t: Any = obj.get("t")
    if not _is_json_number(t) or not _TIME_MIN <= t <= _TIME_MAX:  # NaN compares false
        raise ValueError(f"time {describe(t)} is not a time the store can keep "
                         "(seconds since 1970, years 1 to 9999)")
    name = obj.get("n", "")
    value = obj.get("v")
    step = obj.get("s")
    if kind == "list" and not isinstance(value, list):
        raise ValueError(f"list {describe(name)}: the value {describe(value)} is not a list")
    try:
        value = check_record(kind, name, value, step)
    except TypeError as err:
        raise ValueError(str(err)) from None
    return JournalRecord(offset, float(t), kind, name, value, step)


class JournalReader:
    """Tail a journal: each :meth:`read` returns the complete lines appended since the last one.

    A line the store could not hold (see :func:`parse_line`) comes out as a :data:`SKIPPED`
    record with the reason; it is consumed like a good one, so it is never retried.

    Parameters
    ----------
    path : str or os.PathLike
        The journal file. It need not exist yet (the trial creates it on its first log).
    offset : int
        Byte offset to start from, e.g. the offset just past the last record already ingested
        by a controller that crashed.
    folder : int, optional
        A descriptor the caller holds on the journal's folder (opened without following a
        link, as the executor holds one on each trial's folder), kept open until the journal
        is first read or the reader is closed. The journal is then opened by name relative
        to it (`open_in_folder`) rather than by resolving its path: the executor's reader
        opens each trial's journal once, and the path's resolution was most of that open.

    Attributes
    ----------
    offset : int
        Offset just past the last complete line returned. A trailing partial line (a writer
        caught mid-append, or a crashed one) is not consumed and is retried next time.
    corrupt : int
        Number of lines skipped so far (blank lines are not counted).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "m.jsonl")
    >>> reader = JournalReader(path)
    >>> reader.read()          # no file yet
    []
    >>> with open(path, "w") as f:
    ...     _ = f.write('{"t":1,"k":"metric","n":"a","v":1,"s":0}\\n{"t":2,"k":"met')
    >>> [r.value for r in reader.read()], reader.offset
    ([1], 41)
    """

    #: Bytes read per system call; a poll reads at most a few of these per trial.
    CHUNK = 1 << 20
    #: Longest line read; a longer one is skipped without being held in memory.
    MAX_LINE = MAX_LINE_BYTES
    #: Most bytes searched for the end of a long line per :meth:`read` (the search goes on
    #: from there next time), so a poll stays short whatever the trial wrote.
    SCAN_LIMIT = 256 << 20

    def __init__(self, path: str | os.PathLike[str], offset: int = 0,
                 folder: int | None = None) -> None:
        self.path = os.fspath(path)
        self.offset = int(offset)
        self.corrupt = 0
        self._fd: int | None = None
        self._folder = folder
        # (offset, position): how far a line longer than a chunk, still without its end, was
        # searched for a newline, so a huge partial line is not searched again every poll.
        self._scanned = (-1, -1)
        # Started inside a line (e.g. at a record's offset + 1): its rest is no record of ours.
        self._at_line_start = self.offset == 0
        self._refused: str | None = None  # why the journal could not be opened, said once

    def _open(self, out: list[JournalRecord]) -> int | None:
        """The journal's descriptor, opened the first time it is a regular file in its folder.

        The trial owns its folder and may swap the journal for a FIFO (which would block this
        open forever), a link to ``/dev/zero`` (which never ends) or to a file outside (whose
        lines are not its records), or a folder: such a journal is not read, and the reader
        says so once in a :data:`SKIPPED` record. Once open, the descriptor stays on the file
        the trial wrote, whatever its name is later made to point at.
        """
        if self._fd is None:
            folder, name = os.path.split(os.path.abspath(self.path))
            try:
                with (open_trial_file(folder, name) if self._folder is None
                      else open_in_folder(self._folder, folder, name)) as handle:
                    self._fd = os.dup(handle.fileno())
                self._folder = None  # the caller's to close: not used again
            except FileNotFoundError:
                return None
            except OSError as err:
                # an UnsafePathError says what is wrong in its message, others in strerror
                reason = str(err) if err.errno is None else (err.strerror or str(err))
                if reason != self._refused:
                    self._refused = reason
                    self.corrupt += 1
                    out.append(JournalRecord(
                        self.offset, 0.0, SKIPPED, "",
                        f"the journal {printable_text(name)} is not read: "
                        f"{printable_text(reason)[:300]}", self.corrupt))
                return None
        return self._fd

    def read(self, max_bytes: int | None = None) -> list[JournalRecord]:
        """Return the records of the complete lines appended since the last call.

        Parameters
        ----------
        max_bytes : int, optional
            Stop after about this many bytes (whole lines only), so a huge backlog can be
            ingested in slices. Default: everything available.
        """
        records: list[JournalRecord] = []
        fd = self._open(records)
        if fd is None or not (self._at_line_start or self._find_line_start(fd)):
            return records
        budget = max_bytes if max_bytes is not None else -1
        while budget != 0:
            want = self.CHUNK if budget < 0 else min(self.CHUNK, budget)
            data = os.pread(fd, want, self.offset)
            if not data:
                break
            end = data.rfind(b"\n")
            if end < 0:
                if len(data) < want:
                    break  # only a partial line is available: wait for its end
                # A single line longer than the chunk: read it whole, or skip it if too long.
                line = self._read_long_line(fd)
                if line is None:
                    break
                if isinstance(line, int):
                    self._skip(self.offset, f"the line is {line} bytes long, more than the "
                                            f"{self.MAX_LINE} a journal line may hold", records)
                    self.offset += line
                    budget = max(0, budget - line) if budget > 0 else budget
                    continue
                data, end = line, len(line) - 1
            self._decode(data[: end + 1], self.offset, records)
            self.offset += end + 1
            if budget > 0:
                budget = max(0, budget - (end + 1))
            if len(data) < want:
                break
        return records

    def _find_line_start(self, fd: int) -> bool:
        """Move :attr:`offset` to the start of a line, without reporting what it passes."""
        if os.pread(fd, 1, self.offset - 1) != b"\n":
            pos = self.offset
            while True:
                data = os.pread(fd, self.CHUNK, pos)
                if not data:
                    return False  # the line has no end yet
                nl = data.find(b"\n")
                if nl >= 0:
                    self.offset = pos + nl + 1
                    break
                pos += len(data)
        self._at_line_start = True
        return True

    def _read_long_line(self, fd: int) -> bytes | int | None:
        """The line at :attr:`offset`: its bytes, its length if over :attr:`MAX_LINE`, or None
        while its newline is not written yet."""
        start = self.offset
        pos = self._scanned[1] if self._scanned[0] == start else start
        # a trial may make its journal a terabyte of zeros (a sparse file): look this far per
        # call, and on from there next time
        scan_end = pos + self.SCAN_LIMIT
        while True:
            data = os.pread(fd, self.CHUNK, pos) if pos < scan_end else b""
            if not data:
                self._scanned = (start, pos)
                return None
            nl = data.find(b"\n")
            if nl >= 0:
                length = pos + nl + 1 - start
                if length > self.MAX_LINE:
                    return length
                buf = bytearray()
                while len(buf) < length:  # pread may return less than asked
                    chunk = os.pread(fd, length - len(buf), start + len(buf))
                    if not chunk:
                        return None  # truncated under us: try again next time
                    buf += chunk
                return bytes(buf)
            pos += len(data)

    def _decode(self, block: bytes, base: int, out: list[JournalRecord]) -> None:
        pos = 0
        for line in block.split(b"\n")[:-1]:
            offset = base + pos
            pos += len(line) + 1
            if len(line) >= self.MAX_LINE:
                self._skip(offset, f"the line is {len(line) + 1} bytes long, more than the "
                                   f"{self.MAX_LINE} a journal line may hold", out)
                continue
            try:
                out.append(parse_line(line, offset))
            except ValueError as err:
                if line.strip():  # a blank line is no record, and no harm
                    self._skip(offset, str(err), out)

    def _skip(self, offset: int, reason: str, out: list[JournalRecord]) -> None:
        """Count a line that cannot be stored, and say why in a :data:`SKIPPED` record."""
        self.corrupt += 1
        count = self.corrupt
        if len(reason) > 300:
            reason = reason[:300] + "..."
        message = (f"{count} journal line{'s' if count > 1 else ''} skipped, the last at byte "
                   f"{offset} of {printable_text(self.path)}: {printable_text(reason)}")
        out.append(JournalRecord(offset, 0.0, SKIPPED, "", message, count))

    def close(self) -> None:
        """Close the file descriptor (a later :meth:`read` reopens it, by its path: the
        folder's descriptor may be closed by now)."""
        self._folder = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()
