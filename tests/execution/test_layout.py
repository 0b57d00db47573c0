"""One trial-folder layout: the names every writer uses agree with execution.layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypersweep.execution import _supervise, layout
from hypersweep.tracking import context


def test_the_stdlib_supervisor_spells_the_layout_names() -> None:
    # the supervisor runs as `python -I -S` and cannot import the layout: its copies must agree
    assert _supervise.EXIT_STATUS == layout.EXIT_STATUS
    assert _supervise.SUPERVISOR_RECORD == layout.SUPERVISOR_RECORD


def test_a_trials_default_outputs_folder_is_the_layouts() -> None:
    # a trial's cwd is its working copy: ./outputs there is the layout's work/outputs
    assert layout.outputs_dir("/t") == layout.outputs_of(layout.workdir("/t"))
    assert layout.outputs_of(".") == Path(context.DEFAULT_OUTPUTS)
    assert layout.outputs_dir(".").as_posix() == layout.OUTPUTS_IN_TRIAL


def test_paths_of_a_workspace() -> None:
    folder = layout.trial_dir(Path("/ws"), "HD_1_0")
    assert folder == Path("/ws/runs/HD_1_0")
    assert layout.workdir(folder) == folder / "work"
    assert layout.journal_path(folder) == folder / "metrics.jsonl"
    assert layout.journal_path(folder, 1) == folder / "metrics.a1.jsonl"
    assert layout.snapshot_dir("/ws", "HD_1") == Path("/ws/snapshots/HD_1")


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "../HD_1_0", "a\0b"])
def test_an_id_is_one_folder_name(bad: str) -> None:
    with pytest.raises(ValueError, match="not a single folder name"):
        layout.trial_dir("/ws", bad)
    with pytest.raises(ValueError, match="not a single folder name"):
        layout.snapshot_dir("/ws", bad)
