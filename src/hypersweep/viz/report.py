"""HTML views of sweeps and trials, drawn from their records: ``RunDetails`` and reports.

Every view takes records — a sweep's `SweepData`, a trial's `TrialRecord` and its metric
points — or a run object that reaches them (``id`` and ``store`` for a sweep, ``id`` and
``workspace.store`` for a trial). Every user string goes through :func:`html.escape`;
figures are plotly's own HTML. ``write_report`` inlines plotly.js once, so the file opens
anywhere without a network.

Examples
--------
>>> import tempfile, pathlib
>>> from hypersweep.store import MemoryStore
>>> from hypersweep.viz.example import example_sweep
>>> from hypersweep.viz.figures import SweepData
>>> store = MemoryStore()
>>> data = SweepData.from_store(store, example_sweep(store))
>>> page = write_report(data, pathlib.Path(tempfile.mkdtemp()) / "report.html")
>>> "reproduce: <code>f({&quot;x&quot;: 0.3333333333333333}, run)</code>" in page.read_text()
True
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from hypersweep.store import MetricPoint, TrialRecord
from hypersweep.viz import figures, front

__all__ = ["RunDetails", "run_html", "sweep_html", "write_report"]

_STYLE = """<style>
.hs-report{font-family:system-ui,sans-serif;font-size:13px;color:#1d2731}
.hs-report table{border-collapse:collapse;margin:6px 0}
.hs-report th,.hs-report td{border-bottom:1px solid #e3e7ec;padding:3px 8px;text-align:left}
.hs-report td.n{text-align:right;font-variant-numeric:tabular-nums}
.hs-report caption{text-align:left;color:#555;padding:2px 0}
</style>"""
# plotly.js (4.8 MB) is sent to a notebook once per kernel: the first output that draws a
# figure carries it and defines window.Plotly, later outputs reuse it. Offline by design
# ('cdn' and 'require' need a network); Jupyter, JupyterLab and VS Code share one window
# between a notebook's outputs, so one copy serves them all.
_sent_plotly = False


def _e(value: Any) -> str:
    if isinstance(value, float):
        return html.escape(f"{value:.6g}")
    return html.escape("—" if value is None else str(value))


def _param(params: dict[str, Any], name: str) -> str:
    """A parameter cell: ``None`` for a None value (a choice may offer it), — when absent."""
    if name in params and params[name] is None:
        return "None"
    return _e(params.get(name))


def _figures_html(figs: list[Any], include_js: bool) -> str:
    parts = []
    for i, fig in enumerate(figs):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=include_js and i == 0,
                                 config={"displaylogo": False}))
    return "\n".join(parts)


def _outcomes_table(data: figures.SweepData, top: int) -> str:
    """Several objectives or constraints: the front's trials first (best on the first
    objective first), then the others by their best primary value; each objective's value,
    feasibility and the front marker."""
    spec = data.spec
    found = {o.trial_id: o for o in data.trial_outcomes()}
    first = spec.objective
    scored = {t.id: k for k, t in enumerate(sorted(data.scored, key=lambda t: data.best[t.id],
                                                     reverse=data.maximize))}

    def order(trial: Any) -> tuple[int, float]:
        outcome = found.get(trial.id)
        if outcome is not None and outcome.on_front:
            return (0, -first.oriented(outcome.values[first.metric] or 0.0))
        return (1, scored.get(trial.id, len(scored)))

    ranked = sorted(data.trials, key=order)
    names = sorted({k for t in data.trials for k in t.params})
    marks = (["feasible"] if spec.constraints else []) + ["front"]
    head = "".join(f"<th>{_e(n)}</th>" for n in [
        "#", "status", *(f"{o.metric} ({'max' if o.maximize else 'min'})"
                         for o in spec.objectives), *marks, *names, "reason"])
    rows = []
    for trial in ranked[:top]:
        outcome = found.get(trial.id)
        values = outcome.values if outcome is not None else {}
        cells = [f'<td class="n">{trial.index}</td>', f"<td>{_e(trial.status.value)}</td>",
                 *[f'<td class="n">{_e(values.get(o.metric))}</td>' for o in spec.objectives],
                 *([f"<td>{'yes' if outcome and outcome.feasible else 'no'}</td>"]
                   if spec.constraints else []),
                 f"<td>{'★' if outcome and outcome.on_front else ''}</td>",
                 *[f"<td>{_param(trial.params, n)}</td>" for n in names],
                 f"<td>{_e(trial.termination_reason or '')}</td>"]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    on_front = sum(o.on_front for o in found.values())
    caption = (f"{on_front} trials on the Pareto front (★) of {len(data.trials)}; "
               f"top {min(top, len(ranked))} shown, the front first"
               + ("; feasible: " + ", ".join(c.label for c in spec.constraints)
                  if spec.constraints else ""))
    return (f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _trials_table(data: figures.SweepData, top: int) -> str:
    if data.several:
        return _outcomes_table(data, top)
    ranked = sorted(data.scored, key=lambda t: data.best[t.id], reverse=data.maximize)
    names = sorted({k for t in data.trials for k in t.params})
    head = "".join(f"<th>{_e(n)}</th>" for n in ["#", "status", data.metric, *names, "reason"])
    rows = []
    for trial in ranked[:top]:
        cells = [f'<td class="n">{trial.index}</td>', f"<td>{_e(trial.status.value)}</td>",
                 f'<td class="n">{_e(data.best.get(trial.id))}</td>',
                 *[f"<td>{_param(trial.params, n)}</td>" for n in names],
                 f"<td>{_e(trial.termination_reason or '')}</td>"]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    shown = min(top, len(ranked))
    unscored = len(data.trials) - len(ranked)
    caption = (f"top {shown} of {len(ranked)} scored trials"
               + (f" ({unscored} without {data.metric})" if unscored else "")
               + f", by {data.metric} ({'max' if data.maximize else 'min'})")
    return (f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _setup_html(data: figures.SweepData, full: bool) -> str:
    """The search space, the best trial's reproduce command and the whole configuration."""
    space = data.spec.search_space
    rows = "".join(f"<tr><th>{_e(name)}</th><td><code>{_e(repr(space[name]))}</code></td>"
                   "</tr>" for name in space.names)
    parts = [f"<h4>Search space</h4><table>{rows}</table>"] if space.names else []
    ranked = sorted(data.scored, key=lambda t: data.best[t.id], reverse=data.maximize)
    if data.several:  # the front's first trial (the best feasible one on the first objective)
        first = data.spec.objective
        on_front = sorted((o for o in data.trial_outcomes() if o.on_front),
                          key=lambda o: -first.oriented(o.values[first.metric] or 0.0))
        ids = [o.trial_id for o in on_front]
        ranked = sorted((t for t in ranked if t.id in ids), key=lambda t: ids.index(t.id))
    if ranked:
        best = ranked[0]
        flag = "" if best.status.value == "Completed" else f" — {best.status.value}"
        command = data.spec.trial.reproduce_command(best.arguments, best.params)
        parts.append(f"<p>best trial {best.index}{_e(flag)}: {_e(data.metric)} = "
                     f"{_e(data.best[best.id])}</p>")
        parts.append(f"<p>reproduce: <code>{_e(command)}</code></p>")
    text = yaml.safe_dump(data.spec.to_dict(), sort_keys=False, allow_unicode=True,
                          default_flow_style=None)
    parts.append(f"<details{' open' if full else ''}><summary>configuration</summary>"
                 f"<pre>{_e(text)}</pre></details>")
    return "\n".join(parts)


def sweep_html(source: figures.SweepData | Any,
               include_plotlyjs: bool | Callable[[], bool] = True, top: int = 10,
               charts: bool = True, full: bool = False) -> str:
    """A sweep as an HTML fragment: status line, best trials table (top ``top`` of all),
    search space, reproduce command, configuration (open with ``full``) and the main charts.

    ``source`` is the sweep's `SweepData` or a run object with ``id`` and ``store``.
    """
    data = figures.sweep_data(source)
    sweep = data.sweep
    counts: dict[str, int] = {}
    for trial in data.trials:
        counts[trial.status.value] = counts.get(trial.status.value, 0) + 1
    summary = ", ".join(f"{v} {k.lower()}" for k, v in sorted(counts.items()))
    parts = [
        _STYLE, '<div class="hs-report">',
        f"<h3>{_e(sweep.experiment)} · {_e(sweep.id)} · {_e(sweep.status.value)}</h3>",
        f"<p>{len(data.trials)} trials ({_e(summary)}); "
        + (f"objectives {_e(', '.join(f'{o.goal} {o.metric}' for o in data.spec.objectives))}"
           if len(data.spec.objectives) > 1 else
           f"primary metric {_e(data.metric)} ({'max' if data.maximize else 'min'})")
        + (f"; constraints {_e(', '.join(c.label for c in data.spec.constraints))}"
           if data.spec.constraints else "") + "</p>",
        _trials_table(data, top),
        _setup_html(data, full),
    ]
    if charts and data.scored:
        # several objectives: their trade-offs first
        figs = [front.plot_pareto_front(data), front.plot_hypervolume(data)] \
            if len(data.spec.objectives) > 1 else []
        figs += [figures.plot_optimization_history(data),
                figures.plot_metric_curves(data),
                figures.plot_parallel_coordinates(data),
                figures.plot_param_importances(data), figures.plot_slice(data)]
        parts.append(_figures_html(figs, _js(include_plotlyjs)))
    parts.append("</div>")
    return "\n".join(parts)


def run_html(source: TrialRecord | Any, include_plotlyjs: bool | Callable[[], bool] = True,
             points: Sequence[MetricPoint] | None = None) -> str:
    """A trial as an HTML fragment: status, parameters, metrics and their curves.

    ``source`` is the trial's `TrialRecord` with its metric ``points``, or a run object with
    ``id`` and ``workspace.store`` (a `Run`) to read them through.
    """
    import plotly.graph_objects as go

    if isinstance(source, TrialRecord):
        record, metrics = source, list(points or ())
    else:
        store = source.workspace.store
        record, metrics = store.get_trial(source.id), store.get_metrics(source.id)
    params = dict(record.params)
    series: dict[str, list[float]] = {}
    for point in metrics:
        if point.value is not None:
            series.setdefault(point.name, []).append(point.value)
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_param(params, k)}</td></tr>" for k in params)
    stats = "".join(f"<tr><th>{_e(k)}</th><td class='n'>{_e(v[-1])}</td>"
                    f"<td class='n'>{_e(min(v))}</td><td class='n'>{_e(max(v))}</td></tr>"
                    for k, v in series.items())
    reason = record.termination_reason
    parts = [_STYLE, '<div class="hs-report">',
             f"<h3>{_e(record.id)} · {_e(record.status.value)}"
             + (f" · {_e(reason)}" if reason else "") + "</h3>",
             f"<table>{rows}</table>",
             f"<table><tr><th>metric</th><th>last</th><th>min</th><th>max</th></tr>{stats}</table>"]
    if series:
        fig = go.Figure([go.Scatter(y=v, mode="lines+markers", name=k) for k, v in series.items()],
                        layout={**figures._LAYOUT, "height": 300, "xaxis_title": "interval"})
        parts.append(_figures_html([fig], _js(include_plotlyjs)))
    parts.append("</div>")
    return "\n".join(parts)


def _js(include: bool | Callable[[], bool]) -> bool:
    # a callable is asked only when a figure is really drawn: an output without charts
    # must not use up the one output that carries plotly.js
    return include() if callable(include) else include


def _notebook_js() -> bool:
    global _sent_plotly
    first, _sent_plotly = not _sent_plotly, True
    return first


def _is_sweep(source: Any) -> bool:
    """A sweep's records or run object (a trial's run has no ``store`` of its own)."""
    return isinstance(source, figures.SweepData) or (
        not isinstance(source, TrialRecord) and hasattr(source, "store"))


class RunDetails:
    """Azure's notebook widget name: ``RunDetails(run).show()`` displays a sweep or a trial,
    with its charts (plotly.js is sent once a kernel).

    Parameters
    ----------
    run : HyperDriveRun, Run, or a sweep's `SweepData`

    Examples
    --------
    >>> from hypersweep.store import MemoryStore
    >>> from hypersweep.viz.example import example_sweep
    >>> from hypersweep.viz.figures import SweepData
    >>> store = MemoryStore()
    >>> details = RunDetails(SweepData.from_store(store, example_sweep(store)))
    >>> "HD_example" in details._repr_html_()
    True
    """

    def __init__(self, run: Any) -> None:
        self.run = run

    def _repr_html_(self) -> str:
        if _is_sweep(self.run):
            return sweep_html(self.run, include_plotlyjs=_notebook_js)
        return run_html(self.run, include_plotlyjs=_notebook_js)

    def show(self) -> None:
        """Display in Jupyter; outside a notebook, print where to look instead."""
        try:
            from IPython.display import HTML, display
        except ImportError:
            print(f"{self.run!r}: RunDetails needs IPython; "
                  "use hypersweep.viz.write_report(run, 'report.html')")
            return
        display(HTML(self._repr_html_()))


def write_report(source: figures.SweepData | Any, path: str | os.PathLike[str]) -> Path:
    """Write a self-contained HTML report of a sweep (plotly.js inlined: works offline).

    ``source`` is the sweep's `SweepData` or a run object with ``id`` and ``store``.

    Returns
    -------
    Path
        The file written (see the module's example).
    """
    data = figures.sweep_data(source)
    body = sweep_html(data, include_plotlyjs=True, top=25, full=True)
    title = _e(f"hypersweep report {data.sweep.id}")
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}'
            f"</title></head><body>{body}</body></html>")
    target = Path(path)
    target.write_text(page, encoding="utf-8")
    return target
