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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "JournalReader", "JournalRecord", "JournalWriter", "to_json_value"]

#: The record kinds a journal may contain.
KINDS = frozenset({"metric", "list", "row", "tag", "complete", "fail"})

# Compact separators: fewer bytes per line, and dumps is a little faster.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=True, ensure_ascii=False)


@dataclass(frozen=True)
class JournalRecord:
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
        dict), ``"tag"``, ``"complete"`` or ``"fail"``.
    name : str
        Metric or tag name (``""`` for ``complete``/``fail``).
    value : Any
        A JSON value: number (``nan``/``inf`` included), str, bool, list, dict or None.
    step : int or None
        For ``metric`` and ``row``: how many times this name was logged before (from 0).
    """

    offset: int
    time: float
    kind: str
    name: str
    value: Any
    step: int | None = None


def to_json_value(value: Any, name: str, *, _depth: int = 0) -> Any:
    """Convert a logged value into plain JSON data, or raise a TypeError naming the metric.

    Python numbers, strings, booleans and None pass through. Array-library scalars (numpy,
    torch, jax) are unwrapped with ``.item()``; other objects that behave like numbers are
    converted with ``int()``/``float()``. Lists, tuples and dicts are converted element-wise.

    Examples
    --------
    >>> to_json_value((1, 2.5, "a"), "m")
    [1, 2.5, 'a']
    >>> to_json_value(object(), "loss")
    Traceback (most recent call last):
    ...
    TypeError: metric 'loss': cannot log a value of type object (expected a number, ...
    """
    # Fast path first: by far the common case is a plain float or int.
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if _depth > 32:
        raise TypeError(f"metric {name!r}: value is nested too deeply to log")
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, name, _depth=_depth + 1) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v, name, _depth=_depth + 1) for k, v in value.items()}
    item = getattr(value, "item", None)
    if callable(item):
        # numpy scalars and 0-d arrays, torch/jax one-element tensors. A multi-element array's
        # item() raises; fall through to tolist() so log_list(np.array(...)) works.
        try:
            inner = item()
        except (ValueError, TypeError, RuntimeError):
            inner = None
        else:
            if inner is not value:
                return to_json_value(inner, name, _depth=_depth + 1)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return to_json_value(tolist(), name, _depth=_depth + 1)
    if hasattr(value, "__index__"):
        return int(value)
    if hasattr(value, "__float__"):
        return float(value)
    raise TypeError(
        f"metric {name!r}: cannot log a value of type {type(value).__name__} "
        "(expected a number, str, bool, None, or a list/dict of those)"
    )


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
        """Append one record. ``value`` must already be JSON data (see :func:`to_json_value`)."""
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


class JournalReader:
    """Tail a journal: each :meth:`read` returns the complete lines appended since the last one.

    Parameters
    ----------
    path : str or os.PathLike
        The journal file. It need not exist yet (the trial creates it on its first log).
    offset : int
        Byte offset to start from, e.g. the offset just past the last record already ingested
        by a controller that crashed.

    Attributes
    ----------
    offset : int
        Offset just past the last complete line returned. A trailing partial line (a writer
        caught mid-append, or a crashed one) is not consumed and is retried next time.
    corrupt : int
        Number of undecodable lines skipped so far.

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

    def __init__(self, path: str | os.PathLike[str], offset: int = 0) -> None:
        self.path = os.fspath(path)
        self.offset = int(offset)
        self.corrupt = 0
        self._fd: int | None = None

    def _open(self) -> int | None:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except FileNotFoundError:
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
        fd = self._open()
        if fd is None:
            return []
        records: list[JournalRecord] = []
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
                # A single line longer than the chunk: read it whole.
                line = self._read_long_line(fd)
                if line is None:
                    break
                data, end = line, len(line) - 1
            self._decode(data[: end + 1], self.offset, records)
            self.offset += end + 1
            if budget > 0:
                budget = max(0, budget - (end + 1))
            if len(data) < want:
                break
        return records

    def _read_long_line(self, fd: int) -> bytes | None:
        buf = bytearray()
        pos = self.offset
        while True:
            data = os.pread(fd, self.CHUNK, pos)
            if not data:
                return None
            nl = data.find(b"\n")
            if nl >= 0:
                buf += data[: nl + 1]
                return bytes(buf)
            buf += data
            pos += len(data)

    def _decode(self, block: bytes, base: int, out: list[JournalRecord]) -> None:
        pos = 0
        for line in block.split(b"\n")[:-1]:
            offset = base + pos
            pos += len(line) + 1
            try:
                obj = json.loads(line)
                kind = obj["k"]
                name = obj.get("n", "")
                step = obj.get("s")
                t = obj["t"]
                if (
                    kind not in KINDS
                    or not isinstance(name, str)
                    or not _is_json_number(t)
                    or not (step is None or (isinstance(step, int) and not isinstance(step, bool)))
                ):
                    raise ValueError("bad record")
            except (ValueError, KeyError, TypeError, AttributeError):
                if line.strip():
                    self.corrupt += 1
                continue
            out.append(JournalRecord(offset, float(t), kind, name, obj.get("v"), step))

    def close(self) -> None:
        """Close the file descriptor (a later :meth:`read` reopens it)."""
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
