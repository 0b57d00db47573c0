"""The live view of a sweep with no trial budget (``Sweep`` without ``max_total_runs``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypersweep import RandomParameterSampling, Sweep, Workspace, uniform


def test_wait_with_output_on_a_sweep_without_budget(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = Sweep(RandomParameterSampling({"x": uniform(0, 1)}, seed=3), "loss", "minimize",
                  workspace=Workspace(str(tmp_path)))
    for _ in range(3):
        trial = sweep.ask()
        assert trial is not None
        sweep.tell(trial, (trial.params["x"] - 0.5) ** 2)
    sweep.finish()
    details = sweep.result.wait_for_completion(show_output=True)
    assert details["status"] == "Completed"
    shown = capsys.readouterr().out
    assert "3 trials" in shown and "no trial budget" in shown
