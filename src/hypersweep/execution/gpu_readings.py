"""How busy a machine's GPUs are: utilisation and memory per device, and per process.

Read through NVML (``pynvml``, from the ``nvidia-ml-py`` package: ``pip install
'hypersweep[gpu]'``) when it loads and finds a driver, else from ``nvidia-smi`` on ``PATH``
(one run for all devices, in the background), else not at all: `open_readings` picks. The
system sampler (`hypersweep.execution.system_metrics`) asks once per sample for the devices
its trials hold. Which devices exist is `hypersweep.execution.gpus`' business.

Examples
--------
>>> parse_smi(b"0, 7, 100, 40960\\n1, [N/A], 5, 40960\\nNo warning\\n")[1]
DeviceReading(util_percent=None, memory_mib=5.0, total_mib=40960.0, processes=None)
"""

from __future__ import annotations

import contextlib
import math
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["DeviceReading", "GpuReadings", "NoReadings", "NvmlReadings", "SmiReadings",
           "open_readings", "parse_smi"]

#: Seconds ``nvidia-smi`` may run before it is ended and asked again next time.
NVIDIA_SMI_TIMEOUT = 30.0
#: ``nvidia-smi`` failing this many times in a row is not asked again.
NVIDIA_SMI_FAILURES = 3

_QUERY = "--query-gpu=index,utilization.gpu,memory.used,memory.total"
_MIB = 1 << 20


@dataclass(frozen=True)
class DeviceReading:
    """One device at one moment; ``processes`` is ``{pid: MiB}`` where NVML gives it."""

    util_percent: float | None
    memory_mib: float | None
    total_mib: float | None
    processes: dict[int, float] | None = None


class GpuReadings(Protocol):
    """A source of device readings."""

    def read(self, indices: list[int]) -> dict[int, DeviceReading] | None:
        """The devices' readings now (None: none to give)."""

    def close(self) -> None:
        """Let go of the driver (NVML, an ``nvidia-smi`` still running)."""


def open_readings() -> GpuReadings:
    """NVML when it loads and finds a driver, else ``nvidia-smi`` on ``PATH``, else none."""
    return NvmlReadings.open() or SmiReadings.find() or NoReadings()


class NoReadings:
    """No GPU numbers: no driver to ask."""

    def read(self, indices: list[int]) -> None:
        return None

    def close(self) -> None:
        pass


class NvmlReadings:
    """Readings through NVML (``pynvml``, from the ``nvidia-ml-py`` package)."""

    def __init__(self, nvml: Any) -> None:
        self._nvml = nvml
        self._handles: dict[int, Any] = {}

    @classmethod
    def open(cls) -> NvmlReadings | None:
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception:  # not installed, or no driver: nvidia-smi's turn
            return None
        return cls(pynvml)

    def read(self, indices: list[int]) -> dict[int, DeviceReading]:
        nvml = self._nvml
        readings = {}
        for index in indices:
            try:
                handle = self._handles.get(index)
                if handle is None:
                    handle = self._handles[index] = nvml.nvmlDeviceGetHandleByIndex(index)
                util = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:  # no such device, or it fell off the bus
                continue
            processes: dict[int, float] = {}
            try:
                for proc in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    used = getattr(proc, "usedGpuMemory", None)
                    if used is None:
                        raise ValueError("no memory per process")  # WDDM, some VMs
                    processes[int(proc.pid)] = processes.get(int(proc.pid), 0.0) + used / _MIB
                known = True
            except Exception:
                known = False
            readings[index] = DeviceReading(util, memory.used / _MIB, memory.total / _MIB,
                                            processes if known else None)
        return readings

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._nvml.nvmlShutdown()


class SmiReadings:
    """Readings from ``nvidia-smi``: one run for all devices, started at one sample and read
    at the next, so the controller never waits for the driver."""

    def __init__(self, program: str) -> None:
        self._program = program
        self._running: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self._latest: dict[int, DeviceReading] | None = None
        self._failures = 0

    @classmethod
    def find(cls) -> SmiReadings | None:
        program = shutil.which("nvidia-smi")
        return None if program is None else cls(program)

    def read(self, indices: list[int]) -> dict[int, DeviceReading] | None:
        running = self._running
        if running is not None:
            if running.poll() is None:
                if time.monotonic() - self._started < NVIDIA_SMI_TIMEOUT:
                    return self._latest
                self._end()
                self._failures += 1
            else:
                out = running.stdout.read() if running.stdout else b""
                self._end()
                if running.returncode == 0:
                    self._latest, self._failures = parse_smi(out), 0
                else:
                    self._failures += 1
        if self._failures < NVIDIA_SMI_FAILURES:
            try:
                self._running = subprocess.Popen(
                    [self._program, _QUERY, "--format=csv,noheader,nounits"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, close_fds=True)
                self._started = time.monotonic()
            except OSError:
                self._failures += 1
        return self._latest

    def _end(self) -> None:
        running, self._running = self._running, None
        if running is None:
            return
        with contextlib.suppress(OSError):
            running.kill()
        with contextlib.suppress(Exception):
            running.wait(timeout=1.0)
        if running.stdout is not None:
            running.stdout.close()

    def close(self) -> None:
        self._end()


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:  # "[N/A]", "[Not Supported]"
        return None
    return value if math.isfinite(value) else None


def parse_smi(out: bytes) -> dict[int, DeviceReading]:
    """``index, utilization.gpu, memory.used, memory.total`` lines, by index."""
    readings = {}
    for line in out.decode(errors="replace").splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) < 4 or not fields[0].isdigit():
            continue  # a warning line, or a format this release does not know
        readings[int(fields[0])] = DeviceReading(
            _number(fields[1]), _number(fields[2]), _number(fields[3]))
    return readings
