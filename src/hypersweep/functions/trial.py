"""The run an objective function logs to: one trial of a function sweep, in this process.

:class:`Trial` has the same logging methods as a script's ``Run.get_context()`` (``log``,
``log_list``, ``log_row``, ``tag``, ``fail``...), so training code moves between a script and a
function unchanged. Each call is handed to the sweep's driver, which records it and applies
the early-termination policy at once.

When the policy stops a trial, :meth:`Trial.should_stop` turns true; inside
:func:`~hypersweep.tune` the logging call also raises :class:`TrialCanceled`, which ``tune``
catches, so an objective needs no code for early termination.

This module imports only the standard library and :mod:`hypersweep.tracking` (it is also
imported by process-pool workers, which should start fast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from hypersweep.tracking.context import BaseRun

if TYPE_CHECKING:
    from collections.abc import Callable

    from hypersweep.engine import TrialState
    from hypersweep.store import TrialRecord

__all__ = ["Trial", "TrialCanceled"]

#: Record kinds after which a stopped trial raises (tags, complete and fail never raise).
LOGGING_KINDS = frozenset({"metric", "list", "row"})


class _Driver(Protocol):
    """What a trial needs of the driver that made it."""

    def ingest(self, trial: Trial, kind: str, name: str, value: Any, step: int | None,
               when: float | None) -> None: ...

    def outputs_of(self, trial_id: str) -> str: ...


class TrialCanceled(Exception):
    """Raised by ``run.log`` in a trial that the early-termination policy stopped.

    :func:`~hypersweep.tune` catches it and records the trial ``Canceled`` with reason
    ``early_termination``; an objective may catch it too, to clean up, and re-raise.

    Examples
    --------
    >>> str(TrialCanceled("HD_x_3", "Y=0.2 < threshold 0.5"))
    'trial HD_x_3 was stopped by the early-termination policy: Y=0.2 < threshold 0.5'
    """

    def __init__(self, trial_id: str, explanation: str = "") -> None:
        self.trial_id = trial_id
        self.explanation = explanation
        tail = f": {explanation}" if explanation else ""
        super().__init__(f"trial {trial_id} was stopped by the early-termination policy{tail}")


class Trial(BaseRun):
    """One trial of a function sweep: its parameters and its run.

    Made by ``Sweep.ask``; never constructed directly.

    Attributes
    ----------
    id : str
        ``HD_<uuid>_<index>``, as script trials.
    index : int
        Trial number in the sweep, from 0.
    params : dict
        The configuration to evaluate (a copy: changing it changes no record).

    Examples
    --------
    >>> from hypersweep import Sweep, RandomParameterSampling, uniform
    >>> sweep = Sweep(RandomParameterSampling({"x": uniform(0, 1)}, seed=0), "y", "maximize")
    >>> trial = sweep.ask()
    >>> trial.log("y", trial.params["x"] ** 2)
    >>> trial.should_stop()
    False
    >>> sweep.tell(trial)
    """

    def __init__(self, driver: _Driver, state: TrialState) -> None:
        super().__init__(state.id, state.record.sweep_id, "")  # outputs: see outputs_dir
        self.driver = driver
        self.state = state  # the engine's view: record, score, whether it ended
        self.index = state.record.index
        self.params: dict[str, Any] = dict(state.record.params)
        # Bookkeeping the driver owns (under its lock): everything logged, what was written.
        self.points: list[Any] = []  # MetricPoint, in logging order
        self.flushed = 0  # how many of `points` the store has
        self.pending_tags: dict[str, str] = {}
        self.seq = 0
        self.steps: dict[tuple[str, str], int] = {}
        self.stop_explanation: str | None = None  # set when something asked it to stop
        #: Raise TrialCanceled from logging calls once stopped (``tune`` sets it).
        self.raise_on_stop = False
        #: Called (under the driver's lock) when the trial is asked to stop: process pools
        #: raise the worker's stop flag here.
        self.on_stop: Callable[[], None] | None = None

    def __repr__(self) -> str:
        return f"Trial(id={self.id!r}, params={self.params!r}, status={self.status!r})"

    @property
    def record(self) -> TrialRecord:
        """Its current record."""
        return self.state.record

    @property
    def status(self) -> str:
        """Its recorded status: ``Running``, then ``Completed``, ``Failed`` or ``Canceled``."""
        return str(self.record.status.value)

    def get_status(self) -> str:
        """The trial's status (Azure's ``Run.get_status``)."""
        return self.status

    @property
    def ended(self) -> bool:
        """Whether the sweep recorded the trial's end."""
        return self.state.evidence is not None

    @property
    def outputs_dir(self) -> str:
        """This trial's own outputs folder, where `Run.outputs_path` and the dashboard look:
        ``<workspace>/runs/<trial-id>/work/outputs``; made on first use (the path is worked
        out only then: most objectives never ask)."""
        if not self._outputs:
            self._outputs = self.driver.outputs_of(self.id)
        return super().outputs_dir

    def should_stop(self) -> bool:
        """Whether the sweep wants this trial stopped (early termination, cancel, timeout).

        For objectives that prefer checking to catching :class:`TrialCanceled`::

            for epoch in range(100):
                run.log("accuracy", train_one_epoch())
                if run.should_stop():
                    break
        """
        return self.stop_explanation is not None

    def _emit(self, kind: str, name: str, value: Any, step: int | None, label: str) -> None:
        self.driver.ingest(self, kind, name, value, step, None)
        if self.stop_explanation is not None and self.raise_on_stop and kind in LOGGING_KINDS:
            raise TrialCanceled(self.id, self.stop_explanation)
