"""``Run.get_details()`` names the devices and cores a trial held under its own key, only when
it held some; Azure's keys are untouched."""

from __future__ import annotations

from pathlib import Path

from tests.dashboard.handmade_sweeps import make_sweep

from hypersweep import Run, Workspace
from hypersweep.store import trial_id

AZURE_KEYS = {"runId", "parentRunId", "status", "startTimeUtc", "endTimeUtc", "properties",
              "runDefinition", "logFiles", "exitCode"}


def test_details_carry_the_placement_only_when_there_is_one(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    placements = [{"gpus": [2], "cores": [4, 5]}, {"cores": [3]}, None,
                  {"gpus": [], "cores": []}]
    sweep_id = make_sweep(workspace.store, [0.1] * 4, placements=placements)
    details = [Run(workspace, trial_id(sweep_id, i)).get_details() for i in range(4)]
    assert details[0]["placement"] == {"gpus": [2], "cores": [4, 5]}
    assert details[1]["placement"] == {"gpus": [], "cores": [3]}
    for held_nothing in details[2:]:
        assert set(held_nothing) == AZURE_KEYS
    assert set(details[0]) - AZURE_KEYS == {"placement"}
