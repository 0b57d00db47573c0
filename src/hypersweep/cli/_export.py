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
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypersweep.store.codec import strict_json

__all__ = [
    "EXPORT_COLUMNS", "csv_cell", "to_csv", "to_json", "to_parquet", "trial_rows",
]

#: The columns every export has, around the sweep's parameters (as `HyperDriveRun.to_dataframe`).
EXPORT_COLUMNS = ("run_id", "status", "best_primary_metric", "duration_s", "termination_reason")


def trial_rows(run: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and one row per trial of the sweep ``run``, with the stored values as is.

    The row layout is `HyperDriveRun.to_dataframe`'s (id, status, parameters, best primary
    metric, duration, termination reason), without going through a DataFrame's dtypes. A
    sweep with several objectives or with constraints has, after the best primary metric,
    one column per objective (the value its front is judged on), ``feasible`` and
    ``on_pareto_front``.
    """
    store = run.experiment.workspace.store
    maximize = run._maximize
    best = store.best_values([run.id], run.primary_metric_name, maximize)
    spec = run.spec
    several = len(spec.objectives) > 1 or bool(spec.constraints)
    outcomes = {o.trial_id: o for o in run.outcomes()} if several else {}
    rows: list[dict[str, Any]] = []
    params: dict[str, None] = {}
    for trial in store.list_trials(run.id):
        duration = None
        if trial.start_time is not None and trial.end_time is not None:
            duration = (trial.end_time - trial.start_time).total_seconds()
        value = best.get(trial.id)
        params.update(dict.fromkeys(trial.params))
        rows.append({
            "run_id": trial.id, "status": trial.status.value, **trial.params,
            # a trial whose every point is NaN has no best (as in to_dataframe)
            "best_primary_metric": None if value is None or math.isnan(value) else value,
            "duration_s": duration, "termination_reason": trial.termination_reason,
        })
    extra: list[str] = []
    if several:
        taken = {"run_id", "status", *params, *EXPORT_COLUMNS}
        # an objective's column is its metric's name, unless a parameter already has it
        names = {o.metric: o.metric if o.metric not in taken else f"objective:{o.metric}"
                 for o in spec.objectives}
        extra = [*names.values(), "feasible", "on_pareto_front"]
        for row in rows:
            outcome = outcomes.get(row["run_id"])
            for metric, column in names.items():
                row[column] = None if outcome is None else outcome.values.get(metric)
            row["feasible"] = outcome is not None and outcome.feasible
            row["on_pareto_front"] = outcome is not None and outcome.on_front
    columns = ["run_id", "status", *params, EXPORT_COLUMNS[2], *extra, *EXPORT_COLUMNS[3:]]
    return columns, rows


def csv_cell(value: Any) -> str:
    """The text of one CSV cell: ``repr`` of a float (exact), an int in full, "" for none."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(strict_json(value), allow_nan=False)
    return str(value)


def to_json(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Rows as a strict JSON list of objects, one key per column (missing: ``null``)."""
    data = [{c: strict_json(row.get(c)) for c in columns} for row in rows]
    return json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Rows as CSV with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return out.getvalue()


def to_parquet(columns: list[str], rows: list[dict[str, Any]], path: str | Path) -> None:
    """Rows as a Parquet file, each column typed so that its values read back exactly."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [_arrow_column([row.get(c) for row in rows]) for c in columns]
    pq.write_table(pa.table(dict(zip(columns, arrays, strict=True))), str(path))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _arrow_column(values: list[Any]) -> Any:
    """An Arrow array of ``values`` in the narrowest type that holds every one exactly."""
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(_is_int(v) for v in present):
        if all(-(2**63) <= v < 2**63 for v in present):
            return pa.array(values, pa.int64())
        if all(abs(v) < 10**38 for v in present):
            return pa.array([None if v is None else Decimal(v) for v in values],
                            pa.decimal128(38, 0))
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    if present and all(_is_int(v) or isinstance(v, float) for v in present):
        # int == float compares exactly in Python: 2**53 + 1 is not 9007199254740992.0
        if all(isinstance(v, float) or float(v) == v for v in present):
            return pa.array([None if v is None else float(v) for v in values], pa.float64())
        return pa.array([None if v is None else repr(v) for v in values], pa.string())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed kinds: their text, as in the CSV
        return pa.array([None if v is None else csv_cell(v) for v in values], pa.string())
