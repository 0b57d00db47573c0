"""What each unit-cube dimension of a search space is, for the model-based samplers.

:class:`~hypersweep.space.SearchSpace` maps configurations to the unit cube. A model needs to
know more about each dimension: is it numeric (distances mean something) or categorical (only
equality does); is it discrete (which points are the canonical encodings of values); and is it
*active* (a dimension inside a nested ``choice`` option exists only when that option is
chosen). :class:`Layout` records that once per space, and :meth:`Layout.snap` maps any point
of the cube to the canonical encoding of the configuration it decodes to — vectorised, so an
acquisition function can be evaluated on thousands of candidates at the values a trial would
really get.

Canonical encodings: a choice or randint dimension with ``k`` values sits at the cell centre
``(i + 0.5) / k``; a quantized dimension at the encoding of its lattice value; an inactive
dimension at 0.5 (as :meth:`SearchSpace.encode` does), so it adds nothing to distances
between configurations that both lack it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr

from hypersweep.sampling.base import FinishedTrial
from hypersweep.space import Choice, Expression, RandInt, SearchSpace
from hypersweep.space.normal_family import NormalFamily
from hypersweep.space.numeric import NumericExpression

_BASE = math.e  # Bayesian sampling has no logbase (Azure): exponents are natural logs.
_TAIL_SIGMAS = 4.0


@dataclass(frozen=True)
class Dim:
    """One unit-cube dimension.

    Attributes
    ----------
    name : str
        Flat name of the parameter, with ``[option]`` for the dimension picking a choice.
    categorical : bool
        Only equality matters (a choice whose options are not increasing numbers).
    levels : int
        Number of values of a choice or randint dimension (cell snapping); 0 otherwise.
    expr : Expression or None
        The quantized expression whose lattice this dimension snaps to, else None.
    parent : int
        Index of the choice dimension this one is nested under, or -1.
    option : int
        Which option of the parent makes this dimension active (-1 when no parent).
    tail : bool
        An unbounded (normal-family) expression: the model searches only within
        ``_TAIL_SIGMAS`` standard deviations, since the cube's edges are its infinite tails.
    """

    name: str
    categorical: bool
    levels: int
    expr: NumericExpression | None
    parent: int
    option: int
    tail: bool = False


def _is_ordinal(options: Sequence[Any]) -> bool:
    """Whether choice options are monotone numbers (so distance between them means something).

    Azure's Bayesian sampling takes only choice, uniform and quniform, so spaces written for
    it often say ``choice(16, 32, 64, 128)`` where an integer range is meant.
    """
    nums = [o for o in options if isinstance(o, int | float) and not isinstance(o, bool)]
    if len(nums) != len(options) or len(nums) < 3:
        return False
    steps = [b - a for a, b in itertools.pairwise(nums)]
    return all(s > 0 for s in steps) or all(s < 0 for s in steps)


def _walk(name: str, expr: Expression, parent: int, option: int, out: list[Dim]) -> None:
    if isinstance(expr, Choice):
        me = len(out)
        ordinal = not expr.has_mappings and _is_ordinal(expr.options)
        out.append(Dim(name, not ordinal, len(expr.options), None, parent, option))
        for i, items in expr._nested:
            for key, item, _, _ in items:
                if isinstance(item, Expression):
                    _walk(f"{name}.{key}", item, me, i, out)
    elif isinstance(expr, RandInt):
        out.append(Dim(name, False, expr.upper, None, parent, option))
    else:
        tail = isinstance(expr, NormalFamily)
        lattice = expr if isinstance(expr, NumericExpression) and expr.quantized else None
        out.append(Dim(name, False, 0, lattice, parent, option, tail))


class Layout:
    """The dimensions of a search space's unit cube, and canonical snapping.

    Parameters
    ----------
    space : SearchSpace

    Examples
    --------
    >>> from hypersweep.space import choice, uniform
    >>> layout = Layout(SearchSpace({"x": uniform(0, 1), "c": choice("a", "b")}))
    >>> layout.snap(np.array([[0.3, 0.9]]))[0].tolist()
    [[0.3, 0.75]]
    """

    def __init__(self, space: SearchSpace) -> None:
        dims: list[Dim] = []
        for name, expr in space.items():
            _walk(name, expr, -1, -1, dims)
        if len(dims) != space.n_dims:  # the walk must mirror the space's own layout
            raise AssertionError(f"layout has {len(dims)} dims, space {space.n_dims}")
        self.space = space
        self.dims = tuple(dims)
        self.n_dims = len(dims)
        self.categorical = np.array([d.categorical for d in dims], dtype=bool)
        self.levels = np.array([d.levels for d in dims], dtype=np.int64)
        self.parents = np.array([d.parent for d in dims], dtype=np.int64)
        self.options = np.array([d.option for d in dims], dtype=np.int64)
        self.nested = bool((self.parents >= 0).any())
        tail = np.array([d.tail for d in dims], dtype=bool)
        edge = float(ndtr(-_TAIL_SIGMAS))
        self.low = np.where(tail, edge, 0.0)
        self.high = np.where(tail, 1.0 - edge, 1.0)
        self._cells = np.flatnonzero(self.levels > 0)
        self._cache: dict[Any, np.ndarray | None] = {}
        self._lattices = [(j, d.expr) for j, d in enumerate(dims) if d.expr is not None]

    def active(self, unit: np.ndarray) -> np.ndarray:
        """Boolean mask, shape ``(n, n_dims)``: which dimensions each point really uses."""
        active = np.ones(unit.shape, dtype=bool)
        if not self.nested:
            return active
        for j in np.flatnonzero(self.parents >= 0):  # parents come before their children
            p = self.parents[j]
            index = np.clip((unit[:, p] * self.levels[p]).astype(np.int64), 0, self.levels[p] - 1)
            active[:, j] = active[:, p] & (index == self.options[j])
        return active

    def snap(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Canonical encodings of the configurations ``unit`` decodes to, and their activity."""
        x = np.clip(np.asarray(unit, dtype=float), self.low, self.high)
        if x.shape[0] == 0:
            return x.copy(), np.ones(x.shape, dtype=bool)
        if self._cells.size:
            k = self.levels[self._cells]
            index = np.clip((x[:, self._cells] * k).astype(np.int64), 0, k - 1)
            x[:, self._cells] = (index + 0.5) / k
        for j, expr in self._lattices:
            x[:, j] = expr.snap_to_lattice(x[:, j])
        active = self.active(x)
        x[~active] = 0.5
        return x, active


    def encode(self, configs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Snapped rows of the configurations that encode, and their indices in ``configs``.

        Encodings are cached by configuration (a pure function of it), because a sweep
        hands the sampler its whole, growing history at every call.
        """
        keys = [_cache_key(c) for c in configs]
        missing = [i for i, k in enumerate(keys) if k is None or k not in self._cache]
        if missing:
            rows, index = encode_configs(self.space, [configs[i] for i in missing])
            rows = self.snap(rows)[0]
            if len(self._cache) + len(missing) > _CACHE_SIZE:
                self._cache.clear()
            got = dict(zip(index.tolist(), rows, strict=True))
            for j, i in enumerate(missing):
                if keys[i] is not None:
                    self._cache[keys[i]] = got.get(j)
            fresh = {missing[j]: row for j, row in got.items()}
        else:
            fresh = {}
        out, index_out = [], []
        for i, k in enumerate(keys):
            row = fresh.get(i) if k is None or i in fresh else self._cache.get(k)
            if row is not None:
                out.append(row)
                index_out.append(i)
        if not out:
            return np.empty((0, self.n_dims)), np.empty(0, dtype=np.int64)
        return np.array(out), np.array(index_out, dtype=np.int64)


_CACHE_SIZE = 200_000


def _cache_key(params: Any) -> Any:
    """A hashable, type-aware key of a flat configuration, or None.

    Built from C-level tuple copies (no per-item Python code): a sweep of thousands of
    trials builds one per trial per proposal. Types are part of the key because 1, 1.0 and
    True are equal in Python yet distinct options. Key order is not normalised: the same
    configuration in another order only misses the cache.
    """
    if not isinstance(params, Mapping):
        return None
    values = tuple(params.values())
    key = (tuple(params), values, tuple(map(type, values)))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _encode_one(space: SearchSpace, params: Any) -> np.ndarray | None:
    try:
        if not isinstance(params, Mapping):
            return None
        row = space.encode([params])[0]
    except Exception:  # a foreign configuration: any failure means "cannot encode"
        return None
    return row if np.isfinite(row).all() else None


def encode_configs(space: SearchSpace,
                   configs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Encode what can be encoded: the rows, and the indices of ``configs`` they came from.

    Warm-start trials may come from a wider or older space: values outside the range clip
    to the cube, configurations that miss a parameter or use an unknown option are skipped.
    """
    if not configs:
        return np.empty((0, space.n_dims)), np.empty(0, dtype=np.int64)
    try:  # the common case, one vectorised call
        rows = space.encode(list(configs))
        if np.isfinite(rows).all():
            return rows, np.arange(len(configs))
    except Exception:  # some configuration is foreign: fall back to one at a time
        pass
    kept, index = [], []
    for i, params in enumerate(configs):
        row = _encode_one(space, params)
        if row is not None:
            kept.append(row)
            index.append(i)
    if not kept:
        return np.empty((0, space.n_dims)), np.empty(0, dtype=np.int64)
    return np.array(kept), np.array(index, dtype=np.int64)


def _score(value: Any) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


def encode_history(layout: Layout, finished: Sequence[FinishedTrial],
                   pending: Sequence[Mapping[str, Any]]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Snapped unit rows of the finished trials, their scores (NaN = failed), pending rows.

    Non-finite scores count as failures.
    """
    xf, index = layout.encode([t.params for t in finished])
    y = np.array([_score(finished[i].score) for i in index], dtype=float)
    xp, _ = layout.encode(list(pending))
    return xf, y, xp


def point_keys(x: np.ndarray) -> list[bytes]:
    """A hashable key per encoded point (rows of ``x``), equal for points that decode alike
    up to float noise: how samplers tell "already tried or pending" apart."""
    return [row.tobytes() for row in np.round(x, 9)]
