"""Function trials in worker processes, each given its own fake GPUs and cores."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import objectives
import pytest

from hypersweep import GridParameterSampling, Sweep, choice, tune
from hypersweep.errors import ConfigError
from hypersweep.store import Status

pytestmark = pytest.mark.slow


def runs(log: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for line in log.read_text().splitlines():
        event = json.loads(line)
        out.setdefault(event["trial"], dict(event))[event["event"]] = event["time"]
    return out


def space(log: Path, trials: int, gather: int, **more: Any) -> GridParameterSampling:
    return GridParameterSampling({"x": choice(*range(trials)), "log": choice(str(log)),
                                  "gather": choice(gather),
                                  **{k: choice(v) for k, v in more.items()}})


@pytest.mark.parametrize("gpu, at_once, per_device", [(1, 4, 1), (0.5, 8, 2)])
def test_each_worker_gets_its_own_devices(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          gpu: float, at_once: int, per_device: int) -> None:
    monkeypatch.setenv("HYPERSWEEP_GPUS", "0,1,2,3")
    log = tmp_path / "log.jsonl"
    log.touch()
    total = at_once + 2
    result = tune(objectives.records_its_devices, space(log, total, at_once), "x", "maximize",
                  max_total_runs=total, max_concurrent_runs=16, executor="process",
                  resources_per_trial={"gpu": gpu})
    assert result.get_status() == "Completed" and result.best_value == total - 1
    trials = runs(log)
    assert len(trials) == total
    assert len({t["pid"] for t in trials.values()}) == total  # a fresh process per trial
    most = 0
    for trial in trials.values():
        group = [t for t in trials.values() if t["start"] <= trial["start"] < t["end"]]
        most = max(most, len(group))
        uses = Counter(int(d) for t in group for d in t["cuda"].split(","))
        assert max(uses.values()) <= per_device, group
    assert most == at_once
    stored = {t.id: t.placement for t in result._store.list_trials(result.id)}
    assert {name: [int(t["cuda"])] for name, t in trials.items()} == {
        name: placement["gpus"] for name, placement in stored.items()}


def test_a_core_per_worker(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.touch()
    cores = len(os.sched_getaffinity(0))
    result = tune(objectives.records_its_devices, space(log, cores + 1, cores), "x",
                  "maximize", max_total_runs=cores + 1, max_concurrent_runs=8,
                  executor="process", resources_per_trial={"cpu": 1})
    assert result.get_status() == "Completed"
    trials = runs(log)
    assert all(len(t["cores"]) == 1 and t["omp"] == "1" for t in trials.values())
    for trial in trials.values():
        group = [t for t in trials.values() if t["start"] <= trial["start"] < t["end"]]
        assert len({t["cores"][0] for t in group}) == len(group) <= cores


def test_gpu_out_of_memory_in_a_function_trial(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("HYPERSWEEP_GPUS", "0")
    log = tmp_path / "log.jsonl"
    log.touch()
    result = tune(objectives.records_its_devices, space(log, 3, 1, oom=1), "x", "maximize",
                  max_total_runs=3, executor="process", resources_per_trial={"gpu": 1})
    trials = sorted(result._store.list_trials(result.id), key=lambda t: t.index)
    assert [t.status for t in trials] == [Status.COMPLETED, Status.FAILED, Status.COMPLETED]
    assert trials[1].termination_reason == "gpu_out_of_memory"
    assert result.get_status() == "Completed"


def test_threads_cannot_be_given_devices() -> None:
    with pytest.raises(ConfigError, match=r"resources_per_trial: trials in threads share one "
                                          r"process.*executor=.process."):
        tune(objectives.quadratic, GridParameterSampling({"x": choice(1)}), "y", "minimize",
             max_total_runs=1, resources_per_trial={"gpu": 1})


def test_an_ask_tell_sweep_places_its_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERSWEEP_GPUS", "0,1")
    sweep = Sweep(GridParameterSampling({"x": choice(*range(4))}), "y", "maximize",
                  max_total_runs=4, resources_per_trial={"gpu": 1})
    first, second = sweep.ask(), sweep.ask()
    assert first is not None and second is not None
    assert sweep.ask() is None  # both devices are held
    assert (first.record.placement, second.record.placement) == (
        {"gpus": [0], "cores": []}, {"gpus": [1], "cores": []})
    sweep.tell(first, 1.0)
    third = sweep.ask()
    assert third is not None and third.record.placement == {"gpus": [0], "cores": []}
    for trial in (second, third):
        sweep.tell(trial, 0.0)
    assert sweep.ask() is not None


@pytest.mark.parametrize("resources, message", [
    ({"gpu": -1}, r"resources_per_trial.gpu: expected a number >= 0 \(got -1\)"),
    ({"gpu": 1.5}, r"resources_per_trial.gpu: a trial takes a fraction of one GPU or whole"),
    ({"cpu": 0.5}, r"resources_per_trial.cpu: expected a whole number of cores >= 1"),
    ({"gpus": 1}, r"resources_per_trial: unknown key 'gpus' \(known: cpu, gpu\)"),
    ([1], r"resources_per_trial: expected a mapping"),
])
def test_bad_resources_name_the_key(resources: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Sweep(GridParameterSampling({"x": choice(1)}), "y", "maximize",
              resources_per_trial=resources)


def test_a_resumed_sweep_keeps_its_resources(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from hypersweep import Workspace

    monkeypatch.setenv("HYPERSWEEP_GPUS", "0,1")
    log = tmp_path / "log.jsonl"
    log.touch()
    workspace = Workspace(tmp_path / "ws")
    first = tune(objectives.records_its_devices, space(log, 4, 1), "x", "maximize",
                 max_total_runs=2, executor="process", workspace=workspace,
                 resources_per_trial={"gpu": 1})
    with pytest.raises(ConfigError, match=r"resources_per_trial: sweep HD_\S+ gives each trial "
                                          r"\{'gpu': 1, 'cpu': None\}, not \{'gpu': 2\}"):
        tune(objectives.records_its_devices, workspace=workspace, resume=first.id,
             max_total_runs=4, executor="process", resources_per_trial={"gpu": 2})
    with pytest.raises(ConfigError, match=r"executor: sweep HD_\S+ gives each trial its own "
                                          r"devices or cores .* executor='process'"):
        tune(objectives.records_its_devices, workspace=workspace, resume=first.id,
             max_total_runs=4)
    again = tune(objectives.records_its_devices, workspace=workspace, resume=first.id,
                 max_total_runs=4, executor="process")
    assert again.get_status() == "Completed"
    assert all(t.placement is not None for t in workspace.store.list_trials(first.id))
