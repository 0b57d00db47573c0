"""The sampler protocol: given the space, finished and pending trials, propose n configurations.

See ``docs/contracts.md``. A sampler never launches anything and never reads the store: the
controller hands it the history, so its answer depends only on its settings and arguments.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hypersweep.errors import ConfigError
from hypersweep.space import SearchSpace, config_key
from hypersweep.space._values import describe


@dataclass(frozen=True)
class FinishedTrial:
    """A trial that ended, as a sampler sees it.

    Attributes
    ----------
    params : Mapping[str, Any]
        Its flat configuration.
    score : float or None
        Its best primary-metric value, oriented so that larger is better; ``None`` when the
        trial never logged the metric.

    Examples
    --------
    >>> FinishedTrial({"lr": 0.1}, 0.93).score
    0.93
    """

    params: Mapping[str, Any]
    score: float | None = None


class Sampler(ABC):
    """Base class of sampling methods.

    Subclasses set :attr:`space` and implement :meth:`propose` and :meth:`to_dict`.
    """

    space: SearchSpace

    @abstractmethod
    def propose(self, n: int, finished: Sequence[FinishedTrial] = (),
                pending: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        """Propose at most ``n`` flat configurations; fewer means the space is exhausted.

        Parameters
        ----------
        n : int
            How many configurations are wanted.
        finished : sequence of FinishedTrial
            Every trial that ended (any status), in the order they were proposed.
        pending : sequence of flat configurations
            Trials proposed but not finished (queued or running).
        """

    def preview(self, n: int) -> list[dict[str, Any]]:
        """The first ``n`` configurations a fresh sweep would try: ``propose(n, [], [])``."""
        return self.propose(n, [], [])

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The v2 ``sampling_algorithm`` mapping (``{"type": "random", ...}``)."""


def check_count(n: Any) -> int:
    """``n`` as a non-negative int, or :class:`ConfigError`."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ConfigError(f"n expects an int >= 0 (got {describe(n)})")
    return int(n)


def as_space(parameter_space: Any) -> SearchSpace:
    """A :class:`SearchSpace` from a space, a dict of expressions, or the YAML mapping form."""
    if isinstance(parameter_space, SearchSpace):
        return parameter_space
    if isinstance(parameter_space, Mapping):
        return SearchSpace.from_dict(parameter_space)
    raise ConfigError(f"parameter_space expects a mapping of parameter names to expressions "
                      f"or a SearchSpace (got {describe(parameter_space)})")


def seen_keys(finished: Iterable[FinishedTrial],
              pending: Iterable[Mapping[str, Any]]) -> set[frozenset[tuple[str, Any]]]:
    """Canonical keys of every configuration already tried or in flight."""
    keys = {config_key(t.params) for t in finished}
    keys.update(config_key(p) for p in pending)
    return keys


_RANDOM_KEYS = ("type", "seed", "rule", "logbase")
_MODEL_KEYS = ("type", "seed", "n_initial")  # bayesian and tpe


def sampler_from_dict(mapping: Any, space: Any) -> Sampler:
    """Build a sampler from the v2 ``sampling_algorithm`` form.

    ``mapping`` is ``"random"``, ``"grid"``, ``"bayesian"``, ``"tpe"``, or a mapping such as
    ``{"type": "random", "seed": 1, "rule": "sobol", "logbase": "e"}`` or
    ``{"type": "tpe", "seed": 3}`` (``bayesian`` and ``tpe`` also take ``n_initial``).

    Examples
    --------
    >>> from hypersweep.space import choice
    >>> sampler_from_dict("grid", {"a": choice(1, 2)}).preview()
    [{'a': 1}, {'a': 2}]
    """
    from hypersweep.sampling.bayesian import BayesianParameterSampling
    from hypersweep.sampling.grid import GridParameterSampling
    from hypersweep.sampling.random import RandomParameterSampling
    from hypersweep.sampling.tpe import TPEParameterSampling

    if isinstance(mapping, str):
        data: dict[Any, Any] = {"type": mapping}
    elif isinstance(mapping, Mapping):
        data = dict(mapping)
    else:
        raise ConfigError(f"sampling_algorithm: expected 'random', 'grid', 'bayesian', 'tpe' "
                          f"or a mapping with a 'type' key (got {describe(mapping)})")
    if "type" not in data:
        raise ConfigError("sampling_algorithm: missing key 'type' (random, grid, bayesian "
                          "or tpe)")
    kind = data["type"]
    kind = kind.strip().lower() if isinstance(kind, str) else kind
    if kind not in ("random", "grid", "bayesian", "tpe"):
        raise ConfigError(f"sampling_algorithm: unknown type {describe(data['type'])} "
                          "(expected random, grid, bayesian or tpe)")
    allowed = {"random": _RANDOM_KEYS, "grid": ("type",)}.get(kind, _MODEL_KEYS)
    for key in data:
        if key not in allowed:
            raise ConfigError(f"sampling_algorithm: unknown key {describe(key)} for {kind} "
                              f"(expected {', '.join(allowed)})")
    space = as_space(space)
    if kind == "grid":
        return GridParameterSampling(space)
    if kind in ("bayesian", "tpe"):
        cls = BayesianParameterSampling if kind == "bayesian" else TPEParameterSampling
        try:
            return cls(space, seed=data.get("seed"), n_initial=data.get("n_initial"))
        except ConfigError as err:
            raise ConfigError(f"sampling_algorithm.{err}") from None
    try:
        return RandomParameterSampling(space, seed=data.get("seed"),
                                       rule=data.get("rule", "random"),
                                       logbase=data.get("logbase", "e"))
    except ConfigError as err:
        raise ConfigError(f"sampling_algorithm.{err}") from None
