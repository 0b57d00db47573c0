"""The executor protocol: launch, watch and stop trials without ever blocking the controller.

An executor knows *how* trials run (local processes, in-process functions, a Dask cluster), never
*what* to run: the controller hands it a :class:`TrialSpec` and later learns, by polling, the
metrics each trial logged and how it ended (:class:`TrialExit`).

Examples
--------
>>> import sys
>>> from pathlib import Path
>>> spec = TrialSpec("HD_x_0", [sys.executable, "train.py", "--lr", "0.1"], {},
...                  Path("/tmp/w"), Path("/tmp/t"))
>>> spec.argv[1:]
['train.py', '--lr', '0.1']
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypersweep.execution import layout
from hypersweep.execution.placement import Placement, Slot, machine_placement
from hypersweep.tracking.journal import JournalRecord

__all__ = ["Executor", "TrialExit", "TrialSpec"]


@dataclass(frozen=True)
class TrialSpec:
    """Everything needed to start one trial.

    Attributes
    ----------
    trial_id : str
        The trial's id, e.g. ``HD_<uuid>_3``; exported to the trial as ``HYPERSWEEP_TRIAL_ID``.
    argv : list of str
        The command; ``argv[0]`` is the program (e.g. ``sys.executable``). Never a shell string:
        every element arrives in the child's ``sys.argv`` exactly as given.
    env : dict of str to str
        What the sweep gives the trial (its environment variables, ``HYPERSWEEP_*``, its
        devices), merged over the environment of the machine that runs it, which then adds its
        own part (`hypersweep.execution.environment.process_environment`).
    workdir : Path
        The process's working directory (a copy of the source snapshot, with ``outputs/``).
    trial_dir : Path
        Control files: ``stdout.log``, ``stderr.log``, ``metrics.jsonl``, ``exit_status``,
        ``supervisor.json`` (see `hypersweep.execution.layout`).
    snapshot : Path or None
        The sweep's source snapshot. When given, `Executor.launch` makes ``workdir`` a fresh
        working copy of it (where the trial runs is the executor's business); when None,
        ``workdir`` must already exist.
    cores : tuple of int
        Cores the trial's processes are pinned to (empty: no pinning); its devices and thread
        counts are in ``env`` (`hypersweep.execution.placement.Slot.environment`).
    shim : str or None
        Where the azureml shim is on the controller's machine
        (`hypersweep.tracking.integrations.shim_path`), for the trial's ``PYTHONPATH``; None:
        no shim. An executor that runs trials on another machine puts that machine's own.
    """

    trial_id: str
    argv: list[str]
    env: dict[str, str]
    workdir: Path
    trial_dir: Path
    snapshot: Path | None = None
    cores: tuple[int, ...] = ()
    shim: str | None = None

    @property
    def journal_path(self) -> Path:
        """Where the trial's metrics journal lives."""
        return layout.journal_path(self.trial_dir)


@dataclass(frozen=True)
class TrialExit:
    """How a trial ended.

    Attributes
    ----------
    trial_id : str
        Which trial.
    exit_code : int or None
        The process's exit status; negative ``-N`` when killed by signal ``N``; None when it
        cannot be known (the process vanished, e.g. while no controller was watching, and left
        no exit record).
    end_time : float
        ``time.time()`` when it ended (as recorded by the trial's supervisor when available).
    stderr_tail : str
        The last lines of its stderr (at most ~40 lines / 4 KB), for the error message of a
        failed trial.
    slot : Slot or None
        The devices and cores it held, when the executor placed it (a cluster's worker did);
        None when the driver placed it, or it asked for none.
    """

    trial_id: str
    exit_code: int | None
    end_time: float
    stderr_tail: str = ""
    slot: Slot | None = None


class Executor(ABC):
    """Runs trials. Every method returns promptly: the controller's loop is never blocked."""

    @abstractmethod
    def launch(self, spec: TrialSpec) -> dict[str, Any]:
        """Start a trial and return a JSON-serialisable handle for the controller to record.

        The handle lets a later executor :meth:`adopt` the trial after a controller restart.
        """

    @abstractmethod
    def poll(self) -> tuple[dict[str, list[JournalRecord]], list[TrialExit]]:
        """Return new journal records per trial since the last poll, and trials that ended.

        Non-blocking. Each exit is reported once; a trial's final records are returned no later
        than (in the same poll as, or before) its exit.
        """

    @abstractmethod
    def stop(self, trial_id: str, grace: float = 5.0) -> None:
        """Ask every process of a trial to stop (SIGTERM), and force them (SIGKILL) after
        ``grace`` seconds: nothing the trial started outlives the stop.

        Non-blocking; the exit is reported by a later :meth:`poll`. Unknown or finished
        trials are ignored.
        """

    @abstractmethod
    def adopt(self, spec: TrialSpec, handle: dict[str, Any],
              journal_offset: int = 0) -> dict[str, Any] | None:
        """Watch again a trial launched by an earlier executor (after a controller restart).

        Returns the trial's handle if it is still running or left an exit record (both then
        reported by :meth:`poll` like any other trial), None if it cannot be found. That is
        ``handle`` itself, unless ``handle`` was empty (the controller died between the launch
        and recording it) and the executor found the trial another way: then the handle found,
        for the controller to record (empty if nothing says which process ran it).
        """

    def placement(self, gpu: float, cpu: int | None) -> Placement | None:
        """Where trials that each ask for ``gpu`` devices and ``cpu`` cores run: the devices
        and cores of this machine for the driver to hand out, or None when nothing is asked
        for or the executor places trials itself (a cluster's workers do). Raises
        `~hypersweep.errors.ConfigError` when no trial could ever get what it asks for."""
        return machine_placement(gpu, cpu)

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds; an executor that can tell wakes early when a trial
        ends, so the controller reacts at once. The default just sleeps."""
        time.sleep(timeout)

    @abstractmethod
    def launched(self, spec: TrialSpec) -> bool:
        """After a controller restart: whether any launch of this trial started a process.

        False means it surely never ran (so it may be launched now without running twice).
        """

    @abstractmethod
    def running(self) -> set[str]:
        """Ids of the trials watched whose exit has not been reported yet."""

    @abstractmethod
    def shutdown(self, stop_trials: bool = False) -> None:
        """Stop watching; with ``stop_trials`` also stop every running trial (this one may wait)."""
