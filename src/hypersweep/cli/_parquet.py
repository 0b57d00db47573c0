"""Parquet exports (needs pyarrow): each column typed so that every value reads back exactly
(the types `hypersweep.cli._export` documents), written a chunk (row group) at a time as the
rows are read from the store, in memory that does not grow with the sweep.

pyarrow is imported when a file is written, not with this module; pandas not at all (the
arrays of the usual types are built from their buffers).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import accumulate, repeat
from operator import is_not
from pathlib import Path
from typing import Any

from hypersweep.cli._export import Table, csv_cell, rows_table

__all__ = ["to_parquet", "write_parquet"]


def write_parquet(columns: list[str], chunks: Callable[[], Iterable[Table]],
                  path: str | Path, types: Sequence[str | None] | None = None) -> int:
    """Write rows (each the list of its cells) as a Parquet file, a chunk (row group) at a
    time; return how many rows.

    Each column is typed so that every value of it reads back exactly; ``types`` may name
    columns' Arrow types beforehand (None: typed from the values), each the alias of one
    whose every value is of it or None (``"double"``, ``"string"``, ``"bool"``). The file is
    written as ``chunks()`` is read, each column typed as far as the chunks have shown it.
    Should a later chunk widen a column's type (ints, then a float; no value, then text),
    the rest are read to type every column and ``chunks()`` is read again to write anew.
    """
    import pyarrow as pa

    kinds = [_Kind(None if name is None else pa.type_for_alias(name))
             for name in (types or [None] * len(columns))]
    pages = iter(chunks())
    count = _write_typing(columns, kinds, pages, path)
    if count is None:
        for rows in filter(None, pages):  # (an empty chunk has no columns to zip)
            for kind, values in zip(kinds, zip(*rows, strict=True), strict=True):
                kind.add(values)
        count = _write_typing(columns, kinds, iter(chunks()), path)
    assert count is not None  # every column's kind is final: no chunk widens it
    return count


def _write_typing(columns: list[str], kinds: list[_Kind], pages: Iterator[Table],
                  path: str | Path) -> int | None:
    """Write the pages' rows to ``path`` and return how many, typing each column by the
    pages as they come; None (and a file cut short) when a page widened a column's type
    after the first was written: the pages not read are left in ``pages``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def schema() -> Any:
        return pa.schema([(c, kind.arrow_type()) for c, kind in zip(columns, kinds, strict=True)])

    count, writer = 0, None
    try:
        for rows in pages:
            if not rows:
                continue
            values = list(zip(*rows, strict=True))  # the page's columns
            for kind, column in zip(kinds, values, strict=True):
                kind.add(column)
            typed = schema()
            if writer is None:
                writer = pq.ParquetWriter(str(path), typed)
            elif not typed.equals(writer.schema):
                return None
            arrays = [kind.array(column) for kind, column in zip(kinds, values, strict=True)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=typed))
            count += len(rows)
        if writer is None:
            writer = pq.ParquetWriter(str(path), schema())
            writer.write_table(writer.schema.empty_table())
        return count
    finally:
        if writer is not None:
            writer.close()


def to_parquet(columns: list[str], rows: list[dict[str, Any]], path: str | Path) -> None:
    """Rows as a Parquet file, each column typed so that its values read back exactly."""
    write_parquet(columns, lambda: [rows_table(columns, rows)] if rows else [], path)


class _Kind:
    """What a column's values are, seen a chunk at a time: the narrowest Arrow type that holds
    every one exactly (ints: int64, else decimal128(38, 0), else text; ints and floats:
    float64 when every int is exact as a float, else text; numbers with values of another
    kind: their CSV text; other values: the type Arrow infers when every chunk agrees, else
    their CSV text), or the type it was given."""

    def __init__(self, given: Any = None) -> None:
        self.given = given
        self.present = False
        self.ints = self.int64 = self.decimal = self.numbers = self.exact = True
        self.inferred: set[Any] = set()
        self.mixed = False

    def add(self, values: Sequence[Any]) -> None:
        if self.given is not None:
            return
        # sorted out by the values' classes (a handful), the values themselves by C loops
        classes = set(map(type, values))
        classes.discard(type(None))
        if not classes:
            return
        before, self.present = self.present, True
        ints = [c for c in classes if issubclass(c, int) and not issubclass(c, bool)]
        floats = [c for c in classes if issubclass(c, float)]
        if len(ints) + len(floats) < len(classes):  # not only numbers
            # numbers with anything else (here or in another chunk): their text, not the
            # type Arrow would make of them (1.5 and True: 1.5 and 1.0)
            self.mixed = self.mixed or bool(ints or floats) or (before and self.numbers)
            self.ints = self.numbers = False
            if not self.mixed:
                self._infer(classes, values)
            return
        self.mixed = self.mixed or not self.numbers
        if floats:
            self.ints = False
        if ints:
            numbers = [v for v in values if type(v) in ints]
            low, high = min(numbers), max(numbers)
            self.int64 = self.int64 and -(2**63) <= low <= high < 2**63
            self.decimal = self.decimal and -(10**38) < low <= high < 10**38
            # int == float compares exactly in Python: 2**53 + 1 is not 9007199254740992.0
            self.exact = self.exact and (-(2**53) <= low <= high <= 2**53
                                         or all(map(_exact_float, numbers)))

    def _infer(self, classes: set[type], values: Sequence[Any]) -> None:
        import pyarrow as pa

        if classes == {str}:
            kind = pa.string()
        elif classes == {bool}:
            kind = pa.bool_()
        else:  # (a rare column: pa.array imports pandas, ~0.25 s)
            try:
                kind = pa.array(values).type
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                self.mixed = True
                return
        self.inferred.add(kind)
        self.mixed = len(self.inferred) > 1

    def arrow_type(self) -> Any:
        import pyarrow as pa

        if self.given is not None:
            return self.given
        if not self.present:
            return pa.null()
        if self.mixed:
            return pa.string()
        if self.ints:
            return pa.int64() if self.int64 else (
                pa.decimal128(38, 0) if self.decimal else pa.string())
        if self.numbers:
            return pa.float64() if self.exact else pa.string()
        return next(iter(self.inferred))

    def array(self, values: Sequence[Any]) -> Any:
        """The values as an Arrow array of the column's type."""
        import pyarrow as pa

        kind = self.arrow_type()
        if values.count(None) == len(values):  # no value: the null type's, or a chunk of nulls
            return pa.nulls(len(values), kind)
        if kind == pa.string():
            return _texts(values)
        if kind == pa.float64():
            return _numbers(values, kind, "d")
        if kind == pa.int64():
            return _numbers(values, kind, "q")
        if kind == pa.bool_():
            return _bools(values)
        if kind == pa.decimal128(38, 0):
            return pa.array([None if v is None else Decimal(v) for v in values], kind)
        return pa.array(values, kind)


def _exact_float(value: int) -> bool:
    try:
        return float(value) == value
    except OverflowError:
        return False


# The Arrow arrays of the usual types are built from their buffers (Arrow's layout: a bitmap
# of the values present, then the values), not by pa.array: a list given to pa.array makes
# it import pandas (~0.25 s of CPU, to check whether it is a pandas object), and it took
# ~0.6 us a float.


def _texts(values: Sequence[Any]) -> Any:
    """A string array of the values' text: a str as is, anything else its CSV text."""
    import pyarrow as pa

    valid = _valid(values)
    if not _TEXT.issuperset(map(type, values)):
        values = [None if v is None else csv_cell(v) for v in values]
    data = list(map(str.encode, values)) if valid is None else [
        b"" if s is None else s.encode() for s in values]
    offsets = array("i", accumulate(map(len, data), initial=0))
    return pa.Array.from_buffers(pa.string(), len(values), [
        valid, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


_TEXT = frozenset({str, type(None)})


def _numbers(values: Sequence[Any], kind: Any, code: str) -> Any:
    """A float64 (code ``"d"``) or int64 (``"q"``) array of values of the kind, or None."""
    import pyarrow as pa

    valid = _valid(values)
    data = array(code, values if valid is None else [0 if v is None else v for v in values])
    return pa.Array.from_buffers(kind, len(values), [valid, pa.py_buffer(data)])


def _bools(values: Sequence[Any]) -> Any:
    import pyarrow as pa

    return pa.Array.from_buffers(pa.bool_(), len(values), [
        _valid(values), _bitmap(bytes(map(bool, values)))])


def _valid(values: Sequence[Any]) -> Any:
    """Arrow's validity bitmap of the values (which are not None); None when all are."""
    flags = bytes(map(is_not, values, repeat(None)))
    return None if 0 not in flags else _bitmap(flags)


def _bitmap(flags: bytes) -> Any:
    """The bytes 0 and 1 (one a value) packed into Arrow's bitmap: value i at bit i % 8
    (least significant first) of byte i // 8."""
    import numpy as np
    import pyarrow as pa

    return pa.py_buffer(np.packbits(np.frombuffer(flags, np.uint8), bitorder="little"))
