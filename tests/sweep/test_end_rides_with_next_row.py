"""The end that frees a slot is written in the transaction of the row of the trial that takes
the slot (`Store.create_trial` with the held records): one commit a trial rather than two, and
still on record before the slot is used."""

from __future__ import annotations

from typing import Any

import pytest

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)
from hypersweep.controller import SweepController
from hypersweep.execution import LocalProcessExecutor
from hypersweep.store import Status, TrialRecord

pytestmark = pytest.mark.slow

LOGS_X = """
import argparse
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
Run.get_context().log("score", a.x)
"""


def test_each_end_is_saved_with_the_next_trials_row(
        sqlite_workspace: Workspace, make_source: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = sqlite_workspace.store
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=make_source(LOGS_X), script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=3),
        primary_metric_name="score", primary_metric_goal="maximize", max_total_runs=4,
        max_concurrent_runs=1)  # one slot: each trial's row follows the end that freed it
    run = Experiment(sqlite_workspace, "rides").submit(config, start=False)
    created: dict[int, list[tuple[int, Status, list[float]]]] = {}
    saved_ends: list[int] = []
    create_trial, save_trials = store.create_trial, store.save_trials

    def spy_create(trial: TrialRecord, owner: str | None = None, **held: Any) -> bool:
        points = held.get("points") or {}
        created[trial.index] = [
            (r.index, r.status, [p.value for p in points.get(r.id, [])])
            for r in held.get("records", ())]
        # what rode with the row is on record once the row is
        assert create_trial(trial, owner, **held)
        for record in held.get("records", ()):
            assert store.get_trial(record.id).status == record.status
        return True

    def spy_save(records: Any, *args: Any, **kwargs: Any) -> None:
        saved_ends.extend(r.index for r in records if r.end_time is not None)
        save_trials(records, *args, **kwargs)

    monkeypatch.setattr(store, "create_trial", spy_create)
    monkeypatch.setattr(store, "save_trials", spy_save)
    controller = SweepController(store, LocalProcessExecutor(), run.id, sqlite_workspace.path)
    # the proposal is always taken in the step that saw the end (no timing in the test)
    controller.proposal_grace = 60.0
    try:
        controller.run()
    finally:
        controller.executor.shutdown()

    trials = store.list_trials(run.id)
    assert [t.status for t in trials] == [Status.COMPLETED] * 4
    assert sorted(created) == [0, 1, 2, 3]
    assert created[0] == []
    for index in (1, 2, 3):
        ((ended, status, values),) = created[index]
        assert (ended, status) == (index - 1, Status.COMPLETED)
        assert values == [trials[index - 1].params["x"]]  # its metric came with it
    assert saved_ends == [3]  # only the last end is written on its own, when the sweep ends
