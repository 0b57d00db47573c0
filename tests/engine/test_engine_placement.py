"""The engine places trials: room is bounded by free devices, and held devices stay held."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hypersweep.engine import SweepEngine
from hypersweep.execution.placement import Placement
from hypersweep.sampling import GridParameterSampling
from hypersweep.space import choice
from hypersweep.spec import FunctionTrial, Limits, Objective, Resources, SweepSpec
from hypersweep.store import Status

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def engine(gpu: float, cpu: int | None = None, concurrent: int = 16,
           gpus: int = 4, cores: int = 8) -> SweepEngine:
    spec = SweepSpec(GridParameterSampling({"x": choice(*range(20))}),
                     (Objective("y", "maximize"),), FunctionTrial(),
                     limits=Limits(max_total_trials=20, max_concurrent_trials=concurrent),
                     resources=Resources(gpu=gpu, cpu=cpu))
    return SweepEngine(spec, "HD_p", clock=lambda: 0.0,
                       placement=Placement(range(gpus), range(cores)))


@pytest.mark.parametrize("gpu, cpu, concurrent, room", [
    (1, None, 16, 4), (0.5, None, 16, 8), (2, None, 16, 2), (0.25, 2, 16, 4),
    (1, None, 3, 3), (0, 1, 16, 8)])
def test_room_is_the_smaller_of_concurrency_and_what_is_free(
        gpu: float, cpu: int | None, concurrent: int, room: int) -> None:
    sweep = engine(gpu, cpu, concurrent)
    assert sweep.room() == room
    trials = [sweep.new_trial(p, NOW) for p in sweep.propose(room)]
    assert sweep.room() == 0
    sweep.end(trials[0], ok=True, when=NOW)
    assert sweep.room() == 1
    assert trials[0].record.placement is not None


def test_each_trial_records_its_own_devices_and_cores() -> None:
    sweep = engine(1, 2)
    first, second = (sweep.new_trial(p, NOW) for p in sweep.propose(2))
    assert first.record.placement == {"gpus": [0], "cores": [0, 1]}
    assert second.record.placement == {"gpus": [1], "cores": [2, 3]}


def test_a_failed_or_stopped_trial_frees_its_devices_only_when_it_ends() -> None:
    sweep = engine(2, gpus=4)
    first, second = (sweep.new_trial(p, NOW) for p in sweep.propose(2))
    assert sweep.room() == 0
    (stop,) = sweep.stop_all("user_cancel", "stopped")[:1]
    assert stop.trial.record.status == Status.CANCELED and sweep.room() == 0  # still running
    sweep.end(first, ok=False, when=NOW)
    sweep.fail(second, "launch failed", NOW)
    assert sweep.room() == 2


def test_a_restored_running_trial_keeps_its_devices() -> None:
    before = engine(1)
    running = [before.new_trial(p, NOW) for p in before.propose(3)]
    before.end(running[1], ok=True, when=NOW)
    after = engine(1)  # a new controller reads the records back
    for trial in running:
        after.add(trial.record)
    after.restored(after.trials[running[1].id])
    assert after.room() == 2  # devices 0 and 2 are still held
    new = [after.new_trial(p, NOW) for p in after.propose(2)]
    assert sorted(t.record.placement["gpus"][0] for t in new) == [1, 3]
