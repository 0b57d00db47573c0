"""Sweeps with several objectives and constraints: outcomes, the Pareto front, best, resume."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sweep.conftest import wait_until

from hypersweep import (
    AshaPolicy,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    RandomParameterSampling,
    ScriptRunConfig,
    Sweep,
    Workspace,
    choice,
    tune,
    uniform,
)
from hypersweep.spec import Constraint, Objective, outcomes_of

OBJECTIVES = (Objective("acc", "maximize"), Objective("ms", "minimize"))


def brute_front(rows: list[tuple[str, str, float | None, float | None, float | None]],
                limit: float) -> set[str]:
    """Trials (id, status, acc, ms, mem) no other completed feasible trial dominates."""
    eligible = [r for r in rows if r[1] == "Completed" and r[2] is not None and r[3] is not None
                and r[4] is not None and r[4] <= limit]

    def dominates(a: Any, b: Any) -> bool:
        return a[2] >= b[2] and a[3] <= b[3] and (a[2] > b[2] or a[3] < b[3])

    return {r[0] for r in eligible if not any(dominates(o, r) for o in eligible)}


values = st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, 2.0]),
                   st.floats(-5, 5, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Completed", "Failed", "Canceled"]),
                          values, values, values), max_size=25))
def test_the_front_is_the_brute_force_one_and_never_infeasible(rows: list[Any]) -> None:
    trials = [(f"t{i}", i, status) for i, (status, *_rest) in enumerate(rows)]
    series: dict[str, dict[str, list[float]]] = {"acc": {}, "ms": {}, "mem": {}}
    for i, (_, acc, ms, mem) in enumerate(rows):
        for name, value in (("acc", acc), ("ms", ms), ("mem", mem)):
            series[name][f"t{i}"] = [] if value is None else [math.nan, 7.0, value]
    outcomes = outcomes_of(trials, OBJECTIVES, (Constraint("mem", max=1.0),), series)
    expected = brute_front([(f"t{i}", s, a, m, mem) for i, (s, a, m, mem) in enumerate(rows)],
                           1.0)
    assert {o.trial_id for o in outcomes if o.on_front} == expected
    assert all(o.feasible for o in outcomes if o.on_front)


TRIAL = """
import argparse
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--width", type=float)
a = p.parse_args()
run = Run.get_context()
for epoch in range(3):  # the last epoch's values are the trial's outcome
    run.log("mem", a.width * 100 + epoch)
    run.log("ms", a.width * 10 - epoch)
    run.log("acc", 1 - 1 / (a.width + epoch + 1))
"""


@pytest.mark.slow
def test_a_script_sweep_with_two_objectives_and_a_memory_limit(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRIAL)
    config = HyperDriveConfig(
        GridParameterSampling({"width": choice(1, 2, 3, 4, 5)}),
        objectives=[("acc", "maximize"), ("ms", "minimize")],
        constraints=[{"metric": "mem", "max": 402}], max_total_runs=5,
        max_concurrent_runs=2, run_config=ScriptRunConfig(tmp_path / "src", "train.py"))
    workspace = Workspace(tmp_path / "ws")
    run = Experiment(workspace, "pareto").submit(config)
    run.wait_for_completion()
    assert run.get_status() == "Completed"
    widths = {t.id: t.params["width"] for t in workspace.store.list_trials(run.id)}
    front = [widths[r.id] for r in run.get_pareto_front()]
    # wider is more accurate and slower: every feasible width is a trade-off; 5 uses 502 MB
    assert front == [4, 3, 2, 1]
    outcomes = {widths[o.trial_id]: o for o in run.outcomes()}
    assert outcomes[5].feasible is False and outcomes[5].violations == (100.0,)
    assert outcomes[2].values == {"acc": 1 - 1 / 5, "ms": 18.0}  # the last epoch's
    best = run.get_best_run_by_primary_metric()
    assert best is not None and widths[best.id] == 4  # the best feasible on accuracy
    assert workspace.store.get_sweep(run.id).properties["best_child_run_id"] == best.id


def objective(params: dict[str, Any], run: Any) -> dict[str, float]:
    x, y = params["x"], params["y"]
    return {"f1": x, "f2": (1 + y) * (1 - math.sqrt(x)), "size": y}


def test_tune_with_two_objectives_is_deterministic_and_resumes(tmp_path: Path) -> None:
    def once(workspace: Workspace | None = None) -> Any:
        return tune(objective, RandomParameterSampling({"x": uniform(0, 1), "y": uniform(0, 1)},
                                                       seed=3),
                    objectives=[("f1", "minimize"), ("f2", "minimize")],
                    constraints=[{"metric": "size", "max": 0.5}], max_total_runs=12,
                    workspace=workspace)

    first, second = once(), once()
    assert first.get_hyperparameters() != {}  # ran
    assert [r.id.rsplit("_", 1)[1] for r in first.get_pareto_front()] == \
        [r.id.rsplit("_", 1)[1] for r in second.get_pareto_front()]
    front = first.outcomes()
    assert all(o.feasible for o in front if o.on_front)
    assert any(not o.feasible for o in front)  # the constraint bites
    workspace = Workspace(tmp_path / "ws")
    stored = once(workspace)
    again = tune(objective, workspace=workspace, resume=stored.id, max_total_runs=20)
    assert len(again.get_hyperparameters()) == 20
    assert again.spec.objectives == stored.spec.objectives
    assert again.spec.constraints == stored.spec.constraints


def test_the_engine_gives_samplers_every_objective_and_the_violations() -> None:
    sweep = Sweep(GridParameterSampling({"x": choice(1.0, 2.0)}),
                  objectives=[("a", "maximize"), ("b", "minimize")],
                  constraints=[{"metric": "c", "min": 1.5}], max_total_runs=2)
    for trial in iter(sweep.ask, None):
        x = trial.params["x"]
        sweep.tell(trial, {"a": x, "b": 10 * x, "c": x})
    finished, _ = sweep.engine.history()
    assert [(t.values, t.violations, t.feasible) for t in finished] == [
        ((1.0, -10.0), (0.5,), False), ((2.0, -20.0), (-0.5,), True)]
    assert sweep.finish().get_best_run_by_primary_metric() is not None
    assert sweep.engine.best() is not None and sweep.engine.best().record.params == {"x": 2.0}


def test_one_objective_changes_nothing() -> None:
    sweep = Sweep(GridParameterSampling({"x": choice(1.0, 2.0)}), "a", "maximize",
                  max_total_runs=2)
    for trial in iter(sweep.ask, None):
        for value in (trial.params["x"], 0.0):
            trial.log("a", value)
        sweep.tell(trial)
    finished, _ = sweep.engine.history()
    assert [(t.score, t.values, t.violations) for t in finished] == [
        (1.0, (1.0,), None), (2.0, (2.0,), None)]  # the best value, as always
    assert sweep.engine.tracked == frozenset()


@pytest.mark.parametrize("kwargs, message", [
    ({"objectives": [("a", "maximize")], "primary_metric_goal": "minimize"},
     "primary_metric_goal: 'a' is to maximize, as objectives say"),
    ({"objectives": "a"}, "objectives: expected a list of objectives"),
])
def test_face_mistakes(kwargs: dict[str, Any], message: str) -> None:
    from hypersweep.errors import ConfigError

    with pytest.raises(ConfigError, match=f"^{message}"):
        Sweep(GridParameterSampling({"x": choice(1.0)}), **kwargs)


ASHA_TRIAL = """
import argparse, time
from hypersweep import Run
p = argparse.ArgumentParser()
p.add_argument("--q", type=int)
a = p.parse_args()
# q 0-2: the trade-offs; 3-7: each worse than one of them on both; 8: best of all, but too big
acc = [0.9, 0.8, 0.7, 0.85, 0.75, 0.65, 0.6, 0.5, 0.99][a.q]
ms = [30, 20, 10, 35, 25, 15, 40, 50, 5][a.q]
run = Run.get_context()
for epoch in range(4):
    run.log("mem", 900 if a.q == 8 else 100)
    run.log("ms", ms)
    run.log("acc", acc)  # the primary metric last: the policy judges each epoch's values
    time.sleep(0.3)
"""


@pytest.mark.slow
def test_multi_objective_asha_on_real_processes(tmp_path: Path) -> None:
    # One at a time: asynchronous ASHA's decisions depend on the order trials reach a rung
    # (three trade-offs at a rung of three keep one), and the order must not depend on load.
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(ASHA_TRIAL)
    config = HyperDriveConfig(
        GridParameterSampling({"q": choice(*range(9))}),
        objectives=[("acc", "maximize"), ("ms", "minimize")],
        constraints=[{"metric": "mem", "max": 512}], max_total_runs=9, max_concurrent_runs=1,
        policy=AshaPolicy(min_resource=1),
        run_config=ScriptRunConfig(tmp_path / "src", "train.py"))
    workspace = Workspace(tmp_path / "ws")
    run = Experiment(workspace, "mo-asha").submit(config)
    run.wait_for_completion()
    trials = {t.params["q"]: t for t in workspace.store.list_trials(run.id)}
    assert [trials[q].status.value for q in (0, 1, 2)] == ["Completed"] * 3
    for q in range(3, 9):
        assert trials[q].status.value == "Canceled", q
        assert trials[q].termination_reason == "early_termination"
        detail = trials[q].termination_detail or {}
        assert "at rung 0" in detail["explanation"], detail
        assert (detail.get("rank") is None) if q == 8 else detail["rank"] >= 1  # dominated
    assert "infeasible" in trials[8].termination_detail["explanation"]
    assert sorted(r.id for r in run.get_pareto_front()) == sorted(trials[q].id for q in range(3))


def test_a_warm_start_carries_every_objective_and_the_violations() -> None:
    def sweep(**more: Any) -> Sweep:
        return Sweep(GridParameterSampling({"x": choice(1.0, 2.0)}),
                     objectives=[("a", "maximize"), ("b", "minimize")],
                     constraints=[{"metric": "c", "max": 1.5}], max_total_runs=2, **more)

    first = sweep()
    for trial in iter(first.ask, None):
        first.tell(trial, {"a": trial.params["x"], "b": 3.0, "c": trial.params["x"]})
    earlier = first.finish()
    second = sweep(resume_from=[earlier])
    assert [(t.values, t.violations) for t in second.engine.warm] == [
        ((1.0, -3.0), (-0.5,)), ((2.0, -3.0), (0.5,))]
    second.finish()


ASHA_DRIVER = """
import sys
from hypersweep import (AshaPolicy, Experiment, GridParameterSampling, HyperDriveConfig,
                        ScriptRunConfig, Workspace, choice)
ws_path, source = sys.argv[1:3]
config = HyperDriveConfig(
    GridParameterSampling({"q": choice(*range(9))}),
    objectives=[("acc", "maximize"), ("ms", "minimize")],
    constraints=[{"metric": "mem", "max": 512}], max_total_runs=9, max_concurrent_runs=1,
    policy=AshaPolicy(min_resource=1), run_config=ScriptRunConfig(source, "train.py"))
run = Experiment(Workspace(ws_path), "mo-resume").submit(config)
print(run.id, flush=True)
run.wait_for_completion()
"""


@pytest.mark.slow
def test_a_resumed_controller_judges_several_objectives_as_before(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(ASHA_TRIAL.replace("time.sleep(0.3)", "time.sleep(0.6)"))
    (tmp_path / "driver.py").write_text(ASHA_DRIVER)
    proc = subprocess.Popen([sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "ws"),
                             str(source)], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    assert proc.stdout is not None
    sweep_id = proc.stdout.readline().strip()
    workspace = Workspace(tmp_path / "ws")
    # Killed once the trade-offs have been judged at their first rung and more trials run.
    wait_until(lambda: len(workspace.store.list_trials(sweep_id)) >= 5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run = HyperDriveRun(Experiment(workspace, "mo-resume"), sweep_id)
    run.resume()
    run.wait_for_completion()
    trials = {t.params["q"]: t for t in workspace.store.list_trials(sweep_id)}
    assert len(trials) == 9
    assert [trials[q].status.value for q in range(9)] == ["Completed"] * 3 + ["Canceled"] * 6
    assert sorted(r.id for r in run.get_pareto_front()) == sorted(trials[q].id for q in range(3))
