"""The dashboard and the figures of sweeps with several objectives or constraints: the trials
table has each objective, feasible and the front; the Pareto chart's data endpoint; the page in
headless Chromium draws the front and the hypervolume (and a one-objective page does not)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.dashboard.objective_sweeps import FAILED, metrics, objective_sweep
from tests.dashboard.pages import open_page

from hypersweep import Experiment, HyperDriveRun, Workspace, viz
from hypersweep.dashboard import ServerThread, views
from hypersweep.dashboard.cache import SweepCache
from hypersweep.dashboard.objectives import pareto
from hypersweep.spec import hypervolume_by_trial


def _get(url: str, etag: str | None = None) -> tuple[int, Any, str | None]:
    request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response), response.headers.get("ETag")
    except urllib.error.HTTPError as err:
        return err.code, None, err.headers.get("ETag")


def _run(workspace: Workspace, sweep_id: str) -> HyperDriveRun:
    return HyperDriveRun(Experiment(workspace, "pareto"), sweep_id)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def test_the_table_and_summary_carry_the_outcomes_the_api_computes(
        workspace: Workspace) -> None:
    sweep_id = objective_sweep(workspace, trials=24)
    expected = {o.trial_id: o for o in _run(workspace, sweep_id).outcomes()}
    snap = SweepCache(workspace.store, sweep_id).snapshot()
    page = views.table(snap, limit=100)
    for row in page["rows"]:
        outcome = expected[row["id"]]
        assert (row["values"], row["feasible"], row["on_front"]) == (
            outcome.values, outcome.feasible, outcome.on_front)
    summary = views.sweep_summary(snap)
    assert summary["objectives"] == [{"metric": "acc", "goal": "maximize"},
                                     {"metric": "ms", "goal": "minimize"}]
    assert summary["constraints"][0]["label"] == "mem <= 80"
    assert summary["front_size"] == sum(o.on_front for o in expected.values())
    # the best trial is a feasible one
    assert expected[summary["best"]["id"]].feasible
    # sorting by an objective, by the front
    by_ms = views.table(snap, sort="value:ms", limit=100)["rows"]
    ms = [r["values"]["ms"] for r in by_ms if r["values"]["ms"] is not None]
    assert ms == sorted(ms) and by_ms[-1]["index"] == FAILED  # missing values last
    front_first = views.table(snap, sort="front", desc=True, limit=100)["rows"]
    count = summary["front_size"]
    assert all(r["on_front"] for r in front_first[:count])
    assert not any(r["on_front"] for r in front_first[count:])


def test_a_running_sweep_s_outcomes_follow_what_its_trials_log(workspace: Workspace) -> None:
    from hypersweep import RandomParameterSampling, Sweep, uniform

    sweep = Sweep(RandomParameterSampling({"x": uniform(0, 1)}, seed=3),
                  objectives=[("a", "maximize"), ("b", "maximize")],
                  constraints=[{"metric": "m", "max": 1}], workspace=workspace,
                  experiment_name="live", max_total_runs=3)
    trials = [sweep.ask() for _ in range(3)]
    assert all(t is not None for t in trials)
    cache = SweepCache(workspace.store, trials[0].sweep_id, min_interval=0)
    first = cache.snapshot()
    assert all(r.last == {} for r in first.rows)
    trials[0].log("a", 1.0)
    trials[0].log("b", 1.0)
    trials[0].log("m", 5.0)  # breaks the limit ...
    trials[1].log("a", 0.5)
    sweep.flush()
    snap = cache.snapshot()
    row = next(r for r in snap.rows if r.id == trials[0].id)
    assert row.last == {"a": 1.0, "b": 1.0, "m": 5.0}
    trials[0].log("m", 0.5)  # ... and then meets it: the last value counts
    sweep.flush()
    row = next(r for r in cache.snapshot().rows if r.id == trials[0].id)
    assert row.last == {"a": 1.0, "b": 1.0, "m": 0.5}
    for trial in trials:
        sweep.tell(trial)
    sweep.finish()
    snap = cache.snapshot()
    found = {r["id"]: r for r in views.table(snap)["rows"]}
    assert found[trials[0].id]["feasible"] and found[trials[0].id]["on_front"]
    assert not found[trials[1].id]["feasible"]  # never logged m


def test_the_pareto_endpoint_has_every_point_and_the_api_s_hypervolume(
        workspace: Workspace, serve: Callable[..., ServerThread]) -> None:
    sweep_id = objective_sweep(workspace, trials=30)
    one = objective_sweep(workspace, objectives=1, constrained=False, trials=5)
    server = serve(workspace)
    status, data, etag = _get(f"{server.url}/api/sweeps/{sweep_id}/pareto")
    assert status == 200 and etag
    assert _get(f"{server.url}/api/sweeps/{sweep_id}/pareto", etag)[0] == 304
    run = _run(workspace, sweep_id)
    outcomes = run.outcomes()
    drawable = [o for o in outcomes if None not in o.values.values()]
    assert data["shown"] == data["drawable"] == len(drawable) == 29  # all but the failed one
    points = data["points"]
    assert sorted(points["id"]) == sorted(o.trial_id for o in drawable)
    by_id = {o.trial_id: o for o in outcomes}
    for k, trial in enumerate(points["id"]):
        assert [points["values"][0][k], points["values"][1][k]] == [
            by_id[trial].values["acc"], by_id[trial].values["ms"]]
        assert points["feasible"][k] == by_id[trial].feasible
        assert set(points["params"][k]) == {"x", "y", "opt"}
    front = [points["id"][k] for k in data["front"]]
    assert set(front) == {r.id for r in run.get_pareto_front()}
    accs = [points["values"][0][k] for k in data["front"]]
    assert accs == sorted(accs)  # along the first objective: the line does not zigzag
    # the hypervolume steps are the API's numbers where they change
    volumes = hypervolume_by_trial(outcomes, run.spec.objectives)
    steps = dict(zip(data["hypervolume"]["index"], data["hypervolume"]["value"], strict=True))
    for index, volume in enumerate(volumes):
        last = max(i for i in steps if i <= index) if any(i <= index for i in steps) else None
        assert last is not None and steps[last] == pytest.approx(volume, rel=1e-12)
    status, data, _ = _get(f"{server.url}/api/sweeps/{one}/pareto")
    assert status == 200 and data["points"] is None
    # a one-objective sweep's API reads as before
    _, summary, _ = _get(f"{server.url}/api/sweeps/{one}")
    assert "objectives" not in summary and "front_size" not in summary
    _, rows, _ = _get(f"{server.url}/api/sweeps/{one}/trials")
    assert "on_front" not in rows["rows"][0]


def test_the_page_draws_the_front_and_the_hypervolume(
        workspace: Workspace, serve: Callable[..., ServerThread], page: Any) -> None:
    sweep_id = objective_sweep(workspace, trials=30)
    server = serve(workspace)
    open_page(page, f"{server.url}/sweeps/{sweep_id}")
    page.wait_for_function("document.getElementById('chart-hypervolume').data !== undefined")
    traces = page.evaluate("document.getElementById('chart-pareto').data.map(t => "
                           "[t.name, t.type, t.x.length, t.mode])")
    run = _run(workspace, sweep_id)
    outcomes = run.outcomes()
    on_front = sum(o.on_front for o in outcomes)
    infeasible = sum(not o.feasible for o in outcomes if None not in o.values.values())
    assert traces == [["Pareto front", "scatter", on_front, "lines+markers"],
                      ["feasible", "scatter", 29 - on_front - infeasible, "markers"],
                      ["infeasible", "scatter", infeasible, "markers"]]
    assert infeasible > 0 and on_front > 1
    # drawn: one SVG point per trial that logged both objectives
    assert page.locator("#chart-pareto .scatterlayer path.point").count() == 29
    symbol = page.evaluate("document.getElementById('chart-pareto').data[2].marker.symbol")
    assert symbol.startswith("x")
    hover = page.evaluate("document.getElementById('chart-pareto').data[0].text[0]")
    assert hover.startswith("trial ") and "acc = " in hover and "opt=" in hover
    assert page.evaluate("document.getElementById('chart-hypervolume').data[0].x.length") >= 2
    assert page.locator("#chart-hypervolume .scatterlayer path.js-line").count() == 1
    # the table: every objective, feasible, front
    head = page.locator("#trials thead th").all_inner_texts()
    assert [h.rstrip(" ▲▼") for h in head[:6]] == ["#", "Status", "acc ↑", "ms ↓", "Feasible",
                                                   "Front"]
    marks = page.locator("#trials tbody td.front").all_inner_texts()
    assert marks.count("★") == on_front
    page.click("#trials th[data-sort='value:ms']")
    page.wait_for_function("document.querySelector('#trials th[data-sort=\"value:ms\"]')"
                           ".textContent.endsWith('▲')")
    assert "on the Pareto front" in page.inner_text("#front-size")
    assert page.console.errors == []


def test_three_objectives_draw_a_3d_front(
        workspace: Workspace, serve: Callable[..., ServerThread], page: Any) -> None:
    sweep_id = objective_sweep(workspace, objectives=3, constrained=False, trials=20)
    server = serve(workspace)
    open_page(page, f"{server.url}/sweeps/{sweep_id}")
    page.wait_for_function("document.querySelector('#chart-pareto canvas') !== null")
    traces = page.evaluate("document.getElementById('chart-pareto').data.map(t => "
                           "[t.type, t.z.length])")
    assert {t for t, _ in traces} == {"scatter3d"}
    assert sum(n for _, n in traces) == 19
    head = page.locator("#trials thead th").all_inner_texts()
    assert "energy ↓" in head and "Feasible" not in head
    assert page.console.errors == []


def test_one_objective_pages_have_no_front_chart(
        workspace: Workspace, serve: Callable[..., ServerThread], page: Any) -> None:
    constrained = objective_sweep(workspace, objectives=1, trials=10)
    plain = objective_sweep(workspace, objectives=1, constrained=False, trials=10)
    server = serve(workspace)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    open_page(page, f"{server.url}/sweeps/{plain}")
    assert page.locator("#chart-pareto, #chart-hypervolume").count() == 0
    head = page.locator("#trials thead th").all_inner_texts()
    assert [h.rstrip(" ▲▼") for h in head[:3]] == ["#", "Status", "acc"]
    assert "Front" not in head and "null" not in page.inner_text("#best")
    open_page(page, f"{server.url}/sweeps/{constrained}")
    assert page.locator("#chart-pareto").count() == 0
    head = [h.rstrip(" ▲▼") for h in page.locator("#trials thead th").all_inner_texts()]
    assert head[:5] == ["#", "Status", "acc ↑", "Feasible", "Front"]
    assert not any("/pareto" in url for url in requests)
    assert page.console.errors == []


def test_figures_and_report_of_several_objectives(workspace: Workspace, tmp_path: Path) -> None:
    sweep_id = objective_sweep(workspace, trials=20)
    run = _run(workspace, sweep_id)
    figure = viz.plot_pareto_front(run)
    assert (figure.data[0].name, len(figure.data[0].x)) == (
        "Pareto front", len(run.get_pareto_front()))
    assert sum(len(t.x) for t in figure.data) == 19
    assert figure.data[-1].name == "infeasible" and figure.data[-1].marker.symbol.startswith("x")
    volume = viz.plot_hypervolume(run).data[0]
    expected = hypervolume_by_trial(run.outcomes(), run.spec.objectives)
    assert volume.y[-1] == pytest.approx(expected[-1])
    three = _run(workspace, objective_sweep(workspace, objectives=3, trials=10))
    assert {t.type for t in viz.plot_pareto_front(three).data} == {"scatter3d"}
    text = viz.write_report(run, tmp_path / "report.html").read_text()
    assert "Pareto front (" in text and "Hypervolume of the Pareto front" in text
    assert text.count("<td>★</td>") == len(run.get_pareto_front())
    assert "feasible: mem &lt;= 80" in text
    # the reproduce line is the front's first trial's
    first = run.get_pareto_front()[0]
    assert f"best trial {workspace.store.get_trial(first.id).index}:" in text
    one = _run(workspace, objective_sweep(workspace, objectives=1, constrained=False, trials=5))
    plain = viz.write_report(one, tmp_path / "one.html").read_text()
    assert "Pareto" not in plain and "★" not in plain


def test_metrics_helper_agrees_with_the_sweep(workspace: Workspace) -> None:
    sweep_id = objective_sweep(workspace, trials=6)
    for trial in workspace.store.list_trials(sweep_id):
        if trial.index != FAILED:
            logged = {p.name: p.value for p in workspace.store.get_metrics(trial.id)}
            assert logged == metrics(trial.index, trial.params)
    assert pareto(SweepCache(workspace.store, sweep_id).snapshot())["drawable"] == 5
