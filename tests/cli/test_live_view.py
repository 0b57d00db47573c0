"""The live view of `hypersweep run` / `wait_for_completion(show_output=True)`: what it says
when piped, when trials fail, when there is no timeout, and in a notebook."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import time
import warnings
from pathlib import Path

import pytest
from rich.console import Console
from tests.cli.project import Project

from hypersweep import Experiment, Workspace
from hypersweep.config import load_sweep

SWEEP = """\
type: sweep
trial:
  command: python train.py --x ${{{{search_space.x}}}} --sleep {sleep}
search_space:
  x: {{type: uniform, min_value: 0, max_value: 1}}
sampling_algorithm: {{type: random, seed: 5}}
objective: {{primary_metric: score, goal: maximize}}
limits: {{max_total_trials: {n}, max_concurrent_trials: 4{extra}}}
"""

MISSING_SCRIPT = SWEEP.replace("train.py", "trian.py")


def _hypersweep(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["hypersweep", *args], capture_output=True, text=True, timeout=180,
                          env=env)


def test_piped_final_view_says_what_it_shows(project: Project) -> None:
    project.write(SWEEP.format(sleep=0, n=14, extra=""))
    result = _hypersweep("run", "sweep.yml")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    sweep_id = lines[0].split()[1]
    head = [line for line in lines if line.startswith(f"{sweep_id}  Completed")]
    assert len(head) == 1 and head[0].rstrip().endswith("0 trials left"), result.stdout
    assert "top 12 of 14 trials (best score first)" in lines, result.stdout
    assert not any("left of the timeout" in line for line in lines)
    # the rows are the best 12, best first
    scores = [float(line.split()[2]) for line in lines
              if line.strip()[:2].strip().isdigit() and "Completed" in line]
    assert len(scores) == 12 and scores == sorted(scores, reverse=True)


def _render_while_running(project: Project, extra: str) -> str:
    project.write(SWEEP.format(sleep=1.0, n=2, extra=extra))
    loaded = load_sweep(str(project.root / "sweep.yml"))
    run = Experiment(Workspace(project.workspace), "view").submit(loaded.spec)
    from hypersweep.api.progress import SweepProgress

    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    deadline = time.monotonic() + 30
    while run.get_status() != "Running" or not run.get_children():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    view = SweepProgress(run, console=console)
    view.update()
    view._live.stop()  # type: ignore[union-attr]  # a file gets the view once, at stop
    text = out.getvalue()
    run.cancel()
    run.wait_for_completion(raise_on_error=False)
    return text


def test_no_timeout_countdown_when_the_user_set_none(project: Project) -> None:
    text = _render_while_running(project, "")
    assert "trials left" in text
    assert "left of the timeout" not in text  # not "168h00m left of the timeout"


def test_timeout_countdown_when_the_user_set_one(project: Project) -> None:
    text = _render_while_running(project, ", timeout: 3600")
    assert "left of the timeout" in text


def test_failed_trials_show_their_error(project: Project) -> None:
    project.write(MISSING_SCRIPT.format(sleep=0, n=4, extra=""))
    result = _hypersweep("run", "sweep.yml")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "first 4 of 4 trials (none logged score)" in result.stdout.splitlines()
    table = [line for line in result.stdout.splitlines() if re.match(r"\s+\d+\s+Failed", line)]
    assert table and all("can't open file" in line for line in table), result.stdout
    # `show`: one line per trial, error included, cut to the width rather than wrapped
    sweep_id = result.stdout.split()[1]
    shown = _hypersweep("show", sweep_id, env={**os.environ, "COLUMNS": "120"})
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    rows = lines[next(i for i, line in enumerate(lines) if line.startswith("trial ")) + 1:]
    assert all(line.startswith(sweep_id) for line in rows), shown.stdout  # none wrapped
    assert len(rows) == len(json.loads(_hypersweep("show", sweep_id, "--json").stdout)["trials"])
    assert all(len(line) <= 200 for line in rows)  # the width when not a terminal
    failed = [line for line in rows if " Failed " in line]
    assert failed and all("can't open file" in line for line in failed), shown.stdout


@pytest.mark.filterwarnings("error")
def test_notebook_without_ipywidgets_shows_one_plain_line(project: Project) -> None:
    """A real IPython shell that rich takes for a notebook kernel (it goes by the class
    name), no ipywidgets: no warning, and one display updated in place to the end."""
    pytest.importorskip("IPython")
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("ipywidgets is installed: rich's own notebook view is used")
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    class ZMQInteractiveShell(InteractiveShell):
        """Named as ipykernel's shell, which is how rich recognises a notebook."""

    project.write(SWEEP.format(sleep=0.2, n=3, extra=""))
    loaded = load_sweep(str(project.root / "sweep.yml"))
    run = Experiment(Workspace(project.workspace), "nb").submit(loaded.spec)
    shell = ZMQInteractiveShell.instance()
    try:
        shell.user_ns["run"] = run
        with warnings.catch_warnings(record=True) as caught, capture_output() as captured:
            warnings.simplefilter("always")
            outcome = shell.run_cell("run.wait_for_completion(show_output=True);",
                                     store_history=False)
        outcome.raise_error()
    finally:
        ZMQInteractiveShell.clear_instance()
    assert [str(w.message) for w in caught] == []
    shown = [o for o in captured.outputs if "text/plain" in o.data]
    assert shown, captured.outputs
    texts = [o.data["text/plain"] for o in shown]
    assert all("\n" not in t and run.id in t for t in texts), texts
    assert texts[-1].startswith(f"{run.id}  Completed  3/3 trials (3 Completed)"), texts
    assert "best score: " in texts[-1]
    assert Path(project.workspace).exists()
