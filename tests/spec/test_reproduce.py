"""One reproduce line: each trial kind says how one of its trials runs again, and every face
(``hypersweep best``, the notebook summary, the viz report, the dashboard) prints that line.

A sweep of each kind is written straight into a store with a best trial whose recorded
arguments and values need quoting; every face must show exactly what the trial kind says.
"""

from __future__ import annotations

import html
import shlex
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hypersweep import Experiment, HyperDriveRun, RandomParameterSampling, Workspace, uniform
from hypersweep.api.reproduce import reproduce_command
from hypersweep.cli._format import best_summary
from hypersweep.spec import (
    CommandTrial,
    FunctionTrial,
    Limits,
    Objective,
    ScriptTrial,
    SweepSpec,
    TrialDefinition,
)
from hypersweep.store import MetricPoint, Status, SweepRecord, TrialRecord, trial_id
from hypersweep.viz.report import sweep_html

SOURCE = "/my src/it's here"  # a space and a quote: the folder must be quoted
PARAMS = {"lr": 0.5, "name": "a b;c"}

TRIALS: dict[str, tuple[TrialDefinition, list[str], str]] = {
    "script": (ScriptTrial(SOURCE, "train.py", ("--epochs", "3")),
               ["--epochs", "3", "--lr", "0.5", "--name", "a b;c"],
               f"cd {shlex.quote(SOURCE)} && python train.py --epochs 3 --lr 0.5 "
               "--name 'a b;c'"),
    "command": (CommandTrial("python t.py --name ${{search_space.name}}", SOURCE),
                ["python t.py --name 'a b;c'"],
                f"cd {shlex.quote(SOURCE)} && python t.py --name 'a b;c'"),
    "function": (FunctionTrial("objective_fn"), [],
                 'objective_fn({"lr": 0.5, "name": "a b;c"}, run)'),
}


def _sweep_of(kind: str, tmp_path: Path) -> HyperDriveRun:
    trial, arguments, _ = TRIALS[kind]
    workspace = Workspace(tmp_path, store="memory://")
    store = workspace.store
    spec = SweepSpec(RandomParameterSampling({"lr": uniform(0, 1)}, seed=0),
                     (Objective("loss", "minimize"),), trial, limits=Limits(max_total_trials=2))
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    sweep_id = f"HD_{kind}"
    store.create_sweep(SweepRecord(id=sweep_id, experiment="repro", status=Status.COMPLETED,
                                   config=spec.to_dict(), created_time=now))
    for index, (params, loss) in enumerate([(PARAMS, 0.1), ({"lr": 0.9, "name": "x"}, 0.7)]):
        tid = trial_id(sweep_id, index)
        store.create_trial(TrialRecord(
            tid, sweep_id, index, params, Status.COMPLETED, now,
            arguments=arguments if index == 0 else ["--lr", "0.9"]))
        store.add_metrics(tid, [MetricPoint(0, 0, "loss", 0, loss, None, "scalar", now)])
    return HyperDriveRun(Experiment(workspace, "repro"), sweep_id)


@pytest.mark.parametrize("kind", sorted(TRIALS))
def test_each_trial_kind_says_how_its_trial_runs_again(kind: str) -> None:
    trial, arguments, expected = TRIALS[kind]
    assert trial.reproduce_command(arguments, PARAMS) == expected


@pytest.mark.parametrize("kind", sorted(TRIALS))
def test_every_face_prints_the_line_the_trial_kind_gives(kind: str, tmp_path: Path) -> None:
    run = _sweep_of(kind, tmp_path)
    _, arguments, expected = TRIALS[kind]
    assert reproduce_command(run.spec, arguments, PARAMS) == expected
    assert reproduce_command(run.spec.trial, arguments, PARAMS) == expected
    best = best_summary(run)
    assert best is not None and best["command"] == expected  # hypersweep best
    escaped = html.escape(expected)
    assert f"reproduce the best: <code>{escaped}</code>" in run._repr_html_()  # notebook
    assert f"reproduce: <code>{escaped}</code>" in sweep_html(run, charts=False)  # viz
