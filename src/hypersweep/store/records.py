"""Plain records the store reads and writes: sweeps, trials, metric points and statuses.

Records are frozen dataclasses with no behaviour beyond validation-free construction; every
other layer builds them and passes them to :class:`hypersweep.store.Store`. Times are
timezone-aware UTC :class:`~datetime.datetime` objects; JSON-valued fields (``config``,
``params``, ``properties``, ``handle``) hold plain Python values (dict, list, str, int, float,
bool, None). Tuples come back as lists.

Examples
--------
>>> from datetime import datetime, timezone
>>> now = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> sweep = SweepRecord(id=new_sweep_id(), experiment="digits", status=Status.QUEUED,
...                     config={"max_total_runs": 4}, created_time=now)
>>> trial = TrialRecord(id=trial_id(sweep.id, 0), sweep_id=sweep.id, index=0,
...                     params={"lr": 0.1}, status=Status.QUEUED, created_time=now)
>>> trial.id == sweep.id + "_0"
True
>>> Status.CANCELED.is_terminal, Status("Running").is_terminal
(True, False)
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, NamedTuple

from hypersweep.frozen import FrozenRecord

__all__ = [
    "METRIC_KINDS",
    "TRIAL_ORDERS",
    "MetricPoint",
    "ScoredTrial",
    "Status",
    "SweepRecord",
    "TrialBests",
    "TrialCounts",
    "TrialLine",
    "TrialRecord",
    "new_sweep_id",
    "trial_id",
    "utcnow",
]

#: How a metric point was logged: ``log`` / ``log_metric``, ``log_list``, ``log_row``.
METRIC_KINDS = frozenset({"scalar", "list", "row"})

#: How :meth:`hypersweep.store.Store.trial_page` orders trials: best value of the metric first
#: (then by number), or by number.
TRIAL_ORDERS = ("metric", "index")


class Status(str, Enum):
    """Status of a sweep or a trial, spelled as Azure ML spells it.

    Examples
    --------
    >>> Status.COMPLETED == "Completed"
    True
    >>> [s.value for s in Status if s.is_terminal]
    ['Completed', 'Failed', 'Canceled']
    """

    QUEUED = "Queued"
    RUNNING = "Running"
    #: A sweep asked to cancel (by any process); its controller stops the trials, then
    #: marks it ``Canceled``. Trials never take this status.
    CANCEL_REQUESTED = "CancelRequested"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        """Whether nothing more will happen to a run in this status."""
        return self in _TERMINAL

    def __str__(self) -> str:
        return self.value


_TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELED})


def utcnow() -> datetime:
    """Now, timezone-aware in UTC: the one clock every record's time is read from.

    Examples
    --------
    >>> utcnow().tzinfo
    datetime.timezone.utc
    """
    return datetime.now(timezone.utc)


def new_sweep_id() -> str:
    """Return a fresh sweep id, ``HD_<uuid4>``.

    Examples
    --------
    >>> import uuid
    >>> sid = new_sweep_id()
    >>> sid.startswith("HD_"), len(sid), uuid.UUID(sid[3:]).version
    (True, 39, 4)
    """
    # A random (version 4) UUID written out: the uuid module imports platform, which costs a
    # fresh process's first tune a millisecond (3% of it).
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"HD_{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def trial_id(sweep_id: str, index: int) -> str:
    """Return the id of trial number ``index`` (from 0) of ``sweep_id``: ``<sweep_id>_<index>``.

    Examples
    --------
    >>> trial_id("HD_abc", 3)
    'HD_abc_3'
    """
    return f"{sweep_id}_{index}"


def _replace(record: Any, changes: dict[str, Any]) -> Any:
    """``dataclasses.replace`` for the records, five times faster: function sweeps replace a
    trial record on every end, and ``dataclasses.replace`` was a tenth of a trial's cost."""
    fields = _FIELDS[type(record)]
    if not changes.keys() <= fields:  # (a subset test makes no set when all is well)
        unknown = changes.keys() - fields
        raise TypeError(f"{type(record).__name__} has no field {sorted(unknown)[0]!r}")
    copy = object.__new__(type(record))
    copy.__dict__.update(record.__dict__)
    copy.__dict__.update(changes)
    if "status" in changes:
        copy.__post_init__()
    return copy


class SweepRecord(FrozenRecord):
    """One sweep (a HyperDrive run): its whole config, status, timestamps and ownership.

    Parameters
    ----------
    id : str
        ``HD_<uuid4>``.
    experiment : str
        Experiment name; the experiment row is created on demand.
    status : Status
        Current status (a plain string such as ``"Running"`` is converted).
    config : dict
        The whole sweep config as a JSON-serialisable dict.
    created_time, start_time, end_time : datetime or None
        Timezone-aware UTC times.
    error : str or None
        Why the sweep failed, if it did.
    controller : str or None
        Owner token of the controller process driving the sweep (``"host:pid:uuid"``).
    heartbeat_time : datetime or None
        Last heartbeat of that controller.
    warnings : list of str
        Loud messages the controller raised, in order, without duplicates.
    properties : dict
        Free-form properties, e.g. ``best_child_run_id``.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> s = SweepRecord("HD_x", "exp", Status.RUNNING, {}, datetime.now(timezone.utc))
    >>> s.replace(status=Status.COMPLETED).status
    <Status.COMPLETED: 'Completed'>
    """

    id: str
    experiment: str
    status: Status
    config: dict[str, Any]
    created_time: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    error: str | None = None
    controller: str | None = None
    heartbeat_time: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))

    def replace(self, **changes: Any) -> SweepRecord:
        """Return a copy with ``changes`` applied (as ``dataclasses.replace``)."""
        return _replace(self, changes)


class TrialRecord(FrozenRecord):
    """One trial (a child run) of a sweep.

    Parameters
    ----------
    id : str
        ``HD_<uuid>_<index>``.
    sweep_id : str
        The sweep it belongs to.
    index : int
        Trial number within the sweep, from 0; unique per sweep.
    params : dict
        Flat configuration, dotted name to plain value.
    status : Status
        Current status (a plain string such as ``"Running"`` is converted).
    created_time, start_time, end_time : datetime or None
        Timezone-aware UTC times.
    exit_code : int or None
        Process exit code, once known.
    error : str or None
        E.g. the tail of stderr.
    termination_reason : str or None
        ``"early_termination"``, ``"trial_timeout"``, ``"max_duration"``, ``"user_cancel"``,
        ``"orphaned"`` ...
    termination_detail : dict or None
        The evidence for that reason, e.g. an early-termination policy's decision (policy,
        interval, value, threshold and how it was computed).
    handle : dict or None
        The executor's JSON information (pid, pgid, host ...).
    placement : dict or None
        The devices and cores the trial held: ``{"gpus": [2], "cores": [4, 5]}`` (None: it
        asked for none).
    arguments : list of str
        The argv given to the script (``runDefinition.arguments``).
    resumed_from : str or None
        Id of the trial this one re-runs.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = TrialRecord("HD_x_0", "HD_x", 0, {"lr": 0.1}, Status.QUEUED,
    ...                 datetime.now(timezone.utc), arguments=["--lr", "0.1"])
    >>> t.arguments
    ['--lr', '0.1']
    """

    id: str
    sweep_id: str
    index: int
    params: dict[str, Any]
    status: Status
    created_time: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None
    error: str | None = None
    termination_reason: str | None = None
    termination_detail: dict[str, Any] | None = None
    handle: dict[str, Any] | None = None
    placement: dict[str, Any] | None = None
    arguments: list[str] = field(default_factory=list)
    resumed_from: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))

    def replace(self, **changes: Any) -> TrialRecord:
        """Return a copy with ``changes`` applied (as ``dataclasses.replace``)."""
        return _replace(self, changes)

    @classmethod
    def started(cls, id: str, sweep_id: str, index: int, params: dict[str, Any],
                when: datetime, **fields: Any) -> TrialRecord:
        """A trial born ``Running`` at ``when``, with any other ``fields`` set.

        The same record as the constructor's, made without a frozen dataclass's per-field
        ``__setattr__``: every trial of a sweep is made here, and that was a tenth of a
        function trial's cost.

        >>> from datetime import datetime, timezone
        >>> now = datetime(2024, 1, 1, tzinfo=timezone.utc)
        >>> TrialRecord.started("HD_x_0", "HD_x", 0, {"lr": 0.1}, now) == TrialRecord(
        ...     "HD_x_0", "HD_x", 0, {"lr": 0.1}, Status.RUNNING, now, start_time=now)
        True
        """
        record = object.__new__(cls)
        record.__dict__.update(_TRIAL_DEFAULTS, id=id, sweep_id=sweep_id, index=index,
                               params=params, status=Status.RUNNING, created_time=when,
                               start_time=when, arguments=[])
        return _replace(record, fields) if fields else record


_FIELDS = {cls: frozenset(f.name for f in dataclasses.fields(cls))
           for cls in (SweepRecord, TrialRecord)}
_TRIAL_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrialRecord)
                   if f.default is not dataclasses.MISSING}


class MetricPoint(FrozenRecord):
    """One logged value of one metric of one trial.

    Parameters
    ----------
    seq : int
        Idempotency key chosen by the writer, e.g. the journal byte offset of the record it
        came from. ``(trial_id, seq, pos)`` identifies a point: adding it again is a no-op.
    pos : int
        Position within that record (``log_list`` and ``log_row`` write several points).
    name : str
        Metric name (any text).
    step : int
        Step (or index within a list).
    value : float or None
        The value when numeric (``int`` or ``float``, finite or not: NaN and ±inf round-trip).
    text : str or None
        The value when not numeric: a ``str``, a ``bool`` or a JSON row, as the writer encodes it.
    kind : str
        How it was logged: ``"scalar"``, ``"list"`` or ``"row"`` (:data:`METRIC_KINDS`).
    time : datetime
        When it was logged (timezone-aware UTC).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> p = MetricPoint(seq=0, pos=0, name="acc", step=0, value=0.5, text=None,
    ...                 kind="scalar", time=datetime.now(timezone.utc))
    >>> p.is_numeric
    True
    """

    seq: int
    pos: int
    name: str
    step: int
    value: float | None
    text: str | None
    kind: str
    time: datetime

    @property
    def is_numeric(self) -> bool:
        """Whether the point carries a numeric ``value``."""
        return self.value is not None

    @classmethod
    def scalar(cls, seq: int, name: str, step: int, value: float,
               time: datetime) -> MetricPoint:
        """The point of one number logged with ``log`` (``pos`` 0, kind ``"scalar"``).

        The same point as the constructor's, made three times faster without a frozen
        dataclass's per-field ``__setattr__``: every function trial's result is one.

        >>> from datetime import datetime, timezone
        >>> now = datetime(2024, 1, 1, tzinfo=timezone.utc)
        >>> MetricPoint.scalar(3, "acc", 1, 0.5, now) == MetricPoint(
        ...     3, 0, "acc", 1, 0.5, None, "scalar", now)
        True
        """
        point = object.__new__(cls)
        point.__dict__.update(seq=seq, pos=0, name=name, step=step, value=value, text=None,
                              kind="scalar", time=time)
        return point


class ScoredTrial(FrozenRecord):
    """A trial with its best value of one metric: what a page of a sweep's trials holds.

    Parameters
    ----------
    trial : TrialRecord
        The trial.
    best : float or None
        Its largest (maximised metric) or smallest numeric, non-NaN value of the metric (±inf
        count); None when it logged none.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = TrialRecord("HD_x_0", "HD_x", 0, {}, Status.COMPLETED, datetime.now(timezone.utc))
    >>> ScoredTrial(t, 0.5).best
    0.5
    """

    trial: TrialRecord
    best: float | None


class TrialCounts(FrozenRecord):
    """What a sweep's trials add up to, computed by the store without reading them all.

    Parameters
    ----------
    total : int
        How many trials the sweep has.
    statuses : dict of str to int
        Status (``"Completed"`` ...) -> how many trials have it; only statuses some trial has,
        in the order of :class:`Status`.
    scored : int
        How many trials logged a numeric, non-NaN value of the metric.
    best : ScoredTrial or None
        The trial with the best value (the lowest number among ties); None when none is scored.

    Examples
    --------
    >>> TrialCounts(total=0, statuses={}, scored=0, best=None).total
    0
    """

    total: int
    statuses: dict[str, int]
    scored: int
    best: ScoredTrial | None


class TrialLine(NamedTuple):
    """One trial as a list of a sweep's trials shows it: what a face lists of a trial with its
    best value of one metric, without what only a single trial's page needs (its handle,
    arguments, exit code). A plain tuple: an export or a dashboard reads 100,000 of them, and
    a :class:`TrialRecord` costs several times as much to build.

    ``status`` is the status's text (``"Completed"``); the times are timezone-aware UTC;
    ``params``, ``termination_detail`` and ``placement`` are decoded JSON, as in
    :class:`TrialRecord`; ``best`` is as in :class:`ScoredTrial`.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> line = TrialLine(0, "HD_x_0", "Completed", {"lr": 0.1}, 0.5,
    ...                  datetime(2024, 1, 1, tzinfo=timezone.utc), None, None, None, None,
    ...                  None, None)
    >>> line.id, line.best, line.params
    ('HD_x_0', 0.5, {'lr': 0.1})
    """

    # (shadows tuple.index, as TrialRecord names the trial's number)
    index: int  # type: ignore[assignment]
    id: str
    status: str
    params: dict[str, Any]
    best: float | None
    created_time: datetime
    start_time: datetime | None
    end_time: datetime | None
    termination_reason: str | None
    termination_detail: dict[str, Any] | None
    error: str | None
    placement: dict[str, Any] | None



class TrialBests(NamedTuple):
    """Every trial of a sweep by number with its best value of one metric, as two columns:
    what a chart over all of a big sweep's trials (its best-so-far line) and the choice of
    its sample need, read without decoding any trial's parameters or building an object a
    trial. ``bests`` are as :class:`ScoredTrial` scores them (None: none logged).

    Examples
    --------
    >>> bests = TrialBests([0, 1, 2], [0.5, None, 0.25])
    >>> [i for i, best in zip(*bests) if best is not None]
    [0, 2]
    """

    indexes: list[int]
    bests: list[float | None]
