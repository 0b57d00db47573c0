"""HTML views of sweeps and trials: notebook reprs, ``RunDetails`` and self-contained reports.

Every user string goes through :func:`html.escape`; figures are plotly's own HTML.
``write_report`` inlines plotly.js once, so the file opens anywhere without a network.

Examples
--------
>>> # RunDetails(run).show()                 # in Jupyter, like azureml.widgets.RunDetails
>>> # write_report(run, "report.html")        # hypersweep report HD_... --html report.html
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypersweep.viz import figures

if TYPE_CHECKING:
    from hypersweep.api.run import Run
    from hypersweep.api.sweep_run import HyperDriveRun

__all__ = ["RunDetails", "run_html", "sweep_html", "write_report"]

_STYLE = """<style>
.hs-report{font-family:system-ui,sans-serif;font-size:13px;color:#1d2731}
.hs-report table{border-collapse:collapse;margin:6px 0}
.hs-report th,.hs-report td{border-bottom:1px solid #e3e7ec;padding:3px 8px;text-align:left}
.hs-report td.n{text-align:right;font-variant-numeric:tabular-nums}
</style>"""
# plotly.js is sent to a notebook once per kernel (later outputs reuse window.Plotly)
_sent_plotly = False


def _e(value: Any) -> str:
    if isinstance(value, float):
        return html.escape(f"{value:.6g}")
    return html.escape("—" if value is None else str(value))


def _figures_html(figs: list[Any], include_js: bool) -> str:
    parts = []
    for i, fig in enumerate(figs):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=include_js and i == 0,
                                 config={"displaylogo": False}))
    return "\n".join(parts)


def _trials_table(run: HyperDriveRun, data: figures.SweepData, top: int) -> str:
    ranked = sorted(data.scored, key=lambda t: data.best[t.id], reverse=data.maximize)
    names = sorted({k for t in data.trials for k in t.params})
    head = "".join(f"<th>{_e(n)}</th>" for n in ["#", "status", data.metric, *names, "reason"])
    rows = []
    for trial in ranked[:top]:
        cells = [f'<td class="n">{trial.index}</td>', f"<td>{_e(trial.status.value)}</td>",
                 f'<td class="n">{_e(data.best.get(trial.id))}</td>',
                 *[f"<td>{_e(trial.params.get(n))}</td>" for n in names],
                 f"<td>{_e(trial.termination_reason or '')}</td>"]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def sweep_html(run: HyperDriveRun, include_plotlyjs: bool = True, top: int = 10,
               charts: bool = True) -> str:
    """A sweep as an HTML fragment: status line, best trials table and the main charts."""
    data = figures.sweep_data(run)
    sweep = run._sweep()
    counts: dict[str, int] = {}
    for trial in data.trials:
        counts[trial.status.value] = counts.get(trial.status.value, 0) + 1
    summary = ", ".join(f"{v} {k.lower()}" for k, v in sorted(counts.items()))
    parts = [
        _STYLE, '<div class="hs-report">',
        f"<h3>{_e(sweep.experiment)} · {_e(run.id)} · {_e(sweep.status.value)}</h3>",
        f"<p>{len(data.trials)} trials ({_e(summary)}); primary metric "
        f"{_e(data.metric)} ({'max' if data.maximize else 'min'})</p>",
        _trials_table(run, data, top),
    ]
    if charts and data.scored:
        figs = [figures.plot_optimization_history(run, data),
                figures.plot_metric_curves(run, data=data),
                figures.plot_parallel_coordinates(run, data),
                figures.plot_param_importances(run, data), figures.plot_slice(run, data=data)]
        parts.append(_figures_html(figs, include_plotlyjs))
    parts.append("</div>")
    return "\n".join(parts)


def run_html(run: Run, include_plotlyjs: bool = True) -> str:
    """A trial as an HTML fragment: status, parameters, metrics and their curves."""
    import plotly.graph_objects as go

    details = run.get_details()
    params = run.get_hyperparameters()
    metrics = run.workspace.store.get_metrics(run.id)
    series: dict[str, list[float]] = {}
    for point in metrics:
        if point.value is not None:
            series.setdefault(point.name, []).append(point.value)
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in params.items())
    stats = "".join(f"<tr><th>{_e(k)}</th><td class='n'>{_e(v[-1])}</td>"
                    f"<td class='n'>{_e(min(v))}</td><td class='n'>{_e(max(v))}</td></tr>"
                    for k, v in series.items())
    reason = details.get("terminationReason")
    parts = [_STYLE, '<div class="hs-report">',
             f"<h3>{_e(run.id)} · {_e(details['status'])}"
             + (f" · {_e(reason)}" if reason else "") + "</h3>",
             f"<table>{rows}</table>",
             f"<table><tr><th>metric</th><th>last</th><th>min</th><th>max</th></tr>{stats}</table>"]
    if series:
        fig = go.Figure([go.Scatter(y=v, mode="lines+markers", name=k) for k, v in series.items()],
                        layout={**figures._LAYOUT, "height": 300, "xaxis_title": "interval"})
        parts.append(_figures_html([fig], include_plotlyjs))
    parts.append("</div>")
    return "\n".join(parts)


def _notebook_js() -> bool:
    global _sent_plotly
    first, _sent_plotly = not _sent_plotly, True
    return first


def repr_sweep(run: HyperDriveRun) -> str:
    """``HyperDriveRun._repr_html_``: the sweep fragment (plotly.js sent once a kernel)."""
    return sweep_html(run, include_plotlyjs=_notebook_js())


def repr_run(run: Run) -> str:
    """``Run._repr_html_``: the trial fragment."""
    return run_html(run, include_plotlyjs=_notebook_js())


class RunDetails:
    """Azure's notebook widget name: ``RunDetails(run).show()`` displays a sweep or a trial.

    Parameters
    ----------
    run : HyperDriveRun or Run

    Examples
    --------
    >>> # from hypersweep.viz import RunDetails
    >>> # RunDetails(run).show()
    """

    def __init__(self, run: Any) -> None:
        self.run = run

    def _repr_html_(self) -> str:
        from hypersweep.api.sweep_run import HyperDriveRun

        if isinstance(self.run, HyperDriveRun):
            return repr_sweep(self.run)
        return repr_run(self.run)

    def show(self) -> None:
        """Display in Jupyter; outside a notebook, print where to look instead."""
        try:
            from IPython.display import HTML, display
        except ImportError:
            print(f"{self.run!r}: RunDetails needs IPython; "
                  "use hypersweep.viz.write_report(run, 'report.html')")
            return
        display(HTML(self._repr_html_()))


def write_report(run: HyperDriveRun, path: str | os.PathLike[str]) -> Path:
    """Write a self-contained HTML report of a sweep (plotly.js inlined: works offline).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> # write_report(run, "sweep.html")
    """
    body = sweep_html(run, include_plotlyjs=True, top=25)
    title = _e(f"hypersweep report {run.id}")
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}'
            f"</title></head><body>{body}</body></html>")
    target = Path(path)
    target.write_text(page, encoding="utf-8")
    return target
