"""Every face builds the same SweepSpec: a HyperDriveConfig, its YAML twin, and the spec itself.

A Python config and the sweep file that says the same thing give equal specs; a config and
its spec convert both ways without loss; a bad value gets the same check from both faces, each
naming the key as its user wrote it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest

from hypersweep import (
    BanditPolicy,
    Experiment,
    HyperDriveConfig,
    HyperDriveRun,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
    uniform,
)
from hypersweep.api.config import CommandJob
from hypersweep.config import load_sweep, sweep_to_yaml
from hypersweep.errors import ConfigError
from hypersweep.spec import FunctionTrial, Limits, Objective, Resources, ScriptTrial, SweepSpec

TWIN_YAML = """\
type: sweep
name: twin-1
display_name: Twin
tags: {team: ml}
trial:
  command: >-
    python train.py --x ${{search_space.x}} --bs ${{search_space.bs}}
    --data ${{inputs.data}} --out ${{outputs.model}}
  code: .
  environment_variables: {GREETING: hi}
inputs:
  data: {type: uri_file, path: data/in.txt}
outputs:
  model: {type: uri_folder}
search_space:
  x: {type: uniform, min_value: 0, max_value: 1}
  bs: {type: choice, values: [16, 32]}
sampling_algorithm: {type: random, seed: 3}
objective: {primary_metric: score, goal: minimize}
early_termination: {type: bandit, slack_factor: 0.2, evaluation_interval: 1, delay_evaluation: 2}
limits: {max_total_trials: 6, max_concurrent_trials: 2, timeout: 1200, trial_timeout: 30,
         max_failed_trials: 2}
resources_per_trial: {gpu: 0.5, cpu: 2}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("hello\n")
    (tmp_path / "train.py").write_text("print(1)\n")
    return tmp_path


def _twin(root: Path) -> HyperDriveConfig:
    job = CommandJob(
        "python train.py --x ${{search_space.x}} --bs ${{search_space.bs}} "
        "--data ${{inputs.data}} --out ${{outputs.model}}",
        code=root, inputs={"data": {"type": "uri_file", "path": str(root / "data/in.txt")}},
        outputs={"model": {"type": "uri_folder"}}, environment_variables={"GREETING": "hi"},
        max_run_duration_seconds=30)
    return HyperDriveConfig(
        RandomParameterSampling({"x": uniform(0, 1), "bs": choice(16, 32)}, seed=3),
        "score", "minimize", 6, max_concurrent_runs=2, max_duration_minutes=20,
        policy=BanditPolicy(slack_factor=0.2, evaluation_interval=1, delay_evaluation=2),
        run_config=job, name="twin-1", display_name="Twin", tags={"team": "ml"},
        max_failed_runs=2, resources_per_trial={"gpu": 0.5, "cpu": 2})


def _script_config(root: Path, **extra: Any) -> HyperDriveConfig:
    return HyperDriveConfig(
        RandomParameterSampling({"x": uniform(0, 1)}, seed=1), "acc", "maximize", 5,
        run_config=ScriptRunConfig(root, "train.py", ["--epochs", 3],
                                   max_run_duration_seconds=12.5,
                                   environment_variables={"A": "1"}), **extra)


def test_a_config_and_its_yaml_twin_give_equal_specs(project: Path) -> None:
    (project / "sweep.yml").write_text(TWIN_YAML)
    loaded = load_sweep(project / "sweep.yml")
    assert isinstance(loaded.spec, SweepSpec)
    python_spec = _twin(project).to_spec()
    assert loaded.spec.to_dict() == python_spec.to_dict() == _twin(project).to_dict()
    assert loaded.spec.limits == Limits(6, 2, 1200.0, 30.0, 2)
    assert loaded.spec.objective == Objective("score", "minimize")
    assert loaded.spec.resources == Resources(gpu=0.5, cpu=2)
    assert load_sweep(_written(project, sweep_to_yaml(loaded.spec))).spec.to_dict() == \
        loaded.spec.to_dict()


def _written(folder: Path, text: str) -> Path:
    (folder / "again.yml").write_text(text)
    return folder / "again.yml"


def test_the_yaml_reader_fills_the_defaults_a_python_config_has(project: Path) -> None:
    (project / "sweep.yml").write_text(textwrap.dedent("""\
        trial: {command: "python train.py --x ${{search_space.x}}"}
        search_space: {x: {type: uniform, min_value: 0, max_value: 1}}
        objective: {primary_metric: acc, goal: maximize}
        """))
    limits = load_sweep(project / "sweep.yml").spec.limits
    # Azure's budget of 1000, all at once, a week: what HyperDriveConfig defaults to
    assert (limits.max_total_trials, limits.max_concurrent_trials, limits.timeout) == (
        1000, 1000, 10080 * 60.0)
    assert (limits.trial_timeout, limits.max_failed_trials) == (None, None)


@pytest.mark.parametrize("kind", ["script", "command"])
def test_to_spec_and_from_spec_are_inverse(project: Path, kind: str) -> None:
    warm = {"resume_from": ["HD_a"], "resume_child_runs": ["HD_a_1"]}
    config = (_script_config(project, description="d", executor="dask://127.0.0.1:8786",
                             max_failed_runs=3, **warm)
              if kind == "script" else _twin(project))
    spec = config.to_spec()
    again = HyperDriveConfig.from_spec(spec)
    assert again.to_spec().to_dict() == spec.to_dict()
    assert again.to_dict() == config.to_dict()
    # the stored forms of both releases read back to the same config
    assert HyperDriveConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()
    assert HyperDriveConfig.from_dict(spec.to_dict()).to_dict() == config.to_dict()
    if kind == "script":
        assert spec.trial == ScriptTrial(str(project), "train.py", ("--epochs", "3"), {"A": "1"})
        assert spec.limits.trial_timeout == 12.5 and spec.limits.max_failed_trials == 3
        assert spec.warm_start.resume_child_runs == ("HD_a_1",)
        assert (spec.metadata.description, spec.executor) == ("d", "dask://127.0.0.1:8786")


def test_the_stored_form_is_the_spec_version_2(project: Path) -> None:
    config = _script_config(project, resume_from=["HD_a"], tags={"team": "ml"})
    stored = config.to_dict()
    assert stored == config.to_spec().to_dict()
    assert stored["version"] == 2
    assert list(stored) == ["version", "search_space", "sampling_algorithm",
                            "early_termination", "objectives", "constraints", "limits", "trial",
                            "warm_start", "resources", "executor", "metadata"]
    assert stored["objectives"] == [{"metric": "acc", "goal": "maximize"}]
    assert stored["limits"] == {"max_total_trials": 5, "max_concurrent_trials": 5,
                                "timeout": 604800.0, "trial_timeout": 12.5,
                                "max_failed_trials": None}
    assert stored["warm_start"] == {"resume_from": ["HD_a"], "resume_child_runs": []}
    assert stored["metadata"] == {"tags": {"team": "ml"}}


def _first_release_layout(root: Path) -> dict[str, Any]:
    """A script sweep's config as the first release stored it (version 1)."""
    return {
        "version": 1,
        "search_space": {"x": {"type": "uniform", "min_value": 0, "max_value": 1}},
        "sampling_algorithm": {"type": "random", "seed": 1},
        "early_termination": {"type": "none"},
        "objective": {"primary_metric": "acc", "goal": "maximize"},
        "limits": {"max_total_trials": 5, "max_concurrent_trials": 5, "timeout": 604800.0,
                   "trial_timeout": 12.5},
        "trial": {"kind": "script", "source_directory": str(root), "script": "train.py",
                  "arguments": ["--epochs", "3"], "environment_variables": {"A": "1"}},
        "resume_from": ["HD_a"], "resume_child_runs": [], "tags": {"team": "ml"},
    }


def test_a_first_release_config_reads_back_as_the_same_sweep(project: Path) -> None:
    config = _script_config(project, resume_from=["HD_a"], tags={"team": "ml"})
    old = _first_release_layout(project)
    assert SweepSpec.from_dict(old).to_dict() == config.to_dict()
    assert HyperDriveConfig.from_dict(old).to_dict() == config.to_dict()


def test_a_first_release_sweep_resumes_from_its_stored_config(project: Path) -> None:
    (project / "train.py").write_text(
        "from hypersweep import Run\nRun.get_context().log('acc', 0.5)\n")
    experiment = Experiment(Workspace(project / "ws"), "old")
    run = experiment.submit(_script_config(project), start=False)
    store = experiment.workspace.store
    old = {**_first_release_layout(project), "resume_from": [], "tags": {}}
    old["limits"] = {**old["limits"], "max_total_trials": 1, "max_concurrent_trials": 1}
    store.update_sweep(run.id, config=old)  # what the first release left Queued
    run = HyperDriveRun(experiment, run.id)
    assert run.spec.objective == Objective("acc", "maximize")
    run.resume().wait_for_completion()
    assert run.get_status() == "Completed"
    [trial] = store.list_trials(run.id)
    assert trial.status == "Completed" and trial.arguments[:2] == ["--epochs", "3"]
    assert store.get_sweep(run.id).config == old  # read, never rewritten
    assert run.get_details()["runDefinition"] == old


def test_validate_json_shows_the_config_run_stores(project: Path) -> None:
    from click.testing import CliRunner

    from hypersweep.cli import cli

    (project / "sweep.yml").write_text(TWIN_YAML)
    shown = CliRunner().invoke(cli, ["validate", str(project / "sweep.yml"), "--json"])
    assert shown.exit_code == 0, shown.output
    config = json.loads(shown.stdout)["config"]
    assert config["version"] == 2 and config["objectives"] == [
        {"metric": "score", "goal": "minimize"}]
    run = Experiment(Workspace(project / "ws"), "twins").submit(
        load_sweep(project / "sweep.yml").spec, start=False)
    assert run.experiment.workspace.store.get_sweep(run.id).config == config


def test_from_spec_refuses_what_a_config_cannot_hold(project: Path) -> None:
    spec = _script_config(project).to_spec()
    for changes, message in [
        ({"trial": FunctionTrial("mod:fn")}, "trial: a function trial runs with"),
        ({"limits": Limits()}, "limits.max_total_trials: a HyperDriveConfig sweep needs"),
    ]:
        with pytest.raises(ConfigError, match=f"^{message}"):
            HyperDriveConfig.from_spec(spec.replace(**changes))


def test_submit_takes_a_spec_and_stores_what_its_config_stores(project: Path) -> None:
    (project / "sweep.yml").write_text(TWIN_YAML)
    experiment = Experiment(Workspace(project / "ws"), "twins")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the spec's warnings were the reader's to give
        from_spec = experiment.submit(load_sweep(project / "sweep.yml").spec, start=False)
    from_config = experiment.submit(_twin(project), start=False)
    store = experiment.workspace.store
    assert store.get_sweep(from_spec.id).config == store.get_sweep(from_config.id).config
    # Azure's details key holds the stored spec (version 2)
    definition = from_spec.get_details()["runDefinition"]
    assert definition == from_spec.spec.to_dict() and definition["version"] == 2
    with pytest.raises(ConfigError, match=r"^config: expected a HyperDriveConfig or a SweepSpec"):
        experiment.submit({"not": "a config"})  # type: ignore[arg-type]


def test_the_yaml_writer_writes_a_spec(project: Path) -> None:
    config = _twin(project)
    assert sweep_to_yaml(config.to_spec()) == sweep_to_yaml(config) == config.to_yaml()
    (project / "again.yml").write_text(config.to_yaml())
    assert load_sweep(project / "again.yml").spec.to_dict() == config.to_spec().to_dict()
    with pytest.raises(ConfigError, match=r"^trial: a function trial has no v2 YAML form"):
        sweep_to_yaml(config.to_spec().replace(trial=FunctionTrial("m:f")))


# (v1 keyword, YAML key, bad value, the shared sentence after "key: ")
SAME_CHECK = [
    ("max_total_runs", "limits.max_total_trials", 0, "expected a positive integer (got 0)"),
    ("max_total_runs", "limits.max_total_trials", True,
     "expected a positive integer (got True)"),
    ("max_concurrent_runs", "limits.max_concurrent_trials", -2,
     "expected a positive integer (got -2)"),
    ("max_failed_runs", "limits.max_failed_trials", "3", "expected a positive integer (got '3')"),
    ("max_run_duration_seconds", "limits.trial_timeout", 0,
     "expected a positive number of seconds (got 0)"),
    ("max_duration_minutes", "limits.timeout", float("inf"),
     "expected a positive number of {unit} (got inf)"),
    ("primary_metric_goal", "objective.goal", "maximise",
     "expected 'maximize' or 'minimize' (got 'maximise')"),
    ("primary_metric_name", "objective.primary_metric", "  ",
     "expected a metric name (got '  ')"),
]


@pytest.mark.parametrize(("v1_key", "yaml_key", "value", "sentence"), SAME_CHECK,
                         ids=[f"{c[0]}={c[2]!r}" for c in SAME_CHECK])
def test_a_bad_value_gets_the_same_check_from_both_faces(
    project: Path, v1_key: str, yaml_key: str, value: Any, sentence: str,
) -> None:
    kwargs: dict[str, Any] = {
        "hyperparameter_sampling": RandomParameterSampling({"x": uniform(0, 1)}, seed=0),
        "primary_metric_name": "score", "primary_metric_goal": "maximize",
        "max_total_runs": 4}
    script: dict[str, Any] = {}
    if v1_key == "max_run_duration_seconds":
        script[v1_key] = value
    else:
        kwargs[v1_key] = value
    with pytest.raises(ConfigError) as python_error:
        HyperDriveConfig(**kwargs, run_config=ScriptRunConfig(project, "train.py", **script))
    unit = "minutes" if v1_key == "max_duration_minutes" else "seconds"
    assert str(python_error.value) == f"{v1_key}: {sentence.format(unit=unit)}"

    section, key = yaml_key.split(".")
    body = {"objective": {"primary_metric": "score", "goal": "maximize"},
            "limits": {"max_total_trials": 4}}
    body[section][key] = value
    text = textwrap.dedent(f"""\
        trial: {{command: "python train.py --x ${{{{search_space.x}}}}"}}
        search_space: {{x: {{type: uniform, min_value: 0, max_value: 1}}}}
        objective: {_flow(body["objective"])}
        limits: {_flow(body["limits"])}
        """)
    (project / "sweep.yml").write_text(text)
    with pytest.raises(ConfigError) as yaml_error:
        load_sweep(project / "sweep.yml")
    line = 3 if section == "objective" else 4
    shown = str(project / "sweep.yml")
    assert str(yaml_error.value) == f"{shown}:{line}: {yaml_key}: {sentence.format(unit='seconds')}"


#: The spec's own name of a YAML key, where they differ.
SPEC_KEY = {"objective.primary_metric": "objective.metric"}


@pytest.mark.parametrize(("v1_key", "yaml_key", "value", "sentence"), SAME_CHECK,
                         ids=[f"{c[1]}={c[2]!r}" for c in SAME_CHECK])
def test_a_bad_value_reads_the_same_from_the_spec_and_both_stored_forms(
    project: Path, v1_key: str, yaml_key: str, value: Any, sentence: str,
) -> None:
    spec_key = SPEC_KEY.get(yaml_key, yaml_key)
    expected = f"{spec_key}: {sentence.format(unit='seconds')}"
    section, key = spec_key.split(".")
    with pytest.raises(ConfigError) as direct:
        if section == "limits":
            Limits(**{key: value})
        else:
            Objective(**{"metric": "score", "goal": "maximize", key: value})
    assert str(direct.value) == expected

    version_2 = _script_config(project).to_dict()
    version_1 = _first_release_layout(project)
    if section == "limits":
        version_2["limits"][key] = version_1["limits"][key] = value
    else:
        version_2["objectives"][0][key] = value
        version_1["objective"][{"metric": "primary_metric"}.get(key, key)] = value
    for stored in (version_1, version_2):
        with pytest.raises(ConfigError) as read:
            SweepSpec.from_dict(stored)
        assert str(read.value) == expected, stored["version"]


def _flow(mapping: dict[str, Any]) -> str:
    """A YAML flow mapping whose values read back as the same Python values."""
    def scalar(v: Any) -> str:
        if isinstance(v, float) and v == float("inf"):
            return ".inf"
        return repr(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
    return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in mapping.items()) + "}"


def test_the_yaml_reader_imports_nothing_from_api(project: Path) -> None:
    (project / "sweep.yml").write_text(TWIN_YAML)
    script = ("import sys, warnings; warnings.simplefilter('ignore')\n"
              "from hypersweep.config import load_sweep, sweep_to_yaml\n"
              f"spec = load_sweep({str(project / 'sweep.yml')!r}).spec\n"
              "sweep_to_yaml(spec)\n"
              "print(sorted(m for m in sys.modules if m.startswith('hypersweep.api')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "[]"


SEVERAL_YAML = TWIN_YAML.replace(
    "objective: {primary_metric: score, goal: minimize}\n",
    "objective:\n  - {primary_metric: score, goal: minimize}\n"
    "  - {primary_metric: latency_ms, goal: minimize}\n"
    "constraints:\n  - {metric: memory_mb, max: 512}\n  - {metric: score, min: -1, max: 1}\n")


def test_several_objectives_and_constraints_in_yaml_and_python(project: Path) -> None:
    assert SEVERAL_YAML != TWIN_YAML
    (project / "sweep.yml").write_text(SEVERAL_YAML)
    loaded = load_sweep(project / "sweep.yml").spec
    twin = _twin(project)
    config = HyperDriveConfig(
        twin.hyperparameter_sampling, max_total_runs=6, max_concurrent_runs=2,
        max_duration_minutes=20, policy=twin.policy, run_config=twin.run_config,
        name="twin-1", display_name="Twin", tags={"team": "ml"}, max_failed_runs=2,
        resources_per_trial={"gpu": 0.5, "cpu": 2},
        objectives=[("score", "minimize"), {"metric": "latency_ms", "goal": "minimize"}],
        constraints=[{"metric": "memory_mb", "max": 512},
                     {"metric": "score", "min": -1, "max": 1}])
    assert loaded.to_dict() == config.to_spec().to_dict()
    assert [o.metric for o in loaded.objectives] == ["score", "latency_ms"]
    assert loaded.constraints[0].violation(600.0) == 88.0
    assert config.primary_metric_name == "score"
    assert HyperDriveConfig.from_spec(loaded).to_dict() == config.to_dict()
    again = load_sweep(_written(project, sweep_to_yaml(loaded))).spec
    assert again.to_dict() == loaded.to_dict()
    assert SweepSpec.from_dict(loaded.to_dict()).to_dict() == loaded.to_dict()


@pytest.mark.parametrize("change, message", [
    ({"objectives": [("acc", "maximize"), ("acc", "minimize")]},
     r"objectives\[1\]\.metric: 'acc' is named twice"),
    ({"objectives": [("acc", "maximise")]},
     r"objectives\[0\]\.goal: expected 'maximize' or 'minimize' \(got 'maximise'\)"),
    ({"objectives": [("acc", "maximize")], "primary_metric_name": "loss"},
     r"primary_metric_name: 'loss' is not the first of objectives \('acc'\)"),
    ({"constraints": [{"metric": "ms", "below": 3}]},
     r"constraints\[0\]: unknown key 'below' \(known: metric, max, min\)"),
    ({"constraints": [{"metric": "ms"}]}, r"constraints\[0\]: 'ms' needs a bound"),
    ({"constraints": [{"metric": "ms", "max": "fast"}]},
     r"constraints\[0\]\.max: expected a finite number \(got 'fast'\)"),
])
def test_objective_and_constraint_mistakes_name_the_key(
        project: Path, change: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"primary_metric_name": None}
    arguments.update(change)
    if "objectives" not in arguments:
        arguments.update(primary_metric_name="acc", primary_metric_goal="maximize")
    with pytest.raises(ConfigError, match=f"^{message}"):
        HyperDriveConfig(RandomParameterSampling({"x": uniform(0, 1)}, seed=1),
                         max_total_runs=2, run_config=ScriptRunConfig(project, "train.py"),
                         **arguments)
