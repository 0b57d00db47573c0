"""The trial supervisor used on Dask workers: `_supervise` plus a lifeline to the worker.

Run as ``python -I -S _dask_supervise.py <trial_dir> <lifeline_fd> -- <argv...>``. It behaves
exactly like :mod:`hypersweep.execution._supervise` (own process group, ``supervisor.json``
first, ``exit_status`` last, stray group members asked to end), with one addition: it holds the
read end of a pipe whose write end only the Dask worker holds. When the worker dies (SIGKILL,
OOM, node lost) the pipe reports end-of-file and the supervisor kills its whole process group at
once, so the Dask scheduler's re-run of the task on another worker never overlaps an orphaned
first attempt. A local trial needs no lifeline: its controller can always be told apart from
its trial; a worker's death is precisely what makes Dask run the task again.

Standard library built-ins only (start-up time is overhead per trial); ``_supervise`` sits in
the same folder (``python -I`` does not put it on ``sys.path``, so this file does).
"""

import os
import select
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _supervise import _ignore, _write_exit, _write_self, signal_mod


def _wait(pid: int, lifeline: int) -> int | None:
    """The command's exit code, or None when the worker died first (the group is then killed)."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # pragma: no cover - kernels before 5.3
        pidfd = None
    while True:
        fds = [lifeline] if pidfd is None else [lifeline, pidfd]
        try:
            ready, _, _ = select.select(fds, [], [], None if pidfd is not None else 0.2)
        except InterruptedError:  # pragma: no cover - PEP 475 retries, but be safe
            continue
        if lifeline in ready and not os.read(lifeline, 1):
            os.killpg(0, signal_mod.SIGKILL)  # the worker is gone: so is this trial, at once
            return None  # pragma: no cover - SIGKILL above ended this process too
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)


def main(args: list[str]) -> int:
    if len(args) < 4 or args[2] != "--":
        os.write(2, b"usage: _dask_supervise.py TRIAL_DIR LIFELINE_FD -- PROGRAM [ARGS...]\n")
        return 2
    trial_dir, lifeline, argv = args[0], int(args[1]), args[3:]
    try:
        _write_self(trial_dir)
    except OSError as err:
        os.write(2, f"hypersweep: cannot record the supervisor: {err}\n".encode())
    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        signal_mod.signal(getattr(signal_mod, name), _ignore)
    restore = {getattr(signal_mod, n) for n in ("SIGPIPE", "SIGXFSZ") if hasattr(signal_mod, n)}
    try:
        # The lifeline must not leak into the command: only this process watches it.
        os.set_inheritable(lifeline, False)
        pid = os.posix_spawnp(argv[0], argv, os.environ, setsigdef=restore)
    except OSError as err:
        code = 127 if isinstance(err, FileNotFoundError) else 126
        os.write(2, f"hypersweep: cannot run {argv[0]!r}: {err}\n".encode())
    else:
        waited = _wait(pid, lifeline)
        code = -9 if waited is None else waited
    _write_exit(trial_dir, code)
    if os.getpgrp() == os.getpid():
        try:  # noqa: SIM105
            os.killpg(0, signal_mod.SIGTERM)
        except OSError:
            pass
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
