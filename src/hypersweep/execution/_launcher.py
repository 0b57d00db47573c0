"""A warm supervisor that forks the supervisors of one executor's trials.

Run as ``python -I -S _launcher.py FD`` by :class:`hypersweep.execution.launcher.Launcher`,
with FD one end of a ``SOCK_SEQPACKET`` socket pair. Starting a fresh interpreter for every
trial's supervisor costs about as much CPU as a trivial trial's own work; a fork of this small
process costs a millisecond. Each forked child is exactly the supervisor of
:mod:`hypersweep.execution._supervise` (its ``main``): it leads its own session, records itself
in ``supervisor.json``, is a child subreaper, spawns the command and records its exit.

Protocol, one message per packet (`marshal`, never anything a trial wrote):

- executor -> launcher: ``(seq, cwd, env, supervisor_args)`` with the trial's stdout and stderr
  descriptors attached (``SCM_RIGHTS``);
- launcher -> executor: ``("launched", seq, pid, start_ticks, error)`` at once after the
  fork, then ``("exit", pid, wait_status)`` when that supervisor ends (this process reaps it).

On end-of-file (the executor closed its end or died) this process exits at once: the
supervisors it forked run on, re-parented, and record their exits as always, so a controller
killed at any instant loses nothing a fresh supervisor would have kept.

Standard library only: like the supervisor, hypersweep need not be importable here. And only
the built-in halves of ``signal`` and ``socket`` (``_signal``, ``_socket``): their Python halves
import ``enum``, ``functools``, ``collections`` and ``selectors``, whose objects made this
process ~0.7 MB larger. Every fork copies the page tables of all of it, and after each fork the
launcher and the child each copy (on write) every page they touch while the other lives: with
them, 160 and ~360 page faults a trial (launcher; supervisor and a ``/bin/true``) against 123
and ~317 without them and with the ``/proc`` reads below.
"""

from __future__ import annotations

import _signal as signal
import _socket as socket
import array
import marshal
import os
import select
import sys

if __name__ == "__main__":  # run as a script under -I -S: the package is not importable
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _supervise as supervise  # type: ignore[import-not-found,no-redef,unused-ignore]
else:
    from hypersweep.execution import _supervise as supervise

#: Largest request accepted (the trial's environment makes most of it).
MAX_REQUEST = 1 << 20


def _become_supervisor(cwd: str, env: dict[str, str], args: list[str], out_fd: int,
                       err_fd: int, inherited: list[int]) -> int:
    """In the forked child: take the trial's session, folder, descriptors and environment, then
    run the supervisor; its exit status."""
    for fd in inherited:  # the launcher's own descriptors are no business of the trial
        os.close(fd)
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((null, 0), (out_fd, 1), (err_fd, 2)):
        if fd != target:
            os.dup2(fd, target)
            os.close(fd)
    os.chdir(cwd)
    # posix_spawnp looks for the command on this process's PATH: the trial's. The rest of the
    # environment goes to the command as it is; rebuilding os.environ from it instead cost
    # a forked supervisor half its CPU (its pages, copied on write).
    if "PATH" in env:
        os.putenv("PATH", env["PATH"])
    else:
        os.unsetenv("PATH")
    return supervise.main(args, env)


def _fork(request: tuple[str, dict[str, str], list[str]], fds: list[int],
          inherited: list[int]) -> int:
    """Fork one supervisor; its pid (the parent's side only ever returns)."""
    cwd, env, args = request
    # The executor may send a stop as soon as it has the pid, before the child leads its group
    # or is even through Python's own after-fork work (which forgets signals caught meanwhile):
    # blocked across the fork, a stop waits in the child for its handler, which holds it and
    # passes it on to the command (or has it never started).
    stops = set(supervise.STOP_SIGNALS)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    previous = supervise.catch_stop_signals()
    pid = -1
    try:
        pid = os.fork()
    finally:
        if pid != 0:
            supervise.release_stop_signals(previous)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if pid:
        return pid
    code = 1
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a stop sent meanwhile: held now
        code = _become_supervisor(cwd, env, args, fds[0], fds[1], inherited)
    except BaseException as err:  # the executor records exit status 1 with this reason
        try:  # noqa: SIM105 - contextlib costs more to import than this file
            os.write(2, f"hypersweep: the supervisor could not start: {err!r}\n".encode())
        except OSError:
            pass
    finally:
        os._exit(code)  # never back into the launcher's loop


def _receive(sock: socket.socket) -> tuple[bytes, list[int]]:
    """One request and the descriptors that came with it (at most 2): `socket.recv_fds`,
    without the ``socket`` module (see the module's notes)."""
    fds = array.array("i")
    message, ancdata, _, _ = sock.recvmsg(MAX_REQUEST, socket.CMSG_LEN(2 * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    return message, list(fds)


def _reap_unwatched(sock: socket.socket, unwatched: set[int]) -> None:
    for pid in list(unwatched):
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            unwatched.discard(pid)
            sock.send(marshal.dumps(("exit", pid, status)))


def serve(sock: socket.socket) -> int:
    """Fork supervisors on request and report their ends, until the executor hangs up."""
    children: dict[int, int] = {}  # pidfd -> pid
    unwatched: set[int] = set()  # forked, but no pidfd could be had (out of descriptors)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    while True:
        ready = poller.poll(50 if unwatched else None)
        _reap_unwatched(sock, unwatched)
        for fd, _ in ready:
            if fd != sock.fileno():
                pid = children.pop(fd)
                poller.unregister(fd)
                os.close(fd)
                _, status = os.waitpid(pid, 0)
                sock.send(marshal.dumps(("exit", pid, status)))
                continue
            message, fds = _receive(sock)
            if not message:
                return 0  # the executor is gone; the supervisors are on their own
            seq, *request = marshal.loads(message)
            try:
                if len(fds) != 2:
                    raise OSError(f"expected 2 descriptors, got {len(fds)}")
                pid = _fork(request, fds, [sock.fileno(), *children])
            except OSError as err:  # nothing started: the executor may try another way
                sock.send(marshal.dumps(("launched", seq, 0, None, str(err))))
                continue
            finally:
                for passed in fds:
                    os.close(passed)
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                unwatched.add(pid)
            else:
                children[pidfd] = pid
                poller.register(pidfd, select.POLLIN)
            sock.send(marshal.dumps(("launched", seq, pid, supervise.start_ticks(pid), None)))


if __name__ == "__main__":
    supervise.load_prctl()  # loaded once here, not by every supervisor (a subreaper through it)
    try:
        code = serve(socket.socket(fileno=int(sys.argv[1])))
    except (BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        code = 0  # the executor went away mid-message
    # Hung up: out at once. The executor waits for this exit as a sweep ends, and the
    # interpreter's own teardown (nothing to flush: every write here is os.write or a send)
    # took ~3 ms of that wait, each sweep.
    os._exit(code)
