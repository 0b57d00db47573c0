"""Pareto fronts and hypervolumes of several objectives, in plain NumPy.

Every function takes points as an array of shape (n, m), one row a trial and one column an
objective, with values ORIENTED SO THAT LARGER IS BETTER (a minimized metric is negated).

- ``nondominated``, ``nondominated_ranks``, ``pareto_front``: who is on the front, the
  non-dominated sorting into fronts, and the front of the feasible points.
- ``hypervolume``, ``hypervolume_improvement``, ``reference_point``: the exact volume the
  points dominate above a reference point, what a candidate would add to it, and a default
  reference derived from the points.

Examples
--------
>>> from hypersweep.pareto import hypervolume, pareto_front
>>> points = [[1.0, 3.0], [2.0, 2.0], [1.0, 1.0], [3.0, 1.0]]
>>> pareto_front(points).tolist()
[True, True, False, True]
>>> hypervolume(points, reference=[0.0, 0.0])
6.0
"""

from hypersweep.pareto.dominance import nondominated, nondominated_ranks, pareto_front
from hypersweep.pareto.improvement import hypervolume_improvement
from hypersweep.pareto.volume import hypervolume, reference_point

__all__ = [
    "hypervolume",
    "hypervolume_improvement",
    "nondominated",
    "nondominated_ranks",
    "pareto_front",
    "reference_point",
]
