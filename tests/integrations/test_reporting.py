"""The Reporter every framework callback logs through: function trials (threads and worker
processes), script trials (SIGTERM recorded, not fatal) and offline runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reporting_objectives

from hypersweep import BanditPolicy, GridParameterSampling, choice, tune
from hypersweep.integrations import Reporter
from hypersweep.integrations.reporting import as_number
from hypersweep.store import Status
from hypersweep.tracking.context import OfflineRun, current_run, running
from hypersweep.tracking.journal import JournalReader


def test_offline_reporter_prints_numbers_and_warns_once_per_skipped_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    reporter = Reporter()
    assert isinstance(reporter.run, OfflineRun)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(2):
            reporter.log({"loss": np.float32(0.5), "n": np.int64(3), "name": "x",
                          "vector": np.ones(2), "bad": float("inf")}, step=step)
    out = capsys.readouterr().out
    assert out.count("metric loss:\n0.5") == 2 and out.count("metric n:\n3.0") == 2
    assert sorted(str(w.message).split("'")[1] for w in caught) == ["bad", "name", "vector"]
    assert not reporter.should_stop()


def test_as_number_takes_scalars_only() -> None:
    assert as_number(np.array(2.5)) == 2.5
    assert as_number(np.bool_(True)) is None
    assert as_number(10**400) is None
    assert as_number(None) is None


def test_unstorable_names_warn_instead_of_raising() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Reporter(OfflineRun()).log({"a\x00b": 1.0})
    assert "not logged" in str(caught[0].message)


def test_current_run_is_per_thread() -> None:
    runs = [OfflineRun() for _ in range(3)]
    seen: list[bool] = []
    barrier = threading.Barrier(3)

    def work(run: OfflineRun) -> None:
        with running(run):
            barrier.wait()
            seen.append(current_run() is run)

    threads = [threading.Thread(target=work, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [True, True, True] and current_run() is None


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_function_trial_stopped_by_policy_ends_training_and_is_canceled(executor: str) -> None:
    sampling = GridParameterSampling({"curve": choice("good", "bad")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the "text" metric, skipped
        result = tune(reporting_objectives.reported_curve, sampling, "accuracy", "maximize",
                      max_total_runs=2, executor=executor,
                      policy=BanditPolicy(slack_amount=0.2))
    trials = {t.params["curve"]: t for t in result._store.list_trials(result.id)}
    metrics = result.get_metrics()
    good, bad = trials["good"], trials["bad"]
    assert good.status == Status.COMPLETED
    assert len(metrics[good.id]["accuracy"]) == reporting_objectives.ROUNDS
    # the objective returned normally after the callback saw the stop: still Canceled
    assert bad.status == Status.CANCELED
    assert bad.termination_reason == "early_termination"
    logged = metrics[bad.id]["accuracy"]
    assert (len(logged) if isinstance(logged, list) else 1) < reporting_objectives.ROUNDS
    assert metrics[bad.id]["rounds"] < reporting_objectives.ROUNDS
    assert "text" not in metrics[good.id]


def _script_trial_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    journal = tmp_path / "metrics.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERSWEEP_")}
    env.update(HYPERSWEEP_TRIAL_ID="HD_test_0", HYPERSWEEP_JOURNAL=str(journal),
               HYPERSWEEP_SWEEP_ID="HD_test")
    return env, journal


def test_script_trial_records_sigterm_and_ends_training_cleanly(tmp_path: Path) -> None:
    env, journal = _script_trial_env(tmp_path)
    script = textwrap.dedent("""
        import os, signal
        from hypersweep.integrations import Reporter
        reporter = Reporter()
        for step in range(100):
            reporter.log({"loss": 1.0 / (step + 1)}, step=step)
            if step == 4:
                os.kill(os.getpid(), signal.SIGTERM)  # as the supervisor does
            if reporter.should_stop():
                break
        print("ended at", step)
        os.kill(os.getpid(), signal.SIGTERM)  # a second one acts as it would have
        print("not reached")
    """)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.strip() == "ended at 4"
    assert done.returncode == -signal.SIGTERM
    steps = [r.step for r in JournalReader(str(journal)).read() if r.name == "loss"]
    assert steps == [0, 1, 2, 3, 4]


def test_a_reporter_outside_the_main_thread_installs_no_handler(tmp_path: Path) -> None:
    env, _ = _script_trial_env(tmp_path)
    script = textwrap.dedent("""
        import signal, threading
        from hypersweep.integrations import Reporter
        made = []
        thread = threading.Thread(target=lambda: made.append(Reporter()))
        thread.start(); thread.join()
        print(signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, made[0].should_stop())
    """)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.split() == ["True", "False"], done.stderr


def test_explicit_run_wins(capsys: pytest.CaptureFixture[str]) -> None:
    mine: Any = OfflineRun()
    with running(OfflineRun()):
        assert Reporter(mine).run is mine


def test_importing_the_integrations_imports_no_framework() -> None:
    script = ("import sys, hypersweep.integrations as i; i.Reporter; "
              "print(sorted(m for m in ('lightgbm', 'xgboost', 'sklearn', 'torch', 'keras', "
              "'transformers', 'lightning', 'pytorch_lightning') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
