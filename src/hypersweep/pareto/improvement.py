"""What each candidate point would add to the hypervolume of a front.

``hypervolume_improvement(candidates, front, reference)[i]`` is
``hypervolume(front + [candidates[i]]) - hypervolume(front)``, computed directly as the part
of the candidate's box that the front does not cover: the box's volume minus the
hypervolume of the front clipped to the box. That avoids subtracting two large, nearly equal
volumes, and in 2-D it is vectorised over all candidates (a front of s points and k
candidates take O((s + k) log s)), which is what an acquisition function over many
candidates needs.

Examples
--------
>>> from hypersweep.pareto import hypervolume_improvement
>>> front = [[1.0, 3.0], [3.0, 1.0]]
>>> hypervolume_improvement([[2.0, 2.0], [0.5, 0.5]], front, reference=[0.0, 0.0]).tolist()
[1.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hypersweep.pareto._arrays import FloatArray, as_points, as_reference
from hypersweep.pareto._exact import offsets_above, positive_volume, staircase_2d
from hypersweep.pareto._sorting import distinct_best_first, front_of_distinct
from hypersweep.pareto.volume import hypervolume

__all__ = ["hypervolume_improvement"]


def hypervolume_improvement(candidates: Any, front: Any, reference: Any) -> FloatArray:
    """For each candidate, ``hypervolume(front ∪ {candidate}) - hypervolume(front)``.

    ``candidates`` has shape (k, m), ``front`` shape (n, m) (any points: dominated ones add
    nothing), ``reference`` shape (m,). Larger is better. A candidate not strictly above the
    reference, dominated by the front, or holding a NaN improves nothing (0.0). With ``+inf``
    values the difference follows the two volumes (``inf``, or ``nan`` for ``inf - inf``).

    Examples
    --------
    >>> hypervolume_improvement([[2, 2], [4, 1]], [[1, 3], [3, 1]], reference=[0, 0]).tolist()
    [1.0, 1.0]
    >>> hypervolume_improvement([[1, 1, 2]], [[1, 1, 1]], reference=[0, 0, 0]).tolist()
    [1.0]
    """
    wanted = as_points(candidates, "candidates")
    base = as_points(front, "front", wanted.shape[1] or None)
    anchor = as_reference(reference, wanted.shape[1] or base.shape[1] or None)
    objectives = len(anchor)
    # An empty argument ([]) takes the dimension of the others.
    wanted = wanted.reshape(len(wanted), objectives)
    base = base.reshape(len(base), objectives)
    improvements = np.zeros(len(wanted), dtype=np.float64)
    counted = np.all(wanted > anchor, axis=1)
    if not counted.any():
        return improvements
    boxes = wanted[counted] - anchor
    covering = offsets_above(base, anchor)
    if np.isinf(boxes).any() or np.isinf(covering).any():
        # Volumes are infinite: follow the definition, two volumes and their difference.
        before = hypervolume(base, anchor)
        improvements[counted] = [
            hypervolume(np.vstack([base, point]), anchor) - before for point in wanted[counted]
        ]
        return improvements
    if objectives == 2:
        gained = _improvements_2d(boxes, covering)
    else:
        # What the front dominates is all that matters: filter it once, not per candidate.
        distinct, _ = distinct_best_first(covering)
        covering = distinct[front_of_distinct(distinct)]
        gained = np.array(
            [np.prod(box) - positive_volume(np.minimum(covering, box)) for box in boxes]
        )
    # Mathematically >= 0; rounding in "box minus covered part" may dip just below.
    improvements[counted] = np.maximum(gained, 0.0)
    return improvements


def _improvements_2d(boxes: FloatArray, covering: FloatArray) -> FloatArray:
    # The front's staircase height h(x) steps down at each front point; the covered part of
    # the box [0, bx] x [0, by] is the integral of min(h(x), by) over [0, bx]. h >= by up to
    # the last front point with y >= by (x_J), and below by after it, so the covered area is
    # by * min(bx, x_J) plus the integral of h from x_J to bx (if bx > x_J), read from the
    # cumulative areas under the staircase.
    widths, heights = boxes[:, 0], boxes[:, 1]
    if len(covering) == 0:
        return widths * heights
    xs, ys = staircase_2d(covering)
    starts = np.concatenate([[0.0], xs])  # x where each step begins
    step_heights = np.concatenate([ys, [0.0]])  # height after each start (0 past the last)
    areas = np.concatenate([[0.0], np.cumsum(np.diff(starts) * ys)])  # integral up to xs[i]

    def integral(upto: FloatArray) -> FloatArray:
        step = np.searchsorted(xs, upto, side="left")  # xs[step-1] < upto <= xs[step]
        return areas[step] + (upto - starts[step]) * step_heights[step]

    tall = np.searchsorted(-ys, -heights, side="right")  # front points with y >= by
    tall_x = starts[tall]
    covered = np.where(
        widths <= tall_x,
        widths * heights,
        heights * tall_x + integral(widths) - areas[tall],
    )
    return widths * heights - covered
