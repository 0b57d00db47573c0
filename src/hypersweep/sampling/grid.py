"""Grid sampling: every combination of ``choice`` values, in order, last parameter fastest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypersweep.sampling.base import FinishedTrial, Sampler, as_space, check_count, seen_keys
from hypersweep.space import SearchSpace, config_key


class GridParameterSampling(Sampler):
    """Grid search over a space of ``choice`` expressions (Azure ML semantics).

    The grid is the Cartesian product in declaration order, last parameter fastest; options
    that are mappings expand their own choices. A budget larger than the grid just runs the
    grid: :meth:`propose` then returns fewer configurations, and finally none.

    Parameters
    ----------
    parameter_space : dict or SearchSpace
        Parameter name to ``choice(...)``; anything else is a :class:`ConfigError`.

    Examples
    --------
    >>> from hypersweep.space import choice
    >>> sampling = GridParameterSampling({"lr": choice(0.1, 0.01), "bs": choice(16, 32)})
    >>> len(sampling)
    4
    >>> sampling.preview(2)
    [{'lr': 0.1, 'bs': 16}, {'lr': 0.1, 'bs': 32}]
    """

    kind = "grid"

    def __init__(self, parameter_space: Mapping[str, Any] | SearchSpace) -> None:
        self.space = as_space(parameter_space)
        self.space.grid()  # raises now, naming the first parameter that is not a choice
        self._size = self.space.cardinality or 0

    @property
    def size(self) -> int:
        """Number of grid points."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"GridParameterSampling({dict(self.space)!r})"

    def propose(self, n: int, finished: Sequence[FinishedTrial] = (),
                pending: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        """The next ``n`` grid points, in order, not in ``finished`` or ``pending``."""
        n = check_count(n)
        seen = seen_keys(finished, pending)
        out: list[dict[str, Any]] = []
        if n == 0:
            return out
        for config in self.space.grid():
            key = config_key(config)
            if key not in seen:
                seen.add(key)
                out.append(config)
                if len(out) == n:
                    break
        return out

    def preview(self, n: int | None = None) -> list[dict[str, Any]]:
        """The first ``n`` grid points, or the whole grid when ``n`` is None."""
        return self.propose(self._size if n is None else n, [], [])

    def to_dict(self) -> dict[str, Any]:
        return {"type": "grid"}
