"""Chart data, report and notebook output, through the real store."""

from __future__ import annotations

import re
from pathlib import Path

from tests.dashboard.handmade_sweeps import make_sweep

from hypersweep import Experiment, HyperDriveRun, Run, Workspace
from hypersweep.dashboard import views
from hypersweep.dashboard.cache import SweepCache
from hypersweep.store import Status
from hypersweep.viz import report


def _charts(workspace: Workspace, sweep_id: str) -> dict:
    return views.charts(SweepCache(workspace.store, sweep_id).snapshot())


def test_constant_scores_give_a_note_not_an_axis(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [0.5] * 20)
    charts = _charts(workspace, sweep_id)
    assert charts["importance"] == {}
    assert "not enough variation" in charts["importance_note"]
    few = make_sweep(workspace.store, [0.1, 0.2, 0.3], name="few")
    assert "not enough trials" in _charts(workspace, few)["importance_note"]


def test_log_parameters_and_none_options_as_columns(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [i / 20 for i in range(20)])
    columns = {c["name"]: c for c in _charts(workspace, sweep_id)["sample"]["columns"]}
    assert columns["lr"]["log"] is True and columns["momentum"]["log"] is False
    assert columns["depth"]["kind"] == "categorical"
    assert columns["depth"]["labels"] == ["3", "5", "None"]
    assert None not in columns["depth"]["values"]


def test_failed_best_trial_is_marked(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    statuses = [Status.COMPLETED] * 5
    statuses[2] = Status.FAILED
    sweep_id = make_sweep(workspace.store, [0.1, 0.2, 0.9, 0.3, 0.4], statuses=statuses)
    best = views.sweep_summary(SweepCache(workspace.store, sweep_id).snapshot())["best"]
    assert best["index"] == 2 and best["status"] == "Failed"


def test_report_says_top_n_of_m_and_carries_the_setup(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    scores = [i / 40 for i in range(40)]
    scores[3] = None  # one trial never logged the metric
    sweep_id = make_sweep(workspace.store, scores)
    run = HyperDriveRun(Experiment(workspace, "charts"), sweep_id)
    text = report.write_report(run, tmp_path / "r.html").read_text()
    assert "top 25 of 39 scored trials (1 without score)" in text
    assert "top 10 of 39 scored trials" in report.sweep_html(run, include_plotlyjs=False)
    best = workspace.store.get_trial(f"{sweep_id}_39")
    assert "reproduce: <code>cd /src &amp;&amp; python train.py --lr " in text
    assert f"--lr {best.params['lr']}" in text
    # the search space as the calls that build it, None an option like any other
    assert "choice(None, 3, 5)" in text and "loguniform(-7, -1)" in text
    assert "choice(0.5, 0.25, 2.0)" in text
    assert "<summary>configuration</summary>" in text and "max_concurrent_trials: 2" in text
    # a None value prints None in the trials table (a missing one would be a dash)
    rows = re.findall(r"<tr><td class=\"n\">\d+</td>.*?</tr>", text)
    assert rows and any("<td>None</td>" in row for row in rows)


def test_notebook_sends_plotly_once_and_only_with_a_figure(tmp_path: Path,
                                                         monkeypatch) -> None:
    monkeypatch.setattr(report, "_sent_plotly", False)
    workspace = Workspace(tmp_path / "ws")
    unscored = make_sweep(workspace.store, [None] * 4, name="unscored")
    sweep_id = make_sweep(workspace.store, [i / 20 for i in range(20)])
    bundle = "plotly.js v"
    empty = report.RunDetails(HyperDriveRun(Experiment(workspace, "unscored"), unscored))
    assert bundle not in empty._repr_html_()  # no figure drawn: the copy is still to be sent
    run = HyperDriveRun(Experiment(workspace, "charts"), sweep_id)
    first, second = report.RunDetails(run)._repr_html_(), report.RunDetails(run)._repr_html_()
    trial = report.RunDetails(Run(workspace, f"{sweep_id}_0"))._repr_html_()
    assert bundle in first and len(first) > 3_000_000
    assert bundle not in second and len(second) < 500_000
    assert bundle not in trial and "Plotly.newPlot(" in second + trial


def test_a_run_displays_its_records_without_charts(tmp_path: Path) -> None:
    """The api's own notebook views are tables of records; charts are viz's (RunDetails)."""
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [i / 20 for i in range(20)])
    summary = HyperDriveRun(Experiment(workspace, "charts"), sweep_id)._repr_html_()
    assert "20/20 trials" in summary and "Plotly" not in summary
    assert "reproduce the best: <code>cd /src &amp;&amp; python train.py --lr " in summary
    trial = Run(workspace, f"{sweep_id}_19")._repr_html_()
    assert "<th>score</th><td>0.95</td>" in trial and "Plotly" not in trial


def test_notebook_figures_draw_log_parameters_on_log_axes(tmp_path: Path) -> None:
    from hypersweep import viz

    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [i / 20 for i in range(20)], float_first=False)
    run = HyperDriveRun(Experiment(workspace, "charts"), sweep_id)
    figure = viz.plot_slice(run, params=["lr", "momentum"])
    assert (figure.layout.xaxis.type, figure.layout.xaxis2.type) == ("log", None)
    lr = next(d for d in viz.plot_parallel_coordinates(run).data[0].dimensions
              if d.label == "lr")
    assert max(lr.values) < 0 and lr.ticktext[0].startswith("1e")
