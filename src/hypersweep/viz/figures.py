"""Plotly figures of a sweep, for notebooks and HTML reports, drawn from its records.

Every function takes a sweep's records — a `SweepData` (its `SweepRecord` and `SweepSpec`,
its `TrialRecord` s, their best primary-metric values, and its metric points), built from a
store (`SweepData.from_store`) or from records in hand (`SweepData.from_records`) — or any
run object with an ``id`` and a ``store`` (a `HyperDriveRun`), and returns a
``plotly.graph_objects.Figure``. They share their numbers with the web dashboard
(`hypersweep.viz.analysis`). Needs plotly (the ``dashboard`` extra:
``pip install -e '.[dashboard]'`` from a checkout).

Examples
--------
>>> from hypersweep.store import MemoryStore
>>> from hypersweep.viz.example import example_sweep
>>> store = MemoryStore()
>>> sweep_id = example_sweep(store)
>>> figure = plot_optimization_history(SweepData.from_store(store, sweep_id))
>>> [trace.name for trace in figure.data]
['trial', 'best so far']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypersweep.spec import SweepSpec, TrialOutcome, outcomes_of, sweep_outcomes
from hypersweep.store import MetricPoint, Store, SweepRecord, TrialRecord
from hypersweep.viz.analysis import (
    best_so_far,
    column_kinds,
    evenly_spaced,
    log_scaled,
    stride_downsample,
)
from hypersweep.viz.importance import param_importance

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "SweepData",
    "plot_metric_curves",
    "plot_optimization_history",
    "plot_parallel_coordinates",
    "plot_param_importances",
    "plot_slice",
    "sweep_data",
]

_LAYOUT: dict[str, Any] = {"template": "plotly_white", "height": 380,
                           "margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


#: Reads one trial's points of one metric: ``(trial_id, metric) -> points``.
SeriesReader = Callable[[str, str], Sequence[MetricPoint]]


@dataclass
class SweepData:
    """What the figures and reports draw: one sweep's records, read once.

    ``best`` holds each scored trial's best primary-metric value; ``series`` reads a trial's
    points of a metric (the curves), when they are asked for; ``outcomes`` each trial's
    objective values, feasibility and front membership, for a sweep with several objectives
    or constraints (read by the constructors; None: derived from ``series`` when asked).
    """

    sweep: SweepRecord
    spec: SweepSpec
    trials: list[TrialRecord]
    best: dict[str, float]
    series: SeriesReader = field(repr=False)
    outcomes: list[TrialOutcome] | None = field(default=None, repr=False)

    @property
    def several(self) -> bool:
        """Whether the sweep has several objectives or constraints (`SweepSpec.pareto`)."""
        return self.spec.pareto

    def trial_outcomes(self) -> list[TrialOutcome]:
        """Each trial's outcome, in index order (`hypersweep.spec.outcomes`)."""
        if self.outcomes is None:
            names = {o.metric for o in self.spec.objectives} | {
                c.metric for c in self.spec.constraints}
            series = {name: {t.id: [p.value for p in self.series(t.id, name)
                                    if p.value is not None] for t in self.trials}
                      for name in names}
            self.outcomes = outcomes_of([(t.id, t.index, t.status.value) for t in self.trials],
                                        self.spec.objectives, self.spec.constraints, series)
        return self.outcomes

    @property
    def metric(self) -> str:
        return self.spec.objective.metric

    @property
    def maximize(self) -> bool:
        return self.spec.objective.maximize

    @property
    def space(self) -> dict[str, Any]:
        """The search space in its stored form (what `log_scaled` reads)."""
        return self.spec.search_space.to_dict()

    @property
    def scored(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.id in self.best]

    def values(self, trial: str, metric: str | None = None) -> list[float]:
        """A trial's numeric values of ``metric`` (default: the primary one), in order."""
        return [p.value for p in self.series(trial, metric or self.metric)
                if p.value is not None]

    @classmethod
    def from_store(cls, store: Store, sweep_id: str) -> SweepData:
        """Read a sweep's records from a store (three queries; curves on demand)."""
        sweep = store.get_sweep(sweep_id)
        spec = SweepSpec.from_dict(sweep.config)
        goal = spec.objective
        best = {k: v for k, v in store.best_values([sweep_id], goal.metric,
                                                   goal.maximize).items() if not math.isnan(v)}
        outcomes = None
        if spec.pareto:
            outcomes = sweep_outcomes(store, sweep_id, spec)
        return cls(sweep, spec, store.list_trials(sweep_id), best,
                   lambda trial, metric: store.get_metrics(trial, metric), outcomes)

    @classmethod
    def from_records(cls, sweep: SweepRecord, trials: Sequence[TrialRecord],
                     points: Mapping[str, Sequence[MetricPoint]]) -> SweepData:
        """Records in hand: the sweep, its trials and each trial's points (by trial id)."""
        spec = SweepSpec.from_dict(sweep.config)
        goal = spec.objective
        best: dict[str, float] = {}
        for trial in trials:
            values = [p.value for p in points.get(trial.id, ()) if p.name == goal.metric
                      and p.value is not None and not math.isnan(p.value)]
            if values:
                best[trial.id] = max(values) if goal.maximize else min(values)
        return cls(sweep, spec, list(trials), best,
                   lambda trial, metric: [p for p in points.get(trial, ()) if p.name == metric])


def sweep_data(source: Any) -> SweepData:
    """The records to draw: ``source`` itself when it is a `SweepData`, else read through a
    run object's ``store`` for its ``id`` (a `HyperDriveRun`)."""
    if isinstance(source, SweepData):
        return source
    return SweepData.from_store(source.store, source.id)


def _figure(data: Any, title: str, **layout: Any) -> go.Figure:
    import plotly.graph_objects as go

    return go.Figure(data=data, layout={**_LAYOUT, "title": {"text": title}, **layout})


def plot_optimization_history(source: SweepData | Any, data: SweepData | None = None) -> go.Figure:
    """Each trial's best primary-metric value by trial number, and the best so far.

    Examples
    --------
    >>> from hypersweep.store import MemoryStore
    >>> from hypersweep.viz.example import example_sweep
    >>> store = MemoryStore()
    >>> figure = plot_optimization_history(SweepData.from_store(store, example_sweep(store)))
    >>> [round(v, 3) for v in figure.data[1].y]  # the best loss so far, trial by trial
    [0.423, 0.351, 0.334, 0.334, 0.334, 0.334]
    """
    import plotly.graph_objects as go

    d = data or sweep_data(source)
    values = [d.best.get(t.id) for t in d.trials]
    running = best_so_far(values, d.maximize)
    return _figure([
        go.Scatter(x=[t.index for t in d.scored], y=[d.best[t.id] for t in d.scored],
                   mode="markers", name="trial", marker={"color": "#8ab6d6"}),
        go.Scatter(x=[t.index for t in d.trials], y=running, mode="lines", name="best so far",
                   line={"shape": "hv", "color": "#e76f51"}),
    ], f"Optimization history ({d.metric}, {'max' if d.maximize else 'min'})",
        xaxis_title="trial", yaxis_title=d.metric)


def plot_metric_curves(source: SweepData | Any, metric: str | None = None, max_trials: int = 200,
                       data: SweepData | None = None) -> go.Figure:
    """Every trial's curve of ``metric`` (default: the primary metric) over intervals.

    Large sweeps show ``max_trials`` curves (the 20 best, then evenly spread).
    """
    import plotly.graph_objects as go

    d = data or sweep_data(source)
    name = metric or d.metric
    ranked = sorted(d.scored, key=lambda t: d.best[t.id], reverse=d.maximize)[:20]
    keep = {t.index for t in ranked}
    picks = evenly_spaced(len(d.trials), max_trials,
                          [i for i, t in enumerate(d.trials) if t.index in keep])
    traces = []
    for i in picks:
        trial = d.trials[i]
        values = d.values(trial.id, name)
        if not values:
            continue
        x, y = stride_downsample(list(range(1, len(values) + 1)), values, 500)
        traces.append(go.Scatter(x=x, y=y, mode="lines", name=f"{trial.index} {trial.status}",
                                 opacity=0.7, line={"width": 1}))
    return _figure(traces, f"{name} over intervals", xaxis_title="interval", yaxis_title=name,
                   showlegend=len(traces) <= 20)


def _is_log(space: dict[str, Any], name: str, values: list[Any]) -> bool:
    """A log axis for a log-distributed parameter (or, the space silent, one whose positive
    values span more than three decades)."""
    declared = log_scaled(space, name)
    if declared is not None:
        return declared
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return bool(numbers) and min(numbers) > 0 and max(numbers) / min(numbers) > 1000


def _dimensions(trials: list[TrialRecord], space: dict[str, Any]) -> list[dict[str, Any]]:
    dims: list[dict[str, Any]] = []
    for name, kind in column_kinds([t.params for t in trials]).items():
        values = [t.params.get(name) for t in trials]
        if kind == "numeric" and _is_log(space, name, values):
            # parcoords has no log axis: log10 values, labelled with the real ones
            logs = [math.log10(v) if isinstance(v, (int, float)) and v > 0 else None
                    for v in values]
            finite = [v for v in logs if v is not None]
            ticks = list(range(math.floor(min(finite)), math.ceil(max(finite)) + 1)) \
                if finite else []
            dims.append({"label": name, "values": logs, "tickvals": ticks,
                         "ticktext": [f"1e{t}" for t in ticks]})
        elif kind == "numeric":
            dims.append({"label": name, "values": values})
        else:
            labels = sorted({str(v) for v in values})
            dims.append({"label": name, "values": [labels.index(str(v)) for v in values],
                         "tickvals": list(range(len(labels))), "ticktext": labels})
    return dims


def plot_parallel_coordinates(source: SweepData | Any, data: SweepData | None = None) -> go.Figure:
    """Parallel coordinates of the scored trials' parameters and score (brushable axes)."""
    import plotly.graph_objects as go

    d = data or sweep_data(source)
    trials = d.scored
    scores = [d.best[t.id] for t in trials]
    dims = [*_dimensions(trials, d.space), {"label": d.metric, "values": scores}]
    return _figure([go.Parcoords(dimensions=dims, line={
        "color": scores, "colorscale": "Viridis", "reversescale": not d.maximize,
        "showscale": True})], "Parallel coordinates", margin={"l": 60, "r": 60, "t": 80, "b": 30})


def plot_param_importances(source: SweepData | Any, data: SweepData | None = None) -> go.Figure:
    """Share of the score's variance each parameter explains alone (fANOVA over a random
    forest, `hypersweep.viz.importance`); with too few trials or no variation, a figure that
    says so instead of empty axes."""
    import plotly.graph_objects as go

    d = data or sweep_data(source)
    result = param_importance([t.params for t in d.scored], [d.best[t.id] for t in d.scored])
    if result.note is not None:
        return _note_figure("Hyperparameter importance", result.note)
    names = list(result.shares)[::-1]
    title = "Hyperparameter importance" + (
        f"<br><sup>{result.caveat}</sup>" if result.caveat else "")
    return _figure([go.Bar(x=[result.shares[n] for n in names], y=names, orientation="h",
                           marker={"color": "#457b9d"})],
                   title, xaxis_tickformat=".0%",
                   xaxis_range=[0, 1], xaxis_title="share of explained variance (fANOVA)")


def _note_figure(title: str, note: str) -> go.Figure:
    """A figure with no axes and one line of text: why there is nothing to draw."""
    return _figure([], title, height=160, xaxis_visible=False, yaxis_visible=False,
                   annotations=[{"text": note, "showarrow": False, "xref": "paper",
                                 "yref": "paper", "x": 0.5, "y": 0.5,
                                 "font": {"size": 14, "color": "#555"}}])


def plot_slice(source: SweepData | Any, params: list[str] | None = None,
               data: SweepData | None = None) -> go.Figure:
    """One panel per parameter: its value against the trial's score."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    d = data or sweep_data(source)
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
        if _is_log(d.space, name, values):
            figure.update_xaxes(type="log", row=1, col=col)
    figure.update_layout(**_LAYOUT, title={"text": "Slice"}, showlegend=False)
    figure.update_yaxes(title_text=d.metric, row=1, col=1)
    return figure

