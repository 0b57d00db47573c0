"""What samplers that fit a model to the history share: seed, initial design, encoding."""

from __future__ import annotations

import secrets
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hypersweep.errors import ConfigError
from hypersweep.sampling._blas import one_blas_thread
from hypersweep.sampling._layout import Layout
from hypersweep.sampling.base import FinishedTrial, Sampler, as_space, check_count
from hypersweep.space import SearchSpace
from hypersweep.space.values import describe


def check_seed(seed: Any) -> int:
    """``seed`` as an int >= 0, drawing one when it is None."""
    if seed is None:
        return secrets.randbits(32)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed expects None or an int >= 0 (got {describe(seed)})")
    return int(seed)


def check_initial(n_initial: Any) -> int | None:
    """``n_initial`` as None or an int >= 1."""
    if n_initial is None:
        return None
    if (isinstance(n_initial, bool) or not isinstance(n_initial, int | np.integer)
            or n_initial < 1):
        raise ConfigError(f"n_initial expects None or an int >= 1 (got {describe(n_initial)})")
    return int(n_initial)


class ModelBasedSampler(Sampler):
    """Base of the samplers that model the history (Bayesian, TPE).

    Subclasses set :attr:`kind` (their v2 ``type``) and implement :meth:`_propose`; this class
    validates the common settings, keeps the space's unit-cube layout, and runs proposals with
    one BLAS thread (a multithreaded BLAS on a busy machine made them 5-10x slower).
    """

    settings = ("seed", "n_initial")

    def __init__(self, parameter_space: Mapping[str, Any] | SearchSpace,
                 seed: int | None = None, n_initial: int | None = None) -> None:
        self.space = as_space(parameter_space)
        self.seed = check_seed(seed)
        self.n_initial = check_initial(n_initial)
        self._layout = Layout(self.space)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self.space)!r}, seed={self.seed})"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "seed": self.seed}
        if self.n_initial is not None:
            out["n_initial"] = self.n_initial
        return out

    def propose(self, n: int, finished: Sequence[FinishedTrial] = (),
                pending: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        """Propose ``n`` configurations; a batch treats its earlier members as pending."""
        n = check_count(n)
        if n == 0:
            return []
        with one_blas_thread():
            return self._propose(n, finished, pending)

    @abstractmethod
    def _propose(self, n: int, finished: Sequence[FinishedTrial],
                 pending: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """`propose` for ``n >= 1``."""
