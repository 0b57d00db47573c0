"""``Run.get_context()`` for training scripts: the trial's run in a sweep, an offline one outside.

The methods copy Azure ML's v1 ``Run`` (``log``, ``log_list``, ``log_row``, ``tag``, ``set_tags``,
``complete``, ``fail``, ``get_status``, ``id``, ``parent``), so a script written for Azure runs
unchanged. Inside a trial every call appends one line to the metrics journal named by
``HYPERSWEEP_JOURNAL`` (see :mod:`hypersweep.tracking.journal`): microseconds, never blocked by
the controller. Outside a sweep the same calls print what they are given.

This module imports only the standard library, so ``from hypersweep import Run`` stays fast.

Examples
--------
>>> run = OfflineRun()
>>> run.log("accuracy", 0.93)
Attempted to log scalar metric accuracy:
0.93
"""

from __future__ import annotations

import contextvars
import os
import threading
from typing import Any

from hypersweep.frozen import FrozenRecord
from hypersweep.tracking.journal import JournalWriter
from hypersweep.tracking.storable import MetricValueError, check_record, check_step

__all__ = [
    "BaseRun",
    "ExperimentRef",
    "MetricValueError",
    "OfflineRun",
    "RunRef",
    "TrialRun",
    "current_run",
    "get_context",
    "running",
]

ENV_TRIAL_ID = "HYPERSWEEP_TRIAL_ID"
ENV_SWEEP_ID = "HYPERSWEEP_SWEEP_ID"
ENV_JOURNAL = "HYPERSWEEP_JOURNAL"
ENV_OUTPUTS = "HYPERSWEEP_OUTPUTS"
ENV_EXPERIMENT = "HYPERSWEEP_EXPERIMENT"
#: The outputs folder, relative to the cwd, when ``HYPERSWEEP_OUTPUTS`` names none (Azure's
#: ``./outputs``). A trial's cwd is its working copy, so this is the layout's
#: ``work/outputs``; hypersweep.execution.layout owns the name (execution imports this
#: module, so not the other way round) and tests/tracking checks that the two agree.
DEFAULT_OUTPUTS = "outputs"


class RunRef(FrozenRecord):
    """A reference to another run (the trial's parent sweep), by id."""

    id: str


class ExperimentRef(FrozenRecord):
    """The experiment a run belongs to, by name."""

    name: str


def _check_name(name: Any, what: str = "metric name") -> str:
    if not isinstance(name, str) or not name:
        raise MetricValueError(f"{what} must be a non-empty string, got {name!r}")
    return name


def _scalar(name: str, value: Any, step: int | None) -> Any:
    v = check_record("metric", name, value, step)
    if v is None or isinstance(v, (list, dict)):
        raise TypeError(
            f"metric {name!r}: log() takes a number, string or boolean, got "
            f"{type(value).__name__}; use log_list() for sequences and log_row() for rows"
        )
    return v


class BaseRun:
    """What every run a trial logs through shares: validation, status and identity.

    :class:`TrialRun` (a process trial), :class:`OfflineRun` (no sweep) and the function
    driver's trials are its subclasses. A subclass says where a checked record goes by
    overriding ``_emit(kind, name, value, step, label)``; every check happens before it.
    """

    def __init__(self, run_id: str, sweep_id: str | None, outputs: str) -> None:
        self._id = run_id
        self._sweep_id = sweep_id
        self._outputs = outputs
        self._status = "Running"
        self._tags: dict[str, Any] = {}

    @property
    def id(self) -> str:
        """The run's id: ``HD_<uuid>_<n>`` in a sweep, ``OfflineRun_<uuid>`` outside one."""
        return self._id

    @property
    def sweep_id(self) -> str | None:
        """The id of the sweep (HyperDrive run) this trial belongs to, or None."""
        return self._sweep_id

    @property
    def parent(self) -> RunRef | None:
        """The parent sweep as a :class:`RunRef`, or None outside a sweep."""
        return RunRef(self._sweep_id) if self._sweep_id else None

    @property
    def experiment(self) -> ExperimentRef | None:
        """The experiment, from ``HYPERSWEEP_EXPERIMENT`` when the controller sets it."""
        name = os.environ.get(ENV_EXPERIMENT)
        return ExperimentRef(name) if name else None

    @property
    def outputs_dir(self) -> str:
        """The trial's outputs folder (``./outputs`` unless ``HYPERSWEEP_OUTPUTS`` says else;
        a function trial's own folder in the workspace), made if missing."""
        os.makedirs(self._outputs, exist_ok=True)
        return self._outputs

    def get_status(self) -> str:
        """``"Running"``, or ``"Completed"``/``"Failed"`` after :meth:`complete`/:meth:`fail`."""
        return self._status

    def get_tags(self) -> dict[str, Any]:
        """The tags set by this process."""
        return dict(self._tags)

    # The logging methods: check (storable.check_record, the check the controller's reader
    # makes on every journal line), then hand over to _emit. What the store cannot hold
    # raises MetricValueError here, in the trial, before anything is written.

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log one value of a scalar metric (number, string or boolean).

        Parameters
        ----------
        name : str
            Metric name, e.g. ``"accuracy"``.
        value : float, int, str or bool
            The value; numpy/torch scalars are unwrapped.
        description : str
            Ignored (Azure shows it in its portal).
        step : int, optional
            Explicit step; by default the number of times ``name`` was logged before. Any
            64-bit signed integer, negative ones included.

        Raises
        ------
        MetricValueError
            (a ``ValueError``) When the store cannot hold the name, value or step: an int
            beyond the range of a float, a step beyond 64 bits, text with a lone surrogate,
            a name with a NUL character. NaN and ±inf are stored as they are.
        TypeError
            When the value is not a number, string or boolean, or the step not an int.

        Examples
        --------
        >>> OfflineRun().log("loss", 0.25)
        Attempted to log scalar metric loss:
        0.25
        """
        if type(name) is not str or not name:
            _check_name(name)
        if type(value) is float and name.isascii() and "\x00" not in name:
            # The hot path (a float per training step): nothing there the store cannot hold.
            if step is not None:
                check_step(name, step)
        else:
            value = _scalar(name, value, step)
        self._emit("metric", name, value, step, "scalar")

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Log a list of values under one metric name.

        Examples
        --------
        >>> OfflineRun().log_list("losses", [0.5, 0.25])
        Attempted to log list metric losses:
        [0.5, 0.25]
        """
        _check_name(name)
        v = check_record("list", name, value)
        if not isinstance(v, list):
            raise TypeError(f"metric {name!r}: log_list() takes a list, got {type(value).__name__}")
        self._emit("list", name, v, None, "list")

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Log one row of a table metric; the keyword arguments are the columns.

        Examples
        --------
        >>> OfflineRun().log_row("curve", epoch=1, loss=0.5)
        Attempted to log row metric curve:
        {'epoch': 1, 'loss': 0.5}
        """
        _check_name(name)
        self._emit("row", name, check_record("row", name, kwargs), None, "row")

    def tag(self, key: str, value: Any = None) -> None:
        """Tag the run (``value`` defaults to ``""`` as in Azure)."""
        _check_name(key, "tag key")
        v = check_record("tag", key, "" if value is None else value)
        self._tags[key] = v
        self._emit("tag", key, v, None, "tag")

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Set several tags at once."""
        if not isinstance(tags, dict):
            raise TypeError(f"set_tags() takes a dict, got {type(tags).__name__}")
        for key, value in tags.items():
            self.tag(key, value)

    def complete(self) -> None:
        """Mark the run completed. The trial's status is final when its process exits."""
        self._status = "Completed"
        self._emit("complete", "", None, None, "complete")

    def fail(self, error_details: Any = None) -> None:
        """Mark the run failed, with an optional error message or exception."""
        self._status = "Failed"
        # Never refused (it runs in error handlers): unstorable characters are escaped.
        detail = None if error_details is None else check_record("fail", "", str(error_details))
        self._emit("fail", "", detail, None, "fail")

    def _emit(self, kind: str, name: str, value: Any, step: int | None, label: str) -> None:
        raise NotImplementedError



class TrialRun(BaseRun):
    """The run of a trial inside a sweep: every call appends to the metrics journal.

    Parameters
    ----------
    trial_id : str
        The trial's id (``HYPERSWEEP_TRIAL_ID``).
    journal : str
        Path of the metrics journal (``HYPERSWEEP_JOURNAL``).
    sweep_id : str, optional
        The parent sweep's id (``HYPERSWEEP_SWEEP_ID``).
    outputs : str, optional
        The outputs folder (``HYPERSWEEP_OUTPUTS``), default ``"outputs"``.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "metrics.jsonl")
    >>> run = TrialRun("HD_x_0", path)
    >>> run.log("loss", 0.5); run.log("loss", 0.4)
    >>> from hypersweep.tracking.journal import JournalReader
    >>> [(r.name, r.value, r.step) for r in JournalReader(path).read()]
    [('loss', 0.5, 0), ('loss', 0.4, 1)]
    """

    def __init__(
        self,
        trial_id: str,
        journal: str,
        sweep_id: str | None = None,
        outputs: str | None = None,
    ) -> None:
        super().__init__(trial_id, sweep_id, outputs or DEFAULT_OUTPUTS)
        self._writer = JournalWriter(journal)
        self._steps: dict[tuple[str, str], int] = {}
        # Data-loader threads may log concurrently: the step counter must not skip or repeat.
        self._lock = threading.Lock()

    @property
    def journal_path(self) -> str:
        """Path of the metrics journal this run appends to."""
        return self._writer.path

    def _emit(self, kind: str, name: str, value: Any, step: int | None, label: str) -> None:
        if kind == "metric" or kind == "row":
            key = (kind, name)
            with self._lock:
                count = self._steps.get(key, 0)
                self._steps[key] = count + 1
            if step is None:
                step = count
        self._writer.write(kind, name, value, step)


class OfflineRun(BaseRun):
    """The run outside a sweep: prints each call, like Azure's offline run.

    Examples
    --------
    >>> run = OfflineRun()
    >>> run.id.startswith("OfflineRun_")
    True
    >>> run.tag("model", "svm")
    Attempted to tag run with model:
    svm
    """

    def __init__(self) -> None:
        import uuid  # only outside a sweep: uuid imports platform, a millisecond of every tune

        super().__init__(
            "OfflineRun_" + str(uuid.uuid4()), None, os.environ.get(ENV_OUTPUTS, DEFAULT_OUTPUTS)
        )

    def _emit(self, kind: str, name: str, value: Any, step: int | None, label: str) -> None:
        if kind == "complete":
            print("Attempted to mark offline run as completed", flush=True)
        elif kind == "fail":
            tail = "" if value is None else f": {value}"
            print(f"Attempted to mark offline run as failed{tail}", flush=True)
        elif kind == "tag":
            print(f"Attempted to tag run with {name}:\n{value}", flush=True)
        else:
            print(f"Attempted to log {label} metric {name}:\n{value}", flush=True)


_context: TrialRun | OfflineRun | None = None
_context_lock = threading.Lock()


def get_context(allow_offline: bool = True) -> TrialRun | OfflineRun:
    """Return this process's run: a :class:`TrialRun` inside a sweep, else an :class:`OfflineRun`.

    A trial is recognised by ``HYPERSWEEP_TRIAL_ID`` and ``HYPERSWEEP_JOURNAL`` in the
    environment. The object is created once per process and returned again on later calls.

    Parameters
    ----------
    allow_offline : bool
        As in Azure: when False, raise outside a sweep instead of returning an offline run.

    Examples
    --------
    >>> run = get_context()
    >>> run is get_context()
    True
    """
    global _context
    ctx = _context
    if ctx is None:
        with _context_lock:
            ctx = _context
            if ctx is None:
                trial_id = os.environ.get(ENV_TRIAL_ID)
                journal = os.environ.get(ENV_JOURNAL)
                if trial_id and journal:
                    ctx = TrialRun(
                        trial_id,
                        journal,
                        sweep_id=os.environ.get(ENV_SWEEP_ID) or None,
                        outputs=os.environ.get(ENV_OUTPUTS) or None,
                    )
                else:
                    ctx = OfflineRun()
                _context = ctx
    if not allow_offline and isinstance(ctx, OfflineRun):
        raise RuntimeError(
            "not running inside a hypersweep trial (HYPERSWEEP_TRIAL_ID and HYPERSWEEP_JOURNAL "
            "are not set) and allow_offline=False"
        )
    return ctx


def _reset_context() -> None:
    """Forget the cached run (for tests that change the environment)."""
    global _context
    with _context_lock:
        _context = None


# The run of the function trial whose objective this thread (or task) is executing: set by
# the function driver around the objective call, so that code deep inside it (a framework
# callback) logs to the trial without being handed the run. A context variable, not a
# global: threaded trials each see their own.
_current: contextvars.ContextVar[BaseRun | None] = contextvars.ContextVar(
    "hypersweep_current_run", default=None)


def current_run() -> BaseRun | None:
    """The run of the function trial being executed here, or None outside one.

    Script trials and code outside a sweep get None: they use :func:`get_context`.

    Examples
    --------
    >>> current_run() is None
    True
    >>> run = OfflineRun()
    >>> with running(run):
    ...     current_run() is run
    True
    """
    return _current.get()


class running:  # lower case: it was a function, and is used as one
    """Make ``run`` the :func:`current_run` for the duration of the block (nesting restores).

    A class, not a generator-based context manager: it wraps every function trial's call, and
    ``__enter__``/``__exit__`` cost a fraction of a generator's set-up and its two
    ``next`` calls.

    Examples
    --------
    >>> outer, inner = OfflineRun(), OfflineRun()
    >>> with running(outer):
    ...     with running(inner):
    ...         pass
    ...     current_run() is outer
    True
    """

    __slots__ = ("_token", "run")

    def __init__(self, run: BaseRun) -> None:
        self.run = run
        self._token: contextvars.Token[BaseRun | None] | None = None

    def __enter__(self) -> BaseRun:
        self._token = _current.set(self.run)
        return self.run

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
