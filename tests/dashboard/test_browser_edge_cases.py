"""The sweep and trial pages in real headless Chromium: every
chart either draws something meaningful or says why it cannot, values read as Python prints
them, a failed best trial is flagged, and a refused log says so."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.dashboard.handmade_sweeps import make_sweep
from tests.dashboard.pages import open_page

from hypersweep import Experiment, HyperDriveRun, Run, Workspace
from hypersweep.dashboard import ServerThread
from hypersweep.store import Status
from hypersweep.viz import report

pytestmark = pytest.mark.slow  # each loads a page in Chromium (10-20 s on a busy machine)


def _layout(page: Any, chart: str) -> Any:
    return page.evaluate(f"(() => {{ const l = document.getElementById('{chart}')._fullLayout;"
                         " return JSON.parse(JSON.stringify({xaxis: l.xaxis && {type: "
                         "l.xaxis.type, visible: l.xaxis.visible, range: l.xaxis.range}, "
                         "annotations: (l.annotations || []).map(a => a.text)})); })()")


def _errors(page: Any) -> list[str]:
    return [e for e in page.console.errors if "Failed to load resource" not in e]


def test_space_card_values_and_failed_best(tmp_path: Path, serve: Callable[..., ServerThread],
                                           page: Any) -> None:
    workspace = Workspace(tmp_path / "ws")
    statuses = [Status.COMPLETED] * 20
    statuses[7] = Status.FAILED
    scores = [i / 100 for i in range(20)]
    scores[7] = 5.0  # the failed trial logged the best value before it failed
    sweep_id = make_sweep(workspace.store, scores, statuses=statuses)
    server = serve(workspace)
    open_page(page, f"{server.url}/sweeps/{sweep_id}")
    space = {row.locator("th").inner_text(): row.locator("td").inner_text()
             for row in page.locator("#space tr").all()}
    # drawn at all (a choice starting with 0.5 threw RangeError), and None reads None
    assert space["ratio"] == "choice(values=[0.5, 0.25, 2])"
    assert space["depth"] == "choice(values=[None, 3, 5])"
    assert page.locator("#best-status").inner_text() == "Failed"
    assert page.locator("#best-link").inner_text() == "trial 7"
    open_page(page, f"{server.url}/")
    assert page.locator(f"tr[data-sweep='{sweep_id}'] .best-failed").inner_text() == "Failed"
    open_page(page, f"{server.url}/sweeps/{sweep_id}")
    cells = page.locator("#trials tbody td").all_inner_texts()
    assert "None" in cells and "null" not in cells
    assert not _errors(page), page.console.errors


def test_charts_say_why_they_are_empty(tmp_path: Path, serve: Callable[..., ServerThread],
                                       page: Any) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [0.5] * 20, float_first=False)
    server = serve(workspace)
    open_page(page, f"{server.url}/sweeps/{sweep_id}")
    page.wait_for_function("document.getElementById('chart-terminations')._fullLayout")
    importance = _layout(page, "chart-importance")
    assert importance["xaxis"]["visible"] is False  # no −100…100% axis
    assert any("not enough variation" in a for a in importance["annotations"])
    assert "not enough variation" in page.locator("#chart-importance").inner_text()
    stopped = _layout(page, "chart-terminations")
    assert stopped["annotations"] == ["no trial was stopped early"]
    assert stopped["xaxis"]["visible"] is False
    # the "running" axis counts trials: whole numbers only
    ticks = page.eval_on_selector_all("#chart-timeline .y2tick text",
                                      "nodes => nodes.map(n => n.textContent)")
    assert ticks and all(t.strip().isdigit() for t in ticks), ticks
    assert not _errors(page), page.console.errors


def test_log_parameters_on_log_axes(tmp_path: Path, serve: Callable[..., ServerThread],
                                    page: Any) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [i / 20 for i in range(20)], float_first=False)
    server = serve(workspace)
    open_page(page, f"{server.url}/sweeps/{sweep_id}")
    page.select_option("#scatter-x", "lr")
    page.wait_for_function(
        "document.getElementById('chart-scatter')._fullLayout.xaxis.title.text === 'lr'")
    assert _layout(page, "chart-scatter")["xaxis"]["type"] == "log"
    page.select_option("#scatter-x", "momentum")
    page.wait_for_function(
        "document.getElementById('chart-scatter')._fullLayout.xaxis.title.text === 'momentum'")
    assert _layout(page, "chart-scatter")["xaxis"]["type"] == "linear"
    importance = _layout(page, "chart-importance")
    assert importance["xaxis"]["range"] == [0, 1] and not importance["annotations"]
    # the scores follow the trial order, not the parameters: the page says so
    info = page.locator("#importance-info").text_content()
    assert info.startswith("fANOVA over 20 trials") and "uncertain" in info
    page.locator("#chart-parcoords").scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('chart-parcoords').data")
    lr = page.evaluate("document.getElementById('chart-parcoords').data[0].dimensions"
                       ".find(d => d.label === 'lr')")
    assert lr["ticktext"][0].startswith("1e") and max(lr["values"]) < 0  # log10 values
    assert not _errors(page), page.console.errors


def test_scatter3d_axis_titles_are_not_clipped(
        tmp_path: Path, serve: Callable[..., ServerThread], page: Any) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [i / 20 for i in range(20)], float_first=False)
    server = serve(workspace)
    open_page(page, f"{server.url}/sweeps/{sweep_id}")
    chart = page.locator("#chart-scatter3d")
    chart.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('#chart-scatter3d canvas')")
    page.wait_for_timeout(1500)  # WebGL draws after the promise resolves
    shot = base64.b64encode(chart.screenshot()).decode()
    # dark (text) pixels in the chart's outermost 3 px: something is cut at the edge
    edge = page.evaluate("""async (data) => {
      const img = new Image(); img.src = 'data:image/png;base64,' + data; await img.decode();
      const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
      const g = c.getContext('2d'); g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
        if (x > 2 && y > 2 && x < c.width - 3 && y < c.height - 3) continue;
        const i = 4 * (y * c.width + x);
        if (px[i + 3] > 0 && px[i] + px[i + 1] + px[i + 2] < 300) dark++;
      }
      return dark;
    }""", shot)
    assert edge == 0


def test_refused_log_is_explained_on_the_trial_page(
        tmp_path: Path, serve: Callable[..., ServerThread], page: Any) -> None:
    workspace = Workspace(tmp_path / "ws")
    sweep_id = make_sweep(workspace.store, [0.1, 0.2])
    trial = f"{sweep_id}_0"
    folder = workspace.trial_dir(trial)
    folder.mkdir(parents=True)
    os.symlink("/etc/passwd", folder / "stdout.log")
    (folder / "work").mkdir()
    os.symlink("/", folder / "work" / "outputs")
    server = serve(workspace)
    open_page(page, f"{server.url}/trials/{trial}")
    assert "leads out of the trial folder" in page.locator("#log-info").inner_text()
    assert "root:" not in page.locator("#log").inner_text()
    assert "leads out of the trial folder" in page.locator("#outputs").inner_text()
    assert not _errors(page), page.console.errors


def test_notebook_outputs_share_one_plotly(tmp_path: Path, page: Any, monkeypatch) -> None:
    monkeypatch.setattr(report, "_sent_plotly", False)
    workspace = Workspace(tmp_path / "ws")
    unscored = make_sweep(workspace.store, [None] * 3, name="unscored")
    sweep_id = make_sweep(workspace.store, [i / 20 for i in range(20)])
    details = [report.RunDetails(HyperDriveRun(Experiment(workspace, "unscored"), unscored)),
               report.RunDetails(HyperDriveRun(Experiment(workspace, "charts"), sweep_id)),
               report.RunDetails(Run(workspace, f"{sweep_id}_1")),
               report.RunDetails(HyperDriveRun(Experiment(workspace, "charts"), sweep_id))]
    outputs = [d._repr_html_() for d in details]
    assert sum("plotly.js v" in o for o in outputs) == 1
    # one page holding the outputs in order, as a notebook shows them (offline)
    page.set_content("<!doctype html><html><body>" + "".join(
        f'<div class="output">{o}</div>' for o in outputs) + "</body></html>")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    graphs = page.locator(".plotly-graph-div")
    drawn = page.locator(".plotly-graph-div.js-plotly-plot")
    assert graphs.count() == 11 and drawn.count() == graphs.count()
    assert not _errors(page), page.console.errors
