"""What runs on the Dask side of :class:`~hypersweep.execution.dask.DaskExecutor`.

Three kinds of function live here, all pickled by reference (workers import hypersweep):

* the **task** :func:`run_trial`, one per trial attempt, run in a worker thread: it waits until
  it is the task published under the trial's name, unpacks the sweep's snapshot (once per
  worker), starts the trial under ``_dask_supervise.py`` in its own
  process group, waits for it, and returns its exit status, journal, logs and ``outputs/``;
* the **worker probe** :func:`collect`, sent with ``client.run`` to the workers every tick of
  the executor: it returns the journal bytes each running trial appended since the offset the
  controller already has, and delivers stop signals to trial process groups;
* **scheduler functions** (``run_on_scheduler``) that keep a few facts per task in the
  scheduler's ``task_metadata`` (dropped by Dask when the task is forgotten): how many attempts
  started, on which workers, whether a stop was asked, and the exit once known.

**Devices and cores.** Dask counts a worker's declared resources (``--resources GPU=4`` runs up
to four ``{"GPU": 1}`` trials at once) but does not say *which* device a task may use. So each
worker process keeps one `Placement` of the devices it sees (`discover_gpus`) and the cores it
may run on; a trial that asks for ``gpu``/``cpu`` (``payload["request"]``) takes its `Slot`
there before its process starts (``CUDA_VISIBLE_DEVICES``, thread counts, core pinning) and
gives it back when it ends, however it ends (`hypersweep.execution._dask_placement`). The slot
travels home with the probe and the result.

Why the scheduler holds the attempt count: Dask re-runs a task whose worker died, with the same
arguments. Only the scheduler sees every start, so it numbers them; the number shifts journal
offsets (attempt ``a`` owns ``[a * 2**40, (a + 1) * 2**40)``), so a retry's fresh journal never
collides with what the first attempt already stored, and ``retries`` is enforced at the start
of the attempt that would exceed it (the process is then never started).

Examples
--------
>>> shifted(3, 1) == 3 + 2**40
True
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypersweep.errors import ConfigError
from hypersweep.execution import layout
from hypersweep.execution._dask_placement import give_back, take_slot
from hypersweep.execution.environment import process_environment
from hypersweep.execution.placement import Slot
from hypersweep.execution.processes import open_pidfd, signal_trial, wait_readable
from hypersweep.execution.trial_files import list_trial_files, open_trial_file
from hypersweep.execution.trial_records import TamperedRecord, exit_record
from hypersweep.execution.workdir import prepare_workdir
from hypersweep.tracking.integrations import shim_path

__all__ = ["ATTEMPT_SHIFT", "collect", "run_trial", "shifted"]

#: Journal offsets of attempt ``a`` are shifted by ``a << ATTEMPT_SHIFT`` (1 TiB per attempt).
ATTEMPT_SHIFT = 40

SUPERVISOR = str(Path(__file__).resolve().with_name("_dask_supervise.py"))

#: Bytes of journal returned per trial per probe: a huge backlog arrives in slices.
PROBE_BYTES = 4 << 20


def shifted(offset: int, attempt: int) -> int:
    """A journal offset of ``attempt`` in the sweep-wide offset space."""
    return offset + (attempt << ATTEMPT_SHIFT)


# ---------------------------------------------------------------- on the scheduler
def _md(dask_scheduler: Any, key: str) -> dict[str, Any]:
    md = dask_scheduler.task_metadata.get(key)
    if not isinstance(md, dict):
        md = dask_scheduler.task_metadata[key] = {}
    return md


def sched_begin(key: str, worker: str, dask_scheduler: Any = None) -> dict[str, Any]:
    """Number a new attempt of ``key`` (atomic: runs on the scheduler's event loop)."""
    md = _md(dask_scheduler, key)
    if md.get("done") is not None:
        return {"done": md["done"]}
    attempt = int(md.get("runs", 0))
    md["runs"] = attempt + 1
    md.setdefault("workers", []).append(worker)
    return {"attempt": attempt, "stop": bool(md.get("stop")), "workers": list(md["workers"])}


def sched_done(key: str, info: dict[str, Any], dask_scheduler: Any = None) -> None:
    """Remember how the trial ended, so a re-run (its result lost with a worker) never runs it."""
    _md(dask_scheduler, key)["done"] = info


def sched_stop(keys: list[str], dask_scheduler: Any = None) -> None:
    """Ask that these tasks not start their process (they may still wait for a worker)."""
    for key in keys:
        _md(dask_scheduler, key)["stop"] = True


async def sched_published(name: str, key: str, timeout: float,
                          dask_scheduler: Any = None) -> str:
    """Whether ``key`` is the task published as ``name``: "yes", "other", or "no" after waiting.

    Waits up to ``timeout`` seconds on the scheduler's event loop, where the publish lands, so
    the usual case (the publish a few milliseconds behind the task) costs one round trip.
    """
    publish = getattr(dask_scheduler, "extensions", {}).get("publish")
    datasets = getattr(publish, "datasets", None)
    if not isinstance(datasets, dict):
        return "yes"  # a Dask without the publish extension we know: do not hold tasks back
    deadline = time.monotonic() + timeout
    while (dataset := datasets.get(name)) is None:
        if time.monotonic() >= deadline:
            return "no"
        await asyncio.sleep(0.002)
    return "yes" if key in tuple(dataset.get("keys", ())) else "other"


async def sched_start(name: str, key: str, worker: str, timeout: float,
                      dask_scheduler: Any = None) -> dict[str, Any]:
    """`sched_published`, then (if "yes") `sched_begin`, in one round trip from the worker.

    ``{"published": "no" | "other"}``, or ``{"published": "yes", **sched_begin(...)}``.
    """
    published = await sched_published(name, key, timeout, dask_scheduler=dask_scheduler)
    if published != "yes":
        return {"published": published}
    return {"published": "yes", **sched_begin(key, worker, dask_scheduler=dask_scheduler)}


def sched_states(keys: list[str], dask_scheduler: Any = None) -> dict[str, dict[str, Any]]:
    """``{key: {"state", "worker", "attempts"}}``: where each task is and how often it started."""
    out: dict[str, dict[str, Any]] = {}
    for key in keys:
        ts = dask_scheduler.tasks.get(key)
        md = dask_scheduler.task_metadata.get(key)
        md = md if isinstance(md, dict) else {}
        worker = getattr(getattr(ts, "processing_on", None), "address", None)
        out[key] = {
            "state": "missing" if ts is None else ts.state,
            "worker": worker,
            "attempts": int(md.get("runs", 0)),
            "workers": list(md.get("workers", [])),
        }
    return out


# ---------------------------------------------------------------- on a worker
@dataclass
class _Running:
    attempt: int
    root: Path
    popen: subprocess.Popen[bytes]
    signaled: int = 0
    slot: Slot | None = None


#: Trials running in this worker process, by task key; `collect` reads it from the event loop.
_RUNNING: dict[str, _Running] = {}
_LOCK = threading.Lock()


def _signal(entry: _Running, sig: int) -> None:
    if entry.popen.poll() is None:  # not reaped: its pid and group id are still the trial's
        signal_trial(entry.popen.pid, sig)  # SIGKILL spares the supervisor: it records the end
        entry.signaled = sig


def collect(requests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Journal bytes and stop signals for the trials of ``requests`` running on this worker.

    ``requests[key]`` has ``offsets`` (``{attempt: bytes the controller has}``) and ``signal``
    (0 or a signal number to send). Keys not running here are left out of the answer.
    """
    out: dict[str, dict[str, Any]] = {}
    for key, req in requests.items():
        entry = _RUNNING.get(key)
        if entry is None:
            continue
        sig = int(req.get("signal") or 0)
        if sig:
            _signal(entry, sig)
        offset = int(req.get("offsets", {}).get(entry.attempt, 0))
        data = b""
        # the trial may have swapped its journal for a FIFO or a link out: not read then
        with contextlib.suppress(OSError), open_trial_file(entry.root, layout.JOURNAL) as f:
            f.seek(offset)
            data = f.read(PROBE_BYTES)
        out[key] = {"attempt": entry.attempt, "offset": offset, "data": data,
                    "signaled": bool(sig),
                    "slot": None if entry.slot is None else entry.slot.to_dict()}
    return out


def _unpack_snapshot(base: Path, digest: str, blob: bytes) -> Path:
    """The sweep's snapshot unpacked under ``base`` (once per worker and digest)."""
    target = base / layout.SNAPSHOTS / digest
    with _LOCK:
        if not target.is_dir():
            tmp = target.with_name(f"{digest}.tmp{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                archive.extractall(tmp)
            tmp.mkdir(parents=True, exist_ok=True)  # an empty source folder zips to nothing
            try:
                tmp.rename(target)
            except OSError:  # another worker process sharing the folder won the race
                shutil.rmtree(tmp, ignore_errors=True)
    return target


def zip_folder(folder: Path) -> bytes:
    """Zip a folder's files (following links) into bytes; empty for a missing folder."""
    if not folder.is_dir():
        return b""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buf.getvalue()


def zip_outputs(root: Path, folder: str) -> bytes:
    """Zip the files a trial left in ``root / folder`` as the dashboard would list them: no
    link out of ``root`` followed, no FIFO or device opened; empty when there are none."""
    try:
        files, _ = list_trial_files(root, folder)
    except OSError:
        return b""
    if not files:
        return b""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in files:
            with contextlib.suppress(OSError), \
                    open_trial_file(root, f"{folder}/{item.path}") as source, \
                    archive.open(item.path, "w", force_zip64=True) as target:
                shutil.copyfileobj(source, target)
    return buf.getvalue()


def _read(root: Path, name: str) -> bytes:
    """A trial file's bytes; nothing if it is gone or not a regular file in its folder."""
    try:
        with open_trial_file(root, name) as f:
            return f.read()
    except OSError:
        return b""


def _task_gone(worker: Any, key: str) -> bool:
    """True when Dask no longer wants this task (its future was cancelled or released)."""
    ts = worker.state.tasks.get(key)
    return ts is None or ts.state in ("cancelled", "released", "forgotten")


def _early(attempt: int, code: int | None, reason: str) -> dict[str, Any]:
    return {"attempt": attempt, "exit_code": code, "end_time": time.time(), "reason": reason,
            "journal": b"", "stdout": b"", "stderr": b"", "outputs": b"", "outputs_path": None,
            "placement": None}


def _wait(popen: subprocess.Popen[bytes], gone: Callable[[], bool], kill: Callable[[], None],
          tick: float = 0.2) -> int:
    """Wait for the supervisor's exit; every ``tick`` seconds, ``kill()`` it if ``gone()``.

    On a pidfd (Linux 5.3+) the exit is seen at once. ``Popen.wait(timeout)`` polls with
    sleeps of up to 50 ms, which was a sizeable part of a short trial's cost.
    """
    pidfd = open_pidfd(popen.pid)
    try:
        while True:
            if pidfd is not None:
                wait_readable([pidfd], tick)
                code = popen.poll()
                if code is not None:
                    return code
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    return popen.wait(timeout=tick)
            if gone():  # cancelled or released: nobody will read it
                kill()
    finally:
        if pidfd is not None:
            os.close(pidfd)


def run_trial(payload: dict[str, Any], snapshot: bytes | None) -> dict[str, Any]:
    """The Dask task of one trial: run it on this worker and return how it went.

    Returns a dict: ``attempt``, ``exit_code`` (negative for a signal), ``end_time``,
    ``reason`` (why it did not run, or ""), ``journal`` (zlib-compressed journal of this
    attempt), ``stdout``/``stderr`` (the logs), ``outputs`` (zip of ``outputs/``, or empty when
    ``outputs_path`` names the folder on a shared filesystem), ``placement`` (the devices and
    cores it held, `Slot.to_dict`, or None).

    ``payload["request"]`` (``{"gpu": ..., "cpu": ...}``, optional) is what the trial asks
    for: it gets its own devices and cores of this worker for as long as it runs.
    """
    from distributed import get_client, get_worker

    worker = get_worker()
    key = str(worker.get_current_task())
    client = get_client()
    # The controller submits, then publishes. Starting the script before the publish would let
    # a controller killed in between leave a run that a resumed controller cannot see and
    # launches again; so the process starts only once this task is the published one.
    # (One round trip asks "published?" and numbers the attempt.)
    while (begin := client.run_on_scheduler(
            sched_start, payload["dataset"], key, worker.address, 0.5))["published"] == "no":
        if _task_gone(worker, key):
            return _early(0, None, "hypersweep: its launch was abandoned before it started")
    if begin["published"] == "other":
        return _early(0, None, "hypersweep: superseded by a later launch of the same trial")
    if "done" in begin:  # finished before; its result was lost with a worker: never rerun
        done = dict(begin["done"])
        done.setdefault("reason", "")
        return {**_early(int(done.get("attempt", 0)), done.get("exit_code"), ""), **done}
    attempt = int(begin["attempt"])
    if attempt > int(payload["retries"]):
        died = ", ".join(begin["workers"][:-1])
        result = _early(attempt, -signal.SIGKILL,
                        f"hypersweep: the Dask worker running this trial died ({died}); "
                        f"not retried again (retries={payload['retries']})")
        client.run_on_scheduler(sched_done, key, {k: result[k] for k in
                                                 ("attempt", "exit_code", "end_time", "reason")})
        return result
    if begin["stop"]:
        return _early(attempt, -signal.SIGTERM, "hypersweep: canceled before it started")
    request = payload.get("request") or {}
    gpu, cpu = float(request.get("gpu") or 0), request.get("cpu")
    if gpu <= 0 and not cpu:
        return _run(payload, snapshot, worker, client, key, attempt, None)
    try:
        slot = take_slot(worker, key, gpu, None if cpu is None else int(cpu),
                         lambda: _task_gone(worker, key))
    except ConfigError as err:  # this worker cannot run it as declared: say so, never hang
        return _early(attempt, 1, f"hypersweep: {err}")
    if slot is None:
        return _early(attempt, None, "hypersweep: canceled while it waited for its GPUs or cores")
    try:
        return _run(payload, snapshot, worker, client, key, attempt, slot)
    finally:
        give_back(key)


def _run(payload: dict[str, Any], snapshot: bytes | None, worker: Any, client: Any, key: str,
         attempt: int, slot: Slot | None) -> dict[str, Any]:
    """Attempt ``attempt`` of the trial, holding ``slot`` (None: no devices nor cores asked)."""
    shared = payload.get("shared_dir")
    base = Path(shared) if shared else Path(worker.local_directory) / "hypersweep"
    root = layout.trial_dir(base, payload["trial_id"]) / f"a{attempt}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if shared:
        source = Path(payload["snapshot_path"])
    else:
        assert snapshot is not None
        source = _unpack_snapshot(base, payload["digest"], snapshot)
    workdir = prepare_workdir(source, layout.workdir(root))

    # This worker's environment, not the controller's (which stays on its machine), under the
    # sweep's part; its own shim archive, made once under its folder.
    shim = shim_path(layout.shims_dir(base)) if payload.get("shim") else None
    env = process_environment(dict(os.environ), payload["env"], shim)
    if slot is not None:  # after the sweep's variables: the devices it holds are these
        env.update(slot.environment())
    # Paths the controller computed are its own; on this worker the trial's files are here.
    env["HYPERSWEEP_JOURNAL"] = str(layout.journal_path(root))
    env["HYPERSWEEP_OUTPUTS"] = str(layout.outputs_of(workdir))
    argv = list(payload["argv"])
    if argv and argv[0] == payload.get("python"):
        argv[0] = sys.executable  # "the controller's interpreter" means this worker's

    pinning = ["--cpus", ",".join(map(str, slot.cores))] if slot and slot.cores else []
    lifeline_r, lifeline_w = os.pipe()  # both non-inheritable; only the read end is passed
    out_fd = os.open(root / layout.STDOUT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    err_fd = os.open(root / layout.STDERR, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        popen = subprocess.Popen(
            [sys.executable, "-I", "-S", SUPERVISOR, *pinning, str(root), str(lifeline_r),
             "--", *argv],
            cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out_fd, stderr=err_fd,
            start_new_session=True, pass_fds=(lifeline_r,),
        )
    finally:
        for fd in (out_fd, err_fd, lifeline_r):
            os.close(fd)
    entry = _Running(attempt, root, popen, slot=slot)
    _RUNNING[key] = entry
    try:
        code = _wait(popen, lambda: _task_gone(worker, key), lambda: _signal(entry, signal.SIGKILL))
    finally:
        _RUNNING.pop(key, None)
        os.close(lifeline_w)
    end_time = time.time()
    with contextlib.suppress(TamperedRecord):  # garbage the trial put there: its process's code
        record = exit_record(root)
        if record is not None:
            recorded_code, recorded_end = record
            if recorded_code is not None:
                code, end_time = recorded_code, recorded_end
    info = {"attempt": attempt, "exit_code": code, "end_time": end_time, "reason": "",
            "placement": None if slot is None else slot.to_dict()}
    client.run_on_scheduler(sched_done, key, info)
    result = {
        **info,
        "journal": zlib.compress(_read(root, layout.JOURNAL), 1),
        "stdout": _read(root, layout.STDOUT),
        "stderr": _read(root, layout.STDERR),
        "outputs": b"" if shared else zip_outputs(root, layout.OUTPUTS_IN_TRIAL),
        "outputs_path": str(layout.outputs_of(workdir)) if shared else None,
    }
    if not shared:  # everything travels back in the result: free the worker's disk
        shutil.rmtree(root, ignore_errors=True)
    return result
