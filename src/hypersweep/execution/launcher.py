"""One warm process per executor that forks the trials' supervisors (the executor's side).

A fresh ``python -I -S`` supervisor per trial costs 10-20 ms of CPU, about what a trivial
trial spends itself. :class:`Launcher` starts :mod:`hypersweep.execution._launcher` once, and
each launch is then a request on a socket pair: the launcher forks, the child becomes the very
same supervisor (own session and process group, ``supervisor.json`` first, child subreaper,
exit record last), and the launcher reports the child's pid at once and its wait status when it
ends, as :class:`subprocess.Popen` would for a child of the executor.

Crash safety does not depend on the launcher: everything durable is written by the supervisor,
as before. If the executor dies the launcher exits and the supervisors run on; if the launcher
dies, :attr:`Launcher.alive` turns False and the executor watches its trials the way it watches
adopted ones.

Linux only (``fork``, pidfds, ``SOCK_SEQPACKET``); :func:`Launcher.available` says so.

Examples
--------
>>> import os, sys, tempfile, time
>>> tmp = tempfile.mkdtemp()
>>> launcher = Launcher(sys.executable)
>>> out = os.open(os.path.join(tmp, "out"), os.O_WRONLY | os.O_CREAT, 0o644)
>>> pid, ticks = launcher.start(tmp, dict(os.environ), [tmp, "--", "echo", "hi"], out, out)
>>> os.close(out)
>>> while (status := launcher.exit_status(pid)) is None: time.sleep(0.01)
>>> os.waitstatus_to_exitcode(status), open(os.path.join(tmp, "out")).read()
(0, 'hi\\n')
>>> launcher.close()
"""

from __future__ import annotations

import contextlib
import marshal
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypersweep.execution.processes import open_pidfd, wait_readable

__all__ = ["LAUNCHER", "Forked", "Launcher", "LauncherGone", "check_exec_arguments"]

#: The launcher script.
LAUNCHER = str(Path(__file__).resolve().with_name("_launcher.py"))

#: Largest request sent to the launcher; a trial with a larger environment is started afresh.
MAX_REQUEST = 1 << 20

#: Seconds to wait for the launcher to answer a launch before it is taken for dead.
ANSWER_TIMEOUT = 60.0

#: Seconds `Launcher.close` waits for the launcher to exit (it is left to the OS after that).
CLOSE_TIMEOUT = 5.0


class LauncherGone(OSError):
    """The launcher died or stopped answering: start the trial another way.

    ``maybe_started`` is True when the request reached it, so the fork may have happened.
    """

    def __init__(self, message: str, maybe_started: bool) -> None:
        super().__init__(message)
        self.maybe_started = maybe_started


class Launcher:
    """Talk to one launcher process, started here.

    Parameters
    ----------
    python : str
        The interpreter that runs it (stdlib only).
    """

    def __init__(self, python: str) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                [python, "-I", "-S", LAUNCHER, str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, start_new_session=True,  # no terminal's ^C
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._sock = ours
        self._seq = 0
        self._exits: dict[int, int] = {}  # pid -> wait status, reported and not yet taken
        self.alive = True

    @staticmethod
    def available() -> bool:
        """Whether this system can run a launcher (Linux with pidfds)."""
        return sys.platform.startswith("linux") and hasattr(os, "pidfd_open")

    def fileno(self) -> int:
        """Readable when the launcher has news (an exit, or its own end)."""
        return self._sock.fileno()

    def start(self, cwd: str, env: dict[str, str], args: list[str], stdout: int,
              stderr: int) -> tuple[int, int | None]:
        """Fork a supervisor run with ``args`` (its command line after ``_supervise.py``) in
        ``cwd`` with ``env``, stdin ``/dev/null``; its ``(pid, start_ticks)``.

        Raises `LauncherGone` if the launcher cannot take the request (then nothing started
        unless ``maybe_started``), ``OSError`` if it could not fork.
        """
        if not self.alive:
            raise LauncherGone("the launcher has ended", maybe_started=False)
        self._seq += 1
        request = marshal.dumps((self._seq, cwd, env, args))
        if len(request) > MAX_REQUEST:
            raise LauncherGone("request too large for the launcher", maybe_started=False)
        try:
            socket.send_fds(self._sock, [request], [stdout, stderr])
        except OSError as err:
            self._gone()
            raise LauncherGone(f"the launcher is gone: {err}", maybe_started=False) from err
        while True:
            message = self._receive(block=True)
            if message is None:
                raise LauncherGone("the launcher ended while starting a trial",
                                   maybe_started=True)
            if message[0] == "launched" and message[1] == self._seq:
                _, _, pid, ticks, error = message
                if error is not None:
                    raise OSError(f"the launcher could not start the supervisor: {error}")
                self._exits.pop(pid, None)  # an earlier process with this pid is long reaped
                return pid, ticks

    def exit_status(self, pid: int, pump: bool = True) -> int | None:
        """The wait status of supervisor ``pid`` once it has ended and been reaped, else None
        (never blocks). Taken once: a later call for the same pid answers None.

        ``pump=False`` answers from the reports already taken in (by `pump`), without asking
        the socket: an executor watching many trials pumps once, then asks for each."""
        if pump:
            self.pump()
        return self._exits.pop(pid, None)

    def pump(self) -> None:
        """Take in whatever the launcher has reported."""
        while self.alive and self._receive(block=False) is not None:
            pass

    def _receive(self, block: bool) -> tuple[Any, ...] | None:
        """One message (exits are filed on the way), or None: none waiting, or launcher gone."""
        if block and not wait_readable([self._sock.fileno()], ANSWER_TIMEOUT):
            self._gone()  # stuck: taken for dead (its supervisors still record themselves)
            return None
        try:
            data = self._sock.recv(4096, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:  # a reset: it is gone
            self._gone()
            return None
        if not data:
            self._gone()
            return None
        message = marshal.loads(data)
        if message[0] == "exit":
            self._exits[message[1]] = message[2]
        return tuple(message)

    def _gone(self) -> None:
        if self.alive:
            self.alive = False
            self.close()

    def close(self) -> None:
        """Hang up: the launcher exits; supervisors it started run on."""
        self.alive = False
        with contextlib.suppress(OSError):
            self._sock.close()
        if self._process.returncode is not None:
            return  # reaped by an earlier close: its pid may be another process's now
        # Woken by the launcher's pidfd the moment it exits: Popen.wait(timeout) sleeps 0.5,
        # 1, 2, 4 ms... between looks, so a launcher gone in 1 ms was seen gone 3.5-7.5 ms
        # later, at the end of every sweep.
        pidfd = open_pidfd(self._process.pid)  # None (out of descriptors): Popen's own wait
        if pidfd is not None:
            try:
                wait_readable([pidfd], CLOSE_TIMEOUT)
            finally:
                os.close(pidfd)
        with contextlib.suppress(subprocess.TimeoutExpired):  # still there: left to the OS
            self._process.wait(timeout=0 if pidfd is not None else CLOSE_TIMEOUT)


class Forked:
    """A supervisor the launcher forked, watched as a :class:`subprocess.Popen` child is.

    >>> import os, sys, time
    >>> launcher = Launcher(sys.executable)
    >>> quiet = os.open(os.devnull, os.O_WRONLY)
    >>> pid, _ = launcher.start("/", {}, ["/tmp", "--", "/no/such/program"], quiet, quiet)
    >>> os.close(quiet)
    >>> child = Forked(launcher, pid)
    >>> while child.poll() is None: time.sleep(0.01)
    >>> child.returncode, child.lost()
    (127, False)
    >>> launcher.close()
    """

    def __init__(self, launcher: Launcher, pid: int) -> None:
        self.launcher = launcher
        self.pid = pid
        self.returncode: int | None = None

    def poll(self, pump: bool = True) -> int | None:
        """Its exit code (negative: killed by that signal) once it has ended, else None;
        ``pump`` as for `Launcher.exit_status`."""
        if self.returncode is None:
            status = self.launcher.exit_status(self.pid, pump)
            if status is not None:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def lost(self, pump: bool = True) -> bool:
        """Whether its end can no longer be reported: the launcher died first; ``pump`` as
        for `Launcher.exit_status`."""
        return self.poll(pump) is None and not self.launcher.alive


def check_exec_arguments(argv: list[str], env: dict[str, str]) -> None:
    """Refuse what :class:`subprocess.Popen` refuses, with its words, before a launcher
    forks: a NUL byte anywhere, an environment name with ``=`` or empty.

    >>> check_exec_arguments(["ls"], {"A=B": "1"})
    Traceback (most recent call last):
    ...
    ValueError: illegal environment variable name
    """
    try:  # in one pass of C over all names and values, the usual case (nothing refused)
        names, values = "".join(env), "".join(env.values())
        clean = "" not in env and "=" not in names and "\0" not in names + values
    except TypeError:
        clean = False  # not a string: what the loop below meets, it raises
    # else item by item, so that the first refused says why, as Popen would
    for name, value in ({} if clean else env).items():
        if not name or "=" in name:
            raise ValueError("illegal environment variable name")
        if "\0" in name or "\0" in value:
            raise ValueError("embedded null byte")
    if any("\0" in arg for arg in argv):
        raise ValueError("embedded null byte")
