"""The trial supervisor used on Dask workers: `_supervise` plus a lifeline to the worker.

Run as ``python -I -S _dask_supervise.py [--cpus 0,1] <trial_dir> <lifeline_fd> -- <argv...>``.
It behaves exactly like :mod:`hypersweep.execution._supervise` (own process group,
``supervisor.json`` first, a subreaper that ends every process the command left, ``exit_status``
last), with one addition: it holds the read end of a pipe whose write end only the Dask worker
holds. When the worker dies (SIGKILL, OOM, node lost) the pipe reports end-of-file and the
supervisor SIGKILLs every process of the trial at once, so the Dask scheduler's re-run of the
task on another worker never overlaps an orphaned first attempt. A local trial needs no
lifeline: its controller can always be told apart from its trial; a worker's death is precisely
what makes Dask run the task again. ``--cpus`` pins the supervisor, hence the command and every
process it starts, to those cores (the cores the worker placed the trial on).

Standard library built-ins only (start-up time is overhead per trial); ``_supervise`` sits in
the same folder (``python -I`` does not put it on ``sys.path``, so this file does).
"""

import os
import select
import sys
import time

# On sys.path only for this import: left there, it would make this folder's dask.py shadow the
# dask package for whoever imports this module (pytest --doctest-modules does).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
try:
    from _supervise import (
        DEFAULT_GRACE,
        end_leftovers,
        failed_to_start,
        finish,
        reap_children,
        start,
    )
finally:
    sys.path.remove(_HERE)


def _wait(pid: int, lifeline: int) -> int:
    """The command's exit code; -9 when the worker died first (the trial is then killed)."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # pragma: no cover - kernels before 5.3
        pidfd = None
    while True:
        fds = [lifeline] if pidfd is None else [lifeline, pidfd]
        try:
            # Wakes now and then without news too: orphans handed to this subreaper are reaped.
            # poll, not select: the lifeline keeps the worker's descriptor number (past 1023)
            poller = select.poll()
            for fd in fds:
                poller.register(fd, select.POLLIN)
            ready = [fd for fd, _ in poller.poll(200 if pidfd is None else 1000)]
        except InterruptedError:  # pragma: no cover - PEP 475 retries, but be safe
            continue
        if lifeline in ready and not os.read(lifeline, 1):
            end_leftovers(0.0)  # the worker is gone: so is this trial, at once
            return -9
        status, _ = reap_children(pid)
        if status is not None:
            return os.waitstatus_to_exitcode(status)


def _pin(cores: str) -> None:
    """Run on ``cores`` from now on; children inherit it. A core the worker may not use (its
    own affinity changed) leaves the trial unpinned rather than failed."""
    try:
        os.sched_setaffinity(0, {int(c) for c in cores.split(",") if c})
    except (AttributeError, OSError, ValueError) as err:
        os.write(2, f"hypersweep: cannot pin the trial to cores {cores}: {err}\n".encode())


def main(args: list[str]) -> int:
    if len(args) >= 2 and args[0] == "--cpus":
        _pin(args[1])
        args = args[2:]
    if len(args) < 4 or args[2] != "--":
        os.write(2, b"usage: _dask_supervise.py [--cpus LIST] TRIAL_DIR LIFELINE_FD -- PROGRAM "
                    b"[ARGS...]\n")
        return 2
    trial_dir, lifeline, argv = args[0], int(args[1]), args[3:]
    try:
        # The lifeline must not leak into the command: only this process watches it.
        os.set_inheritable(lifeline, False)
        pid = start(trial_dir, argv)
    except OSError as err:
        return failed_to_start(trial_dir, argv[0], err)
    code = _wait(pid, lifeline)
    return finish(trial_dir, code, time.time(), DEFAULT_GRACE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
