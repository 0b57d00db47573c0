"""Parameter expressions: what values one hyperparameter may take, and how to draw them.

Every expression maps points ``u`` of the unit interval ``[0, 1)`` to values by its inverse
CDF (:meth:`Expression.decode`). Random sampling decodes uniform draws, Sobol sampling
scrambled Sobol points and the model-based samplers their picks, all through one code path in
plain Python (so a random sweep never imports numpy); :meth:`encode` goes back, with numpy,
for model-based samplers.

This module holds the base class every expression shares; the numeric expressions
(``uniform`` ... ``qlognormal``) in :mod:`.numeric`, :mod:`.uniform_family` and
:mod:`.normal_family`, ``choice`` and ``randint`` in :mod:`.choice`.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from hypersweep.errors import ConfigError
from hypersweep.space.stream import UnitStream
from hypersweep.space.values import describe, parse_logbase

if TYPE_CHECKING:
    import numpy as np


def unit_rows(unit: Any, width: int) -> list[list[float]]:
    """Points of the unit cube as rows of ``width`` floats: ``unit`` is an array or nested
    sequences of any shape with a multiple of ``width`` numbers (``np.reshape(-1, width)``).

    Examples
    --------
    >>> unit_rows([[0.5, 1], [0.25, 0]], 2), unit_rows([0.1, 0.2], 1)
    ([[0.5, 1.0], [0.25, 0.0]], [[0.1], [0.2]])
    """
    if hasattr(unit, "tolist"):  # a numpy array: its items as Python floats, at C speed
        unit = unit.tolist()
    flat: list[float] = []
    stack = [unit]
    while stack:
        item = stack.pop()
        if isinstance(item, numbers.Real):
            flat.append(float(item))
        elif isinstance(item, Sequence) and not isinstance(item, str):
            stack.extend(reversed(item))
        else:
            raise ValueError(f"decode expects numbers in [0, 1) (got {describe(item)})")
    if len(flat) % width:
        raise ValueError(f"decode expects rows of {width} numbers (got {len(flat)} numbers)")
    return [flat[i:i + width] for i in range(0, len(flat), width)]


class ExponentWarning(UserWarning):
    """A ``loguniform``/``lognormal`` argument looks like a value, not a natural-log exponent.

    ``loguniform(1e-5, 1e-1)`` samples in ``[e**1e-5, e**0.1] = [1.00001, 1.105]``, which is
    rarely what was meant; ``loguniform(math.log(1e-5), math.log(1e-1))`` is.
    """


class Expression(ABC):
    """Base class of the parameter expressions; build them with the factories (``uniform`` ...).

    Expressions are immutable, hashable and compare equal when their kind and arguments are
    the same, argument types included (``quniform(0, 10, 1) != quniform(0, 10, 1.0)`` since one
    yields ints and the other floats).
    """

    __slots__ = ()
    kind: ClassVar[str]
    arg_names: ClassVar[tuple[str, ...]]

    @property
    @abstractmethod
    def args(self) -> tuple[Any, ...]:
        """The constructor arguments, in order (``uniform(0, 1).args == (0, 1)``)."""

    @property
    def n_dims(self) -> int:
        """Number of unit-cube dimensions this expression consumes."""
        return 1

    @property
    def is_finite(self) -> bool:
        """Whether the expression takes finitely many values."""
        return False

    @property
    def cardinality(self) -> int | None:
        """Number of distinct values (with ``logbase="e"``), or ``None`` when infinite."""
        return self._cardinality(math.e)

    def _cardinality(self, base: float) -> int | None:
        return None

    def _values(self, base: float) -> list[Any]:
        """All values, in order, of a finite expression (see :attr:`is_finite`)."""
        raise NotImplementedError(f"{self!r} takes infinitely many values")

    @abstractmethod
    def _decode(self, columns: Sequence[Sequence[float]], base: float) -> list[Any]:
        """Map ``n_dims`` columns of ``n`` unit floats each to ``n`` plain Python values.

        Pure Python, no numpy: random search decodes every configuration it proposes, and a
        sweep that needs nothing else from numpy should not pay for importing it.
        """

    def _decode_rows(self, rows: list[list[float]], base: float) -> list[Any]:
        """`_decode` of points given as rows of ``n_dims`` floats."""
        return self._decode(list(zip(*rows, strict=True)), base) if rows else []

    @abstractmethod
    def _encode(self, values: Sequence[Any], base: float) -> np.ndarray:
        """Map ``n`` values to unit points of shape ``(n, n_dims)``; inverse of ``_decode``."""

    def check_logbase(self, logbase: float | str) -> None:
        """Refuse (`ConfigError`) a ``logbase`` under which some value would overflow a float.

        The constructors check ``logbase="e"``; samplers with another base call this.

        Examples
        --------
        >>> from hypersweep.space import loguniform
        >>> loguniform(0, 400).check_logbase(10)
        Traceback (most recent call last):
          ...
        hypersweep.errors.ConfigError: loguniform expects max_value <= 308.25 so that \
10**max_value fits a float (got 400)
        """
        problem = self._overflow(parse_logbase(logbase))
        if problem is not None:
            raise ConfigError(problem)

    def _overflow(self, base: float) -> str | None:
        """Why some value overflows a float under ``base``, or ``None`` (finite kinds)."""
        return None

    def decode(self, unit: Any, logbase: float | str = "e") -> list[Any]:
        """Map points of the unit cube to values by the inverse CDF.

        Parameters
        ----------
        unit : array_like
            Shape ``(n,)`` (one-dimensional expressions) or ``(n, n_dims)``, values in [0, 1).
        logbase : float or "e"
            Base of the log expressions' exponents.

        Examples
        --------
        >>> from hypersweep.space import uniform
        >>> uniform(0, 10).decode([0.0, 0.25])
        [0.0, 2.5]
        """
        rows = unit_rows(unit, self.n_dims)
        self.check_logbase(logbase)
        return self._decode_rows(rows, parse_logbase(logbase))

    def encode(self, values: Sequence[Any], logbase: float | str = "e") -> np.ndarray:
        """Map values back to the unit cube (shape ``(n, n_dims)``); inverse of :meth:`decode`.

        Quantized values map to the point their unrounded value had; values outside the
        range clip to the cube. Dimensions a value does not use (options of a nested
        ``choice`` not taken) are 0.5.

        Examples
        --------
        >>> from hypersweep.space import uniform
        >>> uniform(0, 10).encode([2.5]).tolist()
        [[0.25]]
        """
        return self._encode(list(values), parse_logbase(logbase))

    def sample(self, size: int = 1, seed: int | None = None,
               logbase: float | str = "e") -> list[Any]:
        """Draw ``size`` values, to preview what a sweep will try.

        Examples
        --------
        >>> from hypersweep.space import loguniform
        >>> [round(v, 3) for v in loguniform(-6, -1).sample(3, seed=0)]
        [0.06, 0.01, 0.003]
        """
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0:
            raise ConfigError(f"sample expects size to be an int >= 0 (got {describe(size)})")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ConfigError(f"sample expects seed to be None or an int >= 0 "
                              f"(got {describe(seed)})")
        self.check_logbase(logbase)
        if seed is None:
            import secrets  # only unseeded: it loads hashlib, hmac and base64

            seed = secrets.randbits(128)
        rows = UnitStream(int(seed)).rows(int(size), self.n_dims)  # np.random.default_rng(seed)
        return self._decode_rows(rows, parse_logbase(logbase))

    def _key(self) -> tuple[Any, ...]:
        return (self.kind, *((type(a).__name__, a) for a in self.args))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expression):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"{self.kind}({', '.join(repr(a) for a in self.args)})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # Immutable: a copy is the expression itself; pickled as a call of its constructor (a
    # scikit-learn estimator holding a search space is deep-copied and pickled).
    def __copy__(self) -> Expression:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Expression:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), tuple(self.args)
