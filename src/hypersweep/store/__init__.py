"""The store layer: the only code in hypersweep that touches the database.

:class:`Store` is the contract every layer types against; ``Store(url)`` opens
:class:`SqlStore` (SQLAlchemy Core over SQLite or PostgreSQL, with the schema migrated by
Alembic on open), :class:`SqliteStore` for a plain ``sqlite:///path`` file, the embedded default
(the calls of a sweep on the ``sqlite3`` driver, the rest by a SqlStore), or, for
``memory://``, :class:`MemoryStore`. See
:mod:`hypersweep.store.records` for the records they read and write.

Examples
--------
>>> from hypersweep.store import Store, Status
>>> with Store("sqlite://") as store:
...     store.list_sweeps()
[]
"""

from __future__ import annotations

from hypersweep.store.base import MEMORY_URL, Store, store_class
from hypersweep.store.memory import MemoryStore
from hypersweep.store.records import (
    METRIC_KINDS,
    TRIAL_ORDERS,
    MetricPoint,
    ScoredTrial,
    Status,
    SweepRecord,
    TrialBests,
    TrialCounts,
    TrialLine,
    TrialRecord,
    new_sweep_id,
    trial_id,
    utcnow,
)


def open_store(url: str) -> Store:
    """Open the store at ``url``: ``memory://`` (in this process's memory), or a database URL.

    Examples
    --------
    >>> open_store("memory://")
    MemoryStore('memory://')
    >>> open_store("sqlite://")
    SqlStore('sqlite://')
    """
    return store_class(url)(url)


def __getattr__(name: str) -> type[Store]:
    # SqlStore loads SQLAlchemy, SqliteStore the sqlite3 driver: imported when named, not
    # with the package.
    if name == "SqlStore":
        from hypersweep.store.sql import SqlStore

        return SqlStore
    if name == "SqliteStore":
        from hypersweep.store.sqlite import SqliteStore

        return SqliteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MEMORY_URL",
    "METRIC_KINDS",
    "TRIAL_ORDERS",
    "MemoryStore",
    "MetricPoint",
    "ScoredTrial",
    "SqlStore",
    "SqliteStore",
    "Status",
    "Store",
    "SweepRecord",
    "TrialBests",
    "TrialCounts",
    "TrialLine",
    "TrialRecord",
    "new_sweep_id",
    "open_store",
    "store_class",
    "trial_id",
    "utcnow",
]
