"""Turn journal records written by a trial into metric points and tags for the store."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from hypersweep.store import MetricPoint
from hypersweep.tracking import JournalRecord

#: Tag under which a trial's own ``run.fail(details)`` is recorded.
FAIL_TAG = "hypersweep.failed"


def _numeric(value: Any) -> float | None:
    """A value that ranks: int or float, never bool (Azure keeps booleans, but not as numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _point(record: JournalRecord, pos: int, value: Any, kind: str, step: int) -> MetricPoint:
    number = _numeric(value)
    text = None
    if number is None:
        # JSON for every non-number, strings included, so "true" and True stay apart.
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return MetricPoint(
        seq=record.offset, pos=pos, name=record.name or "", step=step, value=number, text=text,
        kind=kind, time=datetime.fromtimestamp(record.time, timezone.utc),
    )


def to_points(records: Iterable[JournalRecord]) -> tuple[list[MetricPoint], dict[str, str]]:
    """Metric points and tags carried by a batch of journal records.

    Each point keeps the record's byte offset as its idempotency key, so ingesting the same
    journal twice (after a controller restart) stores nothing twice.
    """
    points: list[MetricPoint] = []
    tags: dict[str, str] = {}
    for record in records:
        if record.kind == "metric":
            points.append(_point(record, 0, record.value, "scalar", record.step or 0))
        elif record.kind == "list" and isinstance(record.value, list):
            points += [_point(record, i, v, "list", i) for i, v in enumerate(record.value)]
        elif record.kind == "row":
            points.append(_point(record, 0, record.value, "row", record.step or 0))
        elif record.kind == "tag" and record.name:
            tags[record.name] = "" if record.value is None else str(record.value)
        elif record.kind == "fail":
            tags[FAIL_TAG] = "" if record.value is None else str(record.value)
    return points, tags

