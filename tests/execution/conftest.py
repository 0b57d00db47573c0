"""Helpers for the execution tests: real trial processes in tmp_path."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
if SRC not in sys.path:  # the package may not be installed in the test environment
    sys.path.insert(0, SRC)

from hypersweep.execution import LocalProcessExecutor, TrialExit, TrialSpec  # noqa: E402
from hypersweep.tracking import JournalRecord  # noqa: E402


@pytest.fixture
def executor() -> Iterator[LocalProcessExecutor]:
    ex = LocalProcessExecutor(default_grace=1.0)
    yield ex
    ex.shutdown(stop_trials=True)


@pytest.fixture
def make_spec(tmp_path: Path) -> Callable[..., TrialSpec]:
    """``make_spec(code, *args, trial_id=..., env=...)``: a trial running ``code`` as train.py."""
    counter = [0]

    def make(
        code: str, *args: str, trial_id: str | None = None, env: dict[str, str] | None = None
    ) -> TrialSpec:
        n = counter[0]
        counter[0] += 1
        tid = trial_id or f"HD_test_{n}"
        workdir = tmp_path / f"work{n}"
        (workdir / "outputs").mkdir(parents=True)
        (workdir / "train.py").write_text(code)
        full_env = {"PYTHONPATH": SRC, "HYPERSWEEP_SWEEP_ID": "HD_test"}
        full_env.update(env or {})
        return TrialSpec(
            trial_id=tid,
            argv=[sys.executable, "train.py", *args],
            env=full_env,
            workdir=workdir,
            trial_dir=tmp_path / f"trial{n}",
        )

    return make


@dataclass
class Collected:
    records: dict[str, list[JournalRecord]] = field(default_factory=dict)
    exits: dict[str, TrialExit] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # "rec:<id>" / "exit:<id>" per poll


def drain(
    ex: LocalProcessExecutor,
    until: Callable[[Collected], bool],
    timeout: float = 20.0,
    into: Collected | None = None,
) -> Collected:
    """Poll until ``until(collected)`` holds; fail the test after ``timeout`` seconds."""
    got = into or Collected()
    deadline = time.monotonic() + timeout
    while True:
        recs, exits = ex.poll()
        for tid, rs in recs.items():
            got.records.setdefault(tid, []).extend(rs)
            got.order.append("rec:" + tid)
        for e in exits:
            assert e.trial_id not in got.exits, f"{e.trial_id} reported twice"
            got.exits[e.trial_id] = e
            got.order.append("exit:" + e.trial_id)
        if until(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; got {got}")
        time.sleep(0.01)


def wait_exit(ex: LocalProcessExecutor, trial_id: str, timeout: float = 20.0) -> Collected:
    return drain(ex, lambda g: trial_id in g.exits, timeout)


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rindex(b")") + 2 :].split()[0] not in (b"Z", b"X")


def wait_for_file(path: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().endswith("\n"):
            return path.read_text()
        time.sleep(0.01)
    raise AssertionError(f"{path} never appeared")


@pytest.fixture
def h() -> object:
    """The helper functions above, for test modules (which cannot import a conftest)."""
    import types

    return types.SimpleNamespace(
        drain=drain,
        wait_exit=wait_exit,
        pid_alive=pid_alive,
        wait_for_file=wait_for_file,
        Collected=Collected,
    )
