"""Plots of sweeps for notebooks and reports (plotly), and the numbers behind them.

Figures (``plot_optimization_history``, ``plot_parallel_coordinates``, ``plot_metric_curves``,
``plot_param_importances``, ``plot_slice``, and for several objectives ``plot_pareto_front``
and ``plot_hypervolume``), ``RunDetails(run).show()`` and
``write_report(run, path)`` need the ``dashboard`` extra (plotly); names load on first use so
``hypersweep.viz.analysis`` stays numpy-only.

Examples
--------
>>> from hypersweep.viz.analysis import best_so_far
>>> best_so_far([1.0, 0.5, 2.0], maximize=True)
[1.0, 1.0, 2.0]
"""

from __future__ import annotations

from hypersweep.lazy import lazy_exports

_EXPORTS = {
    "plot_optimization_history": "hypersweep.viz.figures",
    "plot_parallel_coordinates": "hypersweep.viz.figures",
    "plot_metric_curves": "hypersweep.viz.figures",
    "plot_param_importances": "hypersweep.viz.figures",
    "plot_slice": "hypersweep.viz.figures",
    "plot_pareto_front": "hypersweep.viz.front",
    "plot_hypervolume": "hypersweep.viz.front",
    "RunDetails": "hypersweep.viz.report",
    "write_report": "hypersweep.viz.report",
    "sweep_html": "hypersweep.viz.report",
    "run_html": "hypersweep.viz.report",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
