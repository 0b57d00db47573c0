"""Exact exports of a sweep's trials: every number reads back as the value the store holds.

The formats, as ``hypersweep export --help`` documents them:

- **JSON**: strict JSON (``json.loads``, ``JSON.parse``); a list of one object per trial.
  Numbers are JSON numbers in their shortest exact form (Python ``repr``: ``1.2e-12``,
  ``5e-324``, ``-0.0``); integers keep every digit. NaN and ±infinity, which JSON cannot
  spell, are the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (protobuf's JSON
  mapping, and what the dashboard API sends). A missing value is ``null``.
- **CSV**: one row per trial; integers in full, floats in Python's shortest exact form,
  non-finite floats as ``nan``, ``inf``, ``-inf`` (``float()`` and ``pandas.read_csv`` read
  them), and an empty cell for a missing value.

- **Parquet** (needs pyarrow): typed columns. Floats are float64 (NaN and ±inf as such),
  integers int64, or decimal128(38, 0) beyond 64 bits, or text beyond 38 digits; a column
  mixing integers and floats is float64 when every integer is exact as a float, else the
  values' text (``repr``). A missing value is null.

Pandas' writers are not used for any: ``to_json`` rounds to 10 significant decimals
(1.2e-12 becomes 0.0) and a column of integers with a gap turns them into floats
(2**53 + 1 loses its last digit).

Examples
--------
>>> strict_json(float("inf")), strict_json(-0.0), csv_cell(5e-324), csv_cell(None)
('Infinity', -0.0, '5e-324', '')
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from hypersweep.store.codec import strict_json
from hypersweep.store.records import TrialLine

__all__ = [
    "CHUNK",
    "EXPORT_COLUMNS",
    "TrialExport",
    "Writer",
    "csv_cell",
    "to_csv",
    "to_json",
    "to_parquet",
    "trial_rows",
    "write_csv",
    "write_json",
    "write_parquet",
]

#: The columns every export has, around the sweep's parameters (as `HyperDriveRun.to_dataframe`).
EXPORT_COLUMNS = ("run_id", "status", "best_primary_metric", "duration_s", "termination_reason")


class Writer(Protocol):
    """Where the writers put text: an open text file, ``sys.stdout``, a ``StringIO``."""

    def write(self, text: str, /) -> int: ...


#: Trials read from the store (and written out) at a time: memory stays flat with the sweep.
CHUNK = 2000


class TrialExport:
    """A sweep's export: its columns, and its rows read from the store a chunk at a time.

    The row layout is `HyperDriveRun.to_dataframe`'s (id, status, parameters, best primary
    metric, duration, termination reason), without going through a DataFrame's dtypes. A
    sweep with several objectives or with constraints has, after the best primary metric,
    one column per objective (the value its front is judged on), ``feasible`` and
    ``on_pareto_front`` (their outcomes are judged on every trial at once, so read first).

    Parameters
    ----------
    run : HyperDriveRun
        The sweep.
    chunk : int, optional
        Trials read at a time (default :data:`CHUNK`).
    """

    def __init__(self, run: Any, chunk: int | None = None) -> None:
        self.run, self.chunk = run, chunk or CHUNK
        self.store = run.experiment.workspace.store
        spec = run.spec
        self.metric, self.maximize = spec.objective.metric, spec.objective.maximize
        params = self.store.param_names(run.id)
        several = len(spec.objectives) > 1 or bool(spec.constraints)
        self.outcomes = {o.trial_id: o for o in run.outcomes()} if several else None
        extra: list[str] = []
        self.names: dict[str, str] = {}
        if several:
            taken = {"run_id", "status", *params, *EXPORT_COLUMNS}
            # an objective's column is its metric's name, unless a parameter already has it
            self.names = {o.metric: o.metric if o.metric not in taken else f"objective:{o.metric}"
                          for o in spec.objectives}
            extra = [*self.names.values(), "feasible", "on_pareto_front"]
        self.columns = ["run_id", "status", *params, EXPORT_COLUMNS[2], *extra,
                        *EXPORT_COLUMNS[3:]]

    def chunks(self) -> Iterator[list[dict[str, Any]]]:
        """The rows by trial number, ``chunk`` at a time (keyset pages of the store, each
        trial read as a `TrialLine`: only the columns an export has)."""
        after = None
        while True:
            page = self.store.trial_lines(self.run.id, self.metric, self.maximize,
                                          after=after, limit=self.chunk)
            if page:
                yield [self._row(line) for line in page]
            if len(page) < self.chunk:
                return
            after = page[-1].index

    def _row(self, trial: TrialLine) -> dict[str, Any]:
        duration = None
        if trial.start_time is not None and trial.end_time is not None:
            duration = (trial.end_time - trial.start_time).total_seconds()
        value = trial.best
        row = {
            "run_id": trial.id, "status": trial.status, **trial.params,
            # a trial whose every point is NaN has no best (as in to_dataframe)
            "best_primary_metric": None if value is None or math.isnan(value) else value,
            "duration_s": duration, "termination_reason": trial.termination_reason,
        }
        if self.outcomes is not None:
            outcome = self.outcomes.get(trial.id)
            for metric, column in self.names.items():
                row[column] = None if outcome is None else outcome.values.get(metric)
            row["feasible"] = outcome is not None and outcome.feasible
            row["on_pareto_front"] = outcome is not None and outcome.on_front
        return row


def trial_rows(run: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and one row per trial of the sweep ``run``, with the stored values as is
    (every row at once: `TrialExport` streams them)."""
    export = TrialExport(run)
    return export.columns, [row for chunk in export.chunks() for row in chunk]


def csv_cell(value: Any) -> str:
    """The text of one CSV cell: ``repr`` of a float (exact), an int in full, "" for none."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(strict_json(value), allow_nan=False)
    return str(value)


def _json_rows(columns: list[str], rows: list[dict[str, Any]]) -> Iterator[str]:
    # json.dumps with an indent runs the pure-Python encoder; a row of flat values is laid
    # out here instead, each value encoded in C: the same text at a fraction of the cost
    keys = [f"    {json.dumps(c, ensure_ascii=False)}: " for c in columns]
    for row in rows:
        values = [strict_json(row.get(c)) for c in columns]
        if _FLAT.issuperset(map(type, values)):
            pairs = zip(keys, values, strict=True)
            yield "  {\n" + ",\n".join([k + _FLAT_JSON(v) for k, v in pairs]) + "\n  }"
            continue
        text = json.dumps(dict(zip(columns, values, strict=True)), indent=2, allow_nan=False,
                          ensure_ascii=False)
        yield "  " + text.replace("\n", "\n  ")


_FLAT = frozenset({type(None), str, int, float, bool})
_FLAT_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def write_json(columns: list[str], chunks: Iterable[list[dict[str, Any]]],
               out: Writer) -> int:
    """Write rows as a strict JSON list of objects, a chunk at a time (the text `to_json`
    returns); return how many rows.

    >>> out = io.StringIO()
    >>> write_json(["a"], [[{"a": float("nan")}], [{"a": 2}]], out), json.loads(out.getvalue())
    (2, [{'a': 'NaN'}, {'a': 2}])
    """
    count = 0
    for rows in chunks:
        for text in _json_rows(columns, rows):
            out.write(("[\n" if count == 0 else ",\n") + text)
            count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


def to_json(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Rows as a strict JSON list of objects, one key per column (missing: ``null``)."""
    out = io.StringIO()
    write_json(columns, [rows], out)
    return out.getvalue()


def write_csv(columns: list[str], chunks: Iterable[list[dict[str, Any]]], out: Writer) -> int:
    """Write rows as CSV with a header line, a chunk at a time; return how many rows.

    >>> out = io.StringIO()
    >>> write_csv(["a", "b"], [[{"a": 1, "b": 0.5}], [{"a": None}]], out), out.getvalue()
    (2, 'a,b\\n1,0.5\\n,\\n')
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for rows in chunks:
        table = [[row.get(c) for c in columns] for row in rows]
        # the csv module writes None, str, int and float (repr) as csv_cell does: only a row
        # holding anything else goes through csv_cell, a call a cell
        writer.writerows(cells if _PLAIN.issuperset(map(type, cells))
                         else [csv_cell(v) for v in cells] for cells in table)
        count += len(rows)
    return count


#: The types whose CSV text the csv module writes itself exactly as `csv_cell` does.
_PLAIN = frozenset({type(None), str, int, float, bool})


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Rows as CSV with a header line."""
    out = io.StringIO()
    write_csv(columns, [rows], out)
    return out.getvalue()


def write_parquet(columns: list[str], chunks: Callable[[], Iterable[list[dict[str, Any]]]],
                  path: str | Path) -> int:
    """Write rows as a Parquet file, a chunk (row group) at a time; return how many rows.

    ``chunks()`` is read twice: first to type each column (so that every value of it reads
    back exactly), then to write.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = {c: _Kind() for c in columns}
    for rows in chunks():
        for c in columns:
            kinds[c].add([row.get(c) for row in rows])
    schema = pa.schema([(c, kinds[c].arrow_type()) for c in columns])
    count = 0
    with pq.ParquetWriter(str(path), schema) as writer:
        for rows in chunks():
            arrays = [kinds[c].array([row.get(c) for row in rows]) for c in columns]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(rows)
        if not count:
            writer.write_table(schema.empty_table())
    return count


def to_parquet(columns: list[str], rows: list[dict[str, Any]], path: str | Path) -> None:
    """Rows as a Parquet file, each column typed so that its values read back exactly."""
    write_parquet(columns, lambda: [rows] if rows else [], path)


class _Kind:
    """What a column's values are, seen a chunk at a time: the narrowest Arrow type that holds
    every one exactly (ints: int64, else decimal128(38, 0), else text; ints and floats:
    float64 when every int is exact as a float, else text; anything else: the type Arrow
    infers when every chunk agrees, else the values' CSV text)."""

    def __init__(self) -> None:
        self.present = False
        self.ints = self.int64 = self.decimal = self.numbers = self.exact = True
        self.inferred: set[Any] = set()
        self.mixed = False

    def add(self, values: list[Any]) -> None:
        import pyarrow as pa

        for v in values:
            if v is None:
                continue
            self.present = True
            if _is_int(v):
                self.int64 = self.int64 and -(2**63) <= v < 2**63
                self.decimal = self.decimal and abs(v) < 10**38
                # int == float compares exactly in Python: 2**53 + 1 is not 9007199254740992.0
                try:
                    self.exact = self.exact and float(v) == v
                except OverflowError:
                    self.exact = False
            elif isinstance(v, float):
                self.ints = False
            else:
                self.ints = self.numbers = False
        if self.numbers or self.mixed:
            return
        try:
            kind = pa.array(values).type
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            self.mixed = True
            return
        if kind != pa.null():
            self.inferred.add(kind)
            self.mixed = len(self.inferred) > 1

    def arrow_type(self) -> Any:
        import pyarrow as pa

        if not self.present:
            return pa.null()
        if self.ints:
            return pa.int64() if self.int64 else (
                pa.decimal128(38, 0) if self.decimal else pa.string())
        if self.numbers:
            return pa.float64() if self.exact else pa.string()
        return pa.string() if self.mixed else next(iter(self.inferred))

    def array(self, values: list[Any]) -> Any:
        import pyarrow as pa

        kind = self.arrow_type()
        if not self.present:
            return pa.nulls(len(values))
        if self.ints:
            if self.int64:
                return pa.array(values, kind)
            if self.decimal:
                return pa.array([None if v is None else Decimal(v) for v in values], kind)
            return pa.array([None if v is None else str(v) for v in values], kind)
        if self.numbers:
            if self.exact:
                return pa.array([None if v is None else float(v) for v in values], kind)
            return pa.array([None if v is None else repr(v) for v in values], kind)
        if self.mixed:  # mixed kinds: their text, as in the CSV
            return pa.array([None if v is None else csv_cell(v) for v in values], kind)
        return pa.array(values, kind)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
