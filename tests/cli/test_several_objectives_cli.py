"""``show``, ``best`` and ``export`` of sweeps with several objectives or constraints: each
objective, feasibility and the Pareto front; a one-objective sweep reads as it always did."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.dashboard.objective_sweeps import FAILED, metrics, objective_sweep

from hypersweep import RandomParameterSampling, Sweep, Workspace, uniform
from hypersweep.cli import cli


def _invoke(workspace: Workspace, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, [*args, "--workspace", str(workspace.path)],
                                catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout


def _expected_front(workspace: Workspace, sweep_id: str, objectives: int,
                    constrained: bool) -> set[str]:
    """The front by brute force, from what each trial logged (larger is better)."""
    points = {}
    for trial in workspace.store.list_trials(sweep_id):
        if trial.index == FAILED:
            continue
        m = metrics(trial.index, trial.params)
        if constrained and m["mem"] > 80:
            continue
        points[trial.id] = [m["acc"], -m["ms"], -m["energy"]][:objectives]

    def dominates(a: list[float], b: list[float]) -> bool:
        return all(x >= y for x, y in zip(a, b, strict=True)) and a != b

    return {t for t, p in points.items() if not any(dominates(q, p) for q in points.values())}


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def test_best_lists_the_front_with_each_objective_then_reproduces_its_first(
        workspace: Workspace) -> None:
    sweep_id = objective_sweep(workspace)
    front = _expected_front(workspace, sweep_id, 2, True)
    data = json.loads(_invoke(workspace, "best", sweep_id, "--json"))
    assert {r["run_id"] for r in data["pareto_front"]} == front
    accs = [r["values"]["acc"] for r in data["pareto_front"]]
    assert accs == sorted(accs, reverse=True)  # best on the first objective first
    first = data["pareto_front"][0]
    assert set(first["values"]) == {"acc", "ms"} and set(first["params"]) == {"x", "y", "opt"}
    # what best --json gave before, for the first trial of the front
    assert data["run_id"] == first["run_id"] and data["primary_metric"] == "acc"
    assert data["command"].startswith("objective(") and data["hyperparameters"] == \
        first["params"]
    assert data["objectives"] == [{"metric": "acc", "goal": "maximize"},
                                  {"metric": "ms", "goal": "minimize"}]
    assert data["constraints"][0]["label"] == "mem <= 80"

    text = _invoke(workspace, "best", sweep_id)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("trial "))
    assert header.split() == ["trial", "acc", "↑", "ms", "↓", "x", "y", "opt"]
    rows = [line.split()[0] for line in lines if line.startswith(sweep_id + "_")]
    assert rows == [r["run_id"] for r in data["pareto_front"]]
    assert any(line.startswith("feasible: mem <= 80") for line in lines)
    assert f"  reproduce: {data['command']}" in lines


def test_best_of_three_objectives_without_constraints(workspace: Workspace) -> None:
    sweep_id = objective_sweep(workspace, objectives=3, constrained=False)
    data = json.loads(_invoke(workspace, "best", sweep_id, "--json"))
    assert {r["run_id"] for r in data["pareto_front"]} == _expected_front(
        workspace, sweep_id, 3, False)
    text = _invoke(workspace, "best", sweep_id)
    assert "energy ↓" in text and "feasible" not in text


def test_best_without_a_front_says_so_and_fails(workspace: Workspace) -> None:
    # a bound no trial meets: nothing is feasible, so nothing is on the front
    sweep = Sweep(RandomParameterSampling({"x": uniform(0, 1)}, seed=1),
                  objectives=[("a", "maximize"), ("b", "maximize")],
                  constraints=[{"metric": "a", "max": -1}], workspace=workspace,
                  experiment_name="none", max_total_runs=3)
    while (trial := sweep.ask()) is not None:
        sweep.tell(trial, {"a": trial.params["x"], "b": 1 - trial.params["x"]})
    empty = sweep.finish().id
    result = CliRunner().invoke(cli, ["best", empty, "--workspace", str(workspace.path)])
    assert result.exit_code != 0
    assert "no trial is on the Pareto front yet" in result.stdout
    assert "0 of 3 finished trials meet it" in result.stdout
    data = json.loads(CliRunner().invoke(cli, ["best", empty, "--json", "--workspace",
                                               str(workspace.path)]).stdout)
    assert data["pareto_front"] == []


def test_show_has_each_objective_feasibility_and_the_front_marker(
        workspace: Workspace) -> None:
    sweep_id = objective_sweep(workspace)
    front = _expected_front(workspace, sweep_id, 2, True)
    text = _invoke(workspace, "show", sweep_id)
    lines = text.splitlines()
    assert "  objectives: maximize acc, minimize ms" in lines
    assert "  constraints: mem <= 80" in lines
    header = next(line for line in lines if line.startswith("trial "))
    assert header.split() == ["trial", "status", "acc", "↑", "ms", "↓", "feasible", "front",
                              "x", "y", "opt", "reason"]
    rows = {line.split()[0]: line for line in lines if line.startswith(sweep_id + "_")}
    assert len(rows) == 16
    assert {t for t, line in rows.items() if "★" in line} == front
    # the front comes first
    order = [line.split()[0] for line in lines if line.startswith(sweep_id + "_")]
    assert set(order[:len(front)]) == front
    failed = rows[f"{sweep_id}_{FAILED}"]
    assert failed.split()[1:3] == ["Failed", "no"] and "bad batch" in failed
    for trial in workspace.store.list_trials(sweep_id):
        if trial.index != FAILED:
            feasible = metrics(trial.index, trial.params)["mem"] <= 80
            assert rows[trial.id].split()[4] == ("yes" if feasible else "no"), trial.id

    data = json.loads(_invoke(workspace, "show", sweep_id, "--json"))
    by_id = {t["run_id"]: t for t in data["trials"]}
    assert {t for t, row in by_id.items() if row["on_front"]} == front == set(
        data["pareto_front"])
    some = next(t for t in workspace.store.list_trials(sweep_id) if t.index == 0)
    logged = metrics(0, some.params)
    assert by_id[some.id]["values"] == {"acc": logged["acc"], "ms": logged["ms"]}
    assert by_id[some.id]["feasible"] == (logged["mem"] <= 80)
    assert by_id[f"{sweep_id}_{FAILED}"]["values"] == {"acc": None, "ms": None}


def test_show_of_two_objectives_without_constraints_has_no_feasible_column(
        workspace: Workspace) -> None:
    sweep_id = objective_sweep(workspace, constrained=False)
    lines = _invoke(workspace, "show", sweep_id).splitlines()
    header = next(line for line in lines if line.startswith("trial "))
    assert header.split()[:7] == ["trial", "status", "acc", "↑", "ms", "↓", "front"]
    assert "  constraints:" not in "\n".join(lines)


def test_one_objective_with_a_constraint_has_feasibility_and_its_front(
        workspace: Workspace) -> None:
    sweep_id = objective_sweep(workspace, objectives=1)
    lines = _invoke(workspace, "show", sweep_id).splitlines()
    header = next(line for line in lines if line.startswith("trial "))
    assert header.split()[:6] == ["trial", "status", "acc", "↑", "feasible", "front"]
    data = json.loads(_invoke(workspace, "best", sweep_id, "--json"))
    # the front of one objective: the best feasible trial
    (only,) = data["pareto_front"]
    assert only["run_id"] == data["run_id"]
    assert only["values"]["acc"] <= 0.8


def test_export_adds_objectives_feasibility_and_front_columns(workspace: Workspace) -> None:
    sweep_id = objective_sweep(workspace)
    front = _expected_front(workspace, sweep_id, 2, True)
    rows = list(csv.DictReader(io.StringIO(_invoke(workspace, "export", sweep_id))))
    assert list(rows[0]) == ["run_id", "status", "x", "y", "opt", "best_primary_metric", "acc",
                             "ms", "feasible", "on_pareto_front", "duration_s",
                             "termination_reason"]
    assert {r["run_id"] for r in rows if r["on_pareto_front"] == "True"} == front
    data = json.loads(_invoke(workspace, "export", sweep_id, "--format", "json"))
    by_id: dict[str, Any] = {r["run_id"]: r for r in data}
    for trial in workspace.store.list_trials(sweep_id):
        row = by_id[trial.id]
        if trial.index == FAILED:
            assert (row["acc"], row["ms"], row["feasible"]) == (None, None, False)
            continue
        logged = metrics(trial.index, trial.params)
        assert (row["acc"], row["ms"]) == (logged["acc"], logged["ms"])  # exact
        assert row["feasible"] is (logged["mem"] <= 80)
        assert row["on_pareto_front"] is (trial.id in front)
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
    _invoke(workspace, "export", sweep_id, "--format", "parquet", "-o",
            str(workspace.path / "t.parquet"))
    table = pq.read_table(workspace.path / "t.parquet")
    assert str(table.schema.field("feasible").type) == "bool"
    assert str(table.schema.field("on_pareto_front").type) == "bool"
    assert json.dumps(table.to_pylist()) == json.dumps(data)  # (no NaN: JSON's rows as is)


def test_one_objective_sweeps_read_as_before(workspace: Workspace) -> None:
    sweep_id = objective_sweep(workspace, objectives=1, constrained=False)
    lines = _invoke(workspace, "show", sweep_id).splitlines()
    assert "  objective: maximize acc" in lines
    assert any(line.startswith("  best: ") for line in lines)
    header = next(line for line in lines if line.startswith("trial "))
    assert header.split() == ["trial", "status", "acc", "x", "y", "opt", "reason"]
    shown = json.loads(_invoke(workspace, "show", sweep_id, "--json"))
    assert "pareto_front" not in shown and "objectives" not in shown
    assert not {"values", "feasible", "on_front"} & set(shown["trials"][0])
    best = json.loads(_invoke(workspace, "best", sweep_id, "--json"))
    assert "pareto_front" not in best
    assert _invoke(workspace, "best", sweep_id).startswith("best trial ")
    header = _invoke(workspace, "export", sweep_id).splitlines()[0]
    assert header == "run_id,status,x,y,opt,best_primary_metric,duration_s,termination_reason"


RUN_TRIAL = """\
import argparse
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--w", type=float); a = p.parse_args()
run = Run.get_context()
run.log("mem", a.w * 100); run.log("ms", a.w * 10); run.log("acc", 1 - 1 / (a.w + 1))
"""

RUN_SWEEP = """\
type: sweep
trial:
  command: python train.py --w ${{search_space.w}}
search_space:
  w: {type: choice, values: [1, 2, 3, 4, 5]}
sampling_algorithm: grid
objective: OBJECTIVE
constraints:
  - {metric: mem, max: 402}
limits: {max_total_trials: 5, max_concurrent_trials: 2}
"""


@pytest.mark.slow
@pytest.mark.parametrize("objective", [
    "[{primary_metric: acc, goal: maximize}, {primary_metric: ms, goal: minimize}]",
    "{primary_metric: acc, goal: maximize}"])
def test_run_ends_on_the_front_and_never_names_an_infeasible_best(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, objective: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(RUN_TRIAL)
    (tmp_path / "sweep.yml").write_text(RUN_SWEEP.replace("OBJECTIVE", objective))
    result = CliRunner().invoke(cli, ["run", "sweep.yml", "--workspace", str(tmp_path / "ws")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # w=5 is the most accurate but uses 500 MB: w=4 is the best that counts
    assert "best acc (maximize): 0.8 " in result.stdout
    assert "reproduce: cd " in result.stdout and "--w 4" in result.stdout
    assert "--w 5" not in result.stdout.split("reproduce:")[-1]
    assert ("Pareto front: 4 trials" in result.stdout) == objective.startswith("[")
    data = json.loads(CliRunner().invoke(cli, ["run", "sweep.yml", "--json", "--workspace",
                                               str(tmp_path / "ws")]).stdout)
    assert data["best"]["best_primary_metric"] == 0.8
