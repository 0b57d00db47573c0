"""Which of a Dask worker's devices and cores each of its running trials holds.

Dask counts a worker's declared resources (``--resources GPU=4`` runs up to four
``{"GPU": 1}`` trials at once) but does not say *which* device a task may use. So each worker
process keeps one `Placement` of the devices it sees (`discover_gpus`) and the cores it may run
on; a trial that asks for ``gpu``/``cpu`` takes its `Slot` here before its process starts and
gives it back when it ends, however it ends (`hypersweep.execution._dask_worker.run_trial`).
`worker_view` tells the executor, before a sweep starts, what each worker can hand out.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from hypersweep.errors import ConfigError
from hypersweep.execution.gpus import discover_gpus
from hypersweep.execution.placement import Placement, Slot, check_request

__all__ = ["give_back", "take_slot", "worker_view"]

#: The devices and cores of this worker process, built at the first trial that asks for any.
#: One per process: Dask runs several trials at once in a worker's threads, and each must get
#: devices no other running trial holds.
_PLACEMENT: Placement | None = None
#: Guards `_PLACEMENT`; notified whenever a trial gives its slot back.
_ROOM = threading.Condition()


def _worker_placement() -> Placement:
    """This process's `Placement` (call with `_ROOM` held); ConfigError if the devices
    cannot be told (a malformed ``HYPERSWEEP_GPUS`` in the worker's environment)."""
    global _PLACEMENT
    if _PLACEMENT is None:
        gpus = [gpu.index for gpu in discover_gpus()]
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else list(range(os.cpu_count() or 1))
        _PLACEMENT = Placement(gpus, cores)
    return _PLACEMENT


def worker_view(dask_worker: Any = None) -> dict[str, Any]:
    """What this worker process can hand out (sent with ``client.run`` before a sweep starts):
    ``{"gpus": [...], "cores": n, "host": ..., "pid": ..., "error": ""}``; ``error`` says why
    its devices cannot be told."""
    view: dict[str, Any] = {"gpus": [], "cores": 0, "host": socket.gethostname(),
                            "pid": os.getpid(), "error": ""}
    with _ROOM:
        try:
            placement = _worker_placement()
        except ConfigError as err:
            view["error"] = str(err)
            return view
        view["gpus"], view["cores"] = list(placement.gpus), len(placement.cores)
    return view


def take_slot(worker: Any, key: str, gpu: float, cpu: int | None,
              gone: Callable[[], bool]) -> Slot | None:
    """Place the trial of task ``key`` on this worker: its slot, waiting while every device
    or core it could get is held by another trial here; None once ``gone()`` says the task
    was cancelled meanwhile. ConfigError when this worker could never run it as declared."""
    with _ROOM:
        placement = _worker_placement()
        declared = float(worker.state.total_resources.get("GPU", 0))
        if gpu > 0 and declared > len(placement.gpus):
            # Dask would start more trials than there are devices: fail now, never hang.
            seen = ", ".join(str(g) for g in placement.gpus) or "none"
            raise ConfigError(
                f"resources_per_trial.gpu: Dask worker {worker.address} declares GPU="
                f"{declared:g} but sees {len(placement.gpus)} device(s) ({seen}); start it "
                f"with --resources GPU={len(placement.gpus)} or set HYPERSWEEP_GPUS / "
                "CUDA_VISIBLE_DEVICES in its environment")
        try:
            check_request(gpu, cpu, placement.gpus, placement.cores)
        except ConfigError as err:
            raise ConfigError(f"{err} (on Dask worker {worker.address})") from None
        # Dask's accounting and this one can differ (a 0.3 GPU share: Dask fits 13 on four
        # devices, whole-device packing 12; cores are not a Dask resource): the trial then
        # waits here for a trial of this worker to end.
        while (slot := placement.place(key, gpu, cpu)) is None:
            if gone():
                return None
            _ROOM.wait(0.2)
        return slot


def give_back(key: str) -> None:
    """The trial of task ``key`` ended: its devices and cores are free for the next one."""
    with _ROOM:
        if _PLACEMENT is not None:
            _PLACEMENT.release(key)
        _ROOM.notify_all()
