"""Failing trials: how a failure reads in one line, and when failures end a sweep.

Script sweeps (``controller/loop.py``) and function sweeps (``functions/sweep.py``) apply the
same rules, through :class:`FailureRule`:

- **Fail fast** (the default): when the first :data:`FIRST_FAILURES` trials to end all failed
  with the same error, the setup is broken (a script path typo, a missing package, a bad data
  path), and running the rest of the budget would only repeat it. The sweep stops there.
- **An explicit cap** (``max_failed_runs`` / ``limits.max_failed_trials``, our extension):
  the sweep stops once that many trials have failed. Setting it *replaces* the fail-fast rule:
  a user who says "up to 5 failures are fine" has taken charge of failures.

Either way the sweep stops launching, cancels the trials still running, and ends ``Failed``
with the rule's message as its error. Trials that failed because their *controller* died
(``orphaned``) are not the setup's fault and count for neither rule.

Examples
--------
>>> rule = FailureRule(max_failed=None)
>>> from datetime import datetime, timezone
>>> from hypersweep.store import Status, TrialRecord
>>> def failed(i):
...     return TrialRecord(f"HD_x_{i}", "HD_x", i, {}, Status.FAILED,
...                        datetime.now(timezone.utc), error=f"exit code 2: no /tmp/HD_x_{i}")
>>> [rule.ended(failed(i)) for i in range(2)]
[None, None]
>>> rule.ended(failed(2))
'the first 3 trials failed with the same error: exit code 2: no /tmp/HD_x_0; stopping the \
sweep (set max_failed_runs to change this)'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hypersweep.store import Status, TrialRecord

if TYPE_CHECKING:  # the execution package is not imported to decide about function trials
    from hypersweep.execution import TrialSpec

__all__ = ["FIRST_FAILURES", "REASON_GPU_OUT_OF_MEMORY", "FailureRule", "Tally", "error_line",
           "exit_error", "fail_called", "failure_reason", "launch_error", "sweep_outcome"]

#: How many first trials failing alike end a sweep that set no ``max_failed_runs``.
FIRST_FAILURES = 3
#: Longest error line kept (a script may print a 10 MB line as its last).
ERROR_LINE_LIMIT = 300

#: A trial that died of the GPU's memory: its hyperparameters (batch size, width) asked for
#: more than its device has. The sweep goes on; this tells the user which region to avoid.
REASON_GPU_OUT_OF_MEMORY = "gpu_out_of_memory"

#: Trials failed this way are not the setup's fault (see ``controller/loop.py``).
_NOT_THE_SETUP = frozenset({"orphaned"})
_NUMBER = re.compile(r"\d+")
# What PyTorch, TensorFlow, JAX, CuPy and the CUDA/ROCm libraries print when a device's
# memory runs out. A pattern, compiled (and cached by `re`) when a failure is first read
# rather than at import: a sweep whose trials never fail has no use for it.
_GPU_OUT_OF_MEMORY = (
    r"CUDA out of memory|HIP out of memory|CUDA_ERROR_OUT_OF_MEMORY|cudaErrorMemoryAllocation"
    r"|CUBLAS_STATUS_ALLOC_FAILED|CUDNN_STATUS_ALLOC_FAILED|torch\.(cuda\.)?OutOfMemoryError"
    r"|OutOfMemoryError: Out of memory allocating|OOM when allocating tensor"
    r"|RESOURCE_EXHAUSTED: Out of memory")


def failure_reason(text: str | None) -> str | None:
    """The termination reason a failed trial's error output shows, if any: so far
    `REASON_GPU_OUT_OF_MEMORY`.

    >>> failure_reason("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")
    'gpu_out_of_memory'
    >>> failure_reason("MemoryError") is None
    True
    """
    if text and re.search(_GPU_OUT_OF_MEMORY, text):
        return REASON_GPU_OUT_OF_MEMORY
    return None


def error_line(text: str | None, limit: int = ERROR_LINE_LIMIT) -> str:
    """The last non-empty line of ``text``, made printable and at most ``limit`` characters.

    A traceback's last line names the exception; a failed command's last stderr line is
    usually its reason. Control characters (terminal escapes, NUL) become spaces, so the line
    is safe in a table, a log or a web page.

    Examples
    --------
    >>> error_line("Traceback (most recent call last):\\n  ...\\nKeyError: 'lr'\\n\\n")
    "KeyError: 'lr'"
    >>> error_line("\\x1b[31mred\\x1b[0m")
    '[31mred [0m'
    >>> len(error_line("x" * 1000))
    300
    """
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return ""
    import unicodedata  # only when a trial failed

    line = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in lines[-1]).strip()
    return line if len(line) <= limit else line[:limit - 1] + "…"


def exit_error(exit_code: int | None, stderr_tail: str, failed_by_script: str | None) -> str:
    """The one-line error of a script trial that ended badly.

    Examples
    --------
    >>> exit_error(2, "python: can't open file '/w/trian.py': [Errno 2] No such file", None)
    "exit code 2: python: can't open file '/w/trian.py': [Errno 2] No such file"
    >>> exit_error(-9, "", None)
    'killed by signal 9'
    """
    if failed_by_script is not None:
        return fail_called("script", failed_by_script)
    if exit_code is None:
        return "the trial ended while no controller watched it; its exit status is unknown"
    head = f"killed by signal {-exit_code}" if exit_code < 0 else f"exit code {exit_code}"
    reason = error_line(stderr_tail)
    return f"{head}: {reason}" if reason else head


def fail_called(trial_noun: str, details: str) -> str:
    """The one-line error of a trial that called ``run.fail(details)`` (a ``script`` or an
    ``objective``).

    >>> fail_called("objective", "diverged\\nat step 3")
    'the objective called run.fail(): at step 3'
    """
    line = error_line(details)
    called = f"the {trial_noun} called run.fail()"
    return f"{called}: {line}" if line else called


def launch_error(err: BaseException, spec: TrialSpec | None = None) -> str:
    """The one-line error of a trial whose launch raised ``err``.

    ``subprocess`` refuses a NUL byte or an ``=`` in a name without saying where; when the
    trial's ``spec`` shows the culprit, the message names it.

    Examples
    --------
    >>> launch_error(FileNotFoundError(2, "No such file or directory", "/w/run"))
    "launch failed: [Errno 2] No such file or directory: '/w/run'"
    """
    message = error_line(str(err))
    if spec is not None and isinstance(err, ValueError):
        culprit = _culprit(message, spec)
        if culprit:
            return f"launch failed: {culprit}"
    if not isinstance(err, OSError) or not message:  # OSError's text is self-explanatory
        message = f"{type(err).__name__}: {message}" if message else type(err).__name__
    return f"launch failed: {message}"


def _culprit(message: str, spec: TrialSpec) -> str | None:
    if "null byte" in message:
        for name, value in spec.env.items():
            if "\0" in name:
                return f"embedded null byte in environment variable name {name!r}"
            if "\0" in value:
                return f"embedded null byte in environment value {name!r}"
        for position, argument in enumerate(spec.argv):
            if "\0" in argument:
                return f"embedded null byte in argument {position} ({argument!r})"
    if "environment variable name" in message:
        for name in spec.env:
            if "=" in name or not name:
                return f"illegal environment variable name {name!r}"
    return None


def _same_error_key(record: TrialRecord) -> str:
    """The error with what differs from trial to trial (its id, numbers) masked out."""
    line = error_line(record.error).replace(record.id, "<trial>")
    return _NUMBER.sub("#", line)


class FailureRule:
    """Tells, trial end by trial end, whether failures should end the sweep.

    Parameters
    ----------
    max_failed : int or None
        The explicit cap; None applies the fail-fast rule instead.
    setting : str
        How the user sets the cap, for the messages (``max_failed_runs``).
    hint : str, optional
        How to set it, when that is more than ``setting`` (default: ``setting``).

    Attributes
    ----------
    verdict : str or None
        Why the sweep must end (set once a rule fires; it stays set).
    """

    def __init__(self, max_failed: int | None, setting: str = "max_failed_runs",
                 hint: str | None = None) -> None:
        self.max_failed = max_failed
        self.setting = setting
        self.hint = hint or setting
        self.verdict: str | None = None
        self._failed = 0
        self._first: list[TrialRecord] = []  # the first trials to end, while they all failed
        self._armed = max_failed is None

    def ended(self, record: TrialRecord) -> str | None:
        """Count one ended trial; return :attr:`verdict` (None while the sweep may go on)."""
        if self.verdict is not None or record.termination_reason in _NOT_THE_SETUP:
            return self.verdict
        failed = record.status == Status.FAILED
        self._failed += failed
        if record.termination_reason == REASON_GPU_OUT_OF_MEMORY and self.max_failed is None:
            # Not fail-fast material: other hyperparameters (a smaller batch) may well fit.
            return self.verdict
        if self.max_failed is not None and self._failed >= self.max_failed:
            self.verdict = (f"{self._failed} trials failed ({self.setting} = "
                            f"{self.max_failed}); stopping the sweep. The last error: "
                            f"{error_line(record.error) or 'none recorded'}")
        elif self._armed:
            self._first.append(record)
            keys = {_same_error_key(r) for r in self._first}
            if not failed or len(keys) > 1:
                self._armed = False  # the setup can run a trial (or fails in several ways)
            elif len(self._first) >= FIRST_FAILURES:
                self.verdict = (f"the first {FIRST_FAILURES} trials failed with the same "
                                f"error: {error_line(self._first[0].error)}; stopping the "
                                f"sweep (set {self.hint} to change this)")
        return self.verdict


class Tally:
    """What a sweep's outcome needs to know of its trials, counted one record at a time: a
    driver that lets ended trials go keeps this instead of their records.

    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> tally = Tally()
    >>> for i in (2, 1):
    ...     tally.add(TrialRecord(f"HD_x_{i}", "HD_x", i, {}, Status.FAILED, now, error=f"e{i}"))
    >>> tally.count, tally.failed, tally.first_failed.error
    (2, 2, 'e1')
    """

    __slots__ = ("completed", "count", "failed", "first_failed")

    def __init__(self) -> None:
        self.count = 0
        self.failed = 0
        self.completed = 0
        self.first_failed: TrialRecord | None = None  # the failed trial of the lowest index

    def add(self, record: TrialRecord) -> None:
        self.count += 1
        if record.status == Status.FAILED:
            self.failed += 1
            if self.first_failed is None or record.index < self.first_failed.index:
                self.first_failed = record
        elif record.status == Status.COMPLETED:
            self.completed += 1

    def copy(self) -> Tally:
        other = Tally()
        other.count, other.failed, other.completed = self.count, self.failed, self.completed
        other.first_failed = self.first_failed
        return other


def sweep_outcome(trials: Sequence[TrialRecord] | Tally, *, canceled: bool,
                  failure_verdict: str | None, scored: bool,
                  missing_metric: Callable[[], str]) -> tuple[Status, str | None]:
    """The status a sweep ends with, and its error (None unless ``Failed``), from its trials'
    records or their `Tally`.

    ``Canceled`` when the user canceled it; ``Failed`` when a failure rule fired
    (``failure_verdict``), when every trial failed, or when trials completed but none logged
    the primary metric as a number (not ``scored``; ``missing_metric()`` says why, and is
    only called then); else ``Completed``. A sweep that ran and learned nothing is a
    failure: ``hypersweep run`` must not exit 0 on it.

    Examples
    --------
    >>> sweep_outcome([], canceled=False, failure_verdict=None, scored=False,
    ...               missing_metric=lambda: "never logged")
    (<Status.COMPLETED: 'Completed'>, None)
    """
    if canceled:
        return Status.CANCELED, None
    if failure_verdict is not None:
        return Status.FAILED, failure_verdict
    if not isinstance(trials, Tally):
        tally = Tally()
        for record in trials:
            tally.add(record)
        trials = tally
    if trials.count and trials.failed == trials.count:
        first = trials.first_failed
        assert first is not None
        return Status.FAILED, (f"all {trials.count} trials failed; the first one: "
                               f"{error_line(first.error) or 'no error recorded'}")
    if not scored and trials.completed:
        return Status.FAILED, missing_metric()
    return Status.COMPLETED, None
