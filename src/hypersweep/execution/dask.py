"""Run trials on a Dask cluster: each trial is a Dask task that runs the user's command.

How each part of a trial travels (see ``docs/cluster.md`` for the picture):

* **snapshot** — zipped once per sweep and carried *inside* every trial's task, so the
  scheduler can re-run a task anywhere whatever worker died (scattered data would be pruned
  by Dask's memory manager to one replica and lost with that worker, taking every trial that
  depends on it); a worker unpacks it once per digest and hard-links each trial's working copy
  from it. With ``shared_dir`` the snapshot is copied there once and the workers read it in
  place: the better choice for a source folder of many megabytes.
* **metrics** — the trial appends to its journal on the worker's disk. A background thread of
  the executor (the *pump*) asks the scheduler where each task runs, then sends one
  ``client.run`` probe to those workers, which answers with the journal bytes appended since the
  offset the controller has. The bytes are mirrored into the trial folder of the workspace
  (``metrics.jsonl``, ``metrics.a1.jsonl`` for a retry...) and parsed there; :meth:`poll` only
  drains what the pump collected, so it returns at once.
* **logs and outputs** — the task returns ``stdout``/``stderr`` and a zip of ``outputs/`` (plus
  the whole journal) as its result; the executor writes them into the trial folder before it
  reports the exit. With ``shared_dir`` the outputs stay there.
* **stop** — the probe carries SIGTERM (later SIGKILL) to the trial's process group on its
  worker; a task not started yet is flagged on the scheduler (it will not start the process)
  and cancelled.
* **adoption** — each task's future is published on the scheduler as dataset
  ``hypersweep-<trial id>``, so it outlives the controller's client; a restarted controller
  finds it by that name. See :meth:`DaskExecutor.adopt` for what that can and cannot do.
* **worker death** — Dask itself re-runs a task whose worker died; the scheduler numbers each
  start (the *attempt*), the task refuses to start attempt ``retries + 1`` (the trial then fails
  with the reason), a lifeline pipe kills the dead worker's orphaned trial process group, and
  attempt ``a``'s journal offsets are shifted by ``a * 2**40`` so the retry's metrics never
  collide with the first attempt's (tag ``hypersweep.attempt`` says which attempt ran last).

A sweep runs on a cluster through a ``dask://host:port`` executor URI
(:func:`hypersweep.execution.executor_from_uri`); :class:`DaskExecutor` shows one trial run by
hand.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import Client, Future

from hypersweep.execution import layout
from hypersweep.execution._dask_worker import (
    collect,
    run_trial,
    sched_states,
    sched_stop,
    shifted,
    zip_folder,
)
from hypersweep.execution.base import Executor, TrialExit, TrialSpec
from hypersweep.execution.trial_records import (
    TamperedRecord,
    read_exit_record,
    read_record,
    stderr_tail,
)
from hypersweep.tracking.journal import JournalReader, JournalRecord

__all__ = ["ATTEMPT_TAG", "DaskExecutor", "dataset_name"]

log = logging.getLogger("hypersweep.execution.dask")

#: Tag recorded with a trial whose journal comes from a retry: the attempt number (from 1).
ATTEMPT_TAG = "hypersweep.attempt"

#: Zipped snapshot size above which carrying it in every task earns a warning.
LARGE_SNAPSHOT = 20_000_000

_TAIL_LINES = 40
_TAIL_BYTES = 4096


def dataset_name(trial_id: str) -> str:
    """The name under which a trial's task is published on the scheduler.

    Examples
    --------
    >>> dataset_name("HD_1_0")
    'hypersweep-HD_1_0'
    """
    return f"hypersweep-{trial_id}"


def _tail(data: bytes) -> str:
    text = data[-_TAIL_BYTES:].decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(data) > _TAIL_BYTES and lines:
        lines = lines[1:]
    return "\n".join(lines[-_TAIL_LINES:])


@dataclass
class _Watched:
    spec: TrialSpec
    trial_dir: Path
    key: str
    future: Future | None
    readers: dict[int, JournalReader] = field(default_factory=dict)
    tagged: set[int] = field(default_factory=set)
    stop_asked: bool = False
    grace: float = 5.0
    kill_at: float | None = None
    term_sent: bool = False
    kill_sent: bool = False
    sched_flagged: bool = False
    record_exit: tuple[int | None, float, str] | None = None  # adopted from the trial folder

    def close(self) -> None:
        for reader in self.readers.values():
            reader.close()


class DaskExecutor(Executor):
    """Launch, watch and stop trials as processes on the workers of a Dask cluster.

    Parameters
    ----------
    address : str or distributed.Client
        The scheduler (``"tcp://10.0.0.5:8786"``) or a connected client (then not closed by
        :meth:`shutdown`).
    resources : dict, optional
        Worker resources each trial needs, e.g. ``{"GPU": 1}`` for workers started with
        ``--resources GPU=1``: Dask then runs one trial per GPU.
    shared_dir : str, optional
        A folder every worker and the controller see at the same path (NFS, Lustre...): the
        snapshot is copied there once and trials run and leave their ``outputs/`` there,
        instead of travelling through Dask.
    retries : int
        How many times a trial whose worker died is run again (on another worker) before it is
        marked ``Failed``. The retry is the same trial: it counts once against the budget.
    tick : float
        Seconds between two collections of journals and statuses (metrics reach the
        controller within about a tick).

    Examples
    --------
    One trial on an in-process cluster (a real one is ``DaskExecutor("tcp://host:8786")``):

    >>> import sys, tempfile, time
    >>> from pathlib import Path
    >>> from distributed import LocalCluster
    >>> from hypersweep.execution import TrialSpec
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    >>> executor = DaskExecutor(cluster.scheduler_address)
    >>> folder = Path(tempfile.mkdtemp()); (folder / "src").mkdir()
    >>> spec = TrialSpec("HD_doc_0", [sys.executable, "-c", "print('hi')"], {},
    ...                  folder / "src", folder)
    >>> executor.launch(spec)["executor"]
    'dask'
    >>> while not (exits := executor.poll()[1]): time.sleep(0.05)
    >>> exits[0].exit_code, (folder / "stdout.log").read_text()
    (0, 'hi\\n')
    >>> executor.shutdown(); cluster.close()
    """

    def __init__(
        self,
        address: str | Client,
        resources: dict[str, float] | None = None,
        shared_dir: str | None = None,
        retries: int = 1,
        tick: float = 0.2,
        default_grace: float = 5.0,
    ) -> None:
        if isinstance(address, Client):
            self.client = address
            self._own_client = False
        else:
            self.client = Client(address, set_as_default=False, timeout=30)
            self._own_client = True
        self.resources = dict(resources) if resources else None
        self.shared_dir = None if shared_dir is None else str(Path(shared_dir).resolve())
        self.retries = int(retries)
        if self.retries < 0:
            raise ValueError(f"retries: expected a non-negative integer (got {retries!r})")
        self.tick = float(tick)
        self.default_grace = default_grace
        self._watched: dict[str, _Watched] = {}
        self._records: dict[str, list[JournalRecord]] = {}
        self._exits: list[TrialExit] = []
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._exited = threading.Event()
        self._halt = threading.Event()
        self._snapshots: dict[str, tuple[str, bytes | None, str | None]] = {}
        self._closed = False
        self._pump = threading.Thread(target=self._run_pump, name="hypersweep-dask-pump",
                                      daemon=True)
        self._pump.start()

    # -- launching ------------------------------------------------------------------------

    def _snapshot(self, source: Path) -> tuple[str, bytes | None, str | None]:
        """``(digest, zip bytes or None, shared path or None)`` for a snapshot folder."""
        cached = self._snapshots.get(str(source))
        if cached is not None:
            return cached
        blob = zip_folder(source)
        digest = hashlib.sha256(blob).hexdigest()[:20]
        if self.shared_dir is not None:
            target = Path(self.shared_dir) / layout.SNAPSHOTS / digest
            if not target.is_dir():
                tmp = target.with_name(f"{digest}.tmp{os.getpid()}")
                with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                    archive.extractall(tmp)
                tmp.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(OSError):
                    tmp.rename(target)
            entry: tuple[str, bytes | None, str | None] = (digest, None, str(target))
        else:
            if len(blob) > LARGE_SNAPSHOT:
                log.warning("the source snapshot %s is %.0f MB zipped and travels with every "
                            "trial's task; a shared_dir the workers can read avoids that",
                            source, len(blob) / 1e6)
            entry = (digest, blob, None)
        self._snapshots[str(source)] = entry
        return entry

    def launch(self, spec: TrialSpec) -> dict[str, Any]:
        """Submit the trial's task and publish it; return the handle to record
        (``{"executor": "dask", "key": ..., ...}``; see the class's example)."""
        if self._closed:
            raise RuntimeError("executor is shut down")
        if spec.trial_id in self._watched:
            raise ValueError(f"trial {spec.trial_id!r} is already running")
        if not spec.argv:
            raise ValueError(f"trial {spec.trial_id!r}: argv is empty")
        source = Path(spec.snapshot if spec.snapshot is not None else spec.workdir)
        if not source.is_dir():
            raise FileNotFoundError(f"trial {spec.trial_id!r}: {source} does not exist")
        trial_dir = Path(spec.trial_dir).resolve()
        name = dataset_name(spec.trial_id)
        trial_dir.mkdir(parents=True, exist_ok=True)
        for stale in (layout.EXIT_STATUS, layout.HANDLE):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(trial_dir / stale)
        (trial_dir / layout.LAUNCHING).write_text(f"{time.time()!r}\n")
        digest, blob, shared_path = self._snapshot(source)
        payload = {
            "trial_id": spec.trial_id,
            "argv": list(spec.argv),
            "env": dict(spec.env),
            "python": sys.executable,
            "retries": self.retries,
            "digest": digest,
            "shared_dir": self.shared_dir,
            "snapshot_path": shared_path,
            "dataset": name,
        }
        # A fresh key per launch: a key Dask still remembers would return the old result.
        key = f"hypersweep-{spec.trial_id}-{uuid.uuid4().hex[:8]}"
        future = self.client.submit(run_trial, payload, blob, key=key, pure=False,
                                    resources=self.resources)
        # Published: the scheduler keeps the task (and its result) when this client dies.
        try:
            self.client.publish_dataset(future, name=name, override=True)
        except BaseException:
            future.cancel()  # the task waits for its publish; it must not wait forever
            raise
        handle: dict[str, Any] = {
            "executor": "dask",
            "scheduler": self.client.scheduler.address,
            "key": key,
            "dataset": name,
            "controller_host": socket.gethostname(),
            "launched_at": time.time(),
            "trial_dir": str(trial_dir),
        }
        with contextlib.suppress(OSError):
            (trial_dir / layout.HANDLE).write_text(json.dumps(handle) + "\n")
        self._watch(_Watched(spec, trial_dir, key, future))
        return handle

    def _watch(self, t: _Watched) -> None:
        if t.future is not None:
            t.future.add_done_callback(lambda _f: self._wake.set())
        with self._lock:
            self._watched[t.spec.trial_id] = t
        self._wake.set()

    def adopt(self, spec: TrialSpec, handle: dict[str, Any], journal_offset: int = 0) -> bool:
        """Watch again a trial launched by an earlier executor, found by its published name.

        Adoption *can*: reconnect to a task still queued or running anywhere on the cluster
        (its journal is read again from the start and re-ingested idempotently), collect the
        result of a task that ended while no controller watched (its logs, outputs and whole
        journal are held by the scheduler until collected), and finish a collection an earlier
        controller started (from the exit record in the trial folder). It *cannot* recover a
        trial when the scheduler itself restarted (published names live in scheduler memory):
        such a trial is reported not found, and the controller marks it ``Failed``.
        """
        if spec.trial_id in self._watched:
            return True
        trial_dir = Path(spec.trial_dir).resolve()
        future = self.client.get_dataset(dataset_name(spec.trial_id), default=None)
        if isinstance(future, Future):
            self._watch(_Watched(spec, trial_dir, str(future.key), future))
            return True
        record = read_exit_record(trial_dir)
        if record is not None:
            detail = ""
            with contextlib.suppress(TamperedRecord):
                detail = str((read_record(trial_dir, layout.EXIT_STATUS) or {}).get("detail", ""))
            self._watch(_Watched(spec, trial_dir, str(handle.get("key", "")), None,
                                 record_exit=(record[0], record[1], detail)))
            return True
        return False

    def launched(self, spec: TrialSpec) -> bool:
        """Whether a launch of this trial reached the cluster (after a restart).

        True when the scheduler knows the trial's published task, or the launch got as far as
        recording its handle or an exit. A launch that died between submitting and publishing
        left a task nobody wants: Dask releases it, and since a task starts its process only
        once it is the published one, that trial never ran and may be launched again.
        """
        trial_dir = Path(spec.trial_dir).resolve()
        if read_exit_record(trial_dir) is not None or (trial_dir / layout.HANDLE).exists():
            return True
        return self.client.get_dataset(dataset_name(spec.trial_id), default=None) is not None

    # -- watching -------------------------------------------------------------------------

    def poll(self) -> tuple[dict[str, list[JournalRecord]], list[TrialExit]]:
        """Drain what the pump collected; never blocks on the cluster."""
        with self._lock:
            records, self._records = self._records, {}
            exits, self._exits = self._exits, []
        return records, exits

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, waking when the pump has something new."""
        if self._exited.wait(timeout):
            self._exited.clear()

    def running(self) -> set[str]:
        """Ids of the trials whose exit has not been reported by :meth:`poll` yet."""
        with self._lock:
            reported = {e.trial_id for e in self._exits}
            return set(self._watched) | reported

    # -- stopping -------------------------------------------------------------------------

    def stop(self, trial_id: str, grace: float = 5.0) -> None:
        """SIGTERM the trial's process group on its worker, SIGKILL after ``grace`` seconds."""
        with self._lock:
            t = self._watched.get(trial_id)
            if t is None:
                return
            deadline = time.monotonic() + max(0.0, grace)
            if t.stop_asked:
                t.kill_at = min(t.kill_at or deadline, deadline)
            else:
                t.stop_asked, t.grace, t.kill_at = True, grace, deadline
        self._wake.set()

    def shutdown(self, stop_trials: bool = False) -> None:
        """Stop watching; with ``stop_trials`` stop every trial and collect its end first.

        Without it the tasks keep running on the cluster, published, for a later executor to
        :meth:`adopt`.
        """
        self._closed = True
        if stop_trials:
            for trial_id in list(self._watched):
                self.stop(trial_id, self.default_grace)
            deadline = time.monotonic() + self.default_grace + 15.0
            while self._watched and time.monotonic() < deadline:
                time.sleep(0.05)
        self._halt.set()
        self._wake.set()
        self._pump.join(timeout=30)
        with self._lock:
            for t in self._watched.values():
                t.close()
            self._watched.clear()
        if self._own_client:
            with contextlib.suppress(Exception):
                self.client.close(timeout=10)

    # -- the pump (background thread) ------------------------------------------------------

    def _run_pump(self) -> None:
        while not self._halt.is_set():
            self._wake.wait(self.tick)
            self._wake.clear()
            if self._halt.is_set():
                return
            try:
                self._pump_once()
            except Exception:  # the cluster hiccuped: say so, try again next tick
                log.warning("collecting trial state from Dask failed", exc_info=True)
                time.sleep(self.tick)

    def _pump_once(self) -> None:
        with self._lock:
            watched = list(self._watched.values())
        if not watched:
            return
        live = [t for t in watched if t.future is not None]
        states: dict[str, dict[str, Any]] = {}
        if live:
            states = self.client.run_on_scheduler(sched_states, [t.key for t in live])
        self._deliver_stops(live, states)
        self._probe(live, states)
        for t in watched:
            self._read_mirrors(t)
            self._check_end(t, states.get(t.key, {}))

    def _deliver_stops(self, live: list[_Watched], states: dict[str, dict[str, Any]]) -> None:
        flag = [t for t in live if t.stop_asked and not t.sched_flagged]
        if flag:  # a task not started yet must not start its process at all
            self.client.run_on_scheduler(sched_stop, [t.key for t in flag])
            for t in flag:
                t.sched_flagged = True
        for t in live:
            state = states.get(t.key, {}).get("state")
            if t.stop_asked and state in ("released", "waiting", "queued", "no-worker"):
                assert t.future is not None
                self.client.cancel([t.future])  # reported as canceled by _check_end

    def _probe(self, live: list[_Watched], states: dict[str, dict[str, Any]]) -> None:
        """One ``client.run`` to the workers running our trials: journal bytes and signals."""
        workers = sorted({s["worker"] for s in states.values()
                          if s.get("state") == "processing" and s.get("worker")})
        if not workers:
            return
        now = time.monotonic()
        requests: dict[str, dict[str, Any]] = {}
        by_key: dict[str, tuple[_Watched, int]] = {}
        for t in live:
            sig = 0
            if t.stop_asked and not t.kill_sent:
                if t.grace <= 0 or (t.kill_at is not None and now >= t.kill_at):
                    sig = int(signal.SIGKILL)
                elif not t.term_sent:
                    sig = int(signal.SIGTERM)
            offsets = {a: layout.journal_path(t.trial_dir, a).stat().st_size
                       for a in range(8) if layout.journal_path(t.trial_dir, a).exists()}
            requests[t.key] = {"offsets": offsets, "signal": sig}
            by_key[t.key] = (t, sig)
        answers = self.client.run(collect, requests, workers=workers, on_error="return")
        for answer in answers.values():
            if isinstance(answer, BaseException):
                continue  # a worker dying right now: the scheduler will say so next tick
            for key, got in answer.items():
                t, sig = by_key[key]
                if got.get("signaled"):
                    t.term_sent = t.term_sent or sig == signal.SIGTERM
                    t.kill_sent = t.kill_sent or sig == signal.SIGKILL
                self._mirror(t, int(got["attempt"]), int(got["offset"]), got["data"])

    def _mirror(self, t: _Watched, attempt: int, offset: int, data: bytes) -> None:
        """Append the part of ``data`` (journal bytes from ``offset``) not mirrored yet."""
        path = layout.journal_path(t.trial_dir, attempt)
        size = path.stat().st_size if path.exists() else 0
        if offset > size or offset + len(data) <= size:
            return
        with open(path, "ab") as f:
            f.write(data[size - offset:])

    def _read_mirrors(self, t: _Watched) -> None:
        new: list[JournalRecord] = []
        for attempt in range(8):
            path = layout.journal_path(t.trial_dir, attempt)
            if attempt not in t.readers:
                if not path.exists():
                    continue
                t.readers[attempt] = JournalReader(path)
            if attempt > 0 and attempt not in t.tagged:
                # Tells the controller (and the records) that a retry's journal follows.
                t.tagged.add(attempt)
                new.append(JournalRecord(shifted(0, attempt), time.time(), "tag",
                                         ATTEMPT_TAG, str(attempt)))
            for record in t.readers[attempt].read():
                new.append(dataclasses.replace(record, offset=shifted(record.offset, attempt)))
        if new:
            with self._lock:
                self._records.setdefault(t.spec.trial_id, []).extend(new)
            self._exited.set()

    def _check_end(self, t: _Watched, state: dict[str, Any]) -> None:
        """Report the trial's exit once its task has ended (after its last records)."""
        if t.record_exit is not None:
            self._report(t, *t.record_exit)
            return
        future = t.future
        assert future is not None
        status = future.status
        if status == "finished":
            result = future.result(timeout=120)
            self._collect(t, result)
        elif status == "error":
            err = future.exception(timeout=30)
            killed = type(err).__name__ == "KilledWorker"
            code = -int(signal.SIGKILL) if killed else 1
            self._finish(t, code, time.time(), f"hypersweep: the Dask task failed: {err}")
        elif status == "cancelled":
            self._finish(t, -int(signal.SIGTERM), time.time(),
                         "hypersweep: canceled before it started on a worker")
        elif status == "lost" or state.get("state") == "missing":
            self._finish(t, None, time.time(),
                         "hypersweep: the Dask scheduler no longer knows this trial")

    def _collect(self, t: _Watched, result: dict[str, Any]) -> None:
        """Bring the result home: journal, logs, outputs; then the exit."""
        attempt = int(result["attempt"])
        if result.get("journal"):
            self._mirror(t, attempt, 0, zlib.decompress(result["journal"]))
        stderr = result.get("stderr") or b""
        if result.get("stdout") or stderr:
            (t.trial_dir / layout.STDOUT).write_bytes(result.get("stdout") or b"")
            (t.trial_dir / layout.STDERR).write_bytes(stderr)
        outputs = layout.outputs_of(t.spec.workdir)
        if result.get("outputs"):
            outputs.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(io.BytesIO(result["outputs"])) as archive:
                archive.extractall(outputs)
        elif result.get("outputs_path"):
            (t.trial_dir / layout.OUTPUTS_LOCATION).write_text(result["outputs_path"] + "\n")
        self._read_mirrors(t)
        tail = _tail(stderr)
        reason = result.get("reason") or ""
        if reason:
            tail = f"{tail}\n{reason}" if tail else reason
        self._finish(t, result.get("exit_code"), float(result["end_time"]), tail)

    def _finish(self, t: _Watched, code: int | None, end_time: float, tail: str) -> None:
        """Record the exit in the trial folder, release the task, report the exit."""
        path = t.trial_dir / layout.EXIT_STATUS
        tmp = path.with_name(f"{layout.EXIT_STATUS}.tmp")
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps({"exit_code": code, "end_time": end_time,
                                       "detail": tail[-_TAIL_BYTES:]}) + "\n")
            os.replace(tmp, path)
        # The record is on file: the scheduler may now forget the task and its result.
        with contextlib.suppress(Exception):
            self.client.unpublish_dataset(dataset_name(t.spec.trial_id))
        if t.future is not None:
            with contextlib.suppress(Exception):
                t.future.release()
        self._report(t, code, end_time, tail)

    def _report(self, t: _Watched, code: int | None, end_time: float, tail: str) -> None:
        self._read_mirrors(t)
        if not tail:
            tail = stderr_tail(t.trial_dir / layout.STDERR)
        with self._lock:
            self._exits.append(TrialExit(t.spec.trial_id, code, end_time, tail))
            self._watched.pop(t.spec.trial_id, None)
        t.close()
        self._exited.set()
