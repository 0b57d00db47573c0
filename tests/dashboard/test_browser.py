"""The pages in real headless Chromium: load cleanly, draw charts, sort, filter, update live,
render hostile strings as text, and demand the token."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.dashboard.hostile import XSS, XSS_FILE
from tests.dashboard.pages import open_page

from hypersweep import (
    Experiment,
    HyperDriveConfig,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    Workspace,
    uniform,
)
from hypersweep.dashboard import ServerThread

CHARTS = {  # chart id -> number of traces it draws for the synthetic sweep
    "chart-history": 2, "chart-parcoords": 1, "chart-scatter": 1, "chart-scatter3d": 1,
    "chart-importance": 1, "chart-terminations": 2,
}


def traces(page: Any, chart: str) -> int:
    return int(page.evaluate(f"document.getElementById('{chart}').data.length"))


def test_pages_load_without_errors_and_draw_charts(
        synthetic: tuple[Workspace, str], serve: Callable[..., ServerThread], page: Any) -> None:
    workspace, sweep_id = synthetic
    server = serve(workspace)
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    open_page(page, server.url + "/")
    assert page.locator(f"tr[data-sweep='{sweep_id}']").count() == 1
    page.click(f"a[href='/sweeps/{sweep_id}']")
    page.wait_for_function(f"location.pathname === '/sweeps/{sweep_id}' && "
                           "document.body.dataset.ready === '1'")
    for chart, count in CHARTS.items():
        assert traces(page, chart) == count, chart
    # the partial bundle: core first, the WebGL part once (for parcoords and 3-D), never the
    # full plotly.min.js
    vendor = [url.rsplit("/", 1)[1].split("-")[0] for url in scripts if "/vendor/" in url]
    assert sorted(vendor) == ["base", "chunk", "gl"]
    # every trial's curve, with every point (60 trials x 10 accuracy values: no downsampling)
    curves = page.evaluate("document.getElementById('chart-curves').data.map(t => "
                           "t.y.filter(v => v !== null).length).reduce((a, b) => a + b, 0)")
    assert curves == sum(len(v) for v in workspace.store.metric_series(sweep_id,
                                                                       "accuracy").values())
    # SVG charts have their points; WebGL ones their canvas
    assert page.locator("#chart-history .scatterlayer .trace").first.locator(
        "path.point").count() == 60
    assert page.locator("#chart-importance .bars path").count() == 4
    assert page.locator("#chart-parcoords canvas").count() >= 1
    assert page.locator("#chart-scatter3d canvas").count() >= 1
    assert traces(page, "chart-curves") >= 2  # Completed, Canceled (and Failed) curves
    assert traces(page, "chart-timeline") >= 2
    points = page.evaluate("document.getElementById('chart-parcoords').data[0].dimensions"
                           ".map(d => d.values.length)")
    assert points == [60] * 5
    assert page.locator("#trials tbody tr").count() == 50
    assert page.locator("#terminations tbody tr").count() > 0
    # the trial page: parameters, metrics charts, log, outputs
    trial = workspace.store.list_trials(sweep_id)[7]
    (workspace.trial_dir(trial.id)).mkdir(parents=True, exist_ok=True)
    (workspace.trial_dir(trial.id) / "stdout.log").write_text("hello from the trial\n")
    scripts.clear()
    page.click(f"#trials a[href='/trials/{trial.id}']")
    page.wait_for_function(f"location.pathname === '/trials/{trial.id}' && "
                           "document.body.dataset.ready === '1'")
    assert page.locator("#params tr").count() == 4
    assert "python train.py --epochs 50" in page.inner_text("#command")
    assert page.locator("#metric-charts .panel").count() == 2
    page.wait_for_function(
        "document.querySelectorAll('#metric-charts .js-plotly-plot').length == 2")
    assert page.inner_text("#log") == "hello from the trial\n"
    assert not [url for url in scripts if "/vendor/plotly/gl-" in url]  # no WebGL chart here
    assert page.console.errors == []


def test_table_sorts_and_filters(synthetic: tuple[Workspace, str],
                                 serve: Callable[..., ServerThread], page: Any) -> None:
    workspace, sweep_id = synthetic
    server = serve(workspace)
    open_page(page, f"{server.url}/sweeps/{sweep_id}")

    def column(name: str) -> list[str]:
        return page.locator(f"#trials tbody td:nth-child({name})").all_inner_texts()

    page.click("#trials th[data-sort='best']")  # maximize: best first
    page.wait_for_function("document.querySelector('#trials th[data-sort=best]')"
                           ".textContent.includes('▼')")
    best = [float(x) for x in column("3") if x != "—"]
    assert best == sorted(best, reverse=True) and len(best) == 50
    page.click("#trials th[data-sort='param:learning_rate']")
    page.wait_for_function("document.querySelector(\"#trials th[data-sort='param:learning_rate']\")"
                           ".textContent.includes('▲')")
    header = page.locator("#trials thead th").all_inner_texts()
    col = header.index("learning_rate ▲") + 1
    lrs = [float(x) for x in column(str(col))]
    assert lrs == sorted(lrs)
    page.check("#status-filter input[value='Canceled']")
    page.click("#filters button[type=submit]")
    expected = sum(t.status.value == "Canceled" for t in workspace.store.list_trials(sweep_id))
    page.wait_for_function(f"document.body.dataset.tableMatched === '{expected}'")
    assert set(page.locator("#trials tbody .badge").all_inner_texts()) == {"Canceled"}
    page.click("#filters button[type=reset]")
    page.select_option("#filters select[name=param]", "dropout")
    page.fill("#filters input[name=param_max]", "0.2")
    page.click("#filters button[type=submit]")
    page.wait_for_function("Number(document.body.dataset.tableMatched) < 60")
    col = page.locator("#trials thead th").all_inner_texts().index("dropout") + 1
    assert all(float(x) <= 0.2 for x in column(str(col)))
    page.click("#filters button[type=reset]")
    page.select_option("#page-size", "25")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length === 25")
    page.click("#next")
    page.wait_for_function("document.querySelector('#page-info').textContent.startsWith('26')")
    assert page.console.errors == []


def test_hostile_strings_render_as_text(hostile: tuple[Workspace, str],
                                        serve: Callable[..., ServerThread], page: Any) -> None:
    workspace, sweep_id = hostile
    server = serve(workspace)
    trial = workspace.store.list_trials(sweep_id)[0]
    for url in ["/", f"/sweeps/{sweep_id}", f"/trials/{trial.id}"]:
        open_page(page, server.url + url)
        page.wait_for_timeout(300)
        assert XSS in page.inner_text("body"), url  # shown, as text
        assert page.locator("main script").count() == 0
    assert page.inner_text("#log").startswith(f"epoch 1 {XSS}")
    assert XSS_FILE + ".txt" in page.inner_text("#outputs")
    assert page.locator("#outputs img").count() == 0
    assert page.console.dialogs == [] and page.console.errors == []


def test_token_required_in_the_browser(synthetic: tuple[Workspace, str],
                                       serve: Callable[..., ServerThread], page: Any) -> None:
    workspace, sweep_id = synthetic
    server = serve(workspace, token="tok-123")
    response = page.goto(server.url + "/")
    assert response.status == 401 and "token" in page.inner_text("body")
    # The refusal (and the browser's own favicon request, refused too) is logged as a failed
    # load, as it should be: let those requests settle before forgetting them.
    page.wait_for_load_state("networkidle")
    page.console.errors.clear()
    open_page(page, server.url + "/?token=tok-123")  # sets the cookie
    open_page(page, f"{server.url}/sweeps/{sweep_id}")  # ... which later requests carry
    assert traces(page, "chart-history") == 2 and page.console.errors == []


@pytest.mark.slow
def test_running_sweep_updates_without_reload(
        tmp_path: Path, serve: Callable[..., ServerThread], page: Any) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(textwrap.dedent("""
        import argparse, time
        from hypersweep import Run
        p = argparse.ArgumentParser(); p.add_argument("--x", type=float)
        args = p.parse_args(); run = Run.get_context()
        for i in range(20):
            run.log("score", args.x * (i + 1)); time.sleep(0.5)
    """))
    workspace = Workspace(tmp_path / "ws")
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=source, script="train.py"),
        hyperparameter_sampling=RandomParameterSampling({"x": uniform(0, 1)}, seed=1),
        primary_metric_name="score", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
        max_total_runs=4, max_concurrent_runs=2)
    run = Experiment(workspace, "live").submit(config)
    server = serve(workspace, allow_cancel=True)
    page.goto(f"{server.url}/sweeps/{run.id}")
    page.wait_for_function("document.querySelector('#status').textContent !== ''")
    page.evaluate("window.__sameDocument = true")
    assert page.inner_text("#status") in ("Queued", "Running")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    first = page.evaluate("Number(document.body.dataset.version)")
    assert page.is_visible("#cancel")  # running and --allow-cancel
    run.wait_for_completion(raise_on_error=False)
    page.wait_for_function("document.querySelector('#status').textContent === 'Completed'"
                           f" && Number(document.body.dataset.version) > {first}",
                           timeout=60_000)
    assert page.evaluate("window.__sameDocument") is True  # updated in place, no reload
    assert page.evaluate("Number(document.body.dataset.version)") > first
    assert page.evaluate("window.hsStats.renders") >= 2
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length === 4")
    assert page.locator("#trials tbody .badge").all_inner_texts() == ["Completed"] * 4
    assert page.inner_text("#progress-text").startswith("4 of 4 trials finished")
    assert not page.is_visible("#cancel")
    assert page.console.errors == []


@pytest.mark.slow
def test_live_page_redraws_charts_on_screen_and_the_rest_when_scrolled_to(
        tmp_path: Path, serve: Callable[..., ServerThread], page: Any) -> None:
    from datetime import datetime, timezone

    from hypersweep.dashboard.demo import synthesize_sweep
    from hypersweep.store import MetricPoint, Status, TrialRecord, trial_id

    workspace = Workspace(tmp_path / "ws")
    sweep_id = synthesize_sweep(workspace.store, "live", n_trials=30, points_per_trial=10,
                                status=Status.RUNNING)
    server = serve(workspace)
    page.set_viewport_size({"width": 1400, "height": 800})  # parcoords starts off screen
    open_page(page, f"{server.url}/sweeps/{sweep_id}")
    tops = page.evaluate("['chart-scatter', 'chart-parcoords'].map(id => "
                         "document.getElementById(id).getBoundingClientRect().top)")
    assert tops[0] < 800 + 200 < tops[1]  # (200 px: a chart that near counts as on screen)
    watched = ["chart-history", "chart-scatter", "chart-parcoords", "chart-terminations"]
    page.evaluate("""(ids) => { window.draws = {};
        for (const id of ids) { window.draws[id] = 0;
          document.getElementById(id).on('plotly_afterplot', () => { window.draws[id] += 1; }); }
    }""", watched)
    version = page.evaluate("Number(document.body.dataset.version)")
    now = datetime.now(timezone.utc)
    new = trial_id(sweep_id, 30)
    workspace.store.create_trial(TrialRecord(new, sweep_id, 30, {"learning_rate": 0.01},
                                             Status.RUNNING, now, start_time=now))
    workspace.store.add_metrics(new, [MetricPoint(0, 0, "accuracy", 0, 0.9999, None,
                                                  "scalar", now)])
    page.wait_for_function(f"Number(document.body.dataset.version) > {version} && "
                           "window.draws['chart-history'] > 0 && window.draws['chart-scatter'] > 0",
                           timeout=30_000)
    # the new trial is drawn on screen; below the first screen nothing was redrawn yet
    assert page.evaluate("document.getElementById('chart-history').data[0].x.includes(30)")
    page.wait_for_timeout(500)
    assert page.evaluate("[window.draws['chart-parcoords'], window.draws['chart-terminations']]"
                         ) == [0, 0]
    page.locator("#chart-terminations").scroll_into_view_if_needed()
    page.wait_for_function("window.draws['chart-terminations'] > 0")
    page.locator("#chart-parcoords").scroll_into_view_if_needed()
    page.wait_for_function("window.draws['chart-parcoords'] > 0", timeout=30_000)
    dims = page.evaluate("document.getElementById('chart-parcoords').data[0].dimensions"
                         ".map(d => d.values.length)")
    assert dims == [31] * len(dims)  # the new trial is among the lines
    assert page.console.errors == []


def test_log_of_the_old_stream_never_lands_in_the_new_one(
        synthetic: tuple[Workspace, str], serve: Callable[..., ServerThread], page: Any) -> None:
    workspace, sweep_id = synthetic
    trial = workspace.store.list_trials(sweep_id)[3]
    folder = workspace.trial_dir(trial.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stdout.log").write_text("OUT line\n")
    (folder / "stderr.log").write_text("ERR line\n")
    server = serve(workspace)
    held: list[Any] = []
    page.route("**/log?stream=stdout*", lambda route: held.append(route))
    page.goto(f"{server.url}/trials/{trial.id}")
    while not held:                  # the page asked for stdout; its answer is held back
        page.wait_for_timeout(20)
    page.select_option("#stream", "stderr")
    held[0].continue_()              # ... and arrives after the switch to stderr
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function("document.getElementById('log').textContent.includes('ERR')")
    page.wait_for_timeout(300)
    assert page.inner_text("#log") == "ERR line\n"
    assert page.console.errors == []
