"""Processes as the executors see them: liveness that defeats pid reuse, pidfds, stop signals.

One module for every executor (local, Dask worker) and for the drivers that watch processes
(a function sweep's pool, the controller lease). Linux ``/proc`` makes liveness exact (a pid
plus its start time names one process); elsewhere a live pid is taken at its word.
The trial's exit record is read by :mod:`hypersweep.execution.trial_records`.

Examples
--------
>>> import os
>>> same_process_alive(os.getpid(), process_start_ticks(os.getpid()))
True
>>> same_process_alive(os.getpid(), -1) == (process_start_ticks(os.getpid()) is None)
True
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
from collections.abc import Sequence

from hypersweep.execution._supervise import start_ticks, stat_fields, trial_processes

__all__ = ["boot_id", "open_pidfd", "own_lineage", "process_start_ticks", "same_process_alive",
           "signal_trial", "wait_readable", "writes_to"]


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """``(state, start time in clock ticks since boot)`` of a live pid, or None if it is gone."""
    fields = stat_fields(pid)
    return None if fields is None else (fields[0].decode(), int(fields[19]))


def process_start_ticks(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot), to tell it from a later process given the
    same pid (see `same_process_alive`); None if it is gone or there is no ``/proc``."""
    return start_ticks(pid)


def open_pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` ends, where the kernel offers one."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def own_lineage() -> set[int]:
    """This process and its ancestors, up to init: pids no trial's supervisor can have.

    A trial can write its folder's records, so a resumed controller must not believe one that
    names this process or an ancestor: SIGKILL to the "trial" of pid 1 would reach every
    process on the machine.

    >>> own_lineage() >= {os.getpid(), os.getppid()}
    True
    """
    found = {os.getpid(), os.getppid(), 1}
    pid: int | None = os.getppid()
    while pid is not None and pid > 1:
        fields = stat_fields(pid)
        pid = None if fields is None else int(fields[1])
        if pid is None or pid in found:
            break
        found.add(pid)
    return found


def writes_to(pid: int, path: str | os.PathLike[str]) -> bool | None:
    """Whether the standard output of ``pid`` is the file at ``path``; None without ``/proc``.

    A trial's supervisor writes to its folder's ``stdout.log``, and no trial can change which
    file another process writes to: what a record in the folder names is believed only if
    this holds (see `LocalProcessExecutor.adopt`).

    >>> writes_to(os.getpid(), "/nonexistent/stdout.log")
    False
    """
    if not os.path.isdir("/proc/self"):
        return None  # pragma: no cover - no /proc (macOS): the pid and start time are all
    try:
        return os.readlink(f"/proc/{pid}/fd/1") == os.fspath(path)
    except OSError:  # gone, no standard output, or another user's process: not the trial's
        return False


def signal_trial(supervisor_pid: int, sig: int) -> None:
    """Send ``sig`` to every process of the trial that a live supervisor runs.

    SIGTERM reaches its whole process group (the supervisor ignores it) and the descendants
    that left the group with ``setsid``. SIGKILL reaches every process but the supervisor: it
    stays to find any process that escaped, reap, and record the script's real exit. The caller
    checks first that ``supervisor_pid`` is still the trial's supervisor (not a reused pid).
    Without ``/proc`` the group is all that can be found, and SIGKILL ends the supervisor too.
    """
    if supervisor_pid <= 1 or supervisor_pid in own_lineage():
        return  # no trial's: a record that says so is a trial's garbage (see `own_lineage`)
    processes = trial_processes(supervisor_pid)
    targets: list[int] = []
    if processes is None or sig != signal.SIGKILL:
        try:
            os.killpg(supervisor_pid, sig)  # the supervisor leads the trial's group
        except ProcessLookupError:
            # No such group yet: a supervisor forked a moment ago holds the stop and passes it
            # on to the command it starts.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(supervisor_pid, sig)
        except PermissionError:
            pass
        if processes is not None:
            targets = [pid for pid, pgid in processes.items() if pgid != supervisor_pid]
    else:
        targets = list(processes)
    for pid in targets:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def boot_id() -> str | None:
    """This boot's id (Linux), to tell a pid recorded before a reboot from today's."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return None


def same_process_alive(pid: int, start_ticks: int | None) -> bool:
    """True if ``pid`` runs and is the process that had ``start_ticks`` (defeats pid reuse)."""
    if pid <= 0:
        return False
    if os.path.isdir("/proc/self"):
        stat = _proc_stat(pid)
        if stat is None or stat[0] in ("Z", "X"):  # a zombie has ended: only its record matters
            return False
        return start_ticks is None or stat[1] == start_ticks
    try:  # pragma: no cover - non-Linux fallback, no pid-reuse protection
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_readable(fds: Sequence[int], timeout: float) -> list[int]:
    """The descriptors of ``fds`` readable within ``timeout`` seconds (a pidfd: its process
    ended). poll(2), not select(2): a busy process holds descriptors past 1023, which select
    refuses ("filedescriptor out of range").

    >>> read, write = os.pipe(); _ = os.write(write, b"x")
    >>> wait_readable([read], 0.0) == [read]
    True
    >>> os.close(read); os.close(write)
    """
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    try:
        return [fd for fd, _ in poller.poll(max(0.0, timeout) * 1000)]
    except InterruptedError:
        return []
