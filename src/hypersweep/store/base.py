"""The store contract: every method a record store has, what it returns and what it raises.

:class:`Store` is the one type every layer holds. Three siblings implement it:
:class:`~hypersweep.store.sql.SqlStore` (SQLite or PostgreSQL),
:class:`~hypersweep.store.sqlite.SqliteStore` (a SQLite file: a sweep's own calls without
SQLAlchemy, the rest by a SqlStore) and :class:`~hypersweep.store.memory.MemoryStore` (this
process's memory); tests/store runs the same checks against each. ``Store(url)`` opens the
right one for the URL, so code written as ``Store("sqlite:///runs.db")`` keeps working.

Examples
--------
>>> from hypersweep.store import Store
>>> Store("memory://")
MemoryStore('memory://')
>>> with Store("sqlite://") as store:
...     store.list_sweeps()
[]
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from hypersweep.errors import StoreError
from hypersweep.store.records import (
    TRIAL_ORDERS,
    MetricPoint,
    ScoredTrial,
    Status,
    SweepRecord,
    TrialBests,
    TrialCounts,
    TrialLine,
    TrialRecord,
)

__all__ = ["CONTRACT", "MEMORY_URL", "Store", "check_page", "store_class"]

#: The URL that selects an in-memory store.
MEMORY_URL = "memory://"


class Store:
    """Sweeps, trials, metric points and tags: the records every layer reads and writes.

    Every method is one atomic step and safe to call from several threads at once. Records read
    back are fresh objects: changing one never changes the store.

    Calling ``Store(url)`` opens the store at ``url``: a
    :class:`~hypersweep.store.memory.MemoryStore` for ``memory://``, a
    :class:`~hypersweep.store.sqlite.SqliteStore` for a SQLite file (``sqlite:///path``),
    otherwise a :class:`~hypersweep.store.sql.SqlStore` (``postgresql://...``, ``sqlite://``).

    A sibling subclasses it, implements every method of :data:`CONTRACT` (checked when the
    subclass is defined) and :meth:`serves` the URLs it opens; defining it registers it.

    Attributes
    ----------
    url : str
        Where the records live (normalised by the implementation).
    """

    url: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # checked when the class is defined, not when it is first used: a sibling that misses
        # part of the contract fails at import, naming the method
        super().__init_subclass__(**kwargs)
        missing = [name for name in CONTRACT if getattr(cls, name) is getattr(Store, name)]
        if missing:
            raise TypeError(f"{cls.__name__} does not implement Store.{missing[0]}")
        _SIBLINGS.append(cls)

    @classmethod
    def serves(cls, url: str) -> bool:
        """Whether ``Store(url)`` opens this class (no two siblings serve the same URL)."""
        return False

    @classmethod
    def check_url(cls, url: str) -> None:
        """Raise :class:`~hypersweep.errors.StoreError` when ``url``, which this class serves,
        names what it cannot open (a scheme, a missing driver), before anything is opened."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Store:
        if cls is Store:  # Store(url): open the sibling that serves this URL
            url = args[0] if args else kwargs.get("url")
            cls = store_class(url)
        return super().__new__(cls)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release what the store holds (pooled connections). It may not be used afterwards."""
        raise NotImplementedError

    # ------------------------------------------------------------------ sweeps

    def create_sweep(self, sweep: SweepRecord) -> None:
        """Insert ``sweep``, creating its experiment if needed.

        Raises
        ------
        StoreError
            When a sweep with this id already exists.
        """
        raise NotImplementedError

    def get_sweep(self, sweep_id: str) -> SweepRecord:
        """Return the sweep ``sweep_id``.

        Raises
        ------
        KeyError
            When there is no such sweep.
        """
        raise NotImplementedError

    def sweep_status(self, sweep_id: str) -> Status:
        """Return the status of sweep ``sweep_id``: what ``get_sweep(sweep_id).status`` is,
        without reading and decoding the rest of the record (a controller asks every half
        second whether its sweep was asked to cancel).

        Raises
        ------
        KeyError
            When there is no such sweep.
        """
        raise NotImplementedError

    def list_sweeps(self, experiment: str | None = None) -> list[SweepRecord]:
        """Return every sweep (of ``experiment``, if given), newest first."""
        raise NotImplementedError

    def list_experiments(self) -> list[str]:
        """Return the names of all experiments, sorted."""
        raise NotImplementedError

    def update_sweep(self, sweep_id: str, **fields: Any) -> None:
        """Set the given :class:`SweepRecord` fields of sweep ``sweep_id``.

        Raises
        ------
        TypeError
            For a field that is not a ``SweepRecord`` field (or is ``id``).
        KeyError
            When there is no such sweep.
        """
        raise NotImplementedError

    def add_sweep_warning(self, sweep_id: str, message: str) -> None:
        """Append ``message`` to the sweep's warnings unless it is already there.

        Raises
        ------
        KeyError
            When there is no such sweep.
        """
        raise NotImplementedError

    def claim_sweep(self, sweep_id: str, owner: str, stale_after: float,
                    replacing: str | None = None) -> bool:
        """Make ``owner`` the controller of the sweep, if nobody live holds it.

        One atomic compare-and-set: succeeds when the sweep has no controller, is already held
        by ``owner``, its controller's heartbeat is older than ``stale_after`` seconds, or its
        controller is ``replacing`` (a controller the caller knows has died, whose heartbeat
        may still look fresh); then sets ``controller = owner`` and ``heartbeat_time = now``.
        Of several processes racing, exactly one wins: the others see the winner's token.

        Returns
        -------
        bool
            Whether ``owner`` now holds the sweep.

        Raises
        ------
        KeyError
            When there is no such sweep.
        """
        raise NotImplementedError

    def heartbeat(self, sweep_id: str, owner: str) -> bool:
        """Refresh the heartbeat if ``owner`` still holds the sweep.

        Returns
        -------
        bool
            ``False`` when someone else holds it now (or nobody does).
        """
        raise NotImplementedError

    def release_sweep(self, sweep_id: str, owner: str) -> None:
        """Give up the sweep if ``owner`` holds it (no-op otherwise).

        ``heartbeat_time`` is kept: it tells when the last controller was last seen.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ trials

    def create_trial(
        self,
        trial: TrialRecord,
        owner: str | None = None,
        *,
        records: Sequence[TrialRecord] = (),
        points: Mapping[str, Sequence[MetricPoint]] | None = None,
        tags: Mapping[str, Mapping[str, str]] | None = None,
    ) -> bool:
        """Insert ``trial``; with ``owner``, only while ``owner`` holds its sweep.

        The ownership check and the insert are one atomic step that holds the sweep, so
        a claim by another controller lands wholly before (nothing is written) or wholly
        after (the new controller finds the trial).

        ``records``, ``points`` and ``tags`` are saved first, as :meth:`save_trials` saves
        them, in the same transaction where the store can: a controller records the end that
        freed a slot with the row of the trial that takes it, one commit rather than two. They
        are written whether or not ``owner`` still holds the sweep, and whatever the insert
        then does, exactly as by a ``save_trials`` call just before this one.

        Returns
        -------
        bool
            ``False`` when ``owner`` no longer holds the sweep (``trial`` was not written).

        Raises
        ------
        KeyError
            When its sweep does not exist.
        StoreError
            When a trial with the same id, or the same index in the sweep, already exists
            (and ``owner``, if given, still holds the sweep).
        """
        raise NotImplementedError

    def update_trial(self, trial_id: str, **fields: Any) -> None:
        """Set the given :class:`TrialRecord` fields of trial ``trial_id``.

        Raises
        ------
        TypeError
            For a field that is not a ``TrialRecord`` field (or is ``id``).
        KeyError
            When there is no such trial.
        StoreError
            When the change breaks a constraint (e.g. an index already taken).
        """
        raise NotImplementedError

    def save_trials(
        self,
        records: Sequence[TrialRecord],
        points: Mapping[str, Sequence[MetricPoint]] | None = None,
        tags: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """Insert or overwrite trials, with their new metric points and tags, in one transaction.

        For writers that batch: function trials write each trial's row, points and final status
        together (or several trials at once) instead of one transaction per change. A trial
        row that exists is overwritten field by field; points are added idempotently, as
        :meth:`add_metrics` does; tags are set as :meth:`set_tags` does.

        Raises
        ------
        KeyError
            When a trial's sweep, or the trial of some points or tags, does not exist.
        StoreError
            When a trial takes an index its sweep already gives another trial.
        """
        raise NotImplementedError

    def get_trial(self, trial_id: str) -> TrialRecord:
        """Return the trial ``trial_id``.

        Raises
        ------
        KeyError
            When there is no such trial.
        """
        raise NotImplementedError

    def count_trials(self, sweep_ids: Sequence[str]) -> dict[str, int]:
        """Return sweep id -> its number of trials, for each of ``sweep_ids`` (one round trip)."""
        raise NotImplementedError

    def list_trials(self, sweep_id: str) -> list[TrialRecord]:
        """Return the trials of ``sweep_id`` by index (empty for an unknown sweep)."""
        raise NotImplementedError

    def trial_page(
        self,
        sweep_id: str,
        metric: str,
        maximize: bool,
        *,
        order: str = "metric",
        limit: int | None = None,
        offset: int = 0,
        after: int | None = None,
        statuses: Sequence[Status | str] | None = None,
    ) -> list[ScoredTrial]:
        """Return one page of the sweep's trials, each with its best value of ``metric``.

        The database orders, scores and cuts the page: a face shows the first screen of a
        100,000-trial sweep without reading every trial.

        Parameters
        ----------
        sweep_id : str
            The sweep (an unknown one has no trials).
        metric, maximize : str, bool
            The metric a trial's ``best`` is of: its largest (``maximize``) or smallest
            numeric, non-NaN value, as :meth:`best_values` gives it; None when it logged none.
        order : {"metric", "index"}
            ``"metric"``: best value first, trials without one last, ties (and the unscored)
            by number. ``"index"``: by number.
        limit, offset : int
            At most ``limit`` trials (None: all), after skipping ``offset`` of them.
        after : int, optional
            With ``order="index"``: only trials numbered above ``after`` (keyset paging: pass
            the last number of the previous page).
        statuses : sequence of Status, optional
            Only trials with one of these statuses.

        Raises
        ------
        ValueError
            For an unknown ``order``, a negative ``limit`` or ``offset``, or ``after`` with
            ``order="metric"``.
        """
        raise NotImplementedError

    def trial_lines(self, sweep_id: str, metric: str, maximize: bool, *,
                    after: int | None = None, limit: int | None = None,
                    indexes: Collection[int] | None = None) -> list[TrialLine]:
        """Return the sweep's trials by number as :class:`TrialLine` tuples, each with its best
        value of ``metric`` (as :meth:`trial_page` scores it).

        What an export or a dashboard lists of every trial, read with the columns it shows
        only and decoded without building records: a fraction of :meth:`trial_page`'s cost a
        trial. Read a big sweep in keyset pages: ``after`` the last number of the previous
        page, at most ``limit`` trials a page (None: all); or only the trials numbered in
        ``indexes`` (a chart's sample of a big sweep, chosen from :meth:`trial_bests`).

        Raises
        ------
        ValueError
            For a negative ``limit``.
        """
        raise NotImplementedError

    def trial_bests(self, sweep_id: str, metric: str, maximize: bool) -> TrialBests:
        """Return every trial of the sweep by number with its best value of ``metric`` (as
        :meth:`trial_page` scores it), as :class:`TrialBests` columns.

        What a chart of every trial of a big sweep needs, read by the database without the
        trials' other columns: a 100,000-trial sweep's in a tenth of what :meth:`trial_lines`
        costs for them all.
        """
        raise NotImplementedError

    def param_names(self, sweep_id: str) -> list[str]:
        """Return the names of the hyperparameters of the sweep's trials, in the order they
        first appear (by trial number): an export's columns, read without the trials' records.
        """
        raise NotImplementedError

    def trial_counts(self, sweep_id: str, metric: str, maximize: bool) -> TrialCounts:
        """Return how many trials the sweep has, by status, how many logged ``metric``, and the
        best (as :meth:`trial_page` ranks them), aggregated by the database in one transaction.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ metrics

    def add_metrics(self, trial_id: str, points: Sequence[MetricPoint]) -> int:
        """Add metric points to a trial, idempotently, in one transaction.

        A point whose ``(seq, pos)`` the trial already has is skipped, so a journal can be
        re-ingested from any offset.

        Returns
        -------
        int
            How many points were new.

        Raises
        ------
        KeyError
            When there is no such trial.
        """
        raise NotImplementedError

    def get_metrics(self, trial_id: str, name: str | None = None,
                    after: tuple[int, int] | None = None) -> list[MetricPoint]:
        """Return the trial's metric points (only ``name``'s, if given) by ``(seq, pos)``.

        With ``after``, only the points past that ``(seq, pos)``: what a reader that already
        has the points up to there is missing (a live view of a running trial).
        """
        raise NotImplementedError

    def metric_series(self, sweep_id: str, name: str) -> dict[str, list[float]]:
        """Return every trial of the sweep → its numeric values of ``name`` in logging order.

        Trials that logged none map to ``[]``; non-numeric values are skipped; NaN is kept.
        Ordered by trial index. One round trip.
        """
        raise NotImplementedError

    def best_values(self, sweep_ids: Sequence[str], name: str, maximize: bool) -> dict[str, float]:
        """Return trial id → its largest (``maximize``) or smallest numeric value of ``name``.

        Covers every trial of the given sweeps that logged a numeric, non-NaN value of
        ``name`` (±inf count). One round trip.
        """
        raise NotImplementedError

    def metric_names(self, sweep_id: str) -> list[str]:
        """Return the names of all metrics any trial of the sweep logged, sorted."""
        raise NotImplementedError

    # ------------------------------------------------------------------ tags

    def set_tags(self, trial_id: str, tags: Mapping[str, str]) -> None:
        """Set (add or overwrite) tags of a trial. Values are stored as strings.

        Raises
        ------
        KeyError
            When there is no such trial.
        """
        raise NotImplementedError

    def get_tags(self, trial_id: str) -> dict[str, str]:
        """Return the tags of a trial (empty for an unknown trial)."""
        raise NotImplementedError


CONTRACT = (
    "close", "create_sweep", "get_sweep", "sweep_status", "list_sweeps", "list_experiments",
    "update_sweep", "add_sweep_warning", "claim_sweep", "heartbeat", "release_sweep",
    "create_trial", "update_trial", "save_trials", "get_trial", "count_trials", "list_trials",
    "trial_page", "trial_lines", "trial_bests", "trial_counts", "param_names", "add_metrics",
    "get_metrics", "metric_series", "best_values", "metric_names", "set_tags", "get_tags",
)
"""The methods every :class:`Store` sibling implements."""

_SIBLINGS: list[type[Store]] = []
#: Where the siblings live, imported on first need by :func:`store_class`.
_SIBLING_MODULES = ("hypersweep.store.memory", "hypersweep.store.sqlite", "hypersweep.store.sql")


def check_page(order: str, limit: int | None, offset: int, after: int | None,
               statuses: Sequence[Status | str] | None) -> list[str] | None:
    """Check the paging arguments of :meth:`Store.trial_page`; return the statuses' values.

    Examples
    --------
    >>> check_page("index", 10, 0, 5, ["Completed"])
    ['Completed']
    >>> check_page("best", None, 0, None, None)
    Traceback (most recent call last):
    ...
    ValueError: trial order 'best': expected one of ('metric', 'index')
    """
    if order not in TRIAL_ORDERS:
        raise ValueError(f"trial order {order!r}: expected one of {TRIAL_ORDERS}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit {limit}: expected a number of trials >= 0")
    if offset < 0:
        raise ValueError(f"offset {offset}: expected a number of trials >= 0")
    if after is not None and order != "index":
        raise ValueError(f"after={after} pages by trial number: give order='index'")
    return None if statuses is None else [Status(s).value for s in statuses]


def store_class(url: Any) -> type[Store]:
    """The :class:`Store` sibling that serves ``url`` (its own ``__init__`` checks the rest).

    Examples
    --------
    >>> [store_class(url).__name__ for url in ("memory://", "sqlite:///x.db", "sqlite://")]
    ['MemoryStore', 'SqliteStore', 'SqlStore']
    """
    # Siblings register themselves when imported (each imports this module for the base
    # class). The SQL one is imported only when a URL needs it: SQLAlchemy costs a fresh
    # process a tenth of a second that an in-memory sweep, or a SQLite file's, never needs.
    sibling = _serving(url)
    for module in _SIBLING_MODULES:  # the cheap ones first: one may serve the URL
        if sibling is not None:
            return sibling
        importlib.import_module(module)
        sibling = _serving(url)
    if sibling is not None:
        return sibling
    raise StoreError(f"no store opens {url!r} (expected {MEMORY_URL!r} or a database URL)")


def _serving(url: Any) -> type[Store] | None:
    return next((sibling for sibling in _SIBLINGS if sibling.serves(url)), None)
