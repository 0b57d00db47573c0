"""The trial supervisor: run one command and record how it ended, whatever befalls the controller.

Run as ``python -I -S _supervise.py <trial_dir> -- <argv...>`` in the trial's own process group
(``-I -S`` skip site-packages, so this costs one bare interpreter start, ~15 ms). It spawns
``argv`` in the same group with the inherited cwd, environment and stdout/stderr, waits for it,
writes ``<trial_dir>/exit_status`` atomically (temporary file + ``os.replace``) as JSON
``{"exit_code": <int>, "end_time": <float>}``, asks any processes the command left behind in the
group to end, and exits with the command's status.

A controller that is ``kill -9``-ed while trials run loses nothing: the supervisor is not its
child in any way that matters, and a restarted controller reads the exit record.

SIGTERM/SIGINT/SIGHUP sent to the group are meant for the command: the supervisor ignores them
(with a handler, which ``exec`` resets to the default in the command) so it can still record the
command's end. Only SIGKILL stops it without a record; the controller that sends SIGKILL writes
the record itself.

Standard library built-ins only (``_signal`` rather than ``signal``, which imports ``enum``):
this file's start-up time is the executor's overhead per trial.
"""

import os
import sys
import time

try:
    import _signal as signal_mod
except ImportError:  # pragma: no cover - CPython always has _signal
    import signal as signal_mod


def _ignore(signum: int, frame: object) -> None:
    """Stay alive to record the command's exit; the signal also reached the command."""


def _write_exit(trial_dir: str, code: int) -> None:
    path = os.path.join(trial_dir, "exit_status")
    tmp = path + ".tmp"
    data = f'{{"exit_code": {code:d}, "end_time": {time.time()!r}}}\n'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _write_self(trial_dir: str) -> None:
    """Say which process runs the trial, first thing: a controller killed between starting
    this process and recording its handle finds it here (``supervisor.json``)."""
    try:  # the start time tells this process from a later one given the same pid
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        start_ticks = str(int(stat[stat.rindex(b")") + 2 :].split()[19]))
    except OSError:  # no /proc (macOS): the controller then trusts the pid alone
        start_ticks = "null"
    path = os.path.join(trial_dir, "supervisor.json")
    data = f'{{"pid": {os.getpid():d}, "pgid": {os.getpgrp():d}, "start_ticks": {start_ticks}}}\n'
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)
    os.replace(path + ".tmp", path)


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        os.write(2, b"usage: _supervise.py TRIAL_DIR -- PROGRAM [ARGS...]\n")
        return 2
    trial_dir, argv = args[0], args[2:]
    try:
        _write_self(trial_dir)
    except OSError as err:  # no /proc: the executor's handle is all there is
        os.write(2, f"hypersweep: cannot record the supervisor: {err}\n".encode())
    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        signal_mod.signal(getattr(signal_mod, name), _ignore)
    # Python ignores SIGPIPE and SIGXFSZ; give the command the defaults a shell would.
    restore = {getattr(signal_mod, n) for n in ("SIGPIPE", "SIGXFSZ") if hasattr(signal_mod, n)}
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, setsigdef=restore)
    except OSError as err:
        # The shell's conventions: 127 not found, 126 found but not executable.
        code = 127 if isinstance(err, FileNotFoundError) else 126
        os.write(2, f"hypersweep: cannot run {argv[0]!r}: {err}\n".encode())
    else:
        _, status = os.waitpid(pid, 0)  # retried on EINTR (PEP 475)
        code = os.waitstatus_to_exitcode(status)
    _write_exit(trial_dir, code)
    # Processes the command left running in its group (background workers) end with it, as they
    # would when Azure tears down a run's container. The supervisor itself ignores this SIGTERM.
    # Only when the supervisor leads its group: run by hand inside someone else's group, it
    # would otherwise signal its caller. (No contextlib: importing it costs more than this file.)
    if os.getpgrp() == os.getpid():
        try:  # noqa: SIM105
            os.killpg(0, signal_mod.SIGTERM)
        except OSError:
            pass
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
