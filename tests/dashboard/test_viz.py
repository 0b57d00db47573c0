"""Notebook figures, reprs and the self-contained HTML report, on a real finished sweep."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.dashboard.hostile import XSS

from hypersweep import Experiment, HyperDriveRun, Run, Workspace, viz


@pytest.fixture
def run(synthetic: tuple[Workspace, str]) -> HyperDriveRun:
    workspace, sweep_id = synthetic
    return HyperDriveRun(Experiment(workspace, "synthetic"), sweep_id)


def test_figures(run: HyperDriveRun) -> None:
    history = viz.plot_optimization_history(run)
    assert [len(t.x) for t in history.data] == [60, 60]
    assert history.data[1].y[-1] == max(v for v in history.data[0].y)
    assert len(viz.plot_metric_curves(run).data) == 60
    parcoords = viz.plot_parallel_coordinates(run).data[0]
    assert [d.label for d in parcoords.dimensions] == [
        "batch_size", "dropout", "learning_rate", "optimizer", "accuracy"]
    importances = viz.plot_param_importances(run).data[0]
    assert importances.y[-1] == "learning_rate"  # largest share drawn on top
    assert len(viz.plot_slice(run).data) == 4


def test_reprs_and_report_escape_and_are_self_contained(
        hostile: tuple[Workspace, str], tmp_path: Path) -> None:
    workspace, sweep_id = hostile
    from hypersweep.api.sweep_run import HyperDriveRun as Sweep

    run = Sweep.__new__(Sweep)  # the experiment name is not a valid Experiment name
    run.experiment, run.id = type("E", (), {"workspace": workspace, "name": XSS})(), sweep_id
    fragment = run._repr_html_()
    assert XSS not in fragment and "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    trial = Run(workspace, workspace.store.list_trials(sweep_id)[0].id)
    assert XSS not in trial._repr_html_()
    path = viz.write_report(run, tmp_path / "report.html")
    text = path.read_text()
    assert XSS not in text
    assert "<script src=" not in text and len(text) > 3_000_000  # plotly.js inlined
    assert text.count("Plotly.newPlot(") >= 5


def test_import_hypersweep_stays_light() -> None:
    code = textwrap.dedent("""
        import sys, hypersweep, hypersweep.viz.analysis
        hypersweep.Workspace, hypersweep.HyperDriveRun
        heavy = [m for m in ("fastapi", "starlette", "uvicorn", "plotly", "jinja2")
                 if m in sys.modules]
        print(heavy)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_figures_and_report_draw_records_in_hand(
        synthetic: tuple[Workspace, str], tmp_path: Path) -> None:
    """No run object and no store: a sweep record, its trials and their points suffice."""
    from hypersweep.viz.figures import SweepData

    workspace, sweep_id = synthetic
    store = workspace.store
    trials = store.list_trials(sweep_id)
    data = SweepData.from_records(store.get_sweep(sweep_id), trials,
                                  {t.id: store.get_metrics(t.id) for t in trials})
    assert data.best == SweepData.from_store(store, sweep_id).best
    assert [len(t.x) for t in viz.plot_optimization_history(data).data] == [60, 60]
    assert len(viz.plot_metric_curves(data, metric="loss").data) == 60
    text = viz.write_report(data, tmp_path / "report.html").read_text()
    assert "reproduce: <code>cd /src &amp;&amp; python train.py --epochs 50" in text


def test_viz_reads_records_without_the_api() -> None:
    code = textwrap.dedent("""
        import sys, hypersweep.viz.figures, hypersweep.viz.report, hypersweep.viz.example
        print(sorted(m for m in sys.modules if m.startswith("hypersweep.api")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
