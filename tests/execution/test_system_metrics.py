"""Each running trial's use of the machine, sampled into its system.jsonl.

Real trial processes under the local executor; GPUs faked with an ``nvidia-smi`` on PATH, and
NVML with a stand-in ``pynvml`` module (no GPU here).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hypersweep.errors import ConfigError
from hypersweep.execution import LocalProcessExecutor, TrialSpec, layout
from hypersweep.execution.system_metrics import (
    SystemSampler,
    Watched,
    configured_interval,
    read_system_metrics,
)

# nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total on four devices.
FOUR_GPUS = """\
0, 10, 100, 40960
1, 11, 200, 40960
2, 72, 3120, 40960
3, 13, 400, 40960
"""


@pytest.fixture
def fast(executor: LocalProcessExecutor) -> LocalProcessExecutor:
    executor.system_interval = 0.1
    return executor


def run(ex: LocalProcessExecutor, spec: TrialSpec, h: Any) -> list[dict[str, Any]]:
    ex.launch(spec)
    h.wait_exit(ex, spec.trial_id)
    return read_system_metrics(spec.trial_dir)


def test_a_busy_trial_shows_its_memory_cpu_and_processes(
        executor: LocalProcessExecutor, make_spec: Callable[..., TrialSpec], h: Any) -> None:
    executor.system_interval = 0.2
    spec = make_spec(
        "import subprocess, time\n"
        "child = subprocess.Popen(['sleep', '30'])\n"  # a second process in the tree
        "ballast = b'x' * (110 << 20)\n"  # written, so resident
        "while time.process_time() < 2.0:\n"  # CPU time: a loaded machine only stretches it
        "    pass\n")
    samples = run(executor, spec, h)
    assert len(samples) >= 3
    assert max(s["rss_mib"] for s in samples) >= 100
    # one core kept busy is 100; a machine busy with other work shares its two cores
    assert max(s["cpu_percent"] for s in samples) > 25
    assert max(s["processes"] for s in samples) == 2
    times = [s["time"] for s in samples]
    assert times == sorted(times) and abs(times[-1] - time.time()) < 60
    assert not any(key.startswith("gpu") for s in samples for key in s)


def fake_nvidia_smi(folder: Path, output: str = FOUR_GPUS) -> str:
    """A folder for PATH whose ``nvidia-smi`` prints ``output`` for a GPU query."""
    folder.mkdir(exist_ok=True)
    (folder / "out.txt").write_text(output)
    program = folder / "nvidia-smi"
    program.write_text(f"#!/bin/sh\ncase \"$1\" in --query-gpu=*) cat '{folder}/out.txt';; "
                       f"*) exit 9;; esac\n")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def test_a_trial_holding_a_device_carries_that_devices_numbers(
        fast: LocalProcessExecutor, make_spec: Callable[..., TrialSpec], h: Any,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hypersweep.execution.gpu_readings.NvmlReadings.open", lambda: None)
    monkeypatch.setenv("PATH", fake_nvidia_smi(tmp_path / "bin"))
    gpu = make_spec("import time\ntime.sleep(1.5)\n",
                    env={"CUDA_VISIBLE_DEVICES": "2", "HYPERSWEEP_GPU_IDS": "2"})
    plain = make_spec("import time\ntime.sleep(1.5)\n")
    fast.launch(plain)
    fast.launch(gpu)
    h.drain(fast, lambda got: len(got.exits) == 2)
    samples = read_system_metrics(gpu.trial_dir)
    with_gpu = [s for s in samples if "gpu_util_percent" in s]
    assert with_gpu, samples  # nvidia-smi runs in the background: from the second sample on
    for sample in with_gpu:
        assert sample["gpus"] == [2]
        assert sample["gpu_util_percent"] == 72.0
        assert sample["gpu_memory_mib"] == 3120.0 and sample["gpu_memory_of"] == "devices"
        assert sample["gpu_memory_total_mib"] == 40960.0
    assert not any("gpus" in s for s in read_system_metrics(plain.trial_dir))


def fake_nvml(processes: Callable[[int], list[Any]]) -> types.ModuleType:
    """A stand-in ``pynvml``: four devices, device ``i`` at ``10 + i`` % and ``100 * i`` MiB."""
    nvml = types.ModuleType("pynvml")
    mib = 1 << 20
    nvml.nvmlInit = lambda: None  # type: ignore[attr-defined]
    nvml.nvmlShutdown = lambda: None  # type: ignore[attr-defined]

    def handle(index: int) -> int:
        if not 0 <= index < 4:
            raise RuntimeError("NVML_ERROR_INVALID_ARGUMENT")
        return index

    nvml.nvmlDeviceGetHandleByIndex = handle  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetUtilizationRates = (  # type: ignore[attr-defined]
        lambda i: types.SimpleNamespace(gpu=10 + i))
    nvml.nvmlDeviceGetMemoryInfo = (  # type: ignore[attr-defined]
        lambda i: types.SimpleNamespace(used=100 * i * mib, total=40960 * mib))
    nvml.nvmlDeviceGetComputeRunningProcesses = processes  # type: ignore[attr-defined]
    return nvml


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process with a child: a trial's supervisor and script, as the sampler sees them."""
    proc = subprocess.Popen([sys.executable, "-c",
                             "import subprocess; subprocess.run(['sleep', '30'])"])
    deadline = time.monotonic() + 10
    while not Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    yield proc
    proc.kill()
    subprocess.run(["pkill", "-KILL", "-P", str(proc.pid)], check=False)
    proc.wait()


def script_pid(proc: subprocess.Popen[bytes]) -> int:
    return int(Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()[0])


def test_nvml_gives_the_memory_of_the_trials_own_processes(
        sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    mine = script_pid(sleeper)
    listed = {2: [types.SimpleNamespace(pid=mine, usedGpuMemory=512 << 20),
                  types.SimpleNamespace(pid=1, usedGpuMemory=100 << 20)]}  # another's
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(lambda i: listed.get(i, [])))
    sampler = SystemSampler()
    sample = sampler.sample({"t": Watched(sleeper.pid, (2, 3))})["t"]
    assert sample["processes"] == 1
    assert sample["gpus"] == [2, 3] and sample["gpu_util_percent"] == 12.5  # mean of 12, 13
    assert sample["gpu_memory_mib"] == 512.0 and sample["gpu_memory_of"] == "processes"
    assert sample["gpu_memory_total_mib"] == 2 * 40960.0
    # A driver that keeps per-process memory to itself: the devices' memory in use.
    listed[2] = [types.SimpleNamespace(pid=mine, usedGpuMemory=None)]
    sample = sampler.sample({"t": Watched(sleeper.pid, (2, 3))})["t"]
    assert sample["gpu_memory_mib"] == 500.0 and sample["gpu_memory_of"] == "devices"
    # Processes of another pid namespace (a container): none is ours to see, so the devices'.
    listed[2] = [types.SimpleNamespace(pid=2**22 + 7, usedGpuMemory=1 << 20)]
    assert sampler.sample({"t": Watched(sleeper.pid, (2,))})["t"]["gpu_memory_of"] == "devices"
    # A device the driver does not know gives no GPU fields.
    assert "gpus" not in sampler.sample({"t": Watched(sleeper.pid, (7,))})["t"]
    sampler.close()


def test_a_reused_pid_or_an_ended_trial_gives_no_sample(
        sleeper: subprocess.Popen[bytes]) -> None:
    sampler = SystemSampler()
    start = int(Path(f"/proc/{sleeper.pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[19])
    assert "t" in sampler.sample({"t": Watched(sleeper.pid, (), start)})
    assert sampler.sample({"t": Watched(sleeper.pid, (), start + 1)}) == {}
    sleeper.kill()
    sleeper.wait()
    assert sampler.sample({"t": Watched(sleeper.pid, (), start)}) == {}


@pytest.mark.parametrize("how", ["link", "fifo"])
def test_a_system_file_the_trial_replaced_is_not_followed(
        fast: LocalProcessExecutor, make_spec: Callable[..., TrialSpec], h: Any,
        tmp_path: Path, how: str) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched\n")
    spec = make_spec(
        "import os, sys, time\n"
        "path = os.path.join(os.path.dirname(os.environ['HYPERSWEEP_JOURNAL']), 'system.jsonl')\n"
        "if os.path.lexists(path):\n"
        "    os.unlink(path)\n"
        f"if {how!r} == 'link':\n"
        "    os.symlink(sys.argv[1], path)\n"
        "else:\n"
        "    os.mkfifo(path)\n"
        "open('replaced', 'w').close()\n"
        "time.sleep(1.0)\n", str(outside))
    samples = run(fast, spec, h)  # neither blocks nor fails the controller
    assert (spec.workdir / "replaced").exists()
    assert outside.read_text() == "untouched\n"
    assert samples == []  # and a reader does not follow it either
    if how == "link":
        assert os.path.islink(spec.trial_dir / layout.SYSTEM)


def test_garbage_in_the_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / layout.SYSTEM).write_bytes(
        b'{"time": 1, "rss_mib": 5}\n\xff\xfe\n' + b"[" * 100_000 + b'\n"x"\n{"time": "no"}\n'
        b'{"time": 2.5, "cpu_percent": 3}\n')
    assert [s["time"] for s in read_system_metrics(tmp_path)] == [1, 2.5]
    assert [s["time"] for s in read_system_metrics(tmp_path, max_bytes=40)] == [2.5]


def test_the_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                 make_spec: Callable[..., TrialSpec],
                                                 h: Any) -> None:
    monkeypatch.setenv("HYPERSWEEP_SYSTEM_INTERVAL", "0")
    ex = LocalProcessExecutor()
    assert ex.system_interval == 0
    spec = make_spec("import time\ntime.sleep(0.3)\n")
    try:
        run(ex, spec, h)
    finally:
        ex.shutdown(stop_trials=True)
    assert not (spec.trial_dir / layout.SYSTEM).exists()
    monkeypatch.setenv("HYPERSWEEP_SYSTEM_INTERVAL", "-1")
    with pytest.raises(ConfigError, match=r"HYPERSWEEP_SYSTEM_INTERVAL.*'-1'"):
        LocalProcessExecutor()
    assert configured_interval({}) == 5.0
