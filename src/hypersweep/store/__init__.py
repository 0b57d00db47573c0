"""The store layer: the only code in hypersweep that touches the database.

SQLAlchemy Core over SQLite (the embedded default) or PostgreSQL, with the schema migrated by
Alembic on open. See :class:`Store` for the API and :mod:`hypersweep.store.records` for the
records it reads and writes.

Examples
--------
>>> from hypersweep.store import Store, Status
>>> with Store("sqlite://") as store:
...     store.list_sweeps()
[]
"""

from __future__ import annotations

from hypersweep.store.memory import MEMORY_URL, MemoryStore
from hypersweep.store.records import (
    METRIC_KINDS,
    MetricPoint,
    Status,
    SweepRecord,
    TrialRecord,
    new_sweep_id,
    trial_id,
)
from hypersweep.store.store import Store


def open_store(url: str) -> Store:
    """Open the store at ``url``: ``memory://`` (in this process's memory), or a database URL.

    Examples
    --------
    >>> open_store("memory://")
    MemoryStore('memory://')
    >>> open_store("sqlite://")
    Store('sqlite://')
    """
    if url == MEMORY_URL:
        return MemoryStore()
    return Store(url)


__all__ = [
    "MEMORY_URL",
    "METRIC_KINDS",
    "MemoryStore",
    "MetricPoint",
    "Status",
    "Store",
    "SweepRecord",
    "TrialRecord",
    "new_sweep_id",
    "open_store",
    "trial_id",
]
