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

- **Parquet** (needs pyarrow; written by `hypersweep.cli._parquet`): typed columns. Floats
  are float64 (NaN and ±inf as such), integers int64, or decimal128(38, 0) beyond 64 bits,
  or text beyond 38 digits; a column mixing integers and floats is float64 when every
  integer is exact as a float, else the values' text (``repr``); numbers mixed with anything
  else are their text too. A missing value is null.

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
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any, Protocol

from hypersweep.spec.sweep_spec import stored_objectives
from hypersweep.store.codec import strict_json
from hypersweep.store.records import TrialLine

__all__ = [
    "CHUNK",
    "EXPORT_COLUMNS",
    "TrialExport",
    "Writer",
    "csv_cell",
    "rows_table",
    "to_csv",
    "to_json",
    "trial_rows",
    "write_csv",
    "write_json",
]

#: The columns every export has, around the sweep's parameters (as `HyperDriveRun.to_dataframe`).
EXPORT_COLUMNS = ("run_id", "status", "best_primary_metric", "duration_s", "termination_reason")


class Writer(Protocol):
    """Where the writers put text: an open text file, ``sys.stdout``, a ``StringIO``."""

    def write(self, text: str, /) -> int: ...


#: Trials read from the store (and written out) at a time: memory stays flat with the sweep.
CHUNK = 2000


#: A chunk of rows, each the sequence of its cells in the order of the columns.
Table = list[Sequence[Any]]


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
        # the objectives alone, not run.spec: building the sweep's sampler, policy and space
        # imports them and numpy (~0.15 s of CPU, a third of a small export's)
        objectives, constraints = stored_objectives(self.store.get_sweep(run.id).config)
        self.metric, self.maximize = objectives[0].metric, objectives[0].maximize
        params = self.store.param_names(run.id)
        several = len(objectives) > 1 or bool(constraints)
        self.outcomes = {o.trial_id: o for o in run.outcomes()} if several else None
        extra: list[str] = []
        self.names: dict[str, str] = {}
        if several:
            taken = {"run_id", "status", *params, *EXPORT_COLUMNS}
            # an objective's column is its metric's name, unless a parameter already has it
            self.names = {o.metric: o.metric if o.metric not in taken else f"objective:{o.metric}"
                          for o in objectives}
            extra = [*self.names.values(), "feasible", "on_pareto_front"]
        self.columns = ["run_id", "status", *params, EXPORT_COLUMNS[2], *extra,
                        *EXPORT_COLUMNS[3:]]
        # one objective and no parameter named as another column: a trial's cells are laid
        # out straight from its line (no dict a row); else read from its row by column, as a
        # dict holds them (a parameter named "status" is in both "status" columns)
        self.params = params if not several and len(set(self.columns)) == len(
            self.columns) else None
        # the Arrow type of each column whose values are known to be of one (a Parquet file's
        # columns are typed before its first row is written); not one a parameter also names
        known = {"run_id": "string", "status": "string", "best_primary_metric": "double",
                 "feasible": "bool", "on_pareto_front": "bool", "duration_s": "double",
                 "termination_reason": "string"}
        self.types = [None if c in params else known.get(c) for c in self.columns]

    def lines(self) -> Iterator[list[TrialLine]]:
        """The trials by number, ``chunk`` at a time (keyset pages of the store, each trial
        read as a `TrialLine`: only the columns an export has)."""
        after = None
        while True:
            page = self.store.trial_lines(self.run.id, self.metric, self.maximize,
                                          after=after, limit=self.chunk)
            if page:
                yield page
            if len(page) < self.chunk:
                return
            after = page[-1].index

    def chunks(self) -> Iterator[Table]:
        """The rows by trial number, ``chunk`` at a time, each the list of its cells."""
        columns, params = self.columns, self.params
        for page in self.lines():
            if params is None:
                yield [[row.get(c) for c in columns] for row in map(self._row, page)]
                continue
            # laid out a column at a time, each a loop in C or a comprehension without a call
            # a cell, then zipped into rows: a function call per cell was a fifth of the export
            _, ids, statuses, values, bests, _, starts, ends, reasons, *_ = zip(*page, strict=True)
            yield list(zip(
                ids, statuses, *[list(map(dict.get, values, repeat(name))) for name in params],
                [None if b is None or b != b else b for b in bests],  # (b != b: NaN)
                [None if s is None or e is None else (e - s).total_seconds()
                 for s, e in zip(starts, ends, strict=True)],
                reasons, strict=True))

    def _row(self, trial: TrialLine) -> dict[str, Any]:
        row = {
            "run_id": trial.id, "status": trial.status, **trial.params,
            "best_primary_metric": _best(trial), "duration_s": _duration(trial),
            "termination_reason": trial.termination_reason,
        }
        if self.outcomes is not None:
            outcome = self.outcomes.get(trial.id)
            for metric, column in self.names.items():
                row[column] = None if outcome is None else outcome.values.get(metric)
            row["feasible"] = outcome is not None and outcome.feasible
            row["on_pareto_front"] = outcome is not None and outcome.on_front
        return row


def _best(trial: TrialLine) -> float | None:
    # a trial whose every point is NaN has no best (as in to_dataframe)
    value = trial.best
    return None if value is None or math.isnan(value) else value


def _duration(trial: TrialLine) -> float | None:
    if trial.start_time is None or trial.end_time is None:
        return None
    return (trial.end_time - trial.start_time).total_seconds()


def trial_rows(run: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and one row per trial of the sweep ``run``, with the stored values as is
    (every row at once: `TrialExport` streams them)."""
    export = TrialExport(run)
    columns = export.columns
    return columns, [dict(zip(columns, cells, strict=True))
                     for chunk in export.chunks() for cells in chunk]


def rows_table(columns: list[str], rows: list[dict[str, Any]]) -> Table:
    """Rows (dicts) as the cells of ``columns``, a list a row (None where a row lacks one)."""
    return [[row.get(c) for c in columns] for row in rows]


def csv_cell(value: Any) -> str:
    """The text of one CSV cell: ``repr`` of a float (exact), an int in full, "" for none."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(strict_json(value), allow_nan=False)
    return str(value)


def _json_rows(columns: list[str], rows: Table) -> str:
    """The chunk's rows as the indented objects of a JSON list, joined by ``",\\n"``."""
    # json.dumps with an indent runs the pure-Python encoder. A chunk of flat rows (and
    # distinct columns) is laid out by C loops instead: each column's values encoded by one
    # call of the C encoder, then each object filled into the indented layout by `%`. Else
    # each row's flat values are encoded in C, and a nested one by json.dumps.
    if rows and columns and len(set(columns)) == len(columns):
        values = list(zip(*rows, strict=True))  # the chunk's columns
        if len(values) == len(columns) and all(_FLAT.issuperset(map(type, column))
                                               for column in values):
            texts = [_column_texts(column) for column in values]
            return ",\n".join(map(_object_layout(columns).__mod__, zip(*texts, strict=True)))
    keys = [f"    {json.dumps(c, ensure_ascii=False)}: " for c in columns]
    out = []
    for cells in rows:
        values = [strict_json(v) for v in cells]
        if _FLAT.issuperset(map(type, values)):
            pairs = zip(keys, values, strict=True)
            out.append("  {\n" + ",\n".join([k + _FLAT_JSON(v) for k, v in pairs]) + "\n  }")
            continue
        text = json.dumps(dict(zip(columns, values, strict=True)), indent=2, allow_nan=False,
                          ensure_ascii=False)
        out.append("  " + text.replace("\n", "\n  "))
    return ",\n".join(out)


_FLAT = frozenset({type(None), str, int, float, bool})
_FLAT_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
# A column's values as a JSON list whose separator is a raw newline, which no encoded value
# holds (a string's is escaped): split on it, the list is each value's text.
_COLUMN_JSON = json.JSONEncoder(ensure_ascii=False, separators=("\n", ":")).encode
# The strict form of what allow_nan spells bare (a string "NaN" is encoded quoted)
_NON_FINITE_JSON = {"NaN": '"NaN"', "Infinity": '"Infinity"', "-Infinity": '"-Infinity"'}


def _column_texts(column: Sequence[Any]) -> list[str]:
    """The JSON text of each of a column's flat values (NaN and infinities as strings)."""
    text = _COLUMN_JSON(column)
    texts = text[1:-1].split("\n")
    if "NaN" in text or "Infinity" in text:
        texts = [_NON_FINITE_JSON.get(t, t) for t in texts]
    return texts


def _object_layout(columns: list[str]) -> str:
    """The ``%`` template of one row's object, as json.dumps(indent=2) lays it out in a list."""
    keys = [_FLAT_JSON(c).replace("%", "%%") for c in columns]
    return "  {\n    " + ",\n    ".join(f"{key}: %s" for key in keys) + "\n  }"


def write_json(columns: list[str], chunks: Iterable[Table], out: Writer) -> int:
    """Write rows (each the list of its cells) as a strict JSON list of objects, a chunk at
    a time (the text `to_json` returns); return how many rows.

    >>> out = io.StringIO()
    >>> write_json(["a"], [[[float("nan")]], [[2]]], out), json.loads(out.getvalue())
    (2, [{'a': 'NaN'}, {'a': 2}])
    """
    count = 0
    for rows in chunks:
        if rows:
            out.write(("[\n" if count == 0 else ",\n") + _json_rows(columns, rows))
            count += len(rows)
    out.write("\n]\n" if count else "[]\n")
    return count


def to_json(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Rows as a strict JSON list of objects, one key per column (missing: ``null``)."""
    out = io.StringIO()
    write_json(columns, [rows_table(columns, rows)], out)
    return out.getvalue()


def write_csv(columns: list[str], chunks: Iterable[Table], out: Writer) -> int:
    """Write rows (each the list of its cells) as CSV with a header line, a chunk at a time;
    return how many rows.

    >>> out = io.StringIO()
    >>> write_csv(["a", "b"], [[[1, 0.5]], [[None, None]]], out), out.getvalue()
    (2, 'a,b\\n1,0.5\\n,\\n')
    """
    # the csv module writes a row at a time to its file: to a StringIO (in C), and that
    # to ``out`` a chunk at a time, not a Python write() call a row
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for table in chunks:
        # the csv module writes None, str, int and float (repr) as csv_cell does: only a row
        # holding anything else goes through csv_cell, a call a cell
        writer.writerows(cells if _PLAIN.issuperset(map(type, cells))
                         else [csv_cell(v) for v in cells] for cells in table)
        count += len(table)
        out.write(text.getvalue())
        text.seek(0)
        text.truncate()
    out.write(text.getvalue())  # the header, when there was no row
    return count


#: The types whose CSV text the csv module writes itself exactly as `csv_cell` does.
_PLAIN = frozenset({type(None), str, int, float, bool})


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Rows as CSV with a header line."""
    out = io.StringIO()
    write_csv(columns, [rows_table(columns, rows)], out)
    return out.getvalue()
