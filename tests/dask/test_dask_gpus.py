"""GPUs per trial on Dask: the scheduler counts them, each worker gives every trial its own.

GPUs are faked: the workers run with ``HYPERSWEEP_GPUS=0,1,2,3`` in their environment and
declare ``--resources GPU=4`` (``LocalCluster(resources=...)``). Each trial script records the
devices and cores it was given and when it ran; two trials that ran at the same time must not
share a device (beyond the fraction each asked for).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import distributed
import pytest

from hypersweep.errors import ConfigError
from hypersweep.execution import TrialExit, TrialSpec
from hypersweep.execution.dask import PLACEMENT_RECORD, DaskExecutor
from hypersweep.execution.placement import Slot

SCRIPT = """
import json, os, sys, time
start = time.time()
time.sleep(float(sys.argv[1]))
record = {"trial": os.environ["HYPERSWEEP_TRIAL_ID"], "start": start, "end": time.time(),
          "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
          "ids": os.environ.get("HYPERSWEEP_GPU_IDS"),
          "omp": os.environ.get("OMP_NUM_THREADS"),
          "cores": sorted(os.sched_getaffinity(0))}
with open(os.environ["RECORDS"], "a") as f:
    f.write(json.dumps(record) + "\\n")
"""


def _cluster(workers: int, gpus: float, visible: str,
             threads: int = 8) -> distributed.LocalCluster:
    return distributed.LocalCluster(
        n_workers=workers, processes=True, threads_per_worker=threads, host="127.0.0.1",
        resources={"GPU": gpus}, env={"HYPERSWEEP_GPUS": visible},
        dashboard_address=None, worker_dashboard_address=None,
    )


@pytest.fixture(scope="module")
def gpu_cluster() -> Iterator[distributed.LocalCluster]:
    """One worker process with 8 threads declaring ``GPU=4`` and seeing devices 0-3."""
    with _cluster(1, 4, "0,1,2,3") as cluster:
        yield cluster


@pytest.fixture
def executor(gpu_cluster: distributed.LocalCluster) -> Iterator[DaskExecutor]:
    ex = DaskExecutor(gpu_cluster.scheduler_address, tick=0.05)
    ex.client.wait_for_workers(1, timeout=60)
    yield ex
    ex.shutdown(stop_trials=True)


def _run(executor: DaskExecutor, tmp_path: Path, count: int,
         seconds: float = 1.5) -> tuple[list[dict], dict[str, TrialExit]]:
    """Launch ``count`` trials at once and wait for them all: (what each recorded, exits)."""
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "train.py").write_text(SCRIPT)
    records = tmp_path / "records.jsonl"
    for i in range(count):
        trial_dir = tmp_path / "runs" / f"HD_gpu_{i}"
        executor.launch(TrialSpec(f"HD_gpu_{i}", [sys.executable, "train.py", str(seconds)],
                                  {"RECORDS": str(records), "HYPERSWEEP_TRIAL_ID": f"HD_gpu_{i}"},
                                  trial_dir / "work", trial_dir,
                                  snapshot=source))
    exits: dict[str, TrialExit] = {}
    deadline = time.monotonic() + 90
    while len(exits) < count:
        assert time.monotonic() < deadline, f"only {sorted(exits)} ended"
        for ended in executor.poll()[1]:
            exits[ended.trial_id] = ended
        executor.wait(0.1)
    lines = records.read_text().splitlines() if records.exists() else []
    return [json.loads(line) for line in lines], exits


def _overlapping(records: list[dict]) -> list[tuple[dict, dict]]:
    return [(a, b) for i, a in enumerate(records) for b in records[i + 1:]
            if a["start"] < b["end"] and b["start"] < a["end"]]


def _most_at_once(records: list[dict]) -> int:
    return max(sum(1 for r in records if r["start"] <= t["start"] < r["end"]) for t in records)


@pytest.mark.slow
def test_whole_gpus_are_never_shared(executor, tmp_path):
    executor.placement(1, None)
    records, exits = _run(executor, tmp_path, 4)
    assert {e.exit_code for e in exits.values()} == {0}, exits
    assert _most_at_once(records) >= 2  # the check below looks at trials that overlapped
    for a, b in _overlapping(records):
        assert a["cuda"] != b["cuda"], (a, b)
    for record in records:
        assert record["cuda"] in {"0", "1", "2", "3"} and record["ids"] == record["cuda"]
        # the controller learns the devices: from the executor and in the trial folder
        slot = executor.slot_of(record["trial"])
        assert slot == Slot(gpus=(int(record["cuda"]),))
        stored = json.loads((tmp_path / "runs" / record["trial"] / PLACEMENT_RECORD).read_text())
        assert stored == {"gpus": [int(record["cuda"])], "cores": []}


@pytest.mark.slow
def test_half_gpus_pack_two_per_device(executor, tmp_path):
    executor.placement(0.5, None)
    records, exits = _run(executor, tmp_path, 8)
    assert {e.exit_code for e in exits.values()} == {0}, exits
    assert _most_at_once(records) >= 3
    for record in records:
        at_once = [r for r in records if r["start"] <= record["start"] < r["end"]]
        assert Counter(r["cuda"] for r in at_once)[record["cuda"]] <= 2, at_once


@pytest.mark.slow
def test_cores_are_pinned_and_not_shared(executor, tmp_path):
    executor.placement(0, 1)
    records, exits = _run(executor, tmp_path, 3, seconds=0.5)
    assert {e.exit_code for e in exits.values()} == {0}, exits
    for record in records:
        assert len(record["cores"]) == 1 and record["omp"] == "1" and record["cuda"] is None
    for a, b in _overlapping(records):
        assert a["cores"] != b["cores"], (a, b)


def test_a_cluster_without_gpus_is_refused(address):
    executor = DaskExecutor(address)
    try:
        with pytest.raises(ConfigError, match=r"resources_per_trial\.gpu.*--resources GPU="):
            executor.placement(1, None)
        assert executor.placement(0, None) is None  # asking for nothing needs no check
    finally:
        executor.shutdown()


def test_no_worker_connected_is_a_clear_error():
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as c:
        executor = DaskExecutor(c.scheduler_address, worker_wait=0.3)
        try:
            with pytest.raises(ConfigError, match="no Dask worker is connected"):
                executor.placement(1, None)
        finally:
            executor.shutdown()


@pytest.mark.slow
def test_a_worker_declaring_more_gpus_than_it_sees(tmp_path):
    with _cluster(1, 4, "0,1", threads=2) as cluster:
        executor = DaskExecutor(cluster.scheduler_address, tick=0.05)
        try:
            executor.client.wait_for_workers(1, timeout=60)
            with pytest.raises(ConfigError, match=r"declares GPU=4 but sees 2 device"):
                executor.placement(1, None)
            # A worker that joined after the check: the trial fails on it, saying why.
            executor._request, executor._task_resources = {"gpu": 1.0, "cpu": None}, {"GPU": 1}
            records, exits = _run(executor, tmp_path, 1, seconds=0.1)
            assert records == [] and exits["HD_gpu_0"].exit_code == 1
            assert "declares GPU=4 but sees 2 device(s) (0, 1)" in exits["HD_gpu_0"].stderr_tail
        finally:
            executor.shutdown(stop_trials=True)


@pytest.mark.slow
def test_two_worker_processes_seeing_the_same_gpus(tmp_path):
    with _cluster(2, 2, "0,1", threads=1) as cluster:
        executor = DaskExecutor(cluster.scheduler_address)
        try:
            executor.client.wait_for_workers(2, timeout=60)
            with pytest.raises(ConfigError, match=r"both see GPU\(s\) 0, 1"):
                executor.placement(1, None)
        finally:
            executor.shutdown()


def test_worker_wait_in_the_uri():
    from hypersweep.execution.factory import parse_dask_uri

    assert parse_dask_uri("dask://h:1?worker_wait=5")[1] == {"worker_wait": 5.0}
    with pytest.raises(ValueError, match="worker_wait"):
        parse_dask_uri("dask://h:1?worker_wait=soon")


def test_a_whole_sweep_on_one_worker_with_four_gpus(gpu_cluster: distributed.LocalCluster,
                                                    tmp_path: Path) -> None:
    """Through the controller: Dask counts the GPUs, the worker hands out the devices, and
    each trial's record keeps the devices it ran on."""
    from hypersweep import (
        Experiment,
        GridParameterSampling,
        HyperDriveConfig,
        ScriptRunConfig,
        Workspace,
        choice,
    )

    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(SCRIPT + "\nfrom hypersweep import Run\n"
                                     "Run.get_context().log('score', 1.0)\n")
    records = tmp_path / "records.jsonl"
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py",
                                   arguments=["1.0"],  # seconds; then --x <x>
                                   environment_variables={"RECORDS": str(records)}),
        hyperparameter_sampling=GridParameterSampling({"x": choice(*range(6))}),
        primary_metric_name="score", primary_metric_goal="maximize", max_total_runs=6,
        max_concurrent_runs=6, resources_per_trial={"gpu": 1},
        executor="dask://" + gpu_cluster.scheduler_address.removeprefix("tcp://"))
    workspace = Workspace(tmp_path / "ws")
    run = Experiment(workspace, "dask-gpus").submit(config)
    run.wait_for_completion()
    assert run.get_status() == "Completed"
    ran = [json.loads(line) for line in records.read_text().splitlines()]
    assert len(ran) == 6
    for trial in ran:
        together = [t for t in ran if t["start"] <= trial["start"] < t["end"]]
        assert len(together) <= 4
        uses = Counter(t["cuda"] for t in together)
        assert max(uses.values()) == 1, together
    stored = {t.id: t.placement for t in workspace.store.list_trials(run.id)}
    assert stored == {t["trial"]: {"gpus": [int(t["cuda"])], "cores": []} for t in ran}
