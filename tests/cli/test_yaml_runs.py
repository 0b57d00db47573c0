"""Whole sweeps from YAML: every key of the schema, --json outputs, exports, Python twins."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result
from tests.cli.project import Project

from hypersweep import Experiment, HyperDriveConfig, HyperDriveRun, Workspace
from hypersweep.api.config import CommandJob
from hypersweep.sampling import RandomParameterSampling
from hypersweep.space import choice, randint, uniform

FULL = """\
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
name: quad-1
display_name: Quadratic
experiment_name: quad
description: a toy sweep
tags: {team: ml, round: 2}
compute: azureml:cpu-cluster
trial:
  code: .
  command: >-
    python train.py --x ${{search_space.x}} --data ${{inputs.data}}
    --out ${{outputs.model}} --kind ${{search_space.kind.name}} --sleep {inputs.nap}
  environment: azureml:AzureML-sklearn-1.5@latest
  environment_variables: {GREETING: hi}
inputs:
  data: {type: uri_file, path: data/in.txt}
  nap: 0
outputs:
  model: {type: uri_folder}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
  kind:
    type: choice
    values:
      - {name: a, depth: {type: randint, upper: 4}}
      - {name: b}
  lr: {type: loguniform, min_value: 1e-5, max_value: 1e-1}
sampling_algorithm: {type: random, seed: 1, rule: sobol}
objective: {primary_metric: score, goal: Maximize}
limits: {max_total_trials: 4, max_concurrent_trials: 2, timeout: 600, trial_timeout: 60}
"""
NO_LR = FULL.replace("  lr: {type: loguniform, min_value: 1e-5, max_value: 1e-1}\n", "")
assert NO_LR != FULL


def _run_json(invoke: Callable[..., Result], *args: str) -> dict:
    result = invoke("run", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_key(project: Project, invoke: Callable[..., Result]) -> None:
    project.write(FULL.replace("min_value: 1e-5, max_value: 1e-1", "min_value: -5, max_value: -1"))
    out = _run_json(invoke, "sweep.yml")
    stderr_lines = invoke("validate", "sweep.yml").stderr.splitlines()
    assert stderr_lines == [
        "warning: sweep.yml: ignored (Azure-only; trials run on this machine): $schema, "
        "compute, trial.environment",
        "warning: sweep.yml:11: trial.command: the single-brace form {inputs.nap} is "
        "deprecated; write ${{...}} instead",
        "warning: sweep.yml:28: search_space.lr is not used in trial.command; trials "
        "receive it only as $AZUREML_SWEEP_lr",
    ]
    assert out["status"] == "Completed" and out["experiment"] == "quad"
    sweep_id = out["sweep_id"]
    shown = json.loads(invoke("show", sweep_id, "--json").stdout)
    assert (shown["name"], shown["display_name"], shown["description"]) == (
        "quad-1", "Quadratic", "a toy sweep")
    assert shown["tags"] == {"team": "ml", "round": "2"}
    assert shown["limits"] == {"max_total_trials": 4, "max_concurrent_trials": 2,
                               "timeout": 600.0, "trial_timeout": 60.0}
    trials = shown["trials"]
    assert len(trials) == 4 and all(t["status"] == "Completed" for t in trials)
    scores = [t["best_primary_metric"] for t in trials]
    assert scores == sorted(scores, reverse=True)  # best first
    # nested choice: parameters of options not chosen are absent
    for t in trials:
        params = t["hyperparameters"]
        assert ("kind.depth" in params) == (params["kind.name"] == "a")
    # the input file was read, the output folder written, the variable set
    ws = Workspace(project.workspace)
    run = HyperDriveRun(Experiment(ws, "quad"), sweep_id)  # found from Python too
    for child in run.get_children():
        assert (child.outputs_path / "model" / "model.txt").read_text() == "hello hi"
    # sobol with seed 1: the trials ran the preview's configurations, in order
    with pytest.warns(UserWarning, match="is deprecated"):
        config = HyperDriveConfig.from_yaml(project.root / "sweep.yml")
    preview = config.hyperparameter_sampling.preview(4)
    assert [t["hyperparameters"] for t in sorted(trials, key=lambda t: t["index"])] == preview
    assert out["best"]["run_id"] == trials[0]["run_id"]
    x = trials[0]["hyperparameters"]["x"]
    assert out["best"]["command"].startswith(
        f"cd {project.root} && mkdir -p -- outputs/model; python train.py --x {x!r}")
    ls = json.loads(invoke("ls", "--json").stdout)
    assert [(r["sweep_id"], r["experiment"], r["trials"]) for r in ls] == [(sweep_id, "quad", 4)]
    assert ls[0]["best"] == pytest.approx(trials[0]["best_primary_metric"])
    best = json.loads(invoke("best", sweep_id, "--json").stdout)
    assert best == out["best"]


def test_trial_timeout_and_failure_reasons(project: Project,
                                           invoke: Callable[..., Result]) -> None:
    project.write("""\
        trial: {command: "python train.py --x ${{search_space.x}} --sleep ${{search_space.s}}"}
        search_space:
          x: {type: choice, values: [0.3]}
          s: {type: choice, values: [0.0, 5.0]}
        sampling_algorithm: grid
        objective: {primary_metric: score, goal: maximize}
        limits: {trial_timeout: 1}
        """)
    result = invoke("run", "sweep.yml", "--json")
    assert result.exit_code == 0, result.output
    sweep_id = json.loads(result.stdout)["sweep_id"]
    trials = {t["hyperparameters"]["s"]: t
              for t in json.loads(invoke("show", sweep_id, "--json").stdout)["trials"]}
    assert trials[0.0]["status"] == "Completed"
    assert (trials[5.0]["status"], trials[5.0]["termination_reason"]) == (
        "Canceled", "trial_timeout")
    text = invoke("show", sweep_id).stdout
    assert text.splitlines()[-1].endswith(
        "Canceled   0      0.3  5  trial_timeout: ran longer than trial_timeout = 1 s"
    )


def test_export_csv_json_parquet(project: Project, invoke: Callable[..., Result]) -> None:
    project.write(NO_LR)
    sweep_id = _run_json(invoke, "sweep.yml", "--set", "limits.max_total_trials=2")["sweep_id"]
    csv = invoke("export", sweep_id, "--format", "csv")
    frame = pd.read_csv(io.StringIO(csv.stdout))
    assert list(frame["run_id"]) == [f"{sweep_id}_0", f"{sweep_id}_1"]
    assert {"status", "x", "kind.name", "best_primary_metric"} <= set(frame.columns)
    assert invoke("export", sweep_id, "--format", "json", "-o", "t.json").exit_code == 0
    again = pd.read_json(project.root / "t.json")
    assert list(again["run_id"]) == list(frame["run_id"])
    assert again["x"].tolist() == pytest.approx(frame["x"].tolist())
    result = invoke("export", sweep_id, "--format", "parquet", "-o", "t.parquet")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        assert (result.exit_code, result.stderr) == (
            1, "error: parquet export needs pyarrow: pip install pyarrow\n")
    else:
        assert result.exit_code == 0
        assert list(pd.read_parquet(project.root / "t.parquet")["run_id"]) == list(
            frame["run_id"])


def test_set_overrides_and_yaml_floats(project: Project, invoke: Callable[..., Result]) -> None:
    project.write(FULL)
    result = invoke("validate", "sweep.yml", "--json", "-n", "3", "--set",
                    "sampling_algorithm.seed=5", "--set", "search_space.x.max_value=1e-3",
                    "--set", "experiment_name=other")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["experiment"] == "other"
    assert data["config"]["sampling_algorithm"]["seed"] == 5
    assert data["config"]["search_space"]["lr"]["min_value"] == 1e-5  # a float, not a string
    assert all(0 <= c["x"] <= 1e-3 for c in data["preview"]) and len(data["preview"]) == 3
    assert any(w.startswith(
        "sweep.yml:28: search_space.lr: loguniform(1e-05, 0.1): the bounds of loguniform are "
        "natural-log exponents") for w in data["warnings"])


def _python_twin(root: Path) -> HyperDriveConfig:
    sampling = RandomParameterSampling({
        "x": uniform(0, 1),
        "kind": choice({"name": "a", "depth": randint(4)}, {"name": "b"}),
    }, seed=1, rule="sobol")
    job = CommandJob(
        "python train.py --x ${{search_space.x}} --data ${{inputs.data}} "
        "--out ${{outputs.model}} --kind ${{search_space.kind.name}} --sleep ${{inputs.nap}}",
        code=root, inputs={"data": {"type": "uri_file", "path": str(root / "data/in.txt")},
                           "nap": 0},
        outputs={"model": {"type": "uri_folder"}}, environment_variables={"GREETING": "hi"},
        max_run_duration_seconds=60)
    return HyperDriveConfig(sampling, "score", "maximize", 4, max_concurrent_runs=2,
                            max_duration_minutes=10, run_config=job, name="quad-1",
                            display_name="Quadratic", description="a toy sweep",
                            tags={"team": "ml", "round": "2"})


def test_python_and_yaml_twins(project: Project, invoke: Callable[..., Result]) -> None:
    project.write(NO_LR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_yaml = HyperDriveConfig.from_yaml(project.root / "sweep.yml")
    twin = _python_twin(project.root)
    assert from_yaml.to_dict() == twin.to_dict()
    assert from_yaml.hyperparameter_sampling.preview(8) == twin.hyperparameter_sampling.preview(8)
    # to_yaml reads back into the same stored config, and from_dict inverts to_dict
    (project.root / "again.yml").write_text(twin.to_yaml())
    again = HyperDriveConfig.from_yaml(project.root / "again.yml")
    assert again.to_dict() == twin.to_dict()
    assert HyperDriveConfig.from_dict(twin.to_dict()).to_dict() == twin.to_dict()
    # real runs: the Python submit and the CLI run try the same configurations
    python_run = Experiment(Workspace(project.workspace), "quad").submit(twin)
    python_run.wait_for_completion()
    yaml_id = _run_json(invoke, "sweep.yml")["sweep_id"]
    cli_run = HyperDriveRun(Experiment(Workspace(), "quad"), yaml_id)
    assert list(cli_run.get_hyperparameters().values()) == list(
        python_run.get_hyperparameters().values())
    listed = json.loads(invoke("ls", "--json").stdout)
    assert {r["sweep_id"] for r in listed} == {python_run.id, yaml_id}


def test_quoting_never_runs_values(project: Project, invoke: Callable[..., Result]) -> None:
    project.write("""\
        trial:
          command: echo ${{search_space.v}} > said.txt && echo [${{search_space.v}}]
        search_space:
          v: {type: choice, values: ["; touch pwned", "$(touch pwned2)", "`touch pwned3`",
                                     "a b' \\" c"]}
        sampling_algorithm: grid
        objective: {primary_metric: score, goal: maximize}
        """)
    result = invoke("run", "sweep.yml", "--json")
    # No trial logs "score": the sweep ran, but ranked nothing, so it failed.
    assert result.exit_code == 1
    sweep_id = json.loads(result.stdout)["sweep_id"]
    said = []
    for i in range(4):
        out = invoke("logs", f"{sweep_id}_{i}").stdout
        said.append(out.strip()[1:-1])
    assert said == ["; touch pwned", "$(touch pwned2)", "`touch pwned3`", "a b' \" c"]
    assert not [p for p in project.root.rglob("pwned*")]
