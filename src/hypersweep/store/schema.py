"""The tables of the store, declared once with SQLAlchemy Core.

The migrations in ``migrations/versions`` must produce exactly these tables; a test compares a
freshly migrated database against :data:`metadata` with Alembic's autogenerate and expects no
difference. When you change a table here, add a migration in the same commit.

Portable choices:

- JSON is stored as ``TEXT`` (encoded by :mod:`hypersweep.store.codec`), so SQLite and
  PostgreSQL hold the same bytes.
- Times use :class:`UTCDateTime`: ``timestamp with time zone`` on PostgreSQL, naive UTC text
  on SQLite; always timezone-aware UTC in Python.
- ``trials.best_low`` / ``best_high`` repeat what ``metrics`` holds (the trial's extreme values
  of ``sweeps.primary_metric``): the store rewrites them with every write of points.
- Metric values are ``DOUBLE PRECISION``. SQLite turns NaN into NULL, so a NaN is stored on both
  backends as ``value = NULL, is_nan = true``; aggregates (``max``/``min``) then skip it
  everywhere, as they must.

Examples
--------
>>> sorted(metadata.tables)
['experiments', 'metrics', 'sweeps', 'trial_tags', 'trials']
>>> [c.name for c in metrics.primary_key]
['trial_id', 'seq', 'pos']
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from hypersweep.store._sqlite_sql import time_text

__all__ = [
    "ID_LENGTH",
    "UTCDateTime",
    "experiments",
    "metadata",
    "metrics",
    "sweeps",
    "trial_tags",
    "trials",
]

#: Length of id, status and other short string columns.
ID_LENGTH = 255

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Binds aware datetimes only (a naive one is refused: its zone is unknown). PostgreSQL
    stores ``timestamp with time zone``; SQLite stores naive UTC text, which sorts correctly.
    Results are always aware and in UTC.

    Examples
    --------
    >>> from sqlalchemy.dialects import sqlite
    >>> t = UTCDateTime().process_bind_param(
    ...     datetime(2024, 1, 1, 12, tzinfo=timezone.utc), sqlite.dialect())
    >>> t.tzinfo is None, t.hour
    (True, 12)
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: give a timezone-aware UTC time")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            value = value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Dialect) -> Any:
        general = super().bind_processor(dialect)
        if dialect.name != "sqlite" or general is None:
            return general

        def process(value: Any) -> Any:
            # A UTC time (the store's own, four a trial) straight to the text SQLite's
            # DATETIME writes (its storage format: microseconds always shown), in one step
            # instead of the two above (this method, then the dialect's %-format of a dict).
            if type(value) is datetime and value.tzinfo is timezone.utc:
                return time_text(value)
            return general(value)

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _id(name: str, *args: Any, **kw: Any) -> Column[str]:
    return Column(name, String(ID_LENGTH), *args, **kw)


experiments = Table(
    "experiments",
    metadata,
    _id("name", primary_key=True),
    Column("created_time", UTCDateTime(), nullable=False),
)

sweeps = Table(
    "sweeps",
    metadata,
    _id("id", primary_key=True),
    _id("experiment", ForeignKey("experiments.name"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("config", Text, nullable=False),
    Column("created_time", UTCDateTime(), nullable=False),
    Column("start_time", UTCDateTime()),
    Column("end_time", UTCDateTime()),
    Column("error", Text),
    _id("controller"),
    Column("heartbeat_time", UTCDateTime()),
    Column("warnings", Text, nullable=False),
    Column("properties", Text, nullable=False),
    # the metric the config ranks trials by (codec.primary_metric): trials keep its best values
    Column("primary_metric", Text),
    Index(None, "experiment", "created_time"),
)

trials = Table(
    "trials",
    metadata,
    _id("id", primary_key=True),
    _id("sweep_id", ForeignKey("sweeps.id", ondelete="CASCADE"), nullable=False),
    Column("trial_index", Integer, nullable=False),
    Column("params", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_time", UTCDateTime(), nullable=False),
    Column("start_time", UTCDateTime()),
    Column("end_time", UTCDateTime()),
    Column("exit_code", Integer),
    Column("error", Text),
    Column("termination_reason", String(ID_LENGTH)),
    Column("termination_detail", Text),
    Column("handle", Text),
    Column("placement", Text),
    Column("arguments", Text, nullable=False),
    _id("resumed_from"),
    # the trial's smallest and largest numeric, non-NaN value of its sweep's primary metric,
    # kept by every write of metric points: listing, ranking and exporting 100,000 trials
    # by it then reads these instead of a metrics index seek per trial
    Column("best_low", Double),
    Column("best_high", Double),
    UniqueConstraint("sweep_id", "trial_index"),
)

metrics = Table(
    "metrics",
    metadata,
    _id("trial_id", ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("pos", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("value", Double),
    Column("is_nan", Boolean, nullable=False),
    Column("text", Text),
    Column("kind", String(16), nullable=False),
    Column("time", UTCDateTime(), nullable=False),
    # with the value: a trial's best value of a metric is one index seek (Store.trial_page)
    Index(None, "trial_id", "name", "value"),
)

trial_tags = Table(
    "trial_tags",
    metadata,
    _id("trial_id", ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True),
    _id("name", primary_key=True),
    Column("value", Text, nullable=False),
)
