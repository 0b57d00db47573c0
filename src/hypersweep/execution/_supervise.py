"""The trial supervisor: run one command, end all it started, record how it ended.

Run as ``python -I -S _supervise.py [--grace SECONDS] [--cpus 0,3] [--host NAME] [--boot-id ID]
[--marker NAME] <trial_dir> -- <argv...>`` in the trial's own process group (``-I -S`` skip
site-packages, so this costs one bare interpreter start, ~20 ms). It first records itself in
``<trial_dir>/supervisor.json`` (pid, group, start time, cores, and the ``--host`` and
``--boot-id`` it was given: what tells a restarted controller which process runs the trial).
With ``--marker`` that record is written into the marker file the executor made just before
starting this process, which is then renamed ``supervisor.json``: one file a trial fewer than a
temporary file of its own, and the rename is the moment the launch is on record (a supervisor
that died before it never started the command). It spawns ``argv`` in the same group with the
inherited cwd, environment and stdout/stderr, waits for it, ends whatever the command left
running, writes ``<trial_dir>/exit_status`` atomically (temporary file + ``os.replace``, never
through a link the command put in the way) as JSON ``{"exit_code": <int>, "end_time":
<float>}``, and exits with the command's status.

**A trial is over when its command ends.** Processes it leaves behind - a background worker
(``python train.py & exit 0``), a grandchild that ignores SIGTERM, a daemon that left the
group with ``setsid`` - are ended before the exit is recorded: SIGTERM, then SIGKILL after
``--grace`` seconds (default 5). On Linux the supervisor is a *child subreaper*
(``PR_SET_CHILD_SUBREAPER``): every orphaned descendant becomes its child instead of init's, so
it finds them all (walking ``/proc``) however they tried to leave, and reaps them. Where that is
unavailable (other systems) it falls back to signalling its process group, which a process that
called ``setsid`` escapes. The exit code recorded is the command's own; the end time is when
the command ended, not when the last leftover did.

**Cores.** With ``--cpus`` the supervisor pins itself to those cores
(``os.sched_setaffinity``) before it spawns the command, so the command and everything it
starts inherit the pinning - no ``preexec_fn`` (slow, and unsafe in a threaded parent). Where
the call does not exist (macOS) the trial runs unpinned, quietly: its ``OMP_NUM_THREADS`` still
bounds its threads. A core this process may not use (not on the machine, or outside its
cpuset) does not fail the trial: it runs unpinned, or on the allowed part of the cores, with one
``hypersweep: could not pin the trial to cores ...`` line in its stderr (see `pin`).

A controller that is ``kill -9``-ed while trials run loses nothing: the supervisor is not its
child in any way that matters, and a restarted controller reads the exit record. If the record
cannot be written (disk full, folder read-only) the supervisor stays alive and retries, with
backoff, for up to ``EXIT_WRITE_PATIENCE`` seconds, so a controller resumed once there is room
again still records the true end.

SIGTERM/SIGINT/SIGHUP sent to the group are meant for the command: the supervisor ignores them
(with a handler, which ``exec`` resets to the default in the command) so it can still record the
command's end. One that comes before the command is started (a stop right after the launch)
means the command is never started: the exit is recorded as ended by that signal. The
executor's SIGKILL after a stop's grace spares the supervisor, which then finds nothing left to
end but the processes that escaped the group.

Standard library only, imported lazily where it costs (``_signal`` rather than ``signal``,
which imports ``enum``): this file's start-up time is the executor's overhead per trial.
"""

from __future__ import annotations

import errno
import os
import stat  # os has imported it already
import sys
import time

TYPE_CHECKING = False  # typing itself costs more to import than this whole file
if TYPE_CHECKING:
    from collections.abc import Callable

try:
    import _signal as signal_mod
except ImportError:  # pragma: no cover - CPython always has _signal
    import signal as signal_mod

#: Seconds between SIGTERM and SIGKILL for the processes a finished command left running.
DEFAULT_GRACE = 5.0
#: Seconds to keep retrying the exit record when it cannot be written.
EXIT_WRITE_PATIENCE = 900.0
#: Seconds SIGKILLed processes get to vanish (one in uninterruptible sleep may never).
KILL_PATIENCE = 10.0
# The trial-folder names this process writes. hypersweep.execution.layout owns them; this file
# runs stdlib-only and cannot import it, so tests/execution checks that the two agree.
EXIT_STATUS = "exit_status"
SUPERVISOR_RECORD = "supervisor.json"
#: The options before TRIAL_DIR, each followed by its value.
OPTIONS = ("--grace", "--cpus", "--host", "--boot-id", "--marker")

_PR_SET_CHILD_SUBREAPER = 36
_adopting = False  # whether orphaned descendants become this process's children


_held: list[int] = []  # stop signals caught so far: those before the spawn are passed on


def _ignore(signum: int, frame: object) -> None:
    """Stay alive to record the command's exit; the signal also reached the command (one that
    came before the command existed is passed on to it, see `start`)."""
    _held.append(signum)


#: The signals a stop sends (SIGKILL aside).
STOP_SIGNALS = tuple(getattr(signal_mod, n) for n in ("SIGTERM", "SIGINT", "SIGHUP"))


def catch_stop_signals() -> list[object]:
    """Hold SIGTERM, SIGINT and SIGHUP from now on: this process stays to record the command's
    exit, and `start` passes a stop that came before the command started on to it. Returns
    the handlers replaced (see `release_stop_signals`)."""
    return [signal_mod.signal(signum, _ignore) for signum in STOP_SIGNALS]


def release_stop_signals(previous: list[object]) -> None:
    """Put back the handlers `catch_stop_signals` replaced, and forget what was held meanwhile
    (the launcher catches them only while it forks: its children start out holding them)."""
    for signum, handler in zip(STOP_SIGNALS, previous, strict=True):
        signal_mod.signal(signum, handler)
    _held.clear()


def _quietly(call: Callable[..., object], *args: object) -> None:
    """``call(*args)``, ignoring OSError (``contextlib`` costs more to import than this file)."""
    try:  # noqa: SIM105
        call(*args)
    except OSError:
        pass


def _say(message: str) -> None:
    _quietly(os.write, 2, f"hypersweep: {message}\n".encode())  # stderr may be full too


def parse_cores(text: str) -> tuple[int, ...]:
    """``"0,3"`` -> ``(0, 3)``; ``""`` -> ``()``. ValueError for anything but core numbers.

    >>> parse_cores("0,3"), parse_cores("")
    ((0, 3), ())
    """
    cores = tuple(int(c) for c in text.split(",")) if text else ()
    if any(c < 0 for c in cores):
        raise ValueError(f"negative core in {text!r}")
    return cores


def pin(cores: tuple[int, ...]) -> bool:
    """Pin this process - and so every process it starts from now on - to ``cores``.

    True if pinned to exactly those cores. Nothing to do (False, silently) without cores or
    where the system cannot pin (no ``os.sched_setaffinity``: macOS).

    A core that cannot be used (EINVAL: not on the machine, or outside this process's
    cpuset) leaves the trial unpinned, with one line on stderr, rather than failing it:
    pinning only keeps trials off each other's cores, while the trial's result does not depend
    on it, and the usual cause - the machine's allowed cores changed under a running sweep (a
    container resized, a cpuset shrunk) - would fail every later trial too, wasting the sweep
    over a speed-up. The line in ``stderr.log`` says it happened. The kernel itself pins to
    the allowed part of a set that is only partly allowed; that is said as well.
    """
    if not cores or not hasattr(os, "sched_setaffinity"):
        return False
    asked = ",".join(map(str, cores))
    try:
        os.sched_setaffinity(0, cores)
        got = os.sched_getaffinity(0)
    except (OSError, ValueError, OverflowError, MemoryError) as err:
        _say(f"could not pin the trial to cores {asked} ({err}); running it unpinned on "
             f"cores {_allowed()}")
        return False
    if got != set(cores):
        _say(f"could not pin the trial to cores {asked} (not all allowed here); running it "
             f"on cores {','.join(map(str, sorted(got)))}")
        return False
    return True


def _allowed() -> str:
    try:
        return ",".join(map(str, sorted(os.sched_getaffinity(0))))
    except OSError:  # pragma: no cover - only if the call above existed and this one fails
        return "?"


_prctl: Callable[..., int] | None = None  # libc's prctl, once loaded


def load_prctl() -> Callable[..., int] | None:
    """libc's ``prctl`` (loaded once: the launcher loads it for all the supervisors it forks),
    or None where there is none (not Linux, no ctypes, musl oddities, sandboxes)."""
    global _prctl
    if _prctl is None and sys.platform.startswith("linux"):
        try:
            import ctypes  # ~5 ms, and only where it can help

            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (ImportError, OSError, AttributeError):
            return None
    return _prctl


def become_subreaper() -> bool:
    """Adopt this process's orphaned descendants (Linux 3.4+); False where impossible."""
    global _adopting
    prctl = load_prctl()
    _adopting = prctl is not None and prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    return _adopting


def _process_table() -> dict[int, tuple[int, int, bytes]] | None:
    """``{pid: (ppid, pgid, state)}`` of every process, or None without ``/proc``."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    table = {}
    for name in names:
        if not name.isdigit():
            continue
        fields = stat_fields(name)
        if fields is None:  # it ended while we looked
            continue
        table[int(name)] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def trial_processes(root: int) -> dict[int, int] | None:
    """The live processes of the trial that supervisor ``root`` runs, as ``{pid: pgid}``.

    Its descendants, plus the members of its process group when it leads one; never ``root``
    itself, never zombies (they are dead: their parent reaps them). None without ``/proc``.
    A parent comes before its children: killed in this order, no process outlives a kill long
    enough to see its child die and carry on (a shell running the next command).
    """
    table = _process_table()
    if table is None:
        return None
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, None] = {}  # ordered: each process after its parent
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found[child] = None
                stack.append(child)
    if root not in table or table[root][1] == root:  # a group led by root is the trial's
        found.update((pid, None) for pid, (_, pgid, _) in table.items() if pgid == root)
    found.pop(root, None)
    return {pid: table[pid][1] for pid in found if table[pid][2] not in (b"Z", b"X")}


def reap_children(main: int) -> tuple[int | None, bool]:
    """Collect every child that has ended: ``(wait status of main if it was one, whether any
    child is left)``."""
    status = None
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status, False
        if pid == 0:
            return status, True
        if pid == main:
            status = st


def end_leftovers(grace: float) -> None:
    """End every process of this trial: SIGTERM, SIGKILL after ``grace`` s, until none is left.

    Reaps those that become this process's children. Without ``/proc`` only the group can be
    reached (SIGTERM; a SIGKILL to it would end this process too).
    """
    me = os.getpid()
    deadline = time.monotonic() + grace
    told: set[int] = set()
    killing_since = None
    pause = 0.002
    while True:
        if not reap_children(me)[1] and _adopting:
            return  # every descendant would be a child by now: there is none
        left = trial_processes(me)
        if left is None:
            if os.getpgrp() == me:  # never signal a group this process does not lead
                _quietly(os.killpg, 0, signal_mod.SIGTERM)
            return
        if not left:
            return
        now = time.monotonic()
        if now < deadline:
            for pid in left.keys() - told:
                _quietly(os.kill, pid, signal_mod.SIGTERM)
            told.update(left)
        else:
            killing_since = killing_since or now
            if now - killing_since > KILL_PATIENCE:
                _say(f"processes {sorted(left)} could not be killed")
                return
            for pid in left:
                _quietly(os.kill, pid, signal_mod.SIGKILL)
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _replace(trial_dir: str, name: str, data: bytes) -> None:
    """Write ``trial_dir/name`` whole: a temporary file, then ``os.replace``.

    The command can write its folder too, and may put a link or a FIFO at either name: the
    temporary file is made afresh (``O_EXCL | O_NOFOLLOW``, so a link put back meanwhile is
    refused rather than followed, and a FIFO never blocks the open), and the rename replaces
    whatever is at ``name`` rather than writing through it.
    """
    path = os.path.join(trial_dir, name)
    tmp = path + ".tmp"
    _quietly(os.unlink, tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        if os.write(fd, data) != len(data):
            raise OSError("short write")
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _write_exit_once(trial_dir: str, code: int, end_time: float) -> None:
    _replace(trial_dir, EXIT_STATUS,
             f'{{"exit_code": {code:d}, "end_time": {end_time!r}}}\n'.encode())


def _write_exit(trial_dir: str, code: int, end_time: float | None = None,
                patience: float = EXIT_WRITE_PATIENCE) -> bool:
    """Record the exit, retrying with backoff for ``patience`` s while it cannot be written."""
    end_time = time.time() if end_time is None else end_time
    give_up = time.monotonic() + patience
    delay = 0.1
    while True:
        try:
            _write_exit_once(trial_dir, code, end_time)
            return True
        except OSError as err:
            # A half-written temporary file would only take more room.
            _quietly(os.unlink, os.path.join(trial_dir, EXIT_STATUS + ".tmp"))
            if isinstance(err, (IsADirectoryError, NotADirectoryError, FileExistsError)):
                # the command made a folder of a name the record needs, or races it: no wait
                # will fix that, and the executor falls back to this process's exit status
                _say(f"cannot record the exit (code {code}): {err}")
                return False
            if delay == 0.1:
                _say(f"cannot record the exit ({err}); retrying for up to {patience:g} s")
            if not os.path.isdir(trial_dir):  # removed: nobody will look for the record
                return False
            if time.monotonic() >= give_up:
                _say(f"gave up recording the exit (code {code}): {err}")
                return False
        time.sleep(delay)
        delay = min(delay * 2, 10.0)


def read_proc(path: str) -> bytes:
    """The first 4 KiB of a ``/proc`` file (a ``stat`` is one line well under that).

    ``os.open``/``os.read`` rather than ``open()``: a forked supervisor (and the launcher,
    just after a fork) copies every page it writes to, and ``open()``'s buffered file objects
    touched ~10 more of them a trial."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def stat_fields(pid: int | str) -> list[bytes] | None:
    """The fields of ``/proc/<pid>/stat`` from the state on (field 3: the parent is [1], the
    group [2], the start time [19]); None when it is gone or there is no ``/proc``."""
    try:
        data = read_proc(f"/proc/{pid}/stat")
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        return data[data.rindex(b")") + 2 :].split()
    except (OSError, ValueError):
        return None


def start_ticks(pid: int | str) -> int | None:
    """When process ``pid`` (or ``"self"``) started, in clock ticks since boot: what tells it
    from a later process given the same pid. None when it is gone or there is no ``/proc``."""
    fields = stat_fields(pid)
    return None if fields is None or len(fields) < 20 else int(fields[19])


def json_string(text: str) -> str:
    r"""``text`` as a JSON string (``json`` costs more to import than this file): every
    character below a space, quote, backslash and lone surrogate escaped.

    >>> json_string('vm-1"\\x')
    '"vm-1\\u0022\\u005cx"'
    """
    return '"' + "".join(
        f"\\u{ord(c):04x}" if c < " " or c in '"\\' or "\ud800" <= c <= "\udfff" else c
        for c in text) + '"'


def _record_in_marker(trial_dir: str, marker: str, data: bytes) -> bool:
    """Write ``data`` into the marker file the executor made, then rename it
    ``supervisor.json``; False (nothing done) when there is no marker to reuse.

    The marker is written in place, over what the executor wrote (its block is allocated
    already), never through a link, never a FIFO's open; only the rename puts the record at
    its name, so a reader never sees half of it.
    """
    path = os.path.join(trial_dir, marker)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, IsADirectoryError):
        return False
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENXIO):  # a link, a FIFO: not the marker made
            return False
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return False
        if os.write(fd, data) != len(data):
            raise OSError("short write")
        if info.st_size > len(data):
            os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
    os.rename(path, os.path.join(trial_dir, SUPERVISOR_RECORD))
    return True


def _write_self(trial_dir: str, cores: tuple[int, ...] = (),
                machine: dict[str, str] | None = None, marker: str | None = None) -> None:
    """Say which process runs the trial, on which cores and where (``machine``: its host and
    boot id, as the executor named them), first thing: a controller killed between starting
    this process and recording its handle finds it here (``supervisor.json``). Written into
    ``marker`` (then renamed) when there is one, else through a temporary file."""
    ticks = start_ticks("self")  # None without /proc (macOS): the pid alone is then trusted
    where = "".join(f', "{key}": {json_string(value)}' for key, value in (machine or {}).items())
    data = (f'{{"pid": {os.getpid():d}, "pgid": {os.getpgrp():d}, '
            f'"start_ticks": {"null" if ticks is None else ticks}, '
            f'"cores": [{", ".join(map(str, cores))}]{where}}}\n').encode()
    if marker is None or not _record_in_marker(trial_dir, marker, data):
        _replace(trial_dir, SUPERVISOR_RECORD, data)


def start(trial_dir: str, argv: list[str], cores: tuple[int, ...] = (),
          env: dict[str, str] | None = None, machine: dict[str, str] | None = None,
          marker: str | None = None) -> int | None:
    """Record this process (with ``machine`` and into ``marker``: see `_write_self`), take its
    descendants in, pin to ``cores`` (see `pin`), and spawn ``argv`` with ``env`` (default:
    this process's environment; ``argv[0]`` is looked for on this process's ``PATH``); return
    its pid, or None when a stop (SIGTERM, SIGINT, SIGHUP) came before the command started:
    it is then not started at all.

    Raises OSError when the command cannot start (see `failed_to_start`).
    """
    # Before anything else: a stop may come as soon as supervisor.json says who we are.
    catch_stop_signals()
    pin(cores)  # this process first: what it spawns inherits the affinity
    try:
        _write_self(trial_dir, cores, machine, marker)
    except OSError as err:  # no room: the handle the executor returned is all there is
        _say(f"cannot record the supervisor: {err}")
    become_subreaper()
    # Python ignores SIGPIPE and SIGXFSZ; give the command the defaults a shell would.
    restore = {getattr(signal_mod, n) for n in ("SIGPIPE", "SIGXFSZ") if hasattr(signal_mod, n)}
    if _stop_held():
        return None
    pid = os.posix_spawnp(argv[0], argv, os.environ if env is None else env,
                          setsigdef=restore)
    _pass_on_held(pid)
    return pid


def _stop_held() -> bool:
    """Whether a stop came before the command started (a Python call: pending handlers have
    run on entry)."""
    return bool(_held)


def _pass_on_held(pid: int) -> None:
    """Send the command the stops that came before it existed (a stop right after the launch
    would otherwise wait for the SIGKILL). A Python call: pending handlers have run on entry."""
    for signum in _held:
        _quietly(os.kill, pid, signum)


def failed_to_start(trial_dir: str, program: str, err: OSError) -> int:
    """Record a command that could not start with the shell's status for it, and return it:
    127 not found, 126 found but not executable."""
    _say(f"cannot run {program!r}: {err}")
    code = 127 if isinstance(err, FileNotFoundError) else 126
    _write_exit(trial_dir, code)
    return code


def finish(trial_dir: str, code: int, end_time: float, grace: float) -> int:
    """End the leftovers, record the exit, and return this process's own exit status."""
    end_leftovers(grace)
    _write_exit(trial_dir, code, end_time)
    return code if code >= 0 else 128 - code


def _parse(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """``(options, rest)``: the `OPTIONS` before TRIAL_DIR, in any order, and what follows."""
    options: dict[str, str] = {}
    while len(args) >= 2 and args[0] in OPTIONS:
        options[args[0]] = args[1]
        args = args[2:]
    return options, args


def main(args: list[str], env: dict[str, str] | None = None) -> int:
    """Run the supervisor with its command line ``args`` (the command gets ``env``, default
    this process's environment); its exit status."""
    options, args = _parse(args)
    try:
        grace = float(options.get("--grace", DEFAULT_GRACE))
        cores = parse_cores(options.get("--cpus", ""))
    except ValueError:
        args = []
    if len(args) < 3 or args[1] != "--":
        os.write(2, b"usage: _supervise.py [--grace SECONDS] [--cpus N,N...] [--host NAME] "
                    b"[--boot-id ID] [--marker NAME] TRIAL_DIR -- PROGRAM [ARGS...]\n")
        return 2
    trial_dir, argv = args[0], args[2:]
    machine = {key: options[option] for key, option in (("host", "--host"),
                                                        ("boot_id", "--boot-id"))
               if option in options}
    try:
        pid = start(trial_dir, argv, cores, env, machine, options.get("--marker"))
    except OSError as err:
        return failed_to_start(trial_dir, argv[0], err)
    if pid is None:  # stopped before it started: recorded as ended by that signal, never run
        return finish(trial_dir, -_held[0], time.time(), grace)
    while True:  # reap orphans handed to us as they end, not only at the end
        ended, status = os.waitpid(-1, 0)  # retried on EINTR (PEP 475)
        if ended == pid:
            break
    return finish(trial_dir, os.waitstatus_to_exitcode(status), time.time(), grace)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
