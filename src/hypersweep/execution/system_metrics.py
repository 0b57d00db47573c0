"""What each running trial uses of the machine: CPU, memory, processes and its GPUs.

The local executor samples every running trial every few seconds and appends one JSON line
per trial to ``<trial folder>/system.jsonl`` (`hypersweep.execution.layout.SYSTEM`)::

    {"time": 1700000000.0, "cpu_percent": 98.7, "rss_mib": 412.3, "processes": 3,
     "gpus": [2], "gpu_util_percent": 71.0, "gpu_memory_mib": 3120.0,
     "gpu_memory_total_mib": 40960.0, "gpu_memory_of": "processes"}

- ``cpu_percent``: CPU time of the trial's processes over the time since the last sample
  (100 is one core kept busy; four busy cores make 400), as ``top`` counts it. The first
  sample of a trial averages over its life so far.
- ``rss_mib``: the resident memory of the trial's processes added up (pages two processes
  share count in each), ``processes``: how many there are. The trial's processes are its
  script and every process that descends from it; the supervisor in front of it is not one.
- For a trial that holds GPUs: ``gpu_util_percent``, the mean utilisation of its devices;
  ``gpu_memory_mib``, the device memory its processes use (``gpu_memory_of: "processes"``,
  where NVML names the processes on a device) or else all that is used on its devices
  (``"devices"``: other trials sharing a device count too); ``gpu_memory_total_mib``, what its
  devices have.

It costs the controller next to nothing: one scan of ``/proc`` per sample for all trials
(one read of ``/proc/<pid>/stat`` per process of the machine), and for GPUs one NVML query
per device (``pip install hypersweep[gpu]``) or else one ``nvidia-smi`` run per sample for all
devices, started in the background and read at the next sample, so a slow driver never holds
up the controller (its numbers are then one interval old). Nothing here raises into the
controller: a sample that fails is skipped.

Examples
--------
>>> import os, time
>>> sampler = SystemSampler()
>>> me = sampler.sample({"t": Watched(os.getppid())})["t"]   # a tree this process is part of
>>> me["processes"] >= 1 and me["rss_mib"] > 1 and me["cpu_percent"] >= 0
True
>>> sorted(sampler.sample({"gone": Watched(2**22 + 1)}))     # no such process: no sample
[]
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypersweep.errors import ConfigError
from hypersweep.execution import layout
from hypersweep.execution.gpu_readings import DeviceReading, GpuReadings, open_readings
from hypersweep.tracking.safe_open import open_trial_file

__all__ = [
    "ENV_SYSTEM_INTERVAL",
    "SYSTEM_INTERVAL",
    "SystemSampler",
    "Watched",
    "configured_interval",
    "encode_sample",
    "gpu_ids",
    "read_system_metrics",
]

#: Seconds between two samples of a running trial, unless the environment says otherwise.
SYSTEM_INTERVAL = 5.0
#: The environment variable that sets the interval (seconds; 0 samples nothing).
ENV_SYSTEM_INTERVAL = "HYPERSWEEP_SYSTEM_INTERVAL"
#: Most bytes of ``system.jsonl`` a reader takes (its end): some 100,000 samples.
MAX_READ = 16 << 20
_MIB = 1 << 20
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def configured_interval(environ: Mapping[str, str] | None = None,
                    default: float = SYSTEM_INTERVAL) -> float:
    """The sampling interval ``HYPERSWEEP_SYSTEM_INTERVAL`` asks for, else ``default``.

    >>> configured_interval({"HYPERSWEEP_SYSTEM_INTERVAL": "0.5"}), configured_interval({})
    (0.5, 5.0)
    >>> configured_interval({"HYPERSWEEP_SYSTEM_INTERVAL": "often"})
    Traceback (most recent call last):
    ...
    hypersweep.errors.ConfigError: HYPERSWEEP_SYSTEM_INTERVAL: expected seconds \
(0 samples nothing), got 'often'
    """
    text = (os.environ if environ is None else environ).get(ENV_SYSTEM_INTERVAL)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{ENV_SYSTEM_INTERVAL}: expected seconds (0 samples nothing), "
                          f"got {text!r}")
    return value


def gpu_ids(env: Mapping[str, str]) -> tuple[int, ...]:
    """The devices a trial holds, from the ``HYPERSWEEP_GPU_IDS`` its placement set.

    >>> gpu_ids({"HYPERSWEEP_GPU_IDS": "2,3"}), gpu_ids({}), gpu_ids({"HYPERSWEEP_GPU_IDS": "x"})
    ((2, 3), (), ())
    """
    parts = [part.strip() for part in env.get("HYPERSWEEP_GPU_IDS", "").split(",")]
    return tuple(int(part) for part in parts if part.isdigit())


@dataclass(frozen=True)
class Watched:
    """A running trial as the sampler sees it: its supervisor's pid, that process's start
    (clock ticks since boot; a pid reused by another process is not sampled) and its devices."""

    pid: int
    gpus: tuple[int, ...] = ()
    start_ticks: int | None = None


class _Proc:
    """One process of a scan; its times and memory are parsed only when a trial needs them."""

    __slots__ = ("fields", "pgid", "ppid")

    def __init__(self, fields: list[bytes]) -> None:
        self.fields = fields  # /proc/<pid>/stat after the command name: field 3 on
        self.ppid = int(fields[1])
        self.pgid = int(fields[2])

    @property
    def zombie(self) -> bool:
        return self.fields[0] in (b"Z", b"X")

    @property
    def ticks(self) -> int:
        """utime + stime, and cutime + cstime: what the children it reaped used."""
        f = self.fields
        return int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])

    @property
    def start(self) -> int:
        return int(self.fields[19])

    @property
    def rss_pages(self) -> int:
        return int(self.fields[21])


def _scan() -> dict[int, _Proc] | None:
    """Every process of the machine, from one pass over ``/proc``; None without it."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    table: dict[int, _Proc] = {}
    for name in names:
        if not name.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{name}/stat", os.O_RDONLY | os.O_CLOEXEC)
            try:
                data = os.read(fd, 4096)
            finally:
                os.close(fd)
            # The command name (field 2) may hold spaces and ')': split after the last ')'.
            table[int(name)] = _Proc(data[data.rindex(b")") + 2 :].split())
        except (OSError, ValueError, IndexError):  # it ended while we looked
            continue
    return table


def _tree(root: int, table: dict[int, _Proc], children: dict[int, list[int]],
          groups: dict[int, list[int]]) -> list[int]:
    """The processes of the trial whose supervisor is ``root`` (not ``root`` itself): its
    descendants, plus its process group's members (it leads one), as the supervisor finds them."""
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    if table[root].pgid == root:
        found.update(groups.get(root, ()))
    found.discard(root)
    return sorted(found)


def _boot_seconds() -> float:
    """Seconds since boot on the clock ``/proc`` dates processes by."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


class SystemSampler:
    """Samples the trials it is shown; keeps what the next sample's CPU % needs.

    Parameters
    ----------
    gpus : GpuReadings, optional
        Where device readings come from. Default (`gpu_readings.open_readings`): NVML when
        ``pynvml`` loads and finds a driver, else ``nvidia-smi`` on ``PATH``, else none (no
        GPU fields). Asked only when a trial holds devices.
    """

    def __init__(self, gpus: GpuReadings | None = None) -> None:
        self._gpus = gpus
        self._last: dict[str, tuple[float, int]] = {}  # trial -> (boot seconds, cpu ticks)

    def sample(self, trials: Mapping[str, Watched]) -> dict[str, dict[str, Any]]:
        """One sample of each trial whose supervisor still runs; see the module for fields."""
        table = _scan()
        self._last = {tid: last for tid, last in self._last.items() if tid in trials}
        if not table:
            return {}
        now, wall = _boot_seconds(), time.time()
        children: dict[int, list[int]] = {}
        groups: dict[int, list[int]] = {}
        for pid, proc in table.items():
            children.setdefault(proc.ppid, []).append(pid)
            groups.setdefault(proc.pgid, []).append(pid)
        wanted = sorted({g for w in trials.values() for g in w.gpus})
        devices = self._read_gpus(wanted) if wanted else None
        samples: dict[str, dict[str, Any]] = {}
        for trial_id, watched in trials.items():
            root = table.get(watched.pid)
            if root is None or root.zombie or watched.start_ticks not in (None, root.start):
                continue  # ended, or its pid is someone else's now
            pids = _tree(watched.pid, table, children, groups)
            procs = [table[pid] for pid in pids]
            live = [proc for proc in procs if not proc.zombie]
            # A child that ended leaves its time in its reaper's cutime: the sum only grows.
            ticks = root.ticks + sum(p.ticks for p in procs)
            since, before = self._last.get(trial_id, (root.start / _TICKS, 0))
            self._last[trial_id] = (now, ticks)
            elapsed = now - since
            if not live:
                continue  # its script has not started yet, or has ended: nothing to measure
            cpu = max(0.0, (ticks - before) / _TICKS / elapsed * 100) if elapsed > 0 else 0.0
            sample: dict[str, Any] = {
                "time": round(wall, 3),
                "cpu_percent": round(cpu, 1),
                "rss_mib": round(sum(p.rss_pages for p in live) * _PAGE / _MIB, 1),
                "processes": len(live),
            }
            if watched.gpus and devices:
                sample.update(_gpu_fields(watched.gpus, devices, {watched.pid, *pids}, table))
            samples[trial_id] = sample
        return samples

    def _read_gpus(self, indices: list[int]) -> dict[int, DeviceReading] | None:
        if self._gpus is None:
            self._gpus = open_readings()
        try:
            readings: dict[int, DeviceReading] | None = self._gpus.read(indices)
        except Exception:  # a driver's surprise costs this sample its GPU numbers, no more
            return None
        return readings

    def close(self) -> None:
        """Let go of the GPU source (NVML, an ``nvidia-smi`` still running)."""
        if self._gpus is not None:
            with contextlib.suppress(Exception):
                self._gpus.close()


def _gpu_fields(gpus: tuple[int, ...], devices: dict[int, DeviceReading], pids: set[int],
                table: dict[int, _Proc]) -> dict[str, Any]:
    held = [devices[g] for g in gpus if g in devices]
    if not held:
        return {}
    utils = [d.util_percent for d in held if d.util_percent is not None]
    totals = [d.total_mib for d in held if d.total_mib is not None]
    # Per process where NVML lists them, unless none of the listed pids is ours to see (the
    # driver names another pid namespace's processes, as in a container): then the device's.
    per_process = all(
        d.processes is not None and (not d.processes or any(p in table for p in d.processes))
        for d in held)
    if per_process:
        memory: float | None = sum(mib for d in held for pid, mib in (d.processes or {}).items()
                                   if pid in pids)
    else:
        used = [d.memory_mib for d in held if d.memory_mib is not None]
        memory = sum(used) if used else None
    fields: dict[str, Any] = {"gpus": list(gpus)}
    if utils:
        fields["gpu_util_percent"] = round(sum(utils) / len(utils), 1)
    if memory is not None:
        fields["gpu_memory_mib"] = round(memory, 1)
        fields["gpu_memory_of"] = "processes" if per_process else "devices"
    if totals:
        fields["gpu_memory_total_mib"] = round(sum(totals), 1)
    return fields


def encode_sample(sample: Mapping[str, Any]) -> bytes:
    """One line of ``system.jsonl``.

    >>> encode_sample({"time": 1.5, "processes": 2})
    b'{"time": 1.5, "processes": 2}\\n'
    """
    return (json.dumps(sample, allow_nan=False) + "\n").encode()


def read_system_metrics(trial_dir: str | os.PathLike[str],
                        max_bytes: int = MAX_READ) -> list[dict[str, Any]]:
    """The samples of a trial's ``system.jsonl``, oldest first (the last ``max_bytes`` of it).

    Read as :func:`~hypersweep.execution.trial_files.open_trial_file` reads a trial's files
    (never through a link out of the folder, never a FIFO): a file the trial replaced, and
    lines that are not samples (garbage, a line cut short), give nothing.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> trial = Path(tempfile.mkdtemp())
    >>> _ = (trial / "system.jsonl").write_text(
    ...     '{"time": 1.0, "cpu_percent": 99.5}\\ngarbage\\n[1]\\n{"time": NaN}\\n'
    ...     '{"time": 2.0, "rss_m')
    >>> read_system_metrics(trial)
    [{'time': 1.0, 'cpu_percent': 99.5}]
    >>> read_system_metrics(trial / "missing")
    []
    """
    try:
        with open_trial_file(Path(trial_dir), layout.SYSTEM) as f:
            size = f.seek(0, os.SEEK_END)
            start = max(0, size - max_bytes)
            f.seek(start)
            data = f.read(max_bytes)
    except OSError:
        return []
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # begun mid-line
    samples = []
    for line in lines:
        try:
            sample = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: '[[[[…' a trial may write
            continue
        moment = sample.get("time") if isinstance(sample, dict) else None
        if isinstance(moment, (int, float)) and math.isfinite(moment):
            samples.append(sample)
    return samples
