"""Random sampling: independent uniform draws or scrambled Sobol points, decoded by the space.

Determinism: configuration number ``k`` of a sweep (``k = len(finished) + len(pending) + j``
for the ``j``-th of a batch) is unit point ``k`` of a fixed stream that depends only on
``(seed, rule)``: row ``k`` of one long PCG64 stream (reached with ``advance``) or Sobol point
``k`` (reached with ``fast_forward``). So proposing 5 then 5 gives the same as 10 at once,
and a resumed sweep continues the sequence.

No repeats (our rule): in an all-discrete space, a draw already tried is replaced by a
deterministic re-draw (stream ``(seed, k, 1)``); when re-draws keep failing because few
configurations remain, an unseen one is picked from the enumerated space. Once every
configuration has been tried, repeats are allowed.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hypersweep.errors import ConfigError
from hypersweep.sampling.base import FinishedTrial, Sampler, as_space, check_count, seen_keys
from hypersweep.space import SearchSpace, config_key
from hypersweep.space.stream import UnitStream
from hypersweep.space.values import describe, parse_logbase

if TYPE_CHECKING:
    from scipy.stats import qmc

_RULES = ("random", "sobol")
_REDRAWS = 64  # re-draws per repeated configuration before enumerating the unseen ones
_ENUMERATE_LIMIT = 100_000  # largest finite space we enumerate to find unseen configurations


def _sobol(d: int, seed: int) -> qmc.Sobol:
    # scipy.stats costs a fresh process about a quarter of a second: random search and every
    # read command that loads a stored random sweep do not need it.
    import numpy as np
    from scipy.stats import qmc

    rng = np.random.Generator(np.random.PCG64(seed))
    try:
        return qmc.Sobol(d, scramble=True, rng=rng)
    except TypeError:  # scipy < 1.15 calls it `seed`
        return qmc.Sobol(d, scramble=True, seed=rng)


class RandomParameterSampling(Sampler):
    """Random search over any expressions (Azure ML ``RandomParameterSampling``).

    Parameters
    ----------
    parameter_space : dict or SearchSpace
        Parameter name to expression.
    seed : int, optional
        When None, a seed is drawn now and kept (:attr:`seed`, :meth:`to_dict`), so a stored
        sweep stays reproducible.
    rule : {"random", "sobol"}
        Independent uniform draws, or scrambled Sobol points (v2 ``rule: sobol``), which
        cover the space more evenly.
    logbase : float or "e"
        Base of the log expressions' exponents (v2 ``logbase``).

    Examples
    --------
    >>> from hypersweep.space import choice, uniform
    >>> sampling = RandomParameterSampling({"lr": uniform(0.0, 1.0), "bs": choice(16, 32)},
    ...                                    seed=1)
    >>> [c["bs"] for c in sampling.preview(4)]
    [32, 32, 16, 16]
    """

    kind = "random"
    settings = ("seed", "rule", "logbase")

    def __init__(self, parameter_space: Mapping[str, Any] | SearchSpace,
                 seed: int | None = None, rule: str = "random",
                 logbase: float | str = "e") -> None:
        self.space = as_space(parameter_space)
        if seed is None:
            import secrets  # only unseeded: it loads hashlib, hmac and base64

            seed = secrets.randbits(32)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ConfigError(f"seed expects None or an int >= 0 (got {describe(seed)})")
        if not isinstance(rule, str) or rule.strip().lower() not in _RULES:
            raise ConfigError(f"rule expects 'random' or 'sobol' (got {describe(rule)})")
        self._base: float = parse_logbase(logbase)
        self.space.check_logbase(self._base)
        self.seed: int = int(seed)
        self.rule: str = rule.strip().lower()
        self.logbase: float | str = "e" if isinstance(logbase, str) else logbase
        self._cardinality: int | None = self.space._cardinality(self._base)
        self._enumerated: list[tuple[Any, dict[str, Any]]] | None = None

    def __repr__(self) -> str:
        return (f"RandomParameterSampling({dict(self.space)!r}, seed={self.seed}, "
                f"rule={self.rule!r}, logbase={self.logbase!r})")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "random", "seed": self.seed, "rule": self.rule, "logbase": self.logbase}

    def _points(self, start: int, n: int) -> Any:
        """Unit points ``start .. start + n - 1`` of this sampler's stream (rows)."""
        d = self.space.n_dims
        if self.rule == "sobol":
            engine = _sobol(d, self.seed)
            if start:
                engine.fast_forward(start)
            with warnings.catch_warnings():  # balance needs powers of 2; callers choose n
                warnings.simplefilter("ignore", UserWarning)
                return engine.random(n)
        # A sweep asks for the points in order: keep the stream where the last call left it
        # (seeding and jumping ahead cost as much as twenty draws). Taken out with one
        # dict.pop, so two threads proposing from one sampler never draw from the same stream.
        stream, at = self.__dict__.pop("_stream", (None, 0))
        if stream is None or at != start:
            stream = UnitStream(self.seed)
            stream.advance(start * d)  # one 64-bit step per float64
        rows = stream.rows(n, d)
        self._stream = (stream, start + n)
        return rows

    def propose(self, n: int, finished: Sequence[FinishedTrial] = (),
                pending: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
        """Configurations ``k .. k + n - 1`` where ``k = len(finished) + len(pending)``.

        Always returns ``n`` configurations (a random sweep is never exhausted).
        """
        n = check_count(n)
        start = len(finished) + len(pending)
        configs = self.space.decode(self._points(start, n), self._base)
        if self._cardinality is None:
            return configs
        seen = seen_keys(finished, pending)
        for j, config in enumerate(configs):
            key = config_key(config)
            if key in seen:
                config = self._redraw(start + j, seen) or config
                configs[j] = config
                key = config_key(config)
            seen.add(key)
        return configs

    def _redraw(self, k: int, seen: set[Any]) -> dict[str, Any] | None:
        """An unseen replacement for configuration ``k``, or None when none remains."""
        stream = UnitStream([self.seed, k, 1])
        for config in self.space.decode(stream.rows(_REDRAWS, self.space.n_dims), self._base):
            if config_key(config) not in seen:
                return config
        if self._cardinality is None or self._cardinality > _ENUMERATE_LIMIT:
            return None  # too many to list, and 64 misses: treat as exhausted
        if self._enumerated is None:
            self._enumerated = [(config_key(c), c) for c in self.space._enumerate(self._base)]
        unseen = [c for key, c in self._enumerated if key not in seen]
        return dict(unseen[stream.integer(len(unseen))]) if unseen else None
