"""The controller keeps watching trials while the sampler thinks (it is asked on a thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.sweep.conftest import wait_until

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    HyperDriveRun,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)
from hypersweep.controller import SweepController
from hypersweep.controller.proposals import Proposals
from hypersweep.execution import LocalProcessExecutor
from hypersweep.sampling import FinishedTrial

TRIAL = """
import argparse
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--x", type=float)
Run.get_context().log("score", p.parse_args().x)
"""


class GatedSampler:
    """Answers the first request at once; later ones only when the test opens the gate."""

    def __init__(self, inner: RandomParameterSampling) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.waiting = threading.Event()
        self.calls = 0

    def propose(self, n: int, finished: Sequence[FinishedTrial] = (),
                pending: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        self.calls += 1
        if self.calls > 1:
            self.waiting.set()
            assert self.gate.wait(60), "the test never opened the gate"
        return self.inner.propose(n, finished, pending)


def stored_sweep(tmp_path: Path, source: Path, sampler: Any, **limits: int
                 ) -> tuple[Workspace, HyperDriveRun, SweepController]:
    """A sweep recorded but not started, and a controller for it that asks ``sampler``."""
    workspace = Workspace(tmp_path / "ws")
    run = Experiment(workspace, "sampler").submit(HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=3),
        primary_metric_name="score", primary_metric_goal="maximize", **limits), start=False)
    controller = SweepController(workspace.store, LocalProcessExecutor(), run.id, workspace.path)
    controller._proposals = Proposals(sampler)
    return workspace, run, controller


def test_trials_finish_and_are_recorded_while_a_proposal_is_pending(
        tmp_path: Path, make_source: Callable[[str], Path]) -> None:
    sampler = GatedSampler(RandomParameterSampling({"x": uniform(0, 1)}, seed=3))
    workspace, run, controller = stored_sweep(tmp_path, make_source(TRIAL), sampler,
                                              max_total_runs=3, max_concurrent_runs=2)
    thread = threading.Thread(target=controller.run, daemon=True)
    thread.start()
    try:
        assert sampler.waiting.wait(60), "the controller never asked for a third trial"
        store = workspace.store

        def both_recorded() -> bool:
            trials = store.list_trials(run.id)
            return (len(trials) == 2 and all(t.status.value == "Completed" for t in trials)
                    and all(store.get_metrics(t.id, "score") for t in trials))

        # The sampler is stuck: the loop must still record exits and metrics.
        wait_until(both_recorded, timeout=60.0)
        assert thread.is_alive() and sampler.calls == 2
    finally:
        sampler.gate.set()
        thread.join(timeout=60)
    assert not thread.is_alive()
    assert run.get_status() == "Completed"
    assert len(workspace.store.list_trials(run.id)) == 3


def test_a_sampler_error_stops_the_controller_with_that_error(
        tmp_path: Path, make_source: Callable[[str], Path]) -> None:
    class Broken:
        def propose(self, *args: Any) -> list[dict[str, Any]]:
            raise ValueError("the model exploded")

    workspace, run, controller = stored_sweep(tmp_path, make_source(TRIAL), Broken(),
                                              max_total_runs=2)
    with pytest.raises(ValueError, match="the model exploded"):
        controller.run()
    assert any("the model exploded" in w for w in workspace.store.get_sweep(run.id).warnings)
