"""Placement: which GPUs and cores each running trial holds.

A trial asks for ``gpu`` (a fraction below 1 shares one device with other fractional trials;
1 or more takes that many whole devices) and ``cpu`` (whole cores). `Placement` hands out
specific devices and cores and takes them back when the trial ends; `Placement.hold` records
what an adopted trial (after a controller restart) already holds, so a new trial is never given
a device or core still in use. It is pure bookkeeping: the driver puts the answer into the
trial's environment (``CUDA_VISIBLE_DEVICES``) and affinity.

Examples
--------
>>> placement = Placement(gpus=[0, 1], cores=range(8))
>>> placement.place("t0", gpu=0.5, cpu=2)
Slot(gpus=(0,), cores=(0, 1))
>>> placement.place("t1", gpu=0.5, cpu=2)   # packs onto the half-used device
Slot(gpus=(0,), cores=(2, 3))
>>> placement.place("t2", gpu=1, cpu=2)
Slot(gpus=(1,), cores=(4, 5))
>>> placement.place("t3", gpu=0.5) is None   # every device is spoken for
True
>>> placement.release("t0"); placement.place("t3", gpu=0.5)
Slot(gpus=(0,), cores=())
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypersweep.errors import ConfigError
from hypersweep.execution.gpus import discover_gpus

__all__ = ["Placement", "Slot", "check_request", "machine_placement"]

# Fractions are kept in units of 1/_UNITS of a device, so 0.1 + 0.2 + 0.7 fills one exactly.
_UNITS = 1000


@dataclass(frozen=True)
class Slot:
    """What one trial holds: device indices and core numbers (empty: none asked for)."""

    gpus: tuple[int, ...] = ()
    cores: tuple[int, ...] = ()

    def environment(self) -> dict[str, str]:
        """What the trial's environment says of its slot: ``CUDA_VISIBLE_DEVICES`` (and
        ``HYPERSWEEP_GPU_IDS``, for scripts that want to know) when it holds devices, and
        ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` when it holds cores, so that two trials'
        thread pools do not fight over the same cores.

        Devices are named by their ``nvidia-smi`` index, which counts in PCI bus order; CUDA
        counts fastest first unless told otherwise, so ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` goes
        with them (on a machine with two kinds of GPU the two orders differ).

        >>> Slot(gpus=(2, 3), cores=(0, 1)).environment()["CUDA_VISIBLE_DEVICES"]
        '2,3'
        >>> Slot(cores=(4,)).environment()
        {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
        """
        env: dict[str, str] = {}
        if self.gpus:
            env["CUDA_VISIBLE_DEVICES"] = env["HYPERSWEEP_GPU_IDS"] = \
                ",".join(str(g) for g in self.gpus)
            env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        if self.cores:
            env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(len(self.cores))
        return env

    def to_dict(self) -> dict[str, list[int]]:
        """The stored form (a trial record's ``placement``).

        >>> Slot.from_dict(Slot((1,), (0, 1)).to_dict())
        Slot(gpus=(1,), cores=(0, 1))
        """
        return {"gpus": list(self.gpus), "cores": list(self.cores)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Slot:
        data = data or {}
        return cls(tuple(int(g) for g in data.get("gpus", ())),
                   tuple(int(c) for c in data.get("cores", ())))


def check_request(gpu: float, cpu: int | None, gpus: Sequence[int],
                  cores: Sequence[int]) -> None:
    """Refuse, naming the key, a request no trial could ever get on this machine.

    >>> check_request(2, None, gpus=[0], cores=range(4))
    Traceback (most recent call last):
    ...
    hypersweep.errors.ConfigError: resources_per_trial.gpu: each trial asks for 2 GPUs; this \
sweep may use 1 (device 0)
    """
    if gpu > 1 and not float(gpu).is_integer():
        raise ConfigError(f"resources_per_trial.gpu: a trial takes a fraction of one GPU or "
                          f"whole GPUs (got {gpu})")
    if math.ceil(gpu) > len(gpus):
        shown = ", ".join(str(g) for g in gpus) or "none"
        raise ConfigError(f"resources_per_trial.gpu: each trial asks for {gpu:g} GPU"
                          f"{'s' if gpu > 1 else ''}; this sweep may use {len(gpus)} "
                          f"(device{'s' if len(gpus) != 1 else ''} {shown})")
    if cpu is not None and cpu > len(cores):
        raise ConfigError(f"resources_per_trial.cpu: each trial asks for {cpu} cores; this "
                          f"sweep may use {len(cores)}")


class Placement:
    """The devices and cores of a sweep, and which trial holds what."""

    def __init__(self, gpus: Iterable[int] = (), cores: Iterable[int] = ()) -> None:
        self.gpus = list(gpus)
        self.cores = list(cores)
        self._free_units = {gpu: _UNITS for gpu in self.gpus}
        self._free_cores = list(self.cores)
        self._held: dict[str, tuple[Slot, int]] = {}  # trial -> (slot, units per device)

    def place(self, trial_id: str, gpu: float = 0.0, cpu: int | None = None) -> Slot | None:
        """Give ``trial_id`` its devices and cores, or None when they are not free now."""
        if trial_id in self._held:
            return self._held[trial_id][0]
        units = round(gpu * _UNITS) if gpu < 1 else _UNITS
        wanted = 0 if gpu <= 0 else max(1, math.ceil(gpu - 1e-9))
        if gpu < 1:
            # Pack: the fullest device that still has room, so whole devices stay whole.
            fitting = sorted((free, gpu_index) for gpu_index, free in self._free_units.items()
                             if free >= units)
            chosen = [fitting[0][1]] if fitting and wanted else []
        else:
            chosen = [g for g in self.gpus if self._free_units[g] == _UNITS][:wanted]
        if len(chosen) < wanted or (cpu is not None and cpu > len(self._free_cores)):
            return None
        for gpu_index in chosen:
            self._free_units[gpu_index] -= units
        cores = tuple(self._free_cores[:cpu or 0])
        del self._free_cores[:cpu or 0]
        slot = Slot(tuple(chosen), cores)
        self._held[trial_id] = (slot, units)
        return slot

    def hold(self, trial_id: str, slot: Slot, gpu: float = 0.0) -> None:
        """Record what a trial found running after a restart already holds."""
        units = round(gpu * _UNITS) if 0 < gpu < 1 else _UNITS
        for gpu_index in slot.gpus:
            if gpu_index in self._free_units:
                self._free_units[gpu_index] = max(0, self._free_units[gpu_index] - units)
        self._free_cores = [c for c in self._free_cores if c not in slot.cores]
        self._held[trial_id] = (slot, units if slot.gpus else 0)

    def release(self, trial_id: str) -> None:
        """The trial ended: its devices and cores are free again (nothing if it held none)."""
        held = self._held.pop(trial_id, None)
        if held is None:
            return
        slot, units = held
        for gpu_index in slot.gpus:
            if gpu_index in self._free_units:
                self._free_units[gpu_index] = min(_UNITS, self._free_units[gpu_index] + units)
        self._free_cores.extend(c for c in slot.cores if c in self.cores)
        self._free_cores.sort(key=self.cores.index)

    def room(self, gpu: float = 0.0, cpu: int | None = None) -> int | None:
        """How many more trials asking this much fit now, beside those placed (None: no bound).

        >>> placement = Placement(gpus=[0, 1])
        >>> _ = placement.place("t0", gpu=0.5)
        >>> placement.room(gpu=0.5), placement.room(gpu=1)
        (3, 1)
        """
        bounds = []
        if gpu > 0:
            if gpu < 1:
                units = round(gpu * _UNITS)
                bounds.append(sum(free // units for free in self._free_units.values()))
            else:
                whole = sum(1 for free in self._free_units.values() if free == _UNITS)
                bounds.append(whole // math.ceil(gpu))
        if cpu:
            bounds.append(len(self._free_cores) // cpu)
        return min(bounds) if bounds else None

    def capacity(self, gpu: float = 0.0, cpu: int | None = None) -> int | None:
        """How many trials asking this much fit at once on an empty machine (None: no bound).

        >>> Placement(gpus=[0, 1, 2, 3]).capacity(gpu=0.5), Placement([0, 1]).capacity(gpu=2)
        (8, 1)
        """
        bounds = []
        if gpu > 0:
            per_device = _UNITS // round(gpu * _UNITS) if gpu < 1 else 0
            bounds.append(len(self.gpus) * per_device if gpu < 1
                          else len(self.gpus) // math.ceil(gpu))
        if cpu:
            bounds.append(len(self.cores) // cpu)
        return min(bounds) if bounds else None


def machine_placement(gpu: float, cpu: int | None,
                      environ: Mapping[str, str] | None = None,
                      gpus: Sequence[int] | None = None) -> Placement | None:
    """The placement of a sweep whose trials each ask for ``gpu`` and ``cpu`` on this machine,
    or None when they ask for nothing (then nothing changes). ``gpus`` overrides discovery
    (``hypersweep run --gpus``). Raises `ConfigError` when no trial could ever fit.

    >>> machine_placement(0, None) is None
    True
    >>> machine_placement(1, None, {"HYPERSWEEP_GPUS": "0,1"}).gpus
    [0, 1]
    >>> machine_placement(1, None, {"HYPERSWEEP_GPUS": ""})
    Traceback (most recent call last):
    ...
    hypersweep.errors.ConfigError: resources_per_trial.gpu: each trial asks for 1 GPU; this \
sweep may use 0 (devices none)
    """
    if gpu <= 0 and not cpu:
        return None
    if gpus is None:
        gpus = [g.index for g in discover_gpus(environ)] if gpu > 0 else []
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else list(range(os.cpu_count() or 1))
    check_request(gpu, cpu, gpus, cores)
    return Placement(gpus, cores)
