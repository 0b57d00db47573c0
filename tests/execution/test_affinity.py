"""Local trials pinned to their cores: the trial, its children, the handle, bad cores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hypersweep.execution import LocalProcessExecutor, TrialSpec
from hypersweep.execution.local import SUPERVISOR

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or not sys.platform.startswith("linux"),
    reason="pinning needs os.sched_setaffinity (Linux)",
)

Make = Callable[..., TrialSpec]

# The trial writes its own affinity, starts a child that writes its own, and waits for it.
REPORT_AFFINITY = (
    "import json, os, subprocess, sys\n"
    "def mine():\n"
    "    return sorted(os.sched_getaffinity(0))\n"
    "if sys.argv[1:] == ['child']:\n"
    "    open('child.json', 'w').write(json.dumps(mine()))\n"
    "else:\n"
    "    open('trial.json', 'w').write(json.dumps(mine()))\n"
    "    subprocess.run([sys.executable, 'train.py', 'child'], check=True)\n"
)

ALLOWED = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
#: A core beyond every core this process may use: the kernel refuses it (EINVAL).
NOT_ALLOWED = max(ALLOWED or [0]) + 1024


def _run(
    executor: LocalProcessExecutor, spec: TrialSpec, h: Any
) -> tuple[list[int], list[int], str]:
    """Run the affinity-reporting trial: (its cores, its child's cores, its stderr)."""
    executor.launch(spec)
    exit_ = h.wait_exit(executor, spec.trial_id).exits[spec.trial_id]
    assert exit_.exit_code == 0, exit_.stderr_tail
    work = spec.workdir
    stderr = (spec.trial_dir / "stderr.log").read_text()
    return (json.loads((work / "trial.json").read_text()),
            json.loads((work / "child.json").read_text()), stderr)


@pytest.mark.parametrize("core", [c for c in (0, 1) if c in ALLOWED])
def test_a_trial_and_its_children_run_on_its_core_only(
    executor: LocalProcessExecutor, make_spec: Make, h: Any, core: int
) -> None:
    spec = replace(make_spec(REPORT_AFFINITY), cores=(core,))
    trial, child, stderr = _run(executor, spec, h)
    assert trial == [core] and child == [core]
    assert "could not pin" not in stderr
    assert sorted(os.sched_getaffinity(0)) == ALLOWED  # the controller itself is not pinned


def test_without_cores_a_trial_runs_on_the_parents_cores(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    spec = make_spec(REPORT_AFFINITY)
    handle = executor.launch(spec)
    assert handle["cores"] == []
    exit_ = h.wait_exit(executor, spec.trial_id).exits[spec.trial_id]
    assert exit_.exit_code == 0, exit_.stderr_tail
    assert json.loads((spec.workdir / "trial.json").read_text()) == ALLOWED
    assert json.loads((spec.workdir / "child.json").read_text()) == ALLOWED


def test_the_handle_and_the_trial_records_keep_the_cores(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    """An adopted trial still shows which cores it holds, from the handle or the folder."""
    cores = tuple(ALLOWED[:2])
    spec = replace(make_spec("pass\n"), cores=cores)
    handle = executor.launch(spec)
    assert handle["cores"] == list(cores)
    h.wait_exit(executor, spec.trial_id)
    assert json.loads((spec.trial_dir / "supervisor.json").read_text())["cores"] == list(cores)


def test_a_core_the_machine_does_not_allow_runs_the_trial_unpinned_and_says_so(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    spec = replace(make_spec(REPORT_AFFINITY), cores=(NOT_ALLOWED,))
    trial, child, stderr = _run(executor, spec, h)
    assert trial == ALLOWED and child == ALLOWED
    lines = [line for line in stderr.splitlines() if "could not pin" in line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"hypersweep: could not pin the trial to cores {NOT_ALLOWED} (")
    assert "unpinned" in lines[0]


def test_cores_partly_allowed_pin_to_the_allowed_part_and_say_so(
    executor: LocalProcessExecutor, make_spec: Make, h: Any
) -> None:
    core = ALLOWED[-1]
    spec = replace(make_spec(REPORT_AFFINITY), cores=(core, NOT_ALLOWED))
    trial, child, stderr = _run(executor, spec, h)
    assert trial == [core] and child == [core]
    assert f"hypersweep: could not pin the trial to cores {core},{NOT_ALLOWED}" in stderr


@pytest.mark.parametrize("bad", [-1, True, "0", 1.0, 1 << 16])
def test_a_core_that_is_no_core_number_is_refused_at_launch(
    executor: LocalProcessExecutor, make_spec: Make, bad: object
) -> None:
    spec = replace(make_spec("pass\n"), cores=(0, bad))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=rf"cores: {bad!r} is not a core number"):
        executor.launch(spec)
    assert executor.running() == set()


def _supervise(
    tmp_path: Path, *options: str, code: str = "pass"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-S", SUPERVISOR, *options, str(tmp_path), "--",
         sys.executable, "-c", code],
        capture_output=True, text=True, timeout=30, check=False,
    )


def _exits_0_on(cores: list[int]) -> str:
    """Code for ``python -c`` that exits 0 when it runs on exactly ``cores``, else 9."""
    return f"import os, sys; sys.exit(0 if sorted(os.sched_getaffinity(0)) == {cores!r} else 9)"


def test_the_supervisor_takes_cpus_and_grace_in_either_order(tmp_path: Path) -> None:
    core = str(ALLOWED[0])
    for options in (("--cpus", core, "--grace", "1"), ("--grace", "1", "--cpus", core)):
        done = _supervise(tmp_path, *options, code=_exits_0_on(ALLOWED[:1]))
        assert done.returncode == 0, done.stderr
    done = _supervise(tmp_path, "--cpus", "", code=_exits_0_on(ALLOWED))  # no cores: unpinned
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("cpus", ["x", "0,,1", "-1", "0;1"])
def test_the_supervisor_refuses_a_cpu_list_it_cannot_read(tmp_path: Path, cpus: str) -> None:
    done = _supervise(tmp_path, "--cpus", cpus)
    assert done.returncode == 2 and "usage: _supervise.py" in done.stderr
    assert not (tmp_path / "supervisor.json").exists()  # nothing was started


def test_without_sched_setaffinity_the_supervisor_skips_pinning_quietly(tmp_path: Path) -> None:
    """As on macOS: the trial runs, unpinned, and nothing is said."""
    no_affinity = (
        "import os, runpy, sys\n"
        "del os.sched_setaffinity\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", no_affinity, SUPERVISOR, "--cpus", str(ALLOWED[0]),
         str(tmp_path), "--", sys.executable, "-c", _exits_0_on(ALLOWED)],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
