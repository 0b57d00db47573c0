"""Process liveness: a pid names one process only together with its start time."""

from __future__ import annotations

import os
import select
import subprocess
import sys

import pytest

from hypersweep.execution.processes import (
    boot_id,
    open_pidfd,
    process_start_ticks,
    same_process_alive,
)

linux = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")


@linux
def test_a_child_is_alive_until_it_ends_and_a_zombie_counts_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    ticks = process_start_ticks(child.pid)
    assert ticks is not None
    assert same_process_alive(child.pid, ticks)
    assert same_process_alive(child.pid, None)
    assert not same_process_alive(child.pid, ticks + 1)  # the same pid, started another time
    pidfd = open_pidfd(child.pid)
    assert child.stdin is not None
    child.stdin.close()  # the child reads EOF and ends; not reaped yet: a zombie
    if pidfd is not None:
        assert select.select([pidfd], [], [], 30)[0] == [pidfd]
        os.close(pidfd)
        assert not same_process_alive(child.pid, ticks)
    child.wait()
    assert not same_process_alive(child.pid, ticks)
    assert process_start_ticks(child.pid) is None


def test_no_pid_is_never_alive() -> None:
    assert not same_process_alive(0, None)
    assert not same_process_alive(-5, None)


@linux
def test_boot_id_names_this_boot() -> None:
    assert boot_id() == boot_id() and boot_id()


def test_waiting_works_with_descriptors_past_1023() -> None:
    """select(2) refuses descriptor 1024 and above: a busy controller has them."""
    import os

    from hypersweep.execution.processes import wait_readable

    read, write = os.pipe()
    high = os.dup2(read, 1500)
    try:
        assert wait_readable([high], 0.0) == []
        os.write(write, b"x")
        assert wait_readable([high], 1.0) == [high]
    finally:
        for fd in (read, write, high):
            os.close(fd)
