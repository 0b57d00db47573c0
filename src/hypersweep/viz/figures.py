"""Plotly figures of a sweep, for notebooks and HTML reports.

Every function takes a `HyperDriveRun` and returns a ``plotly.graph_objects.Figure``; they
read the records through the run (never the database directly) and share their numbers with
the web dashboard (`hypersweep.viz.analysis`). Needs ``pip install hypersweep[dashboard]``.

Examples
--------
>>> # from hypersweep.viz import plot_optimization_history
>>> # plot_optimization_history(run).show()
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypersweep.viz.analysis import (
    best_so_far,
    column_kinds,
    evenly_spaced,
    param_importance,
    stride_downsample,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hypersweep.api.sweep_run import HyperDriveRun
    from hypersweep.store import TrialRecord

__all__ = [
    "plot_metric_curves",
    "plot_optimization_history",
    "plot_parallel_coordinates",
    "plot_param_importances",
    "plot_slice",
    "sweep_data",
]

_LAYOUT: dict[str, Any] = {"template": "plotly_white", "height": 380,
                           "margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


@dataclass
class SweepData:
    """A sweep's trials with their best primary-metric values, read once."""

    trials: list[TrialRecord]
    best: dict[str, float]
    metric: str
    maximize: bool

    @property
    def scored(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.id in self.best]


def sweep_data(run: HyperDriveRun) -> SweepData:
    """Read what the figures need: trials and best values (two queries)."""
    store = run.experiment.workspace.store
    metric, maximize = run.primary_metric_name, run._maximize
    best = {k: v for k, v in store.best_values([run.id], metric, maximize).items()
            if not math.isnan(v)}
    return SweepData(store.list_trials(run.id), best, metric, maximize)


def _figure(data: Any, title: str, **layout: Any) -> go.Figure:
    import plotly.graph_objects as go

    return go.Figure(data=data, layout={**_LAYOUT, "title": {"text": title}, **layout})


def plot_optimization_history(run: HyperDriveRun, data: SweepData | None = None) -> go.Figure:
    """Each trial's best primary-metric value by trial number, and the best so far.

    Examples
    --------
    >>> # plot_optimization_history(run).show()
    """
    import plotly.graph_objects as go

    d = data or sweep_data(run)
    values = [d.best.get(t.id) for t in d.trials]
    running = best_so_far(values, d.maximize)
    return _figure([
        go.Scatter(x=[t.index for t in d.scored], y=[d.best[t.id] for t in d.scored],
                   mode="markers", name="trial", marker={"color": "#8ab6d6"}),
        go.Scatter(x=[t.index for t in d.trials], y=running, mode="lines", name="best so far",
                   line={"shape": "hv", "color": "#e76f51"}),
    ], f"Optimization history ({d.metric}, {'max' if d.maximize else 'min'})",
        xaxis_title="trial", yaxis_title=d.metric)


def plot_metric_curves(run: HyperDriveRun, metric: str | None = None, max_trials: int = 200,
                       data: SweepData | None = None) -> go.Figure:
    """Every trial's curve of ``metric`` (default: the primary metric) over intervals.

    Large sweeps show ``max_trials`` curves (the 20 best, then evenly spread).
    """
    import plotly.graph_objects as go

    d = data or sweep_data(run)
    name = metric or d.metric
    ranked = sorted(d.scored, key=lambda t: d.best[t.id], reverse=d.maximize)[:20]
    keep = {t.index for t in ranked}
    picks = evenly_spaced(len(d.trials), max_trials,
                          [i for i, t in enumerate(d.trials) if t.index in keep])
    store = run.experiment.workspace.store
    traces = []
    for i in picks:
        trial = d.trials[i]
        values = [p.value for p in store.get_metrics(trial.id, name) if p.value is not None]
        if not values:
            continue
        x, y = stride_downsample(list(range(1, len(values) + 1)), values, 500)
        traces.append(go.Scatter(x=x, y=y, mode="lines", name=f"{trial.index} {trial.status}",
                                 opacity=0.7, line={"width": 1}))
    return _figure(traces, f"{name} over intervals", xaxis_title="interval", yaxis_title=name,
                   showlegend=len(traces) <= 20)


def _dimensions(trials: list[TrialRecord]) -> list[dict[str, Any]]:
    dims = []
    for name, kind in column_kinds([t.params for t in trials]).items():
        values = [t.params.get(name) for t in trials]
        if kind == "numeric":
            dims.append({"label": name, "values": values})
        else:
            labels = sorted({str(v) for v in values})
            dims.append({"label": name, "values": [labels.index(str(v)) for v in values],
                         "tickvals": list(range(len(labels))), "ticktext": labels})
    return dims


def plot_parallel_coordinates(run: HyperDriveRun, data: SweepData | None = None) -> go.Figure:
    """Parallel coordinates of the scored trials' parameters and score (brushable axes)."""
    import plotly.graph_objects as go

    d = data or sweep_data(run)
    trials = d.scored
    scores = [d.best[t.id] for t in trials]
    dims = [*_dimensions(trials), {"label": d.metric, "values": scores}]
    return _figure([go.Parcoords(dimensions=dims, line={
        "color": scores, "colorscale": "Viridis", "reversescale": not d.maximize,
        "showscale": True})], "Parallel coordinates", margin={"l": 60, "r": 60, "t": 80, "b": 30})


def plot_param_importances(run: HyperDriveRun, data: SweepData | None = None) -> go.Figure:
    """Share of the score's variance each parameter explains (binned variance decomposition)."""
    import plotly.graph_objects as go

    d = data or sweep_data(run)
    shares = param_importance([t.params for t in d.scored], [d.best[t.id] for t in d.scored])
    names = list(shares)[::-1]
    return _figure([go.Bar(x=[shares[n] for n in names], y=names, orientation="h",
                           marker={"color": "#457b9d"})],
                   "Hyperparameter importance", xaxis_tickformat=".0%",
                   xaxis_title="share of explained variance")


def plot_slice(run: HyperDriveRun, params: list[str] | None = None,
               data: SweepData | None = None) -> go.Figure:
    """One panel per parameter: its value against the trial's score."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    d = data or sweep_data(run)
    trials = d.scored
    names = params or list(column_kinds([t.params for t in trials]))
    figure = make_subplots(rows=1, cols=max(1, len(names)), shared_yaxes=True,
                           subplot_titles=names)
    scores = [d.best[t.id] for t in trials]
    for col, name in enumerate(names, start=1):
        values = [t.params.get(name) for t in trials]
        figure.add_trace(go.Scatter(x=values, y=scores, mode="markers", name=name,
                                    marker={"color": scores, "colorscale": "Viridis",
                                            "reversescale": not d.maximize}),
                         row=1, col=col)
        positive = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if positive and min(positive) > 0 and max(positive) / min(positive) > 1000:
            figure.update_xaxes(type="log", row=1, col=col)
    figure.update_layout(**_LAYOUT, title={"text": "Slice"}, showlegend=False)
    figure.update_yaxes(title_text=d.metric, row=1, col=1)
    return figure
