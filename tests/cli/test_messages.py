"""Messages that say what happened: short ids, sweep ids given for trials, a busy port, a sweep
whose controller died, `logs --json`, an unseeded preview, a failed best trial."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from click.testing import Result
from tests.cli.project import Project

from hypersweep import Workspace

SWEEP = """\
type: sweep
trial:
  command: python train.py --x ${{{{search_space.x}}}} --sleep {sleep}
search_space:
  x: {{type: uniform, min_value: 0, max_value: 1}}
sampling_algorithm: {sampling}
objective: {{primary_metric: score, goal: maximize}}
limits: {{max_total_trials: {n}, max_concurrent_trials: 2}}
"""


def _sweep(project: Project, invoke: Callable[..., Result], n: int = 2) -> str:
    project.write(SWEEP.format(sleep=0, n=n, sampling="{type: random, seed: 2}"))
    result = invoke("run", "sweep.yml", "--json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["sweep_id"])


def test_short_prefix_explains_the_minimum(project: Project,
                                           invoke: Callable[..., Result]) -> None:
    sweep_id = _sweep(project, invoke)
    short = sweep_id[3:6]
    result = invoke("show", short)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: no sweep {short!r}: name a sweep by its id or at least 4 characters of it "
        f"(1 sweep id starts with {short!r}, e.g. {sweep_id[3:11]})\n")
    result = invoke("show", "zz")
    assert result.stderr == (
        "error: no sweep 'zz': name a sweep by its id or at least 4 characters of it\n")


def test_a_sweep_id_given_to_logs(project: Project, invoke: Callable[..., Result]) -> None:
    sweep_id = _sweep(project, invoke)
    for given in (sweep_id, sweep_id[3:11]):
        result = invoke("logs", given)
        assert result.exit_code == 1
        assert result.stderr == (
            f"error: {given!r} is a sweep, not a trial; name one of its 2 trials by the sweep "
            f"and a number from 0 to 1, e.g. hypersweep logs {given}_0\n"), result.stderr


def test_logs_json(project: Project, invoke: Callable[..., Result]) -> None:
    sweep_id = _sweep(project, invoke)
    result = invoke("logs", f"{sweep_id[3:11]}_1", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["run_id"] == f"{sweep_id}_1"
    assert data["status"] == "Completed" and data["stream"] == "stdout"
    assert data["text"].startswith("trained ")
    data = json.loads(invoke("logs", f"{sweep_id}_1", "--json", "--stderr").stdout)
    assert (data["stream"], data["text"]) == ("stderr", "to stderr\n")
    lines = invoke("logs", f"{sweep_id}_1", "--json", "--follow").stdout.splitlines()
    chunks = [json.loads(line) for line in lines]  # JSON Lines, the last with the status
    assert "".join(c["text"] for c in chunks).startswith("trained ")
    assert chunks[-1]["status"] == "Completed" and "status" not in chunks[0]


def test_ui_on_a_busy_port(project: Project, invoke: Callable[..., Result]) -> None:
    _sweep(project, invoke)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(["hypersweep", "ui", "--port", str(port)], capture_output=True,
                                text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (f"error: port {port} on 127.0.0.1 is in use (another dashboard?); "
                             f"pick another with --port, e.g. --port {port + 1}\n")


def test_ls_marks_a_sweep_whose_controller_died(project: Project,
                                                invoke: Callable[..., Result]) -> None:
    project.write(SWEEP.format(sleep=0.5, n=2, sampling="{type: random, seed: 2}"))
    driver = subprocess.Popen(["hypersweep", "run", "sweep.yml", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    store = Workspace(project.workspace).store
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, "the sweep never started its trials"
        sweeps = store.list_sweeps() if (project.workspace / "hypersweep.db").exists() else []
        if sweeps and sweeps[0].status.value == "Running" and store.list_trials(sweeps[0].id):
            break
        time.sleep(0.05)
    os.kill(driver.pid, signal.SIGKILL)
    driver.communicate()
    sweep_id = sweeps[0].id
    listed = invoke("ls")
    assert listed.exit_code == 0
    row = next(line for line in listed.stdout.splitlines() if line.startswith(sweep_id))
    assert "Running (controller gone)" in row
    assert (f"{sweep_id}: its controller is gone (killed or crashed); "
            f"hypersweep resume {sweep_id} continues it") in listed.stdout
    assert json.loads(invoke("ls", "--json").stdout)[0]["controller_alive"] is False
    assert (f"  controller gone (killed or crashed): hypersweep resume {sweep_id} continues it"
            in invoke("show", sweep_id).stdout.splitlines())
    resumed = invoke("resume", sweep_id, "--json")  # and it does
    assert resumed.exit_code == 0, resumed.output
    again = invoke("ls")
    assert "controller gone" not in again.stdout and "resume" not in again.stdout


def test_validate_without_a_seed_says_the_run_will_differ(
    project: Project, invoke: Callable[..., Result],
) -> None:
    project.write(SWEEP.format(sleep=0, n=2, sampling="random"))
    result = invoke("validate", "sweep.yml")
    assert result.exit_code == 0
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1, result.stderr
    seed = json.loads(invoke("validate", "sweep.yml", "--json").stdout)["config"][
        "sampling_algorithm"]["seed"]
    assert notes[0].startswith(
        "note: sampling_algorithm has no seed: this preview drew seed ")
    assert notes[0].endswith("; `hypersweep run` draws its own, so its trials will differ "
                             "(add `seed: N` to sampling_algorithm to fix them)")
    assert isinstance(seed, int)
    project.write(SWEEP.format(sleep=0, n=2, sampling="{type: random, seed: 7}"))
    assert "note:" not in invoke("validate", "sweep.yml").stderr
    data = json.loads(invoke("validate", "sweep.yml", "--json").stdout)
    assert data["seeded"] is True
    project.write(SWEEP.format(sleep=0, n=2, sampling="random"))
    assert json.loads(invoke("validate", "sweep.yml", "--json").stdout)["seeded"] is False


FAILS_AFTER_LOGGING = """\
import argparse, sys
from hypersweep import Run
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a, _ = p.parse_known_args()
Run.get_context().log("score", a.x)
if a.x > 0.5:
    print("diverged at step 3", file=sys.stderr)
    sys.exit(3)
"""


def test_a_failed_best_trial_is_flagged(project: Project, invoke: Callable[..., Result]) -> None:
    (project.root / "flaky.py").write_text(FAILS_AFTER_LOGGING)
    project.write("""\
        type: sweep
        trial:
          command: python flaky.py --x ${{search_space.x}}
        search_space:
          x: {type: choice, values: [0.2, 0.9, 0.1]}
        sampling_algorithm: grid
        objective: {primary_metric: score, goal: maximize}
        limits: {max_total_trials: 3, max_concurrent_trials: 1}
        """)
    ran = invoke("run", "sweep.yml")
    note = "  note: this trial Failed (exit code 3: diverged at step 3)"
    assert note in ran.stdout.splitlines(), ran.stdout
    sweep_id = ran.stdout.split()[1]
    best = invoke("best", sweep_id)
    assert best.exit_code == 0
    assert note in best.stdout.splitlines(), best.stdout
    assert json.loads(invoke("best", sweep_id, "--json").stdout)["error"] == (
        "exit code 3: diverged at step 3")
    shown = invoke("show", sweep_id)
    assert f"  best: {sweep_id}_1  score = 0.9  (this trial Failed)" in shown.stdout.splitlines()


def test_install_hints_name_what_to_install(project: Project,
                                            invoke: Callable[..., Result]) -> None:
    """hypersweep is not on a package index: a hint names the missing package itself."""
    sweep_id = _sweep(project, invoke)
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['pyarrow'] = None; "
         "from hypersweep.cli import main; sys.argv[0] = 'hypersweep'; main()",
         "export", sweep_id, "--format", "parquet", "-o", "t.parquet"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == "error: parquet export needs pyarrow: pip install pyarrow\n"


def test_a_failed_sweep_ends_with_one_message(project: Project) -> None:
    """A script path typo: every trial fails alike, the sweep ends Failed, and the command
    says so once (not the controller's warning and then the same as an error)."""
    project.write(SWEEP.format(sleep=0, n=6, sampling="{type: random, seed: 2}")
                  .replace("train.py", "trian.py"))
    for extra in ([], ["--json"]):
        result = subprocess.run(["hypersweep", "run", "sweep.yml", *extra],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 1
        sweep_id = result.stdout.split()[1] if not extra else json.loads(result.stdout)[
            "sweep_id"]
        error = Workspace(project.workspace).store.get_sweep(sweep_id).error
        assert "can't open file" in error
        assert result.stderr.splitlines() == [f"error: sweep {sweep_id} failed: {error}"]


def test_a_detached_failed_sweep_logs_why(project: Project) -> None:
    project.write(SWEEP.format(sleep=0, n=3, sampling="{type: random, seed: 2}")
                  .replace("train.py", "trian.py"))
    started = subprocess.run(["hypersweep", "run", "sweep.yml", "--detach"],
                             capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    sweep_id = started.stdout.strip()
    log = project.workspace / "drivers" / f"{sweep_id}.log"
    store = Workspace(project.workspace).store
    deadline = time.monotonic() + 60
    while not (log.exists() and f"sweep {sweep_id} " in log.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    error = store.get_sweep(sweep_id).error
    assert "can't open file" in error
    assert log.read_text().splitlines()[-1] == f"sweep {sweep_id} Failed: {error}"
