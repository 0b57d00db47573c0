"""Whole sweeps of real scripts: real processes, real SQLite files and PostgreSQL."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hypersweep import (
    ConfigError,
    Experiment,
    GridParameterSampling,
    HyperDriveConfig,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    choice,
    uniform,
)

LOGGING_SCRIPT = """
    import argparse, json, os, sys
    from hypersweep import Run
    with open("outputs/argv.json", "w") as f:
        json.dump({"argv": sys.argv[1:], "env": os.environ.get("AZUREML_SWEEP_x")}, f)
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float)
    p.add_argument("--y", default="a")
    p.add_argument("--epochs", type=int, default=3)
    a, _ = p.parse_known_args()
    run = Run.get_context()
    for epoch in range(a.epochs):
        run.log("score", a.x * (epoch + 1))
    run.log("note", "done")
"""


def config_for(source: Path, sampling, **kwargs) -> HyperDriveConfig:
    kwargs.setdefault("primary_metric_name", "score")
    kwargs.setdefault("primary_metric_goal", "maximize")
    kwargs.setdefault("max_total_runs", 4)
    script_args = kwargs.pop("arguments", None)
    timeout = kwargs.pop("trial_timeout", None)
    return HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py",
                                   arguments=script_args, max_run_duration_seconds=timeout),
        hyperparameter_sampling=sampling, **kwargs,
    )


def intervals(run) -> list[tuple[float, float]]:
    store = run.experiment.workspace.store
    return [(t.start_time.timestamp(), t.end_time.timestamp())
            for t in store.list_trials(run.id)]


def max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans],
                    key=lambda ev: (ev[0], ev[1]))
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


@pytest.mark.slow
def test_sweep_runs_every_trial_and_ranks_by_best_value(experiment: Experiment, make_source):
    source = make_source(LOGGING_SCRIPT)
    sampling = RandomParameterSampling({"x": uniform(0, 1), "y": choice("a", "b")}, seed=3)
    run = experiment.submit(config_for(source, sampling, max_total_runs=5,
                                       max_concurrent_runs=2, arguments=["--epochs", 4]))
    details = run.wait_for_completion()
    assert details["status"] == "Completed"
    children = run.get_children()
    assert len(children) == 5
    assert [c.id for c in children] == [f"{run.id}_{i}" for i in range(5)]
    assert all(c.get_status() == "Completed" for c in children)
    assert max_overlap(intervals(run)) <= 2
    # the best value is the max over all logged values (the 4th epoch here), not the last one
    hyper = run.get_hyperparameters()
    expected = {tid: p["x"] * 4 for tid, p in hyper.items()}
    ranked = run.get_children_sorted_by_primary_metric()
    assert [r["run_id"] for r in ranked] == sorted(expected, key=expected.get, reverse=True)
    for row in ranked:
        assert row["best_primary_metric"] == pytest.approx(expected[row["run_id"]])
    best = run.get_best_run_by_primary_metric()
    assert best is not None and best.id == ranked[0]["run_id"]
    assert run.properties["best_child_run_id"] == best.id
    metrics = best.get_metrics()
    assert metrics["note"] == "done"
    assert len(metrics["score"]) == 4
    assert run.get_metrics()[best.id] == metrics
    # the sampler's preview is exactly what ran
    assert [hyper[c.id] for c in children] == sampling.preview(5)
    frame = run.to_dataframe()
    assert list(frame["run_id"]) == [c.id for c in children]
    assert {"status", "x", "y", "best_primary_metric", "duration_s"} <= set(frame.columns)
    child = best.get_details()
    assert child["startTimeUtc"].endswith("Z") and child["endTimeUtc"].endswith("Z")
    assert child["runDefinition"]["arguments"][:2] == ["--epochs", "4"]


@pytest.mark.slow
def test_arguments_arrive_intact_and_search_space_overrides(sqlite_workspace, make_source):
    tricky = ["a b", "it's \"quoted\"", "; reboot", "$(rm -rf ~)", "ünï", "--dash"]
    source = make_source(LOGGING_SCRIPT)
    sampling = GridParameterSampling({"x": choice(0.5), "y": choice(*tricky)})
    run = Experiment(sqlite_workspace, "args").submit(config_for(
        source, sampling, max_total_runs=10, arguments=["--x", "99", "--epochs", "1"]))
    run.wait_for_completion()
    children = run.get_children()
    assert len(children) == len(tricky)  # the grid runs out before max_total_runs
    for child, value in zip(children, tricky, strict=True):
        seen = json.loads((child.outputs_path / "argv.json").read_text())
        assert seen["argv"] == ["--epochs", "1", "--x", "0.5", "--y", value]
        assert seen["env"] == "0.5"


@pytest.mark.slow
def test_failures_are_classified_and_the_sweep_goes_on(workspace, make_source):
    source = make_source("""
        import argparse, sys
        from hypersweep import Run
        p = argparse.ArgumentParser(); p.add_argument("--mode"); a = p.parse_args()
        run = Run.get_context()
        run.log("acc", 0.5)
        if a.mode == "crash":
            raise RuntimeError("boom in the training loop")
        if a.mode == "exit":
            sys.exit(3)
        if a.mode == "fail":
            run.fail("diverged")
    """)
    sampling = GridParameterSampling({"mode": choice("ok", "crash", "exit", "fail")})
    run = Experiment(workspace, "fail").submit(config_for(
        source, sampling, primary_metric_name="acc", max_total_runs=4))
    assert run.wait_for_completion()["status"] == "Completed"
    by_mode = {c.get_hyperparameters()["mode"]: c.get_details() for c in run.get_children()}
    assert by_mode["ok"]["status"] == "Completed"
    assert by_mode["crash"]["status"] == "Failed"
    assert "RuntimeError: boom in the training loop" in by_mode["crash"]["error"]
    assert by_mode["exit"]["status"] == "Failed" and by_mode["exit"]["exitCode"] == 3
    assert by_mode["fail"]["status"] == "Failed" and "diverged" in by_mode["fail"]["error"]


@pytest.mark.slow
def test_a_sweep_whose_every_trial_fails_fails(sqlite_workspace, make_source):
    source = make_source("import sys; sys.exit('no data')\n")
    sampling = RandomParameterSampling({"x": uniform(0, 1)}, seed=0)
    run = Experiment(sqlite_workspace, "allfail").submit(config_for(source, sampling,
                                                                    max_total_runs=2))
    with pytest.raises(RuntimeError, match="failed"):
        run.wait_for_completion()
    assert run.get_status() == "Failed"
    assert all("no data" in c.get_details()["error"] for c in run.get_children())


@pytest.mark.slow
def test_trial_timeout_and_max_duration_cancel_with_reasons(workspace, make_source):
    source = make_source("""
        import argparse, time
        from hypersweep import Run
        p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a = p.parse_args()
        Run.get_context().log("score", a.x)
        time.sleep(60)
    """)
    sampling = RandomParameterSampling({"x": uniform(0, 1)}, seed=0)
    run = Experiment(workspace, "timeouts").submit(config_for(
        source, sampling, max_total_runs=3, max_concurrent_runs=3, trial_timeout=1.0))
    run.wait_for_completion()
    for child in run.get_children():
        details = child.get_details()
        assert details["status"] == "Canceled"
        assert details["terminationReason"] == "trial_timeout"
        assert child.get_metrics()["score"] == child.get_hyperparameters()["x"]

    run = Experiment(workspace, "deadline").submit(config_for(
        source, sampling, max_total_runs=4, max_concurrent_runs=2,
        max_duration_minutes=1.5 / 60))
    details = run.wait_for_completion()
    assert details["status"] == "Completed"
    children = run.get_children()
    assert len(children) == 2  # the deadline came before the first two ended
    assert {c.get_details()["terminationReason"] for c in children} == {"max_duration"}
    assert any("max_duration" in w for w in run.warnings)


@pytest.mark.slow
def test_misspelled_primary_metric_is_reported_loudly(sqlite_workspace, make_source):
    source = make_source(LOGGING_SCRIPT)
    sampling = RandomParameterSampling({"x": uniform(0, 1)}, seed=0)
    run = Experiment(sqlite_workspace, "typo").submit(config_for(
        source, sampling, primary_metric_name="scor", max_total_runs=2))
    details = run.wait_for_completion(raise_on_error=False)
    assert any("'scor'" in w and "'score'" in w for w in run.warnings)
    # A sweep that can rank nothing failed, whatever its trials did.
    assert details["status"] == "Failed" and "Did you mean 'score'?" in details["error"]
    assert run.get_best_run_by_primary_metric() is None


@pytest.mark.slow
def test_source_is_snapshotted_at_submit(sqlite_workspace, make_source):
    source = make_source("""
        import time
        from hypersweep import Run
        time.sleep(0.5)
        from data import VALUE
        Run.get_context().log("v", VALUE)
    """)
    (source / "data.py").write_text("VALUE = 1\n")
    sampling = RandomParameterSampling({"x": uniform(0, 1)}, seed=0)
    run = Experiment(sqlite_workspace, "snap").submit(config_for(
        source, sampling, primary_metric_name="v", max_total_runs=3, max_concurrent_runs=1))
    (source / "data.py").write_text("VALUE = 2\n")
    run.wait_for_completion()
    assert [c.get_metrics()["v"] for c in run.get_children()] == [1, 1, 1]


@pytest.mark.slow
def test_cancel_stops_running_trials(workspace, make_source):
    source = make_source("import time; time.sleep(60)\n")
    sampling = RandomParameterSampling({"x": uniform(0, 1)}, seed=0)
    run = Experiment(workspace, "cancel").submit(config_for(
        source, sampling, max_total_runs=6, max_concurrent_runs=2))
    import time

    deadline = time.monotonic() + 20
    while len(run.get_children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.cancel()
    assert run.wait_for_completion()["status"] == "Canceled"
    children = run.get_children()
    assert len(children) == 2
    assert {c.get_details()["terminationReason"] for c in children} == {"user_cancel"}


@pytest.mark.slow
def test_warm_start_reruns_child_runs_with_their_outputs(workspace, make_source):
    source = make_source("""
        import argparse, os
        from hypersweep import Run
        p = argparse.ArgumentParser()
        p.add_argument("--x", type=float); p.add_argument("--resume-from")
        a = p.parse_args()
        if a.resume_from:
            previous = open(os.path.join(a.resume_from, "ckpt.txt")).read()
            Run.get_context().log("score", float(previous) + 10)
        else:
            open("outputs/ckpt.txt", "w").write(str(a.x))
            Run.get_context().log("score", a.x)
    """)
    sampling = RandomParameterSampling({"x": uniform(0, 1)}, seed=0)
    experiment = Experiment(workspace, "warm")
    first = experiment.submit(config_for(source, sampling, max_total_runs=2))
    first.wait_for_completion()
    old = first.get_children()
    second = experiment.submit(config_for(
        source, RandomParameterSampling({"x": uniform(0, 1)}, seed=1), max_total_runs=3,
        resume_from=[first], resume_child_runs=[old[1]]))
    second.wait_for_completion()
    new = second.get_children()
    assert len(new) == 3
    assert new[0].get_hyperparameters() == old[1].get_hyperparameters()
    assert new[0].get_details()["properties"]["resumed_from"] == old[1].id
    assert new[0].get_metrics()["score"] == pytest.approx(old[1].get_metrics()["score"] + 10)


def test_bad_configs_are_refused_naming_the_key(sqlite_workspace, make_source, tmp_path):
    source = make_source(LOGGING_SCRIPT)
    sampling = RandomParameterSampling({"x": uniform(0, 1)}, seed=0)
    with pytest.raises(ConfigError, match="max_total_runs"):
        config_for(source, sampling, max_total_runs=0)
    with pytest.raises(ConfigError, match="max_concurrent_runs"):
        config_for(source, sampling, max_concurrent_runs=-1)
    with pytest.raises(ConfigError, match="primary_metric_goal"):
        config_for(source, sampling, primary_metric_goal="up")
    with pytest.raises(ConfigError, match="primary_metric_name"):
        config_for(source, sampling, primary_metric_name="")
    with pytest.raises(ConfigError, match="hyperparameter_sampling"):
        config_for(source, {"x": uniform(0, 1)})
    with pytest.raises(ConfigError, match=r"script: 'missing\.py' not found"):
        ScriptRunConfig(source_directory=source, script="missing.py")
    with pytest.raises(ConfigError, match="source_directory"):
        ScriptRunConfig(source_directory=tmp_path / "nowhere", script="train.py")
    with pytest.raises(ConfigError, match="resume_from"):
        Experiment(sqlite_workspace, "bad").submit(config_for(
            source, sampling, resume_from=["HD_00000000-0000-0000-0000-000000000000"]))
    with pytest.raises(ConfigError, match="name"):
        Experiment(sqlite_workspace, "no spaces allowed")
    with pytest.raises(ConfigError, match="store: unsupported store URL scheme 'mysql'"):
        Workspace(tmp_path / "ws2", store="mysql://root@127.0.0.1/test")
    with pytest.raises(ConfigError, match="store: invalid store URL"):
        Workspace(tmp_path / "ws2", store="postgresql://host:notaport/db")
    assert sqlite_workspace.store.list_sweeps() == []


def test_trial_scripts_import_hypersweep_cheaply():
    """``from hypersweep import Run`` in a trial must not pull numpy, scipy or SQLAlchemy."""
    import subprocess

    code = ("import sys; from hypersweep import Run; Run.get_context(); "
            "print(sorted(m for m in ('numpy', 'scipy', 'sqlalchemy', 'pandas', 'rich') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_non_numeric_primary_metric_is_kept_but_never_ranks(sqlite_workspace, make_source):
    source = make_source("""
        import argparse
        from hypersweep import Run
        p = argparse.ArgumentParser(); p.add_argument("--v"); a = p.parse_args()
        run = Run.get_context()
        run.log("score", a.v if a.v in ("n/a", "True") else float(a.v))
        run.log("flag", True)
    """)
    sampling = GridParameterSampling({"v": choice("n/a", "0.25", "0.5", "True")})
    run = Experiment(sqlite_workspace, "text").submit(config_for(source, sampling,
                                                                 max_total_runs=4))
    run.wait_for_completion()
    ranked = run.get_children_sorted_by_primary_metric()
    assert [r["best_primary_metric"] for r in ranked] == [0.5, 0.25, None, None]
    by_value = {c.get_hyperparameters()["v"]: c.get_metrics() for c in run.get_children()}
    assert by_value["n/a"] == {"score": "n/a", "flag": True}
    assert by_value["True"]["score"] == "True"  # a string stays a string
    assert run.get_best_run_by_primary_metric().get_hyperparameters() == {"v": "0.5"}
