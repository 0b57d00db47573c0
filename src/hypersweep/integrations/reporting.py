"""`Reporter`: where a framework callback sends its metrics, and how it learns to stop.

Every integration (LightGBM, XGBoost, scikit-learn, and the deep-learning callbacks) talks to
hypersweep only through a :class:`Reporter`, so each works unchanged in the three places
training code runs:

- **a function trial** (``hypersweep.tune``): the trial's run, found through
  :func:`hypersweep.tracking.context.current_run` (the function driver sets it around the
  objective call). A stopped trial's logging raises ``TrialCanceled``; the reporter catches it
  and :meth:`Reporter.should_stop` turns true, so the framework ends training at the
  callback's return instead of unwinding through its own code. The trial still ends
  ``Canceled`` (early termination) when the objective then returns normally.
- **a script trial**: ``Run.get_context()``'s trial run, whose logging goes to the metrics
  journal. The sweep stops a script trial with SIGTERM; the reporter (made in the main
  thread) records that signal instead of dying mid-step, so training ends cleanly at the next
  round. The supervisor still kills the trial after its grace period, and a second SIGTERM
  acts as the first would have without the reporter.
- **outside a sweep**: an offline run that prints, as ``Run.get_context()`` does.

Examples
--------
>>> from hypersweep.tracking.context import OfflineRun
>>> reporter = Reporter(OfflineRun())
>>> reporter.log({"valid-auc": 0.91, "note": "text is skipped"}, step=0)
Attempted to log scalar metric valid-auc:
0.91
>>> reporter.should_stop()
False
"""

from __future__ import annotations

import math
import signal
import threading
import warnings
from collections.abc import Mapping
from typing import Any

from hypersweep.functions.trial import TrialCanceled
from hypersweep.tracking.context import BaseRun, TrialRun, current_run, get_context

__all__ = ["Reporter", "as_number"]


def as_number(value: Any) -> float | None:
    """``value`` as a float when it is a numeric scalar (numpy and torch scalars included),
    else None. Booleans, text and arrays of more than one value are not metrics.

    Examples
    --------
    >>> import numpy as np
    >>> as_number(np.float32(0.5)), as_number(3), as_number("0.5"), as_number(True)
    (0.5, 3.0, None, None)
    >>> as_number(np.array([1.0, 2.0])) is None
    True
    """
    if isinstance(value, (bool, str, bytes)) or value is None:
        return None
    if getattr(value, "ndim", 0) != 0:  # an array or tensor: only a 0-d one is a scalar
        return None
    if str(getattr(value, "dtype", "")) in ("bool", "torch.bool"):  # a flag, not a measurement
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


class _Termination:
    """The process-wide record of the supervisor's SIGTERM (one handler per process)."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._installed = False
        self._lock = threading.Lock()

    def install(self) -> None:
        """Record SIGTERM instead of dying of it; only the main thread can install a handler
        (a reporter made elsewhere learns of no signal, and the supervisor's kill ends it)."""
        with self._lock:
            if self._installed or threading.current_thread() is not threading.main_thread():
                return
            previous = signal.getsignal(signal.SIGTERM)

            def handler(signum: int, frame: Any) -> None:
                self.requested.set()
                # A second SIGTERM is what it was before: the user insists.
                signal.signal(signal.SIGTERM, previous if previous is not None
                              else signal.SIG_DFL)
                if callable(previous):
                    previous(signum, frame)

            try:
                signal.signal(signal.SIGTERM, handler)
            except ValueError:  # not the main interpreter
                return
            self._installed = True


_TERMINATION = _Termination()


class Reporter:
    """Where a framework callback sends metrics: the current trial's run, or an offline run.

    Parameters
    ----------
    run : BaseRun, optional
        The run to log to. None: the current run (inside ``hypersweep.tune``, the function
        trial's run; inside a script trial, ``Run.get_context()``; outside a sweep, an
        offline run that prints).

    Examples
    --------
    >>> from hypersweep import tune, RandomParameterSampling, uniform
    >>> def objective(params, run):
    ...     reporter = Reporter()               # finds the trial's run by itself
    ...     for epoch in range(3):
    ...         reporter.log({"loss": params["lr"] / (epoch + 1)}, step=epoch)
    ...         if reporter.should_stop():
    ...             break
    >>> result = tune(objective, RandomParameterSampling({"lr": uniform(0, 1)}, seed=0),
    ...               "loss", "minimize", max_total_runs=4)
    >>> len(result.get_metrics()[result.best_trial_id]["loss"])
    3
    """

    def __init__(self, run: BaseRun | None = None) -> None:
        if run is None:
            run = current_run() or get_context()
        self.run: BaseRun = run
        self._stopped = False
        self._warned: set[str] = set()
        if isinstance(run, TrialRun):
            _TERMINATION.install()

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Log one round's metrics: every finite numeric scalar, each under its own name.

        Anything else (text, arrays, NaN, a value the store refuses) is skipped with one
        warning per name: a callback must never fail a long training from deep inside the
        framework. When the sweep has stopped this function trial, the logging call's
        ``TrialCanceled`` is caught and :meth:`should_stop` turns true.

        Parameters
        ----------
        metrics : mapping
            Metric name to value, e.g. ``{"valid_0-l2": 0.31}``.
        step : int, optional
            The round or epoch; by default each name's own count of loggings.

        Examples
        --------
        >>> from hypersweep.tracking.context import OfflineRun
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     Reporter(OfflineRun()).log({"loss": float("nan"), "acc": 1})
        Attempted to log scalar metric acc:
        1.0
        >>> [str(w.message)[:40] for w in caught]
        ["hypersweep: metric 'loss' is not logged:"]
        """
        for name, raw in metrics.items():
            value = as_number(raw)
            if value is None or not math.isfinite(value):
                kind = "a numeric scalar" if value is None else "finite"
                self._warn(name, f"{raw!r} is not {kind}")
                continue
            try:
                self.run.log(str(name), value, step=step)
            except TrialCanceled:
                self._stopped = True
            except Exception as err:  # a name or step the store cannot hold, a full disk
                self._warn(name, f"{type(err).__name__}: {err}")

    def should_stop(self) -> bool:
        """Whether the sweep has stopped this trial (its policy, a cancel, a timeout).

        In a function trial, the trial's stop flag; in a script trial, whether the
        supervisor's SIGTERM arrived; outside a sweep, never.

        Examples
        --------
        >>> from hypersweep.tracking.context import OfflineRun
        >>> Reporter(OfflineRun()).should_stop()
        False
        """
        if self._stopped:
            return True
        check = getattr(self.run, "should_stop", None)
        signaled = isinstance(self.run, TrialRun) and _TERMINATION.requested.is_set()
        if signaled or (callable(check) and check()):
            self._stopped = True
        return self._stopped

    def _warn(self, name: Any, why: str) -> None:
        if name in self._warned:
            return
        self._warned.add(name)
        warnings.warn(f"hypersweep: metric {name!r} is not logged: {why} (warned once a name)",
                      RuntimeWarning, stacklevel=3)
