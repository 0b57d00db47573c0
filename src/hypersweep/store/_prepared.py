"""Statements compiled once and run on the driver's own cursor, for a sweep's per-trial writes.

Through :meth:`Connection.execute` a statement SQLAlchemy has compiled and cached already still
cost ~0.15 ms of CPU a call (its cache key, an execution context, the result's set-up, events),
six times what SQLite took to run it: the bulk of a trial's creation, on the controller's path
from a slot freeing to the next launch. :class:`Prepared` compiles a Core statement for one set
of parameter names the first time a dialect runs it, keeps the SQL text, the order of its
parameters and their types' bind processors, and hands each call's values straight to the
driver's cursor in the caller's transaction: the same SQL with the same values, as SQLAlchemy
would have sent it. A failure of the driver becomes SQLAlchemy's error, as through
``execute``, which the store retries or reports.

Only SQLite's driver is driven directly (its ``qmark`` parameters are a plain tuple); other
dialects run the statement through :meth:`Connection.execute`, unchanged.

Examples
--------
>>> from sqlalchemy import bindparam, create_engine, insert, select
>>> from hypersweep.store.schema import experiments, metadata
>>> from hypersweep.store.records import utcnow
>>> engine = create_engine("sqlite://")
>>> metadata.create_all(engine)
>>> add = Prepared(insert(experiments))
>>> name_of = Prepared(select(experiments.c.name).where(experiments.c.name == bindparam("n")))
>>> with engine.begin() as conn:
...     add.run(conn, [{"name": "a", "created_time": utcnow()},
...                    {"name": "b", "created_time": utcnow()}]).rowcount
...     name_of.run(conn, {"n": "b"}).fetchone()[0]
2
'b'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError

__all__ = ["Prepared", "Rows"]


class Rows(Protocol):
    """What a run answers: the driver's cursor, or SQLAlchemy's result on other dialects."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Any: ...


class _Compiled:
    """A statement's SQL for SQLite with one set of parameter names: its text, and for each
    positional parameter the name it takes its value from and its bind processor (or, named
    None, the value the statement holds)."""

    def __init__(self, statement: Any, dialect: Dialect, keys: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql: str = compiled.string
        binds = compiled.binds
        self.order: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup or []:
            bind = binds[name]
            given = name in keys
            if bind.expanding or (not given and (bind.required or bind.callable is not None)):
                # a list to expand, a value to compute or one missing: SQLAlchemy's work per
                # call, not repeated here
                raise ValueError(f"cannot prepare {self.sql!r}: parameter {name!r}")
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            # a value the statement holds (a literal it was built with) is the same each run
            self.order.append((name, None, process) if given else
                              (None, bind.value if process is None else process(bind.value),
                               None))

        # Where every value comes from the call (an insert's or update's rows): one C call
        # picks them in order, then the few with a bind processor (times, floats) are
        # converted in place: a third less per trial row than going through `order`.
        names = [name for name, _, _ in self.order]
        self._pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None
        if len(names) > 1 and None not in names:
            self._pick = itemgetter(*names)
        self._convert = [(i, process) for i, (_, _, process) in enumerate(self.order)
                         if process is not None]

    def values(self, params: Mapping[str, Any]) -> Sequence[Any]:
        if self._pick is not None:
            row = self._pick(params)
            if not self._convert:
                return row
            converted = list(row)
            for i, process in self._convert:
                converted[i] = process(converted[i])
            return converted
        return tuple(fixed if name is None else params[name] if process is None
                     else process(params[name]) for name, fixed, process in self.order)


class Prepared:
    """A Core ``statement`` with bound parameters, run in a transaction's connection.

    Parameters
    ----------
    statement : Executable
        Built once (module level, or per store); its parameters are given by name at each run.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        # one compiled form a set of parameter names (the columns an insert or update sets)
        self._compiled: dict[tuple[str, ...], _Compiled] = {}

    def run(self, conn: Connection,
            params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Rows:
        """Execute with ``params`` (a list of them: once each, as ``executemany``)."""
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params)
        rows = None if isinstance(params, Mapping) else params
        first = params if isinstance(params, Mapping) else params[0]
        keys = tuple(first)
        compiled = self._compiled.get(keys)
        if compiled is None:
            compiled = self._compiled[keys] = _Compiled(self.statement, conn.dialect, keys)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if rows is not None:
                cursor.executemany(compiled.sql, [compiled.values(p) for p in rows])
            else:
                cursor.execute(compiled.sql, compiled.values(first))
        except conn.dialect.loaded_dbapi.Error as err:
            raise DBAPIError.instance(compiled.sql, params, err,
                                      conn.dialect.loaded_dbapi.Error) from err
        return cursor
