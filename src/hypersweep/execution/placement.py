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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hypersweep.errors import ConfigError

__all__ = ["Placement", "Slot", "check_request"]

# Fractions are kept in units of 1/_UNITS of a device, so 0.1 + 0.2 + 0.7 fills one exactly.
_UNITS = 1000


@dataclass(frozen=True)
class Slot:
    """What one trial holds: device indices and core numbers (empty: none asked for)."""

    gpus: tuple[int, ...] = ()
    cores: tuple[int, ...] = ()


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
