"""Turn journal records written by a trial into metric points and tags for the store.

Nothing a trial writes may stop the controller: the journal reader already turns a line the
store cannot hold into a :data:`~hypersweep.tracking.journal.SKIPPED` record, which becomes the
trial's :data:`JOURNAL_WARNING_TAG` (how many lines were skipped, and why the last was) and one
warning in the controller's log. A record that still fails to convert is treated the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from hypersweep.store import MetricPoint
from hypersweep.tracking import JournalRecord
from hypersweep.tracking.journal import SKIPPED
from hypersweep.tracking.storable import describe, printable_text

log = logging.getLogger("hypersweep.controller")

#: Tag under which a trial's own ``run.fail(details)`` is recorded.
FAIL_TAG = "hypersweep.failed"
#: Tag saying how many of a trial's journal lines were skipped and why: it logged (or wrote
#: into its journal) something the store cannot hold.
JOURNAL_WARNING_TAG = "hypersweep.journal_warning"


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


def scalar_point(seq: int, name: str, value: float, step: int, when: float) -> MetricPoint:
    """The point of one ``log(name, value)`` of a number (an int or float, not a bool): what
    `to_points` makes of that journal record, without the record (function trials' fast
    path).

    >>> scalar_point(0, "loss", 1, 0, 0.0).value
    1.0
    """
    return MetricPoint.scalar(seq, name, step, float(value),
                              datetime.fromtimestamp(when, timezone.utc))


def _convert(record: JournalRecord, points: list[MetricPoint], tags: dict[str, str]) -> None:
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
    elif record.kind == SKIPPED:
        tags[JOURNAL_WARNING_TAG] = str(record.value)
        if record.step == 1:  # the first of this reader's skips; the tag counts the rest
            log.warning("%s", record.value)


def to_points(records: Iterable[JournalRecord]) -> tuple[list[MetricPoint], dict[str, str]]:
    """Metric points and tags carried by a batch of journal records.

    Each point keeps the record's byte offset as its idempotency key, so ingesting the same
    journal twice (after a controller restart) stores nothing twice. Never raises on a record:
    one that cannot be converted is left out and reported in :data:`JOURNAL_WARNING_TAG`.
    """
    points: list[MetricPoint] = []
    tags: dict[str, str] = {}
    for record in records:
        before = len(points)
        try:
            _convert(record, points, tags)
        except (ValueError, TypeError, OverflowError, RecursionError) as err:
            del points[before:]  # a list record is taken whole or not at all
            message = (f"a journal record at byte {record.offset} ({record.kind} "
                       f"{describe(record.name)}) was skipped: {printable_text(str(err))[:300]}")
            tags[JOURNAL_WARNING_TAG] = message
            log.warning("%s", message)
    return points, tags
