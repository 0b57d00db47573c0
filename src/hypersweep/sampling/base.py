"""The sampler protocol: given the space, finished and pending trials, propose n configurations.

See ``docs/contracts.md``. A sampler never launches anything and never reads the store: the
controller hands it the history, so its answer depends only on its settings and arguments.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from hypersweep.errors import ConfigError
from hypersweep.frozen import FrozenRecord
from hypersweep.space import SearchSpace, config_key
from hypersweep.space.values import describe, did_you_mean


class FinishedTrial(FrozenRecord):
    """A trial that ended, as a sampler sees it.

    Attributes
    ----------
    params : Mapping[str, Any]
        Its flat configuration.
    score : float or None
        Its best primary-metric value, oriented so that larger is better; ``None`` when the
        trial never logged the metric.
    values : tuple of float, or None
        Every objective's value, oriented, in the sweep's objective order: ``(score,)`` for a
        one-objective sweep; with several objectives the *last* value the trial logged of
        each. None when one is missing (a failed trial).
    violations : tuple of float, or None
        One per constraint of the sweep: > 0 violated by that much, <= 0 met (``inf``: the
        metric was never logged). None: the sweep has no constraints.

    Examples
    --------
    >>> FinishedTrial({"lr": 0.1}, 0.93).score
    0.93
    >>> trial = FinishedTrial({"lr": 0.1}, 0.93, values=(0.93, -12.0), violations=(-8.0,))
    >>> trial.feasible, FinishedTrial({}, 0.5, violations=(0.5, -1.0)).feasible
    (True, False)
    """

    params: Mapping[str, Any]
    score: float | None = None
    values: tuple[float, ...] | None = None
    violations: tuple[float, ...] | None = None

    @property
    def feasible(self) -> bool:
        """Whether it meets every constraint (a sweep without constraints: always)."""
        return self.violations is None or all(v <= 0 for v in self.violations)


class Sampler(ABC):
    """Base class of sampling methods.

    Subclasses set :attr:`space` and implement :meth:`propose` and :meth:`to_dict`; those
    that :func:`register_sampler` also name their v2 ``type`` (:attr:`kind`) and the mapping
    keys their constructor takes (:attr:`settings`).
    """

    kind: ClassVar[str]
    settings: ClassVar[tuple[str, ...]] = ()
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


SamplerT = TypeVar("SamplerT", bound=Sampler)


def check_count(n: Any) -> int:
    """``n`` as a non-negative int, or :class:`ConfigError`."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
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


SAMPLERS: dict[str, type[Sampler]] = {}
"""v2 ``type`` to sampler class, in registration order (``hypersweep.sampling.registry``)."""


def register_sampler(cls: type[SamplerT]) -> type[SamplerT]:
    """Make ``cls`` buildable by :func:`sampler_from_dict` under its v2 ``type``, ``cls.kind``.

    The class lists the mapping keys it takes besides ``type`` in ``cls.settings``; each is
    passed to its constructor as a keyword argument.
    """
    if cls.kind in SAMPLERS and SAMPLERS[cls.kind] is not cls:
        raise ValueError(f"sampling type {cls.kind!r} is already registered to "
                         f"{SAMPLERS[cls.kind].__name__}")
    SAMPLERS[cls.kind] = cls
    return cls



def _listing(words: Sequence[str], quote: bool = False) -> str:
    shown = [repr(w) if quote else w for w in words]
    return shown[0] if len(shown) < 2 else f"{', '.join(shown[:-1])} or {shown[-1]}"


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
    >>> sampler_from_dict("randm", {"a": choice(1, 2)})
    Traceback (most recent call last):
      ...
    hypersweep.errors.ConfigError: sampling_algorithm: unknown type 'randm' \
(did you mean 'random'? expected random, grid, bayesian or tpe)
    """
    kinds = list(SAMPLERS)
    if isinstance(mapping, str):
        data: dict[Any, Any] = {"type": mapping}
    elif isinstance(mapping, Mapping):
        data = dict(mapping)
    else:
        raise ConfigError(f"sampling_algorithm: expected {', '.join(map(repr, kinds))} "
                          f"or a mapping with a 'type' key (got {describe(mapping)})")
    if "type" not in data:
        raise ConfigError(f"sampling_algorithm: missing key 'type' ({_listing(kinds)})")
    raw = data.pop("type")
    # YAML may give any value here, a list included (unhashable: no dict lookups with it)
    kind = raw.strip().lower() if isinstance(raw, str) else ""
    if kind not in SAMPLERS:
        hint = did_you_mean(kind, kinds) if kind else ""
        raise ConfigError(f"sampling_algorithm: unknown type {describe(raw)} "
                          f"({hint}expected {_listing(kinds)})")
    cls = SAMPLERS[kind]
    for key in data:
        if key not in cls.settings:
            hint = did_you_mean(key, cls.settings) if isinstance(key, str) else ""
            raise ConfigError(f"sampling_algorithm: unknown key {describe(key)} for {kind} "
                              f"({hint}expected {', '.join(('type', *cls.settings))})")
    space = as_space(space)  # its errors name the parameter, not sampling_algorithm
    build: Callable[..., Sampler] = cls  # each class takes (space, **its settings)
    try:
        return build(space, **data)
    except ConfigError as err:
        raise ConfigError(f"sampling_algorithm.{err}") from None
