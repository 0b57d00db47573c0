"""GPU discovery against a fake ``nvidia-smi`` on PATH, and placement of trials on devices.

No GPU here: the fake prints what a four-GPU machine's driver prints.
"""

from __future__ import annotations

import itertools
import os
import random
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from hypersweep.errors import ConfigError
from hypersweep.execution.gpus import Gpu, discover_gpus
from hypersweep.execution.placement import Placement, Slot, check_request

FOUR_GPUS = """\
0, GPU-11111111-aaaa, NVIDIA A100-SXM4-40GB, 40960
1, GPU-22222222-bbbb, NVIDIA A100-SXM4-40GB, 40960
2, GPU-33333333-cccc, NVIDIA A100-SXM4-40GB, 40960
3, GPU-44444444-dddd, NVIDIA A100-SXM4-40GB, 40960
"""


def fake_nvidia_smi(folder: Path, output: str = FOUR_GPUS, exit_code: int = 0) -> dict[str, str]:
    """A PATH whose ``nvidia-smi`` prints ``output`` for the query it is given."""
    folder.mkdir(exist_ok=True)
    program = folder / "nvidia-smi"
    (folder / "out.txt").write_text(output)
    program.write_text(f"#!/bin/sh\ncase \"$1\" in --query-gpu=*) cat '{folder}/out.txt';; "
                       f"*) exit 9;; esac\nexit {exit_code}\n")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{folder}{os.pathsep}/usr/bin:/bin"}


def test_nvidia_smi_lists_the_devices(tmp_path: Path) -> None:
    gpus = discover_gpus(fake_nvidia_smi(tmp_path / "bin"))
    assert [g.index for g in gpus] == [0, 1, 2, 3]
    assert gpus[0] == Gpu(0, "GPU-11111111-aaaa", "NVIDIA A100-SXM4-40GB", 40960)


def test_cuda_visible_devices_limits_what_the_sweep_may_use(tmp_path: Path) -> None:
    env = fake_nvidia_smi(tmp_path / "bin")
    assert [g.index for g in discover_gpus({**env, "CUDA_VISIBLE_DEVICES": "3,1"})] == [3, 1]
    assert [g.index for g in discover_gpus({**env, "CUDA_VISIBLE_DEVICES": "GPU-2222"})] == [1]
    assert discover_gpus({**env, "CUDA_VISIBLE_DEVICES": ""}) == []
    assert discover_gpus({**env, "CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_hypersweep_gpus_overrides_everything(tmp_path: Path) -> None:
    env = {**fake_nvidia_smi(tmp_path / "bin"), "CUDA_VISIBLE_DEVICES": "0"}
    assert [g.index for g in discover_gpus({**env, "HYPERSWEEP_GPUS": "1, 2"})] == [1, 2]
    with pytest.raises(ConfigError, match="HYPERSWEEP_GPUS: a device is listed twice"):
        discover_gpus({**env, "HYPERSWEEP_GPUS": "1,1"})


@pytest.mark.parametrize("output, code", [("", 0), ("No devices were found\n", 0),
                                          ("0, GPU-x, A100, 40960\n", 9)])
def test_a_driver_without_devices_gives_none(tmp_path: Path, output: str, code: int) -> None:
    assert discover_gpus(fake_nvidia_smi(tmp_path / "bin", output, code)) == []


def test_no_nvidia_smi_gives_none(tmp_path: Path) -> None:
    assert discover_gpus({"PATH": str(tmp_path)}) == []


def test_asking_more_than_the_machine_has_is_refused_up_front() -> None:
    with pytest.raises(ConfigError, match=r"asks for 5 GPUs; this sweep may use 4"):
        check_request(5, None, [0, 1, 2, 3], range(8))
    with pytest.raises(ConfigError, match=r"fraction of one GPU or whole GPUs \(got 1.5\)"):
        check_request(1.5, None, [0, 1, 2, 3], range(8))
    with pytest.raises(ConfigError, match=r"resources_per_trial.cpu: .* 16 cores.* 8"):
        check_request(0, 16, [0], range(8))
    check_request(0.25, 8, [0], range(8))  # fits


@pytest.mark.parametrize("gpu, at_once", [(1, 4), (0.5, 8), (2, 2), (0.3, 12)])
def test_devices_are_never_shared_beyond_what_fractions_allow(gpu: float, at_once: int) -> None:
    """Trials start and end in a seeded random order; at every moment no device carries
    more than one whole trial's worth, and as many trials run as the devices allow."""
    placement = Placement(gpus=[0, 1, 2, 3])
    assert placement.capacity(gpu=gpu) == at_once
    rng = random.Random(7)
    running: dict[str, Slot] = {}
    most = 0
    for n in itertools.count():
        if n == 400:
            break
        if running and (rng.random() < 0.4 or len(running) == at_once):
            trial = rng.choice(sorted(running))
            placement.release(trial)
            del running[trial]
            continue
        slot = placement.place(f"t{n}", gpu=gpu)
        assert slot is not None, "a trial did not fit although the machine had room"
        assert len(slot.gpus) == max(1, int(gpu))
        running[f"t{n}"] = slot
        most = max(most, len(running))
        load = {g: 0.0 for g in range(4)}
        for held in running.values():
            for device in held.gpus:
                load[device] += min(gpu, 1.0)
        assert max(load.values()) <= 1.0 + 1e-9
    assert most == at_once
    for trial in running:
        placement.release(trial)
    full = [placement.place(f"full_{i}", gpu=gpu) for i in range(at_once)]
    assert None not in full and placement.place("one_too_many", gpu=gpu) is None


def test_cores_are_handed_out_whole_and_back() -> None:
    placement = Placement(cores=[0, 1, 2, 3])
    first, second = placement.place("a", cpu=1), placement.place("b", cpu=3)
    assert first == Slot((), (0,)) and second == Slot((), (1, 2, 3))
    assert placement.place("c", cpu=1) is None
    placement.release("a")
    assert placement.place("c", cpu=1) == Slot((), (0,))


def test_an_adopted_trial_keeps_its_devices_and_no_new_one_gets_them() -> None:
    """After a restart the driver re-holds what each running trial has; new trials get the
    rest, never a device still in use."""
    placement = Placement(gpus=[0, 1, 2, 3], cores=range(8))
    placement.hold("adopted_1", Slot((1,), (0, 1)), gpu=1)
    placement.hold("adopted_3", Slot((3,), (2, 3)), gpu=1)
    new = [placement.place(f"new_{i}", gpu=1, cpu=2) for i in range(3)]
    assert new[0] == Slot((0,), (4, 5)) and new[1] == Slot((2,), (6, 7)) and new[2] is None
    placement.release("adopted_3")
    assert placement.place("new_2", gpu=1) == Slot((3,), ())


def test_placing_the_same_trial_twice_gives_its_slot_again() -> None:
    placement = Placement(gpus=[0, 1])
    assert placement.place("t", gpu=1) == placement.place("t", gpu=1) == Slot((0,), ())
    assert placement.place("u", gpu=1) == Slot((1,), ())


class FakeNvml:
    """What NVML's Python binding answers on a machine with two GPUs (no such machine here)."""

    def __init__(self, starts: bool = True) -> None:
        self.starts = starts
        self.shut = False

    def nvmlInit(self) -> None:
        if not self.starts:
            raise RuntimeError("NVML Shared Library Not Found")

    def nvmlShutdown(self) -> None:
        self.shut = True

    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetUUID(self, handle: int) -> bytes:
        return f"GPU-{handle}{handle}{handle}".encode()  # bytes, as releases before 11.5 did

    def nvmlDeviceGetName(self, handle: int) -> str:
        return "NVIDIA L4"

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        return type("Memory", (), {"total": 23034 << 20})()


def test_nvml_lists_the_devices_when_installed(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    env = fake_nvidia_smi(tmp_path / "bin")  # four devices: NVML's word wins
    assert discover_gpus(env) == [Gpu(0, "GPU-000", "NVIDIA L4", 23034),
                                  Gpu(1, "GPU-111", "NVIDIA L4", 23034)]
    assert nvml.shut
    assert [g.index for g in discover_gpus({**env, "CUDA_VISIBLE_DEVICES": "GPU-1"})] == [1]


def test_nvml_without_a_driver_falls_back_to_nvidia_smi(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(starts=False))
    assert [g.index for g in discover_gpus(fake_nvidia_smi(tmp_path / "bin"))] == [0, 1, 2, 3]


def test_the_real_nvml_binding_on_a_machine_without_a_driver(tmp_path: Path) -> None:
    pytest.importorskip("pynvml", reason="nvidia-ml-py is not installed (extra: gpu)")
    if Path("/proc/driver/nvidia").exists():
        pytest.skip("this machine has an NVIDIA driver: NVML answers for real")
    assert [g.index for g in discover_gpus(fake_nvidia_smi(tmp_path / "bin"))] == [0, 1, 2, 3]
    assert discover_gpus({"PATH": str(tmp_path)}) == []
