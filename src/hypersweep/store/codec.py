"""Conversion between records and table rows: JSON text columns and NaN-safe metric values.

Everything that turns a Python value into a column value (and back) lives here, so the SQL in
:mod:`hypersweep.store.sql` deals only in rows.

Examples
--------
>>> dumps({"lr": 0.1, "name": "a'b"})
'{"lr": 0.1, "name": "a\\'b"}'
>>> loads(dumps([1, float("inf")]))
[1, inf]
>>> encode_value(float("nan"))
(None, True)
>>> decode_value(None, True)
nan
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

from hypersweep.store.records import (
    METRIC_KINDS,
    MetricPoint,
    Status,
    SweepRecord,
    TrialLine,
    TrialRecord,
)

__all__ = [
    "SWEEP_COLUMNS",
    "TIME_COLUMNS",
    "TRIAL_COLUMNS",
    "TrialBatch",
    "check_time",
    "decode_value",
    "dumps",
    "encode_value",
    "loads",
    "metric_from_row",
    "metric_rows",
    "metric_to_row",
    "optional_float",
    "primary_metric",
    "strict_json",
    "sweep_from_row",
    "sweep_to_row",
    "sweep_updates",
    "tag_rows",
    "trial_batch",
    "trial_from_row",
    "trial_line",
    "trial_lines",
    "trial_to_row",
    "trial_updates",
]

# record field -> column name, where they differ
_TRIAL_RENAMES = {"index": "trial_index"}
_SWEEP_JSON = frozenset({"config", "warnings", "properties"})
_TRIAL_JSON = frozenset({"params", "handle", "arguments", "termination_detail", "placement"})

#: The columns holding times (aware UTC datetimes in records).
TIME_COLUMNS = frozenset({"created_time", "start_time", "end_time", "heartbeat_time", "time"})

SWEEP_COLUMNS = tuple(f.name for f in dataclasses.fields(SweepRecord))
TRIAL_COLUMNS = tuple(_TRIAL_RENAMES.get(f.name, f.name) for f in dataclasses.fields(TrialRecord))
# (record field, column) pairs, computed once: reading 10,000 trials otherwise spends a third
# of its time in dataclasses.fields()
_TRIAL_FIELD_COLUMNS = tuple(
    (f.name, _TRIAL_RENAMES.get(f.name, f.name)) for f in dataclasses.fields(TrialRecord)
)
_TRIAL_FIELDS = tuple(name for name, _ in _TRIAL_FIELD_COLUMNS)


def _default(obj: Any) -> Any:
    # numpy scalars and arrays (np.int64 is not an int), sets, Enums with plain values
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if hasattr(obj, "value") and isinstance(obj.value, (str, int, float)):
        return obj.value
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable: {obj!r}")


# One encoder for every call: json.dumps with options builds a new one each time, which
# was a third of the cost of encoding a trial's parameters.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_default)


def dumps(value: Any, what: str = "value") -> str:
    """Encode ``value`` as JSON text (NaN and ±inf allowed, non-ASCII kept as is).

    numpy scalars and arrays are converted to plain values. ``what`` names the field in the
    error raised for anything else.

    Examples
    --------
    >>> dumps({"x": float("nan")})
    '{"x": NaN}'
    >>> dumps(object(), "params")
    Traceback (most recent call last):
    ...
    TypeError: params: object is not JSON serialisable: ...
    """
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{what}: {err}") from None


def check_time(name: str, value: Any) -> Any:
    """Return ``value`` if it is ``None`` or a timezone-aware datetime; raise otherwise.

    Examples
    --------
    >>> check_time("end_time", datetime(2024, 1, 1))
    Traceback (most recent call last):
    ...
    ValueError: end_time: naive datetime 2024-01-01T00:00:00; give a timezone-aware UTC time
    """
    if value is None or (type(value) is datetime and value.tzinfo is timezone.utc):
        return value  # the common case, four times a trial: no offset to compute
    if not isinstance(value, datetime):
        raise TypeError(f"{name}: expected a datetime, got {type(value).__name__}: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name}: naive datetime {value.isoformat()}; give a timezone-aware UTC time"
        )
    return value


def strict_json(value: Any) -> Any:
    """``value`` as strict JSON can carry it: NaN and ±inf become ``"NaN"``, ``"Infinity"``,
    ``"-Infinity"`` (how JavaScript prints them), nested dicts and lists alike.

    Metric values may be non-finite, and JSON readers other than Python's refuse the bare
    ``NaN`` that ``json.dumps`` writes, so every face that sends JSON out uses this.

    >>> strict_json({"loss": [float("nan"), float("-inf"), 0.5]})
    {'loss': ['NaN', '-Infinity', 0.5]}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def loads(text: str | None) -> Any:
    """Decode JSON text written by :func:`dumps` (``None`` stays ``None``)."""
    return None if text is None else json.loads(text)


def encode_value(value: float | None) -> tuple[float | None, bool]:
    """Return ``(value column, is_nan column)`` for a metric value.

    Examples
    --------
    >>> encode_value(2), encode_value(None), encode_value(float("-inf"))
    ((2.0, False), (None, False), (-inf, False))
    """
    if value is None:
        return None, False
    if isinstance(value, (bool, str, bytes)) or not hasattr(value, "__float__"):
        raise TypeError(f"metric value must be an int, a float or None, got {value!r}")
    number = float(value)
    if math.isnan(number):
        return None, True
    return number, False


def optional_float(value: Any) -> float | None:
    """A number read back as a float (a driver may answer an int or a Decimal), None kept."""
    return None if value is None else float(value)


def decode_value(value: float | None, is_nan: bool) -> float | None:
    """Inverse of :func:`encode_value`."""
    return math.nan if is_nan else optional_float(value)


def primary_metric(config: Any) -> str | None:
    """The name of the metric a sweep's ``config`` ranks its trials by (its first objective),
    or None when the config names none.

    The store keeps each trial's smallest and largest value of this metric beside the trial
    (``trials.best_low`` / ``best_high``), so that ranking or exporting a sweep's trials by it
    reads no metric rows. Both forms of the stored config (`SweepSpec.to_dict`) are read.

    >>> primary_metric({"version": 2, "objectives": [{"metric": "loss", "goal": "minimize"}]})
    'loss'
    >>> primary_metric({"objective": {"primary_metric": "acc"}}), primary_metric({})
    ('acc', None)
    """
    if not isinstance(config, Mapping):
        return None
    objectives = config.get("objectives")
    if isinstance(objectives, list) and objectives and isinstance(objectives[0], Mapping):
        name = objectives[0].get("metric")
    else:  # the first release's form
        objective = config.get("objective")
        name = objective.get("primary_metric") if isinstance(objective, Mapping) else None
    return name if isinstance(name, str) else None


def sweep_to_row(sweep: SweepRecord) -> dict[str, Any]:
    """Column values for inserting ``sweep`` (with its :func:`primary_metric`)."""
    row = {name: _encode_sweep(name, getattr(sweep, name)) for name in SWEEP_COLUMNS}
    row["primary_metric"] = primary_metric(sweep.config)
    return row


def _encode_sweep(name: str, value: Any) -> Any:
    if name in _SWEEP_JSON:
        if value is None:
            value = [] if name == "warnings" else {}
        return dumps(value, name)
    if name == "status":
        return Status(value).value
    if name in TIME_COLUMNS:
        return check_time(name, value)
    return value


def sweep_updates(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for updating the given record fields of a sweep.

    Raises
    ------
    TypeError
        When a field is not a :class:`SweepRecord` field, or is ``id``.
    """
    _check_fields("SweepRecord", fields, SWEEP_COLUMNS)
    values = {name: _encode_sweep(name, value) for name, value in fields.items()}
    if "config" in fields:
        values["primary_metric"] = primary_metric(fields["config"])
    return values


def sweep_from_row(row: Mapping[Any, Any]) -> SweepRecord:
    """Build a :class:`SweepRecord` from a row of ``sweeps``."""
    values = {name: row[name] for name in SWEEP_COLUMNS}
    for name in _SWEEP_JSON:
        values[name] = loads(values[name])
    values["status"] = Status(values["status"])
    return SweepRecord(**values)


def trial_to_row(trial: TrialRecord) -> dict[str, Any]:
    """Column values for inserting ``trial``."""
    return {column: _encode_trial(name, getattr(trial, name))
            for name, column in _TRIAL_FIELD_COLUMNS}


def _encode_trial(name: str, value: Any) -> Any:
    if name in _TRIAL_JSON:
        if name in ("handle", "termination_detail", "placement") and value is None:
            return None
        if value is None:
            value = [] if name == "arguments" else {}
        elif name == "arguments":
            value = [str(a) for a in value]
        return dumps(value, name)
    if name == "status":
        return Status(value).value
    if name in TIME_COLUMNS:
        return check_time(name, value)
    return value


def trial_updates(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for updating the given record fields of a trial.

    Raises
    ------
    TypeError
        When a field is not a :class:`TrialRecord` field, or is ``id``.
    """
    _check_fields("TrialRecord", fields, _TRIAL_FIELDS)
    return {_TRIAL_RENAMES.get(name, name): _encode_trial(name, v) for name, v in fields.items()}


def trial_from_row(row: Mapping[Any, Any]) -> TrialRecord:
    """Build a :class:`TrialRecord` from a row of ``trials``."""
    values = {name: row[column] for name, column in _TRIAL_FIELD_COLUMNS}
    for name in _TRIAL_JSON:
        text = values[name]
        if text is not None:  # most trials have no handle, no detail, no arguments
            values[name] = [] if text == "[]" else json.loads(text)
    status = values["status"]
    values["status"] = _STATUSES.get(status) or Status(status)
    # the record as its constructor makes it, without a frozen dataclass's per-field
    # __setattr__: reading 100,000 trials spent a tenth of its time there
    record = object.__new__(TrialRecord)
    record.__dict__.update(values)
    return record


_STATUSES = {status.value: status for status in Status}


def trial_line(index: int, ident: str, status: str, params: str, best: float | None,
               created: datetime, start: datetime | None, end: datetime | None,
               reason: str | None, detail: str | None, error: str | None,
               placement: str | None) -> TrialLine:
    """Build a :class:`TrialLine` from its columns (JSON as stored, times already decoded).

    >>> from datetime import timezone
    >>> trial_line(3, "HD_x_3", "Failed", '{"lr": 0.1}', None, datetime.now(timezone.utc),
    ...            None, None, None, None, "boom", None).params
    {'lr': 0.1}
    """
    return TrialLine(index, ident, status, json.loads(params),
                     None if best is None else float(best), created, start, end, reason,
                     None if detail is None else json.loads(detail), error,
                     None if placement is None else json.loads(placement))


def trial_lines(rows: Sequence[Sequence[Any]],
                when: Callable[[Any], datetime]) -> list[TrialLine]:
    """:func:`trial_line` of many rows at once, each ``(index, id, status, params, best,
    created, start, end, reason, detail, error, placement)`` with its JSON as stored and its
    times as ``when`` decodes them (``None`` stays ``None``).

    The params of all rows are decoded by one call of the C decoder (a JSON list of them):
    an export reads 100,000 trials, and a ``json.loads`` call each cost as much as the rest
    of building its line.

    >>> from datetime import timezone
    >>> now = datetime.now(timezone.utc)
    >>> [line.params for line in trial_lines([
    ...     (0, "HD_x_0", "Completed", '{"lr": 0.1}', 0.5, now, None, None, None, None, None,
    ...      None), (1, "HD_x_1", "Running", "{}", None, now, now, None, None, None, None,
    ...      '{"gpus": [1]}')], lambda t: t)]
    [{'lr': 0.1}, {}]
    """
    if not rows:
        return []
    params = json.loads("[" + ",".join([row[3] for row in rows]) + "]")
    if len(params) != len(rows):  # some text is not one JSON value: decode (and fail) alone
        params = [json.loads(row[3]) for row in rows]
    make, loads_ = tuple.__new__, json.loads
    return [make(TrialLine, (
        index, ident, status, decoded, None if best is None else float(best), when(created),
        None if start is None else when(start), None if end is None else when(end), reason,
        None if detail is None else loads_(detail), error,
        None if placement is None else loads_(placement)))
        for (index, ident, status, _, best, created, start, end, reason, detail, error,
             placement), decoded in zip(rows, params, strict=True)]


def metric_to_row(trial_id: str, point: MetricPoint) -> dict[str, Any]:
    """Column values for inserting ``point`` of ``trial_id``."""
    if point.kind not in METRIC_KINDS:
        raise ValueError(f"metric {point.name!r}: kind must be one of {sorted(METRIC_KINDS)}")
    value = point.value
    if type(value) is not float or value != value:  # a float that is no NaN is its own column
        value, is_nan = encode_value(value)
    else:
        is_nan = False
    return {
        "trial_id": trial_id,
        "seq": int(point.seq),
        "pos": int(point.pos),
        "name": point.name,
        "step": int(point.step),
        "value": value,
        "is_nan": is_nan,
        "text": point.text,
        "kind": point.kind,
        "time": check_time("time", point.time),
    }


def metric_rows(trial_id: str, points: Sequence[MetricPoint]) -> list[dict[str, Any]]:
    """The rows of a trial's ``points``, one a position ``(seq, pos)``: the first given wins,
    as the database keeps the first stored."""
    unique: dict[tuple[int, int], dict[str, Any]] = {}
    for point in points:
        row = metric_to_row(trial_id, point)
        unique.setdefault((row["seq"], row["pos"]), row)
    return list(unique.values())


def tag_rows(trial_id: str, tags: Mapping[str, str]) -> list[dict[str, str]]:
    """The rows of a trial's ``tags``: names and values as text."""
    return [{"trial_id": trial_id, "name": str(k), "value": str(v)} for k, v in tags.items()]


class TrialBatch(NamedTuple):
    """The rows of a `Store.save_trials` call, and the trials whose best values it changes."""

    trials: list[dict[str, Any]]
    points: list[dict[str, Any]]
    #: the trials given a numeric point: their best values are read again
    scored: list[str]
    tags: list[dict[str, str]]


def trial_batch(
    records: Sequence[TrialRecord],
    points: Mapping[str, Sequence[MetricPoint]] | None,
    tags: Mapping[str, Mapping[str, str]] | None,
) -> TrialBatch | None:
    """The rows `Store.save_trials` writes, or None when there is nothing to write."""
    rows = [trial_to_row(record) for record in records]
    point_rows = [row for tid, batch in (points or {}).items()
                  for row in metric_rows(tid, batch)]
    scored = list(dict.fromkeys(row["trial_id"] for row in point_rows
                                if row["value"] is not None))
    tagged = [row for tid, pairs in (tags or {}).items() for row in tag_rows(tid, pairs)]
    if not rows and not point_rows and not tagged:
        return None
    return TrialBatch(rows, point_rows, scored, tagged)


def metric_from_row(row: Mapping[Any, Any]) -> MetricPoint:
    """Build a :class:`MetricPoint` from a row of ``metrics``."""
    return MetricPoint(
        seq=row["seq"],
        pos=row["pos"],
        name=row["name"],
        step=row["step"],
        value=decode_value(row["value"], row["is_nan"]),
        text=row["text"],
        kind=row["kind"],
        time=row["time"],
    )


def _check_fields(record: str, fields: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for name in fields:
        if name == "id":
            raise TypeError(f"{record}.id cannot be updated")
        if name not in allowed:
            raise TypeError(f"{record} has no field {name!r}")
