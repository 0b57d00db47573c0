"""get_context(): a trial run writes the journal, the offline run prints; both act like Azure's."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from hypersweep.tracking import JournalReader, OfflineRun, TrialRun, get_context


def test_trial_run_writes_journal_with_steps_per_name(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    run = TrialRun("HD_s_0", str(path), sweep_id="HD_s")
    run.log("loss", 0.5)
    run.log("acc", 0.1)
    run.log("loss", 0.4, description="ignored")
    run.log("acc", 0.2, step=10)  # explicit step wins, counting goes on
    run.log("acc", 0.3)
    run.log_list("xs", (1, 2))
    run.log_row("curve", epoch=1, loss=0.5)
    run.log_row("curve", epoch=2, loss=0.4)
    run.tag("model", "svm")
    run.set_tags({"a": 1, "b": None})
    run.complete()
    recs = JournalReader(path).read()
    assert [(r.kind, r.name, r.value, r.step) for r in recs] == [
        ("metric", "loss", 0.5, 0),
        ("metric", "acc", 0.1, 0),
        ("metric", "loss", 0.4, 1),
        ("metric", "acc", 0.2, 10),
        ("metric", "acc", 0.3, 2),
        ("list", "xs", [1, 2], None),
        ("row", "curve", {"epoch": 1, "loss": 0.5}, 0),
        ("row", "curve", {"epoch": 2, "loss": 0.4}, 1),
        ("tag", "model", "svm", None),
        ("tag", "a", 1, None),
        ("tag", "b", "", None),
        ("complete", "", None, None),
    ]
    assert run.id == "HD_s_0" and run.parent is not None and run.parent.id == "HD_s"
    assert run.get_status() == "Completed"
    assert run.get_tags() == {"model": "svm", "a": 1, "b": ""}


def test_fail_records_details(tmp_path: Path) -> None:
    run = TrialRun("t", str(tmp_path / "m.jsonl"))
    run.fail(ValueError("diverged"))
    (rec,) = JournalReader(tmp_path / "m.jsonl").read()
    assert (rec.kind, rec.value) == ("fail", "diverged")
    assert run.get_status() == "Failed"


@pytest.mark.parametrize("name", ["", None, 3])
def test_bad_names_are_refused(tmp_path: Path, name: object) -> None:
    run = TrialRun("t", str(tmp_path / "m.jsonl"))
    with pytest.raises(ValueError, match="non-empty string"):
        run.log(name, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tag key"):
        run.tag(name)  # type: ignore[arg-type]


def test_bad_values_are_refused_with_the_metric_name(tmp_path: Path) -> None:
    run = TrialRun("t", str(tmp_path / "m.jsonl"))
    with pytest.raises(TypeError, match=r"'loss'.*log_list"):
        run.log("loss", [1, 2])
    with pytest.raises(TypeError, match="'loss'"):
        run.log("loss", None)
    with pytest.raises(TypeError, match="'loss'"):
        run.log("loss", object())
    with pytest.raises(TypeError, match="'xs'"):
        run.log_list("xs", 3)
    assert JournalReader(tmp_path / "m.jsonl").read() == []  # nothing half-written


def test_get_context_detects_trial_and_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hypersweep.tracking import context

    offline = get_context()
    assert isinstance(offline, OfflineRun) and get_context() is offline
    with pytest.raises(RuntimeError, match="allow_offline"):
        get_context(allow_offline=False)
    context._reset_context()
    monkeypatch.setenv("HYPERSWEEP_TRIAL_ID", "HD_x_3")
    monkeypatch.setenv("HYPERSWEEP_SWEEP_ID", "HD_x")
    monkeypatch.setenv("HYPERSWEEP_JOURNAL", str(tmp_path / "m.jsonl"))
    monkeypatch.setenv("HYPERSWEEP_OUTPUTS", str(tmp_path / "outs"))
    monkeypatch.setenv("HYPERSWEEP_EXPERIMENT", "digits")
    run = get_context(allow_offline=False)
    assert isinstance(run, TrialRun) and get_context() is run
    assert run.id == "HD_x_3" and run.sweep_id == "HD_x"
    assert run.outputs_dir == str(tmp_path / "outs")
    assert run.experiment is not None and run.experiment.name == "digits"


def test_offline_run_prints(capsys: pytest.CaptureFixture[str]) -> None:
    run = OfflineRun()
    run.log("accuracy", 0.93)
    run.log_list("xs", [1, 2])
    run.log_row("curve", epoch=1)
    run.tag("k", "v")
    run.complete()
    out = capsys.readouterr().out
    assert out == (
        "Attempted to log scalar metric accuracy:\n0.93\n"
        "Attempted to log list metric xs:\n[1, 2]\n"
        "Attempted to log row metric curve:\n{'epoch': 1}\n"
        "Attempted to tag run with k:\nv\n"
        "Attempted to mark offline run as completed\n"
    )
    assert run.id.startswith("OfflineRun_") and run.parent is None


def test_script_runs_alone(run_script: Callable[..., CompletedProcess[str]]) -> None:
    proc = run_script(
        "from hypersweep.tracking import get_context\n"
        "run = get_context()\n"
        "for i in range(2):\n"
        "    run.log('accuracy', 0.5 + i / 10)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "Attempted to log scalar metric accuracy:\n0.5\n"
        "Attempted to log scalar metric accuracy:\n0.6\n"
    )


def test_import_is_light(run_script: Callable[..., CompletedProcess[str]]) -> None:
    proc = run_script(
        "import sys, json\n"
        "before = set(sys.modules)\n"
        "import hypersweep.tracking\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    heavy = {"numpy", "sqlalchemy", "scipy", "pandas", "subprocess"}
    assert not heavy & {m.split(".")[0] for m in loaded}, loaded


def test_forked_writers_share_one_journal(
    tmp_path: Path, run_script: Callable[..., CompletedProcess[str]]
) -> None:
    journal = tmp_path / "m.jsonl"
    proc = run_script(
        "import os\n"
        "from hypersweep.tracking import get_context\n"
        "run = get_context()\n"
        "run.log('parent', 1)\n"
        "pids = []\n"
        "for k in range(3):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        for i in range(100): get_context().log(f'w{k}', i)\n"
        "        os._exit(0)\n"
        "    pids.append(pid)\n"
        "for pid in pids: os.waitpid(pid, 0)\n",
        HYPERSWEEP_TRIAL_ID="t",
        HYPERSWEEP_JOURNAL=str(journal),
    )
    assert proc.returncode == 0, proc.stderr
    reader = JournalReader(journal)
    recs = reader.read()
    assert reader.corrupt == 0 and len(recs) == 301
    for k in range(3):
        assert [r.value for r in recs if r.name == f"w{k}"] == list(range(100))
