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
* **devices and cores** — :meth:`DaskExecutor.placement` turns ``resources_per_trial`` into the
  Dask resource ``{"GPU": gpu}`` every later task asks for (so Dask starts on a worker with
  ``--resources GPU=4`` at most four ``gpu: 1`` trials at once) and checks, before any trial
  starts, that connected workers declare it and see their devices. *Which* devices a trial
  gets is decided on its worker, which keeps one placement per worker process; the slot comes
  home with the probe (``placement.json`` in the trial folder, :meth:`DaskExecutor.slot_of`).
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
import hashlib
import io
import json
import logging
import os
import socket
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from distributed import Client, Future

from hypersweep.errors import ConfigError
from hypersweep.execution import layout
from hypersweep.execution._dask_collect import (
    ATTEMPT_TAG,
    PLACEMENT_RECORD,
    TrialCollector,
    WatchedTrial,
    dataset_name,
    read_slot,
)
from hypersweep.execution._dask_placement import worker_view
from hypersweep.execution._dask_worker import run_trial, zip_folder
from hypersweep.execution.base import Executor, TrialExit, TrialSpec
from hypersweep.execution.placement import Placement, Slot
from hypersweep.execution.trial_records import TamperedRecord, read_exit_record, read_record
from hypersweep.tracking.journal import JournalRecord

__all__ = ["ATTEMPT_TAG", "PLACEMENT_RECORD", "DaskExecutor", "dataset_name"]

log = logging.getLogger("hypersweep.execution.dask")

#: Zipped snapshot size above which carrying it in every task earns a warning.
LARGE_SNAPSHOT = 20_000_000


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
    worker_wait : float
        Seconds :meth:`placement` waits for a first worker when none is connected yet (a
        cluster still starting, an adaptive one scaled to zero) before it gives up.

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
    >>> exits[0].exit_code, exits[0].stderr_tail   # (a reason here when it did not run)
    (0, '')
    >>> (folder / "stdout.log").read_text()
    'hi\\n'
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
        worker_wait: float = 60.0,
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
        self.worker_wait = float(worker_wait)
        # Set by `placement`: what each trial asks of its worker, and the resources it needs.
        self._request: dict[str, Any] | None = None
        self._task_resources = self.resources
        self._snapshots: dict[str, tuple[str, bytes | None, str | None]] = {}
        self._closed = False
        self._trials = TrialCollector(self.client, self.tick)

    # -- placement ------------------------------------------------------------------------

    def placement(self, gpu: float, cpu: int | None) -> Placement | None:
        """Make every later trial ask for ``gpu`` devices and ``cpu`` cores; return None, as
        the workers place trials themselves.

        The GPUs are a Dask resource, ``{"GPU": gpu}`` over the executor's ``resources``: a
        worker started with ``--resources GPU=4`` runs at most four ``gpu=1`` trials (eight
        ``gpu=0.5``) at once, and gives each its own devices. Cores are *not* a Dask resource
        (a worker that declares none would never run the trial): each worker hands out its
        own, pins the trial to them, and a trial waits on its worker while they are all held.

        Raises `~hypersweep.errors.ConfigError` before any trial starts when no connected
        worker declares enough of what a trial needs (waiting up to ``worker_wait`` seconds
        for a first worker when none is connected), when a worker declares more GPUs than it
        sees, has fewer cores than a trial asks for, or shares its devices with another worker
        process on the same machine.
        """
        if gpu < 0 or (gpu > 1 and not float(gpu).is_integer()):
            raise ConfigError(f"resources_per_trial.gpu: a trial takes a fraction of one GPU or "
                              f"whole GPUs (got {gpu})")
        if cpu is not None and cpu < 1:
            raise ConfigError(f"resources_per_trial.cpu: expected a positive number of cores "
                              f"(got {cpu})")
        if gpu <= 0 and not cpu:
            self._request, self._task_resources = None, self.resources
            return None
        resources = dict(self.resources or {})
        if gpu > 0:
            resources["GPU"] = float(gpu)
        self._check_cluster(resources, gpu, cpu)
        self._request = {"gpu": float(gpu), "cpu": cpu}
        self._task_resources = resources or None
        return None

    def _connected_workers(self) -> dict[str, Any]:
        """``scheduler_info()["workers"]``, waiting up to ``worker_wait`` s for a first one."""
        deadline = time.monotonic() + self.worker_wait
        while True:
            workers: dict[str, Any] = dict(self.client.scheduler_info()["workers"])
            if workers or time.monotonic() >= deadline:
                return workers
            time.sleep(0.25)

    def _check_cluster(self, resources: dict[str, float], gpu: float, cpu: int | None) -> None:
        """Refuse a sweep no connected worker could run as asked (see :meth:`placement`)."""
        address = self.client.scheduler.address
        workers = self._connected_workers()
        if not workers:
            raise ConfigError(
                f"resources_per_trial: no Dask worker is connected to {address} (waited "
                f"{self.worker_wait:g} s); start one worker per machine, e.g. "
                "`dask worker <scheduler> --nthreads <n> --resources GPU=<n>`")

        def declared(info: dict[str, Any], name: str) -> float:
            return float((info.get("resources") or {}).get(name, 0))

        fitting = [addr for addr, info in workers.items()
                   if all(declared(info, name) >= amount for name, amount in resources.items())]
        if not fitting:
            name, amount = next((n, a) for n, a in resources.items()
                                if not any(declared(i, n) >= a for i in workers.values()))
            key = "resources_per_trial.gpu" if name == "GPU" and gpu > 0 else "executor resources"
            have = "; ".join(f"{addr}: {info.get('resources') or 'none'}"
                             for addr, info in sorted(workers.items()))
            raise ConfigError(
                f"{key}: each trial needs the Dask worker resource {name}={amount:g} and no "
                f"connected worker declares that much (declared: {have}); start workers "
                f"with --resources {name}=<n>"
                + (" (n: the GPUs the worker may use)" if name == "GPU" else ""))
        views = self.client.run(worker_view, workers=fitting, on_error="return")
        seen: dict[tuple[str, int], tuple[str, set[int]]] = {}
        for addr, view in sorted(views.items()):
            if isinstance(view, BaseException):  # leaving right now: not this check's business
                log.warning("could not ask Dask worker %s for its devices: %s", addr, view)
                continue
            if view["error"]:
                raise ConfigError(f"on Dask worker {addr}: {view['error']}")
            gpus = list(view["gpus"])
            if gpu > 0 and declared(workers[addr], "GPU") > len(gpus):
                shown = ", ".join(str(g) for g in gpus) or "none"
                raise ConfigError(
                    f"resources_per_trial.gpu: Dask worker {addr} declares GPU="
                    f"{declared(workers[addr], 'GPU'):g} but sees {len(gpus)} device(s) "
                    f"({shown}); start it with --resources GPU={len(gpus)}, or say which "
                    "devices it may use with HYPERSWEEP_GPUS in its environment")
            if cpu and view["cores"] < cpu:
                raise ConfigError(
                    f"resources_per_trial.cpu: each trial asks for {cpu} cores; Dask worker "
                    f"{addr} may use {view['cores']}")
            if gpu > 0:
                seen.setdefault((view["host"], view["pid"]), (addr, set(gpus)))
        self._check_disjoint(seen)

    @staticmethod
    def _check_disjoint(seen: dict[tuple[str, int], tuple[str, set[int]]]) -> None:
        """Two worker *processes* of one machine each place trials on the devices they see:
        seeing the same devices, they would hand out the same ones twice."""
        items = sorted(seen.items())
        for i, ((host, _), (addr, gpus)) in enumerate(items):
            for (other_host, _), (other, other_gpus) in items[i + 1:]:
                shared = gpus & other_gpus
                if host == other_host and shared:
                    raise ConfigError(
                        f"resources_per_trial.gpu: Dask workers {addr} and {other} run on "
                        f"{host} and both see GPU(s) {', '.join(map(str, sorted(shared)))}: "
                        "each would give them to its own trials. Run one worker process per "
                        "machine (--nworkers 1 --nthreads <n> --resources GPU=<n>), or give "
                        "each its own devices (HYPERSWEEP_GPUS or CUDA_VISIBLE_DEVICES in its "
                        "environment)")

    def slot_of(self, trial_id: str) -> Slot | None:
        """The devices and cores a trial held on its worker (`Slot`); None while it waits for
        a worker, or when it asked for none. Known no later than the poll that reports its
        exit, and kept in its trial folder as ``placement.json`` (`PLACEMENT_RECORD`)."""
        return self._trials.slot_of(trial_id)

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
        if spec.trial_id in self._trials:
            raise ValueError(f"trial {spec.trial_id!r} is already running")
        if not spec.argv:
            raise ValueError(f"trial {spec.trial_id!r}: argv is empty")
        source = Path(spec.snapshot if spec.snapshot is not None else spec.workdir)
        if not source.is_dir():
            raise FileNotFoundError(f"trial {spec.trial_id!r}: {source} does not exist")
        trial_dir = Path(spec.trial_dir).resolve()
        name = dataset_name(spec.trial_id)
        trial_dir.mkdir(parents=True, exist_ok=True)
        for stale in (layout.EXIT_STATUS, layout.HANDLE, PLACEMENT_RECORD):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(trial_dir / stale)
        (trial_dir / layout.LAUNCHING).write_text(f"{time.time()!r}\n")
        digest, blob, shared_path = self._snapshot(source)
        payload = {
            "trial_id": spec.trial_id,
            "argv": list(spec.argv),
            "env": dict(spec.env),
            # whether to put the shim on PYTHONPATH: the worker's own (the controller's path
            # names a file of the controller's machine)
            "shim": spec.shim is not None,
            "python": sys.executable,
            "retries": self.retries,
            "digest": digest,
            "shared_dir": self.shared_dir,
            "snapshot_path": shared_path,
            "dataset": name,
            "request": self._request,
        }
        # A fresh key per launch: a key Dask still remembers would return the old result.
        key = f"hypersweep-{spec.trial_id}-{uuid.uuid4().hex[:8]}"
        future = self.client.submit(run_trial, payload, blob, key=key, pure=False,
                                    resources=self._task_resources)
        # Published: the scheduler keeps the task (and its result) when this client dies.
        try:
            self.client.publish_dataset(future, name=name, override=True)
        except BaseException:
            future.cancel()  # the task waits for its publish; it must not wait forever
            raise
        handle = {**self._task_handle(key, name, trial_dir),
                  "controller_host": socket.gethostname(), "launched_at": time.time()}
        with contextlib.suppress(OSError):
            (trial_dir / layout.HANDLE).write_text(json.dumps(handle) + "\n")
        self._trials.watch(WatchedTrial(spec, trial_dir, key, future))
        return handle

    def _task_handle(self, key: str, dataset: str, trial_dir: Path) -> dict[str, Any]:
        """What names a trial's task on this cluster: the handle a launch records, and the
        one an adoption rebuilds when the launch died before recording it."""
        return {"executor": "dask", "scheduler": self.client.scheduler.address, "key": key,
                "dataset": dataset, "trial_dir": str(trial_dir)}

    def adopt(self, spec: TrialSpec, handle: dict[str, Any],
              journal_offset: int = 0) -> dict[str, Any] | None:
        """Watch again a trial launched by an earlier executor, found by its published name.

        Adoption *can*: reconnect to a task still queued or running anywhere on the cluster
        (its journal is read again from the start and re-ingested idempotently), collect the
        result of a task that ended while no controller watched (its logs, outputs and whole
        journal are held by the scheduler until collected), and finish a collection an earlier
        controller started (from the exit record in the trial folder). It *cannot* recover a
        trial when the scheduler itself restarted (published names live in scheduler memory):
        such a trial is reported not found, and the controller marks it ``Failed``.

        With an empty ``handle`` (the controller died between the launch and recording it) a
        task found by its name is returned as a handle for the controller to record.
        """
        if spec.trial_id in self._trials:
            return handle
        trial_dir = Path(spec.trial_dir).resolve()
        future = self.client.get_dataset(dataset_name(spec.trial_id), default=None)
        if isinstance(future, Future):
            self._trials.watch(WatchedTrial(spec, trial_dir, str(future.key), future,
                                            slot=read_slot(trial_dir)))
            return handle or self._task_handle(str(future.key), dataset_name(spec.trial_id),
                                               trial_dir)
        record = read_exit_record(trial_dir)
        if record is not None:
            detail = ""
            with contextlib.suppress(TamperedRecord):
                detail = str((read_record(trial_dir, layout.EXIT_STATUS) or {}).get("detail", ""))
            self._trials.watch(WatchedTrial(spec, trial_dir, str(handle.get("key", "")), None,
                                            record_exit=(record[0], record[1], detail),
                                            slot=read_slot(trial_dir)))
            return handle
        return None

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
        return self._trials.drain()

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, waking when the pump has something new."""
        self._trials.wait(timeout)

    def running(self) -> set[str]:
        """Ids of the trials whose exit has not been reported by :meth:`poll` yet."""
        return self._trials.running()

    # -- stopping -------------------------------------------------------------------------

    def stop(self, trial_id: str, grace: float = 5.0) -> None:
        """SIGTERM the trial's process group on its worker, SIGKILL after ``grace`` seconds."""
        self._trials.stop(trial_id, grace)

    def shutdown(self, stop_trials: bool = False) -> None:
        """Stop watching; with ``stop_trials`` stop every trial and collect its end first.

        Without it the tasks keep running on the cluster, published, for a later executor to
        :meth:`adopt`.
        """
        self._closed = True
        if stop_trials:
            self._trials.stop_all(self.default_grace, settle=15.0)
        self._trials.close()
        if self._own_client:
            with contextlib.suppress(Exception):
                self.client.close(timeout=10)
