"""Figures of a sweep with several objectives: its Pareto front and the front's hypervolume
trial by trial (plotly; the numbers are `hypersweep.viz.objectives`', as on the dashboard).

Examples
--------
>>> from hypersweep.store import MemoryStore
>>> from hypersweep.viz.example import example_sweep
>>> store = MemoryStore()
>>> figure = plot_pareto_front(SweepData.from_store(store, example_sweep(store)))
>>> figure.layout.annotations[0].text
'one objective: no trade-offs to draw'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypersweep.viz.figures import SweepData, _figure, _note_figure, sweep_data
from hypersweep.viz.objectives import pareto_chart

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["plot_hypervolume", "plot_pareto_front"]



def _outcome_data(d: SweepData) -> dict[str, Any]:
    params = {t.id: t.params for t in d.trials}
    return pareto_chart(d.trial_outcomes(), d.spec.objectives, d.spec.constraints, params,
                        limit=max(len(d.trials), 1))


def _axis_title(objective: Any) -> str:
    return f"{objective.metric} ({'max ↑' if objective.maximize else 'min ↓'})"


def plot_pareto_front(source: SweepData | Any, data: SweepData | None = None) -> go.Figure:
    """The trade-offs of a sweep with several objectives: each trial that logged every
    objective, by the first two (a 2-D scatter, the front joined) or the first three (3-D);
    the front highlighted, infeasible trials as grey crosses; hovering names the trial and
    its parameters. A one-objective sweep gets a figure saying there is no front to draw.

    Examples
    --------
    >>> from hypersweep import RandomParameterSampling, Sweep, uniform
    >>> sweep = Sweep(RandomParameterSampling({"x": uniform(0, 1)}, seed=0),
    ...               objectives=[("a", "maximize"), ("b", "minimize")],
    ...               constraints=[{"metric": "a", "max": 0.9}], max_total_runs=20)
    >>> while (trial := sweep.ask()) is not None:
    ...     sweep.tell(trial, {"a": trial.params["x"], "b": trial.params["x"] ** 2})
    >>> figure = plot_pareto_front(sweep.finish())
    >>> [(trace.name, len(trace.x)) for trace in figure.data]
    [('Pareto front', 18), ('infeasible', 2)]
    """
    import plotly.graph_objects as go

    d = data or sweep_data(source)
    objectives = d.spec.objectives
    if len(objectives) < 2:
        return _note_figure("Pareto front", "one objective: no trade-offs to draw")
    chart = _outcome_data(d)
    points = chart["points"]
    three = len(objectives) >= 3
    groups = {"Pareto front": chart["front"],
              "feasible": [k for k, on in enumerate(points["on_front"])
                           if not on and points["feasible"][k]],
              "infeasible": [k for k, ok in enumerate(points["feasible"]) if not ok]}
    styles = {"Pareto front": {"color": "#e76f51", "size": 6 if three else 10,
                               "symbol": "diamond"},
              "feasible": {"color": "#8ab6d6", "size": 4 if three else 7},
              "infeasible": {"color": "#9a9a9a", "size": 4 if three else 8,
                             "symbol": "x" if three else "x-thin-open",
                             "line": {"color": "#9a9a9a", "width": 1.5}}}
    traces = []
    for name, ks in groups.items():
        if not ks:
            continue
        axes = [[points["values"][j][k] for k in ks] for j in range(3 if three else 2)]
        hover = ["<br>".join([f"trial {points['index'][k]}",
                              *(f"{o.metric} = {points['values'][j][k]:.6g}"
                                for j, o in enumerate(objectives)),
                              ", ".join(f"{n}={v}" for n, v in points["params"][k].items())])
                 for k in ks]
        common = {"name": name, "marker": styles[name], "text": hover,
                  "hovertemplate": "%{text}<extra></extra>"}
        if three:
            traces.append(go.Scatter3d(x=axes[0], y=axes[1], z=axes[2], mode="markers",
                                       **common))
        else:
            traces.append(go.Scatter(x=axes[0], y=axes[1],
                                     mode="lines+markers" if name == "Pareto front"
                                     else "markers", **common))
    title = f"Pareto front ({chart['front_size']} of {chart['drawable']} trials)"
    if three:
        return _figure(traces, title, height=520, scene={
            "xaxis_title": _axis_title(objectives[0]), "yaxis_title": _axis_title(objectives[1]),
            "zaxis_title": _axis_title(objectives[2])})
    return _figure(traces, title, xaxis_title=_axis_title(objectives[0]),
                   yaxis_title=_axis_title(objectives[1]))


def plot_hypervolume(source: SweepData | Any, data: SweepData | None = None) -> go.Figure:
    """The hypervolume of the front after each trial (`hypersweep.spec.outcomes.
    hypervolume_by_trial`'s numbers): how much the sweep's trade-offs improved, trial by
    trial."""
    import plotly.graph_objects as go

    d = data or sweep_data(source)
    if len(d.spec.objectives) < 2:
        return _note_figure("Hypervolume", "one objective: no front to measure")
    volume = _outcome_data(d)["hypervolume"]
    return _figure([go.Scatter(x=volume["index"], y=volume["value"], mode="lines",
                               name="hypervolume", line={"shape": "hv", "color": "#e76f51"})],
                   "Hypervolume of the Pareto front", xaxis_title="trial",
                   yaxis_title="hypervolume", yaxis_rangemode="tozero")
