"""Multi-objective test problems for bench_multiobjective.py: ZDT1, ZDT2, DTLZ2, C2-DTLZ2.

Every problem is minimized on the unit cube ``[0, 1]^d`` and returns its objectives as
published (minimized) and its constraint violations (> 0 violated, <= 0 met, the sweep's
convention); the bench negates the objectives for our samplers (larger is better).

- ZDT1, ZDT2: Zitzler, Deb and Thiele, "Comparison of multiobjective evolutionary
  algorithms: empirical results", Evolutionary Computation 8(2), 2000; d = 30 as published.
  Reference point (11, 11), BoTorch's ``ZDT`` reference; the largest hypervolume is
  120 + 2/3 (ZDT1) and 120 + 1/3 (ZDT2).
- DTLZ2 with 3 objectives: Deb, Thiele, Laumanns and Zitzler, "Scalable test problems for
  evolutionary multiobjective optimization", 2005; d = M + k - 1 = 12 with the recommended
  k = 10. Reference point (1.1, 1.1, 1.1), BoTorch's; the front is the unit sphere's octant,
  largest hypervolume 1.1^3 - pi/6 = 0.8074.
- C2-DTLZ2 with 2 objectives and 1 constraint: Jain and Deb, "An evolutionary many-objective
  optimization algorithm using reference-point-based nondominated sorting approach, Part
  II", IEEE TEVC 18(4), 2014, in the form BoTorch uses (``C2DTLZ2``, r = 0.2) and its
  constrained multi-objective tutorial and Daulton et al. (qEHVI, NeurIPS 2020) run with
  d = 12 and reference point (1.1, 1.1). Only about 3 in 10,000 uniform points are
  feasible: a sampler must learn where the constraint holds. Largest hypervolume about
  0.3996 (BoTorch's value, from NSGA-II).

Examples
--------
>>> import numpy as np
>>> PROBLEMS["zdt1"].evaluate(np.zeros(30))
((0.0, 1.0), ())
>>> f, (violation,) = PROBLEMS["c2dtlz2"].evaluate(np.full(12, 0.5))
>>> [round(v, 4) for v in f], violation <= 0  # on the front, in the middle: feasible
([0.7071, 0.7071], True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Evaluation = tuple[tuple[float, ...], tuple[float, ...]]


@dataclass(frozen=True)
class Problem:
    name: str
    dim: int
    n_objectives: int
    n_constraints: int
    reference: tuple[float, ...]  # minimized objectives: every counted point lies below it
    evaluate: Callable[[np.ndarray], Evaluation]


def _zdt(x: np.ndarray, shape: Callable[[float], float]) -> Evaluation:
    f1 = float(x[0])
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return (f1, g * shape(f1 / g)), ()


def zdt1(x: np.ndarray) -> Evaluation:
    return _zdt(x, lambda r: 1.0 - math.sqrt(r))


def zdt2(x: np.ndarray) -> Evaluation:
    return _zdt(x, lambda r: 1.0 - r * r)


def _dtlz2_objectives(x: np.ndarray, m: int) -> np.ndarray:
    g = float(np.sum((x[m - 1:] - 0.5) ** 2))
    angles = x[: m - 1] * (math.pi / 2)
    f = np.full(m, 1.0 + g)
    for i in range(m):
        f[i] *= np.prod(np.cos(angles[: m - 1 - i]))
        if i > 0:
            f[i] *= math.sin(angles[m - 1 - i])
    return f


def dtlz2(x: np.ndarray) -> Evaluation:
    return tuple(float(v) for v in _dtlz2_objectives(x, 3)), ()


C2_RADIUS = 0.2


def c2dtlz2(x: np.ndarray) -> Evaluation:
    f = _dtlz2_objectives(x, 2)
    m, r2 = len(f), C2_RADIUS**2
    squares = f**2
    # Feasible near each axis' end of the front (within r of e_i) or near its middle.
    near_axis = min((f[i] - 1.0) ** 2 + float(np.sum(np.delete(squares, i) - r2))
                    for i in range(m))
    near_middle = float(np.sum((f - 1.0 / math.sqrt(m)) ** 2 - r2))
    return tuple(float(v) for v in f), (min(near_axis, near_middle),)


PROBLEMS: dict[str, Problem] = {
    "zdt1": Problem("zdt1", 30, 2, 0, (11.0, 11.0), zdt1),
    "zdt2": Problem("zdt2", 30, 2, 0, (11.0, 11.0), zdt2),
    "dtlz2": Problem("dtlz2", 12, 3, 0, (1.1, 1.1, 1.1), dtlz2),
    "c2dtlz2": Problem("c2dtlz2", 12, 2, 1, (1.1, 1.1), c2dtlz2),
}
