"""Watching Dask trials from the controller: the pump that brings each trial home.

:class:`~hypersweep.execution.dask.DaskExecutor` launches and adopts trials; a
`TrialCollector` watches them. Its background thread (the *pump*) asks the scheduler every
tick where each task runs, sends one ``client.run`` probe to those workers (which answers with
the journal bytes appended since the offset the controller has, and delivers stop signals),
mirrors those bytes into the trial folder (``metrics.jsonl``, ``metrics.a1.jsonl`` for a
retry...) and parses them there. When a task ends it writes the task's logs, outputs and exit
into the trial folder, then reports the exit. The executor's ``poll`` only drains what the pump
collected, so it returns at once.

A trial that asked for devices or cores learns its `Slot` on its worker; the pump hears of it
from the first probe after the trial starts (or from its result), writes it into the trial
folder as ``placement.json`` (`PLACEMENT_RECORD`) and keeps it for `TrialCollector.slot_of`,
always before the trial's exit is reported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import signal
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import Client, Future

from hypersweep.execution import layout
from hypersweep.execution._dask_worker import collect, sched_states, sched_stop, shifted
from hypersweep.execution.base import TrialExit, TrialSpec
from hypersweep.execution.placement import Slot
from hypersweep.execution.trial_files import replace_trial_file
from hypersweep.execution.trial_records import TamperedRecord, read_record, stderr_tail
from hypersweep.tracking.journal import JournalReader, JournalRecord

__all__ = ["ATTEMPT_TAG", "PLACEMENT_RECORD", "TrialCollector", "WatchedTrial", "dataset_name",
           "read_slot"]

log = logging.getLogger("hypersweep.execution.dask")

#: Tag recorded with a trial whose journal comes from a retry: the attempt number (from 1).
ATTEMPT_TAG = "hypersweep.attempt"

#: The trial-folder record of the devices and cores a trial held on its worker.
PLACEMENT_RECORD = "placement.json"

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


def read_slot(trial_dir: Path) -> Slot | None:
    """The slot recorded in a trial folder's ``placement.json``, or None (none recorded, or
    not a record: the trial can write its folder)."""
    try:
        record = read_record(trial_dir, PLACEMENT_RECORD)
        return None if record is None else Slot.from_dict(record)
    except (TamperedRecord, TypeError, ValueError):
        return None


def _tail(data: bytes) -> str:
    text = data[-_TAIL_BYTES:].decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(data) > _TAIL_BYTES and lines:
        lines = lines[1:]
    return "\n".join(lines[-_TAIL_LINES:])



@dataclass
class WatchedTrial:
    """One trial the executor watches: its task, its journal readers and its stop state."""

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
    slot: Slot | None = None  # the devices and cores it holds, once its worker said so

    def close(self) -> None:
        for reader in self.readers.values():
            reader.close()


class TrialCollector:
    """The watched trials of one executor, and the pump thread that collects their state.

    Parameters
    ----------
    client : distributed.Client
        The executor's client.
    tick : float
        Seconds between two collections.
    """

    def __init__(self, client: Client, tick: float) -> None:
        self.client = client
        self.tick = tick
        self._watched: dict[str, WatchedTrial] = {}
        self._records: dict[str, list[JournalRecord]] = {}
        self._exits: list[TrialExit] = []
        self._slots: dict[str, Slot] = {}
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._exited = threading.Event()
        self._halt = threading.Event()
        self._pump = threading.Thread(target=self._run_pump, name="hypersweep-dask-pump",
                                      daemon=True)
        self._pump.start()

    def __contains__(self, trial_id: object) -> bool:
        return trial_id in self._watched

    def __len__(self) -> int:
        return len(self._watched)

    def watch(self, t: WatchedTrial) -> None:
        """Start watching a launched or adopted trial."""
        if t.future is not None:
            t.future.add_done_callback(lambda _f: self._wake.set())
        with self._lock:
            self._watched[t.spec.trial_id] = t
            if t.slot is not None:
                self._slots[t.spec.trial_id] = t.slot
        self._wake.set()

    def drain(self) -> tuple[dict[str, list[JournalRecord]], list[TrialExit]]:
        """The records and exits collected since the last call; never blocks on the cluster."""
        with self._lock:
            records, self._records = self._records, {}
            exits, self._exits = self._exits, []
        return records, exits

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, waking when the pump has something new."""
        if self._exited.wait(timeout):
            self._exited.clear()

    def slot_of(self, trial_id: str) -> Slot | None:
        """The devices and cores the trial held on its worker; None until its worker placed
        it, or when it asked for none."""
        with self._lock:
            return self._slots.get(trial_id)

    def running(self) -> set[str]:
        """Ids of the trials whose exit has not been drained yet."""
        with self._lock:
            reported = {e.trial_id for e in self._exits}
            return set(self._watched) | reported

    def stop(self, trial_id: str, grace: float) -> None:
        """Ask the pump to SIGTERM the trial, and SIGKILL it ``grace`` seconds later."""
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

    def stop_all(self, grace: float, settle: float) -> None:
        """Stop every trial, and wait up to ``grace + settle`` seconds for their ends."""
        for trial_id in list(self._watched):
            self.stop(trial_id, grace)
        deadline = time.monotonic() + grace + settle
        while self._watched and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        """End the pump and forget every trial still watched (their tasks keep running)."""
        self._halt.set()
        self._wake.set()
        self._pump.join(timeout=30)
        with self._lock:
            for t in self._watched.values():
                t.close()
            self._watched.clear()

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

    def _deliver_stops(self, live: list[WatchedTrial], states: dict[str, dict[str, Any]]) -> None:
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

    def _probe(self, live: list[WatchedTrial], states: dict[str, dict[str, Any]]) -> None:
        """One ``client.run`` to the workers running our trials: journal bytes and signals."""
        workers = sorted({s["worker"] for s in states.values()
                          if s.get("state") == "processing" and s.get("worker")})
        if not workers:
            return
        now = time.monotonic()
        requests: dict[str, dict[str, Any]] = {}
        by_key: dict[str, tuple[WatchedTrial, int]] = {}
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
                self._placed(t, got.get("slot"))
                self._mirror(t, int(got["attempt"]), int(got["offset"]), got["data"])

    def _placed(self, t: WatchedTrial, stored: dict[str, Any] | None) -> None:
        """Note where the trial's worker placed it (a retry may hold other devices)."""
        if not stored:
            return
        slot = Slot.from_dict(stored)
        if slot == t.slot:
            return
        t.slot = slot
        with self._lock:
            self._slots[t.spec.trial_id] = slot
        with contextlib.suppress(OSError):
            replace_trial_file(t.trial_dir, PLACEMENT_RECORD,
                               (json.dumps(slot.to_dict()) + "\n").encode())

    def _mirror(self, t: WatchedTrial, attempt: int, offset: int, data: bytes) -> None:
        """Append the part of ``data`` (journal bytes from ``offset``) not mirrored yet."""
        path = layout.journal_path(t.trial_dir, attempt)
        size = path.stat().st_size if path.exists() else 0
        if offset > size or offset + len(data) <= size:
            return
        with open(path, "ab") as f:
            f.write(data[size - offset:])

    def _read_mirrors(self, t: WatchedTrial) -> None:
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

    def _check_end(self, t: WatchedTrial, state: dict[str, Any]) -> None:
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

    def _collect(self, t: WatchedTrial, result: dict[str, Any]) -> None:
        """Bring the result home: journal, logs, outputs; then the exit."""
        attempt = int(result["attempt"])
        self._placed(t, result.get("placement"))
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

    def _finish(self, t: WatchedTrial, code: int | None, end_time: float, tail: str) -> None:
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

    def _report(self, t: WatchedTrial, code: int | None, end_time: float, tail: str) -> None:
        self._read_mirrors(t)
        if not tail:
            tail = stderr_tail(t.trial_dir / layout.STDERR)
        with self._lock:
            self._exits.append(TrialExit(t.spec.trial_id, code, end_time, tail,
                                         self._slots.get(t.spec.trial_id)))
            self._watched.pop(t.spec.trial_id, None)
        t.close()
        self._exited.set()
