"""Which GPUs a sweep may give its trials.

In order of precedence:

1. ``HYPERSWEEP_GPUS`` (``"0,1,3"``; empty: none) — the user's word, never second-guessed;
2. what the NVIDIA driver lists — through NVML when the ``nvidia-ml-py`` package is installed
   (``pip install 'hypersweep[gpu]'``), else ``nvidia-smi
   --query-gpu=index,uuid,name,memory.total`` — limited by a ``CUDA_VISIBLE_DEVICES`` already
   set in the sweep's environment (indices or ``GPU-…`` UUIDs, as CUDA reads it: up to the
   first entry that names no device);
3. none.

Devices are named by their index as NVML and ``nvidia-smi`` count them (PCI bus order), so a
trial given ``[2]`` runs with ``CUDA_VISIBLE_DEVICES=2`` and ``CUDA_DEVICE_ORDER=PCI_BUS_ID``.
Asking costs a library call or one short process start, once per sweep.

Examples
--------
>>> [gpu.index for gpu in discover_gpus({"HYPERSWEEP_GPUS": "0,2"})]
[0, 2]
>>> discover_gpus({"HYPERSWEEP_GPUS": ""})
[]
>>> discover_gpus({"HYPERSWEEP_GPUS": "0,zero"})
Traceback (most recent call last):
...
hypersweep.errors.ConfigError: HYPERSWEEP_GPUS: expected device indices such as '0,1,3' \
(got '0,zero')
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from hypersweep.errors import ConfigError

__all__ = ["Gpu", "discover_gpus", "parse_visible_devices"]

#: Seconds ``nvidia-smi`` may take before the sweep goes on as if it found nothing.
NVIDIA_SMI_TIMEOUT = 10.0
_QUERY = "--query-gpu=index,uuid,name,memory.total"


@dataclass(frozen=True)
class Gpu:
    """One device a sweep may use: its index, and what ``nvidia-smi`` says of it."""

    index: int
    uuid: str | None = None
    name: str | None = None
    memory_mib: int | None = None


def discover_gpus(environ: Mapping[str, str] | None = None) -> list[Gpu]:
    """The GPUs a sweep started with ``environ`` (default: this process's) may use."""
    env = os.environ if environ is None else environ
    override = env.get("HYPERSWEEP_GPUS")
    if override is not None:
        return [Gpu(index) for index in _indices(override, "HYPERSWEEP_GPUS")]
    found = _nvml()
    if found is None:
        found = _nvidia_smi(env)
    visible = env.get("CUDA_VISIBLE_DEVICES")
    return found if visible is None else parse_visible_devices(visible, found)


def parse_visible_devices(value: str, gpus: list[Gpu]) -> list[Gpu]:
    """The devices of ``gpus`` that ``CUDA_VISIBLE_DEVICES=value`` leaves visible, in its order.

    As CUDA reads it: entries are indices or UUIDs (a unique prefix of ``GPU-…`` is enough);
    the list stops at the first entry that names no device, and ``""`` or ``-1`` hide all.

    >>> gpus = [Gpu(0, "GPU-aaa"), Gpu(1, "GPU-bbb"), Gpu(2, "GPU-ccc")]
    >>> [g.index for g in parse_visible_devices("2,GPU-a", gpus)]
    [2, 0]
    >>> [g.index for g in parse_visible_devices("1,7,0", gpus)]
    [1]
    """
    by_index = {gpu.index: gpu for gpu in gpus}
    chosen: list[Gpu] = []
    for entry in (part.strip() for part in value.split(",")):
        if entry.isdigit() and int(entry) in by_index:
            gpu = by_index[int(entry)]
        else:
            matches = [g for g in gpus if g.uuid and entry and g.uuid.startswith(entry)]
            if len(matches) != 1:
                break
            gpu = matches[0]
        if gpu not in chosen:
            chosen.append(gpu)
    return chosen


def _indices(text: str, key: str) -> list[int]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        raise ConfigError(f"{key}: expected device indices such as '0,1,3' (got {text!r})")
    indices = [int(part) for part in parts]
    if len(set(indices)) != len(indices):
        raise ConfigError(f"{key}: a device is listed twice (got {text!r})")
    return indices


def _nvml() -> list[Gpu] | None:
    """What NVML lists; None when ``nvidia-ml-py`` is not installed or NVML cannot start (no
    driver): then ``nvidia-smi`` is asked, which says the same or nothing."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError_LibraryNotFound, _DriverNotLoaded ...
        return None
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle).total // (1 << 20)
            gpus.append(Gpu(index, _text(pynvml.nvmlDeviceGetUUID(handle)),
                            _text(pynvml.nvmlDeviceGetName(handle)), int(memory)))
        return gpus
    except Exception:  # a device NVML cannot read: let nvidia-smi have its say
        return None
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value  # bytes before 11.5


def _nvidia_smi(env: Mapping[str, str]) -> list[Gpu]:
    """What ``nvidia-smi`` on the sweep's ``PATH`` lists (nothing when it is absent or fails:
    a machine without an NVIDIA driver has no GPU to give)."""
    program = shutil.which("nvidia-smi", path=env.get("PATH"))
    if program is None:
        return []
    try:
        done = subprocess.run([program, _QUERY, "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT,
                              env=dict(env), check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    gpus = []
    for line in done.stdout.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if not fields or not fields[0].isdigit():
            continue  # a warning line, or a format this release does not know
        memory = fields[3] if len(fields) > 3 else ""
        gpus.append(Gpu(int(fields[0]), fields[1] if len(fields) > 1 else None,
                        fields[2] if len(fields) > 2 else None,
                        int(memory) if memory.isdigit() else None))
    return gpus
