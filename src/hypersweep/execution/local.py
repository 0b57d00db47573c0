"""Run trials as local processes, each in its own process group, under a tiny supervisor.

A trial's files (:mod:`hypersweep.execution.layout`) are all written by the OS or the
supervisor, never piped through the controller, so a chatty script never blocks and a crashed
controller loses nothing.

The process tree is ``controller -> launcher -> supervisor -> script``: one warm stdlib-only
launcher per executor (:mod:`hypersweep.execution.launcher`) forks each trial's supervisor,
which costs a millisecond where a fresh ``python -I -S _supervise.py`` costs tens (that is the
tree where there is no launcher: ``use_launcher`` False, or not Linux). The
supervisor leads a new session and process group that the script (and its children) share, and
is a subreaper: descendants that leave the group or are orphaned stay in its tree. A stop sends
SIGTERM to all of them and, after the grace, SIGKILL to all but the supervisor, which then
records the script's exit; when the script ends by itself the supervisor ends what it left
running. Nothing a trial started outlives it, and the exit is recorded even when the controller
has died. See :mod:`hypersweep.execution._supervise`.

A trial with ``spec.cores`` runs pinned to those cores: the supervisor pins itself before it
starts the script, so every process of the trial inherits the pinning (where the system can
pin: not on macOS). The cores are in the handle, ``"cores": [0, 3]``.

Every `LocalProcessExecutor.system_interval` seconds :meth:`~LocalProcessExecutor.poll` samples
what each running trial uses of the machine (CPU, memory, processes, its GPUs) into its
``system.jsonl``; see :mod:`hypersweep.execution.system_metrics`.

Examples
--------
>>> import sys, tempfile
>>> from pathlib import Path
>>> tmp = Path(tempfile.mkdtemp())
>>> ex = LocalProcessExecutor()
>>> handle = ex.launch(TrialSpec("t0", [sys.executable, "-c", "print('hi')"], {}, tmp, tmp))
>>> import time
>>> while not (exits := ex.poll()[1]): time.sleep(0.01)
>>> exits[0].exit_code, (tmp / "stdout.log").read_text()
(0, 'hi\\n')
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat as stat_mod
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypersweep.execution import layout
from hypersweep.execution.base import Executor, TrialExit, TrialSpec
from hypersweep.execution.environment import process_environment
from hypersweep.execution.launcher import Forked, Launcher, LauncherGone, check_exec_arguments
from hypersweep.execution.processes import (
    boot_id,
    open_pidfd,
    process_start_ticks,
    same_process_alive,
    signal_trial,
    wait_readable,
    writes_to,
)
from hypersweep.execution.system_metrics import (
    SYSTEM_INTERVAL,
    SystemSampler,
    Watched,
    configured_interval,
    encode_sample,
    gpu_ids,
)
from hypersweep.execution.trial_files import (
    UnsafePathError,
    create_in_folder,
    replace_in_folder,
)
from hypersweep.execution.trial_records import (
    TamperedRecord,
    exit_record,
    names_a_process,
    read_exit_record,
    read_record,
    stderr_tail,
    write_exit_record,
)
from hypersweep.execution.workdir import prepare_workdir
from hypersweep.tracking.context import ENV_JOURNAL, ENV_OUTPUTS, ENV_TRIAL_ID
from hypersweep.tracking.journal import JournalReader, JournalRecord
from hypersweep.tracking.safe_open import DIRECTORY_FLAGS

__all__ = ["SUPERVISOR", "LocalProcessExecutor"]

#: The supervisor script run in front of every trial.
SUPERVISOR = str(Path(__file__).resolve().with_name("_supervise.py"))

#: How long a supervisor may take, after the executor decided to start it, to record itself.
#: Beyond that a launch that left no record never started a process.
LAUNCH_GRACE = 3.0

#: After a stop's SIGKILL has ended the trial's processes, how long its supervisor may take to
#: record the exit (it retries while the disk is full) before it is killed as well.
SUPERVISOR_PATIENCE = 10.0

#: Most journal bytes read per trial per poll: a trial that wrote a million lines between two
#: polls is ingested over several, and the other trials are served meanwhile.
JOURNAL_SLICE = 4 << 20

#: Core numbers from 0 to this, exclusive: Linux supports at most 8192 CPUs, and a larger number
#: would only make the supervisor build a huge CPU mask before the kernel refused it.
MAX_CORE = 1 << 16


def _cores(spec: TrialSpec) -> tuple[int, ...]:
    """``spec.cores``, checked: a clear error now rather than a supervisor's usage message."""
    for core in spec.cores:
        if isinstance(core, bool) or not isinstance(core, int) or not 0 <= core < MAX_CORE:
            raise ValueError(f"trial {spec.trial_id!r}: cores: {core!r} is not a core number "
                             f"(an int from 0 to {MAX_CORE - 1})")
    return tuple(spec.cores)


def _open_log(name: str, folder: int) -> int:
    """A trial log ``name`` in the trial folder open as ``folder``, opened for appending;
    never through a link, never a FIFO's blocking open (a trial folder launched again may
    hold what the last attempt put there)."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK
                 | os.O_CLOEXEC, 0o644, dir_fd=folder)
    if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePathError(f"{name} is not a regular file in the trial folder")
    return fd


_ENVIRON: list[dict[Any, Any]] = [{}, {}]  # os.environ's own mapping as last seen, its copy


def _environment() -> dict[str, str]:
    """A copy of ``os.environ``, as ``dict(os.environ)`` makes it.

    That decodes every variable in Python, ~20 µs a trial (a tenth of its launch); the copy
    is made again only when the process's environment changed since the last, which the
    mapping ``os.environ`` keeps of it (bytes on POSIX) tells in one C-level comparison.
    """
    data = os.environ._data  # type: ignore[attr-defined]
    seen, copy = _ENVIRON
    if data != seen:
        seen, copy = dict(data), dict(os.environ)
        _ENVIRON[:] = [seen, copy]
    return dict(copy)


def _make_folder(trial_dir: Path) -> bool:
    """Make the trial's folder (and its parents); True if this call made it, so it is empty.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _make_folder(root / "runs" / "t0"), _make_folder(root / "runs" / "t0")
    (True, False)
    """
    try:
        trial_dir.mkdir()
    except FileNotFoundError:
        trial_dir.parent.mkdir(parents=True, exist_ok=True)
        return _make_folder(trial_dir)
    except FileExistsError:
        if not trial_dir.is_dir():
            raise
        return False
    return True


def _open_folder(trial_dir: Path) -> int | None:
    """A descriptor on a trial's (resolved) folder, held while the trial is watched: its
    records are then read and written by name relative to it, without resolving the
    folder's path at every use (see `safe_open.open_in_folder`). None if it cannot be
    opened (gone, or made a link): then the records are reached by path, as before."""
    try:
        return os.open(trial_dir, DIRECTORY_FLAGS)
    except OSError:
        return None


@dataclass
class _Trial:
    spec: TrialSpec
    trial_dir: Path  # resolved once: poll() runs often
    pid: int
    start_ticks: int | None
    reader: JournalReader
    # None for adopted trials: not our child. Forked: a child of the executor's launcher.
    popen: subprocess.Popen[bytes] | Forked | None
    kill_at: float | None = None  # monotonic deadline for SIGKILL after stop()
    killed: bool = False  # we sent SIGKILL: if the supervisor dies unrecorded, that was it
    give_up_at: float | None = None  # after SIGKILL, when to kill a supervisor still alive
    pidfd: int | None = None  # readable once the supervisor ends: wait() wakes on it
    ended: tuple[int | None, float] | None = None  # its exit, held while its journal drains
    journal_seen: bool = False  # something is at the journal's name: the reader takes over
    folder: int | None = None  # descriptor on trial_dir (see _open_folder), closed by close()

    def read_journal(self) -> list[JournalRecord]:
        """New journal records. Until the trial first logs, one ``lstat`` per poll instead of
        the reader's careful open of a file that is not there yet (relative to the folder's
        descriptor where there is one, as the reader then opens it)."""
        if not self.journal_seen:
            try:
                if self.folder is None:
                    os.lstat(self.reader.path)
                else:
                    os.lstat(layout.JOURNAL, dir_fd=self.folder)
            except OSError:  # not there yet (or its folder is gone: nothing to read)
                return []
            self.journal_seen = True
        return self.reader.read(max_bytes=JOURNAL_SLICE)

    def close(self) -> None:
        self.reader.close()
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        if self.folder is not None:
            os.close(self.folder)
            self.folder = None

    @property
    def pgid(self) -> int:
        return self.pid  # the supervisor leads the trial's process group


class LocalProcessExecutor(Executor):
    """Launch, watch and stop trials as local processes.

    Parameters
    ----------
    python : str, optional
        Interpreter that runs the supervisor (default ``sys.executable``). It does not need
        hypersweep installed: the supervisor uses only built-in modules.
    default_grace : float
        Seconds between SIGTERM and SIGKILL: for :meth:`stop` without a ``grace``, for
        :meth:`shutdown`, and for the processes a trial's script leaves running when it ends.

    Notes
    -----
    The trial's environment is the controller's, plus ``PYTHONUNBUFFERED=1``, plus
    ``spec.env``, plus ``HYPERSWEEP_TRIAL_ID`` and ``HYPERSWEEP_JOURNAL`` (always set by the
    executor, which reads that journal) and ``HYPERSWEEP_OUTPUTS`` (``<workdir>/outputs`` unless
    ``spec.env`` names one). Standard input is ``/dev/null``.
    """

    #: After a stop's SIGKILL, how long a supervisor may still take to record the exit.
    supervisor_patience: float = SUPERVISOR_PATIENCE
    #: Seconds between two samples of each running trial's use of the machine (0: none);
    #: ``HYPERSWEEP_SYSTEM_INTERVAL`` in the environment sets it for new executors.
    system_interval: float = SYSTEM_INTERVAL
    #: Fork supervisors from one warm launcher process (Linux) rather than start a fresh
    #: interpreter for each: the same supervisor, a fraction of the start-up cost.
    use_launcher: bool = True

    def __init__(self, python: str | None = None, default_grace: float = 5.0) -> None:
        self.python = python or sys.executable
        self.default_grace = default_grace
        self._trials: dict[str, _Trial] = {}
        self._host = socket.gethostname()
        self._boot_id = boot_id()
        self._closed = False
        self.system_interval = configured_interval(default=type(self).system_interval)
        self._sampler: SystemSampler | None = None
        self._next_sample = 0.0
        self._launcher: Launcher | None = None
        self._real_parents: dict[str, str] = {}  # trial folders' parents, resolved (a cache)

    # -- launching ------------------------------------------------------------------------

    def launch(self, spec: TrialSpec) -> dict[str, Any]:
        """Start ``spec.argv`` under the supervisor; return the handle to record.

        With ``spec.cores`` the trial's processes are pinned to those cores; a core this machine
        does not allow leaves the trial unpinned, with a line in its stderr saying so.
        Raises ``FileNotFoundError`` if ``spec.workdir`` does not exist, ``ValueError`` for
        an empty ``argv`` or a core that is not a core number. A program that cannot be
        started (``argv[0]`` not found) is reported by :meth:`poll` as exit code 127, with the
        reason in ``stderr_tail``, as a shell would.
        """
        if self._closed:
            raise RuntimeError("executor is shut down")
        if spec.trial_id in self._trials:
            raise ValueError(f"trial {spec.trial_id!r} is already running")
        if not spec.argv:
            raise ValueError(f"trial {spec.trial_id!r}: argv is empty")
        cores = _cores(spec)
        trial_dir, fresh = self._trial_folder(Path(spec.trial_dir))
        if spec.snapshot is not None:
            prepare_workdir(spec.snapshot, spec.workdir)
        if fresh and spec.snapshot is not None and os.fspath(spec.workdir) == os.path.join(
                os.fspath(spec.trial_dir), layout.WORKDIR):
            # Made by mkdir just now, in a folder made just now: there is no link to follow.
            workdir = trial_dir / layout.WORKDIR
        else:
            workdir = Path(spec.workdir).resolve()
            if not workdir.is_dir():
                raise FileNotFoundError(
                    f"trial {spec.trial_id!r}: workdir {workdir} does not exist")
        # Every file of the folder is reached through this descriptor from now on: opened
        # with no link followed, it is the folder just made, and no path is resolved again.
        folder = os.open(trial_dir, DIRECTORY_FLAGS)
        try:
            return self._launch_in(spec, cores, workdir, trial_dir, folder, fresh)
        except BaseException:  # not watched (registering it is the launch's last step)
            os.close(folder)
            raise

    def _trial_folder(self, trial_dir: Path) -> tuple[Path, bool]:
        """``(trial_dir resolved, whether this call made it)``, made (with its parents) if
        missing.

        Resolved as ``Path.resolve`` would, without its ``lstat`` a path component: a launch
        usually makes the folder, a real one, so only its parent's real path is needed, looked
        up once per parent (every trial of a sweep shares it). Anything there already (a
        launch tried again: a link, even) is resolved in full, as before.
        """
        parent = os.fspath(trial_dir.parent)
        if trial_dir.is_absolute():  # a relative one depends on the cwd: not cached
            real = self._real_parents.get(parent)
            if real is None:
                real = self._real_parents[parent] = os.path.realpath(parent)
            made = Path(real, trial_dir.name)
            with contextlib.suppress(FileExistsError):  # not a folder: raised below, as before
                if _make_folder(made):
                    return made, True
        resolved = trial_dir.resolve()
        return resolved, _make_folder(resolved)

    def _launch_in(self, spec: TrialSpec, cores: tuple[int, ...], workdir: Path,
                   trial_dir: Path, folder: int, fresh: bool) -> dict[str, Any]:
        """`launch` once the trial's folder is made (``fresh``: by this launch, so empty) and
        open as ``folder`` (which the trial's watch keeps from here)."""
        # Written before the process starts, and renamed supervisor.json by the process itself
        # once it has written its record into it: it tells a restarted controller whether this
        # launch ever started anything (see _handle_from_files).
        marker = f"{time.time()!r}\n".encode()
        if fresh:
            create_in_folder(folder, layout.LAUNCHING, marker)
        else:
            # Stale records from an earlier attempt in the same folder would confuse this one
            # (handle.json: one written by an earlier version, which is still read).
            for stale in (layout.EXIT_STATUS, layout.SUPERVISOR_RECORD, layout.HANDLE):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(stale, dir_fd=folder)
            replace_in_folder(folder, layout.LAUNCHING, marker)
        # Joined as strings: layout.journal_path and outputs_of build Paths, a launch's
        # largest Python cost after its folder and working copy.
        folder_path, cwd = os.fspath(trial_dir), os.fspath(workdir)
        journal = os.path.join(folder_path, layout.JOURNAL)

        env = process_environment(_environment(), spec.env, spec.shim)
        env[ENV_TRIAL_ID] = spec.trial_id
        env[ENV_JOURNAL] = journal
        if ENV_OUTPUTS not in env:
            env[ENV_OUTPUTS] = os.path.join(cwd, layout.OUTPUTS)

        # Descriptors the child inherits: the kernel writes its output, not the controller.
        out_fd = _open_log(layout.STDOUT, folder)
        try:
            err_fd = _open_log(layout.STDERR, folder)
            try:
                # The supervisor pins itself, then spawns: no preexec_fn, which is slow and
                # unsafe in this threaded process.
                pinning = ["--cpus", ",".join(map(str, cores))] if cores else []
                boot = ["--boot-id", self._boot_id] if self._boot_id is not None else []
                popen, pid, start_ticks = self._start_supervisor(
                    ["--grace", repr(self.default_grace), *pinning, "--host", self._host,
                     *boot, "--marker", layout.LAUNCHING, folder_path, "--", *spec.argv],
                    trial_dir, cwd, env, out_fd, err_fd)
            finally:
                os.close(err_fd)
        finally:
            os.close(out_fd)

        handle: dict[str, Any] = {
            "executor": "local",
            "pid": pid,
            "pgid": pid,
            "start_ticks": start_ticks,
            "boot_id": self._boot_id,
            "host": self._host,
            "launched_at": time.time(),
            "trial_dir": folder_path,
            "cores": list(cores),  # kept with the handle: an adopted trial still holds them
        }
        # No handle.json: the supervisor's record says as much (host and boot id included),
        # and one file fewer is a file's creation less per trial.
        self._trials[spec.trial_id] = _Trial(
            spec, trial_dir, pid, start_ticks, JournalReader(journal, folder=folder), popen,
            # the launcher's report wakes wait() for a forked one: its pidfd would wake it
            # before the report is there
            pidfd=None if isinstance(popen, Forked) else open_pidfd(pid), folder=folder,
        )
        return handle

    def _start_supervisor(self, args: list[str], trial_dir: Path, cwd: str,
                          env: dict[str, str], out_fd: int, err_fd: int,
                          ) -> tuple[subprocess.Popen[bytes] | Forked | None, int, int | None]:
        """Start the supervisor with ``args``, in its own session and process group (a stop
        hits them all): forked by the launcher where there is one, else a fresh interpreter.
        ``(what to poll for its exit, pid, start ticks)``; None to poll: watch it as adopted.
        """
        launcher = self._warm_launcher()
        if launcher is not None:
            check_exec_arguments(args, env)  # what Popen would refuse, refused alike
            try:
                pid, ticks = launcher.start(cwd, env, args, out_fd, err_fd)
                return Forked(launcher, pid), pid, ticks
            except LauncherGone as gone:  # started afresh below unless the fork happened
                found = self._handle_from_files(trial_dir) if gone.maybe_started else None
                if found is not None:
                    return None, int(found["pid"]), found.get("start_ticks")
        popen = subprocess.Popen(
            [self.python, "-I", "-S", SUPERVISOR, *args], cwd=cwd, env=env,
            stdin=subprocess.DEVNULL, stdout=out_fd, stderr=err_fd, start_new_session=True,
        )
        return popen, popen.pid, process_start_ticks(popen.pid)

    def _warm_launcher(self) -> Launcher | None:
        """The launcher, started on first use; None where there is none (or it died: then
        every later trial gets a fresh supervisor, as without one)."""
        if self._launcher is None and self.use_launcher and Launcher.available():
            try:
                self._launcher = Launcher(self.python)
            except OSError:
                self.use_launcher = False
        if self._launcher is not None and not self._launcher.alive:
            return None
        return self._launcher

    def _orphan_if_lost(self, t: _Trial, pump: bool = True) -> None:
        """A forked trial whose launcher died before reporting its end is watched from now on
        as an adopted one (its exit record, else its pid). ``pump``: as for `Forked.lost`."""
        if isinstance(t.popen, Forked) and t.popen.lost(pump):
            t.popen = None
            if t.pidfd is None and same_process_alive(t.pid, t.start_ticks):
                t.pidfd = open_pidfd(t.pid)

    def adopt(self, spec: TrialSpec, handle: dict[str, Any],
              journal_offset: int = 0) -> dict[str, Any] | None:
        """Watch a trial launched by an earlier executor; see :meth:`Executor.adopt`.

        The trial is found if it left an exit record, or if the handle's pid is alive and is
        the same process (same start time and boot) on this host. An empty ``handle`` (the
        controller died between the launch and recording it) is looked for in the trial's
        folder, and the one found is returned for the controller to record.
        """
        if spec.trial_id in self._trials:
            return handle
        trial_dir = Path(spec.trial_dir).resolve()
        from_files = not handle
        if from_files:
            # The controller died between launching and recording the handle: the trial's
            # supervisor says which process it is.
            found = self._handle_from_files(trial_dir)
            if found is not None:
                handle = {"executor": "local", "trial_dir": str(trial_dir), **found}
        pid = int(handle.get("pid") or 0)
        start_ticks = handle.get("start_ticks")
        folder = _open_folder(trial_dir)
        reader = JournalReader(layout.journal_path(trial_dir), journal_offset, folder)
        trial = _Trial(spec, trial_dir, pid, start_ticks, reader, None, folder=folder)
        if read_exit_record(trial_dir) is not None:
            self._trials[spec.trial_id] = trial
            return handle
        same_machine = handle.get("host") == self._host and (
            handle.get("boot_id") is None or handle.get("boot_id") == self._boot_id
        )
        # A record from the folder is the trial's to write: it names the trial's supervisor
        # only if that process writes to the folder's stdout.log (it could name any other).
        if same_machine and same_process_alive(pid, start_ticks) and (
                not from_files or writes_to(pid, trial_dir / layout.STDOUT) is not False):
            trial.pidfd = open_pidfd(pid)
            self._trials[spec.trial_id] = trial
            return handle
        trial.close()
        return None

    def _handle_from_files(self, trial_dir: Path) -> dict[str, Any] | None:
        """The handle a launch left in ``trial_dir``, waiting out a launch still starting.

        The trial can write these files too: one that is not a record naming a process
        (garbage, a FIFO, a link to ``/dev/zero``) is no handle, and the wait is bounded
        whatever the trial does to ``launching``.
        """
        marker = trial_dir / layout.LAUNCHING
        give_up = time.monotonic() + LAUNCH_GRACE
        while True:
            found = self._record_in(trial_dir)
            if found is not None:
                return found
            try:
                age = time.time() - marker.lstat().st_mtime
            except OSError:
                # No marker: never launched, or the supervisor renamed it to its record
                # just after the look above.
                return self._record_in(trial_dir)
            if age > LAUNCH_GRACE or time.monotonic() > give_up:
                return None
            time.sleep(0.01)  # a supervisor started a moment ago is about to say so

    def _record_in(self, trial_dir: Path) -> dict[str, Any] | None:
        """The handle the trial folder's records give, if one names a process: a
        ``handle.json`` first (written by earlier versions, and holding the host), else the
        supervisor's record (the host and boot id are this machine's when it has none)."""
        for name in (layout.HANDLE, layout.SUPERVISOR_RECORD):
            with contextlib.suppress(TamperedRecord):
                found = read_record(trial_dir, name)
                if found is not None and names_a_process(found):
                    found.setdefault("host", self._host)
                    found.setdefault("boot_id", self._boot_id)
                    return found
        return None

    def launched(self, spec: TrialSpec) -> bool:
        """Whether a launch of this trial ever started its process (after a restart).

        Also when no record names a process but the launch marker has become the supervisor's
        record (the trial may have replaced that with garbage): the rename comes just before
        the command starts, so the launch did start it, and running it again could run it
        twice.
        """
        trial_dir = Path(spec.trial_dir).resolve()
        return (
            read_exit_record(trial_dir) is not None
            or self._handle_from_files(trial_dir) is not None
            or (os.path.lexists(trial_dir / layout.SUPERVISOR_RECORD)
                and not os.path.lexists(trial_dir / layout.LAUNCHING))
        )

    # -- watching -------------------------------------------------------------------------

    def _ended(self, t: _Trial) -> tuple[int | None, float] | None:
        """``(exit_code, end_time)`` if the trial has ended, else None. Never blocks.

        For a forked trial, from the launcher's reports `poll` took in before asking: one
        receive a poll rather than two a trial (a report that comes meanwhile is taken at
        the next poll, which it wakes)."""
        trial_dir = t.trial_dir
        self._orphan_if_lost(t, pump=False)
        if t.popen is not None:
            # waitpid(WNOHANG), here or in the launcher: reaps it
            rc = t.popen.poll(pump=False) if isinstance(t.popen, Forked) else t.popen.poll()
            if rc is None:
                return None
            try:
                rec = exit_record(trial_dir, t.folder)
            except TamperedRecord:  # the supervisor exits with the command's status
                return rc, time.time()
            if rec is not None:
                return rec
            # The supervisor died without a record (SIGKILL from us or someone else).
            end = time.time()
            write_exit_record(trial_dir, rc, end)
            return rc, end
        with contextlib.suppress(TamperedRecord):  # the trial's garbage is no exit while it runs
            rec = exit_record(trial_dir, t.folder)
            if rec is not None:
                return rec
        if same_process_alive(t.pid, t.start_ticks):
            return None
        rec = read_exit_record(trial_dir)  # it may have written the record as it went
        if rec is not None:
            return rec
        code = -signal.SIGKILL if t.killed else None
        end = time.time()
        write_exit_record(trial_dir, code, end)
        return code, end

    def poll(self) -> tuple[dict[str, list[JournalRecord]], list[TrialExit]]:
        """New journal records per trial and the trials that ended; see :meth:`Executor.poll`."""
        records: dict[str, list[JournalRecord]] = {}
        exits: list[TrialExit] = []
        now = time.monotonic()
        if self._launcher is not None:
            self._launcher.pump()  # its reports of ended supervisors, for every trial below
        for trial_id, t in list(self._trials.items()):
            ended = t.ended or self._ended(t)
            if ended is None:
                self._escalate(t, now)
            # Read the journal after checking the exit: whatever the trial wrote before it
            # ended is on file by now, so its last records come out with its exit.
            before = t.reader.offset
            new = t.read_journal()
            if new:
                records[trial_id] = new
            if ended is not None and t.reader.offset - before >= JOURNAL_SLICE:
                t.ended = ended  # more to read: the exit comes after the last slice
                continue
            if ended is not None:
                tail = stderr_tail(t.trial_dir / layout.STDERR, t.folder)
                t.close()
                del self._trials[trial_id]
                exits.append(TrialExit(trial_id, ended[0], ended[1], tail))
        if self.system_interval > 0 and now >= self._next_sample and self._trials:
            self._next_sample = now + self.system_interval
            self._sample_system()
        return records, exits

    def _sample_system(self) -> None:
        """Append one sample to each running trial's ``system.jsonl``; a sample that fails,
        or a file the trial replaced, is skipped: sampling never troubles the controller."""
        watched = {trial_id: Watched(t.pid, gpu_ids(t.spec.env), t.start_ticks)
                   for trial_id, t in self._trials.items() if t.ended is None}
        if self._sampler is None:
            self._sampler = SystemSampler()
        try:
            samples = self._sampler.sample(watched)
        except Exception:  # a surprise from /proc or a driver costs one sample, no more
            return
        for trial_id, sample in samples.items():
            with contextlib.suppress(OSError, ValueError):
                t = self._trials[trial_id]
                if t.folder is None:
                    continue  # its folder could not be opened: nothing of it is sampled
                fd = _open_log(layout.SYSTEM, t.folder)
                try:
                    os.write(fd, encode_sample(sample))
                finally:
                    os.close(fd)

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, waking as soon as any watched trial ends.

        Each trial's supervisor has a pidfd (Linux 5.3+), so an exit wakes the controller at
        once instead of at its next tick; without pidfds this is a plain sleep.
        """
        fds = [t.pidfd for t in self._trials.values() if t.pidfd is not None]
        if self._launcher is not None and self._launcher.alive and any(
                isinstance(t.popen, Forked) for t in self._trials.values()):
            fds.append(self._launcher.fileno())
        if not fds:
            time.sleep(timeout)
            return
        wait_readable(fds, timeout)

    def running(self) -> set[str]:
        """Ids of the trials whose exit has not been reported by :meth:`poll` yet."""
        return set(self._trials)

    # -- stopping -------------------------------------------------------------------------

    def _signal(self, t: _Trial, sig: int, *, supervisor_too: bool = False) -> None:
        self._orphan_if_lost(t)
        if t.popen is not None:
            if t.popen.poll() is not None:
                return  # reaped: its pid (and group id) may belong to someone else now
        elif not same_process_alive(t.pid, t.start_ticks):
            return
        signal_trial(t.pid, sig)
        if supervisor_too:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(t.pgid, signal.SIGKILL)

    def _kill(self, t: _Trial, now: float) -> None:
        """SIGKILL the trial's processes; its supervisor records the exit, or is killed too
        if it is still there ``SUPERVISOR_PATIENCE`` seconds later."""
        self._signal(t, signal.SIGKILL)
        t.killed = True
        t.kill_at = None
        t.give_up_at = now + self.supervisor_patience

    def _escalate(self, t: _Trial, now: float) -> None:
        """The next step of a stop whose deadline has come, for a trial not ended yet."""
        if t.kill_at is not None and now >= t.kill_at:
            self._kill(t, now)
        elif t.give_up_at is not None and now >= t.give_up_at:
            self._signal(t, signal.SIGKILL, supervisor_too=True)
            t.give_up_at = None

    def stop(self, trial_id: str, grace: float | None = None) -> None:
        """SIGTERM every process of the trial now, SIGKILL them on the first poll after
        ``grace`` seconds (default: the executor's ``default_grace``)."""
        t = self._trials.get(trial_id)
        if t is None:
            return
        grace = self.default_grace if grace is None else grace
        now = time.monotonic()
        if grace <= 0:
            if not t.killed:
                self._kill(t, now)
            return
        deadline = now + grace
        if t.kill_at is not None:  # already stopping: a second stop may only hurry it
            t.kill_at = min(t.kill_at, deadline)
            return
        if not t.killed:
            self._signal(t, signal.SIGTERM)
            t.kill_at = deadline

    def shutdown(self, stop_trials: bool = False) -> None:
        """Stop watching. With ``stop_trials``, stop every trial and wait until each has ended.

        After ``shutdown(stop_trials=True)`` a last :meth:`poll` still reports the stopped
        trials' final records and exits. Without it, the trials keep running, and a later
        executor can :meth:`adopt` them.
        """
        self._closed = True
        if self._sampler is not None:
            self._sampler.close()
            self._sampler = None
        if not stop_trials:
            for t in self._trials.values():
                t.close()
            self._trials.clear()
            self._hang_up()
            return
        for trial_id in list(self._trials):
            self.stop(trial_id, self.default_grace)
        deadline = time.monotonic() + self.default_grace + self.supervisor_patience + 1.0
        while time.monotonic() < deadline:
            pending = False
            now = time.monotonic()
            for t in self._trials.values():
                if self._is_done(t):
                    continue
                pending = True
                self._escalate(t, now)
            if not pending:
                break
            time.sleep(0.02)
        self._hang_up()  # ended trials have their exits by now; any other is watched as adopted

    def _hang_up(self) -> None:
        if self._launcher is not None:
            self._launcher.close()  # the launcher exits; supervisors it started run on

    def _is_done(self, t: _Trial) -> bool:
        self._orphan_if_lost(t)
        if t.popen is not None:
            return t.popen.poll() is not None
        if read_exit_record(t.trial_dir) is not None:
            return True
        return not same_process_alive(t.pid, t.start_ticks)
