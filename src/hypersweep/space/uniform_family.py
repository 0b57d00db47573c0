"""The uniform expressions: ``uniform``, ``quniform``, ``loguniform``, ``qloguniform``.

Each draws uniformly in ``[min_value, max_value]`` first; the log forms then take ``e`` to
that power (the bounds are **exponents**, as in Azure ML), the ``q`` forms round to multiples
of ``q``. A quantized one whose lattice is small enough to count is finite (grid sampling
enumerates it).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from hypersweep.errors import ConfigError
from hypersweep.space.expressions import ExponentWarning
from hypersweep.space.numeric import _INT_LIMIT, NumericExpression, _exp, lattice_values

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "LogUniform",
    "QLogUniform",
    "QUniform",
    "Uniform",
    "UniformFamily",
    "loguniform",
    "qloguniform",
    "quniform",
    "uniform",
]


class UniformFamily(NumericExpression):
    """``uniform``, ``quniform``, ``loguniform``, ``qloguniform``: uniform in [a, b] first."""

    __slots__ = ()
    arg_names: ClassVar[tuple[str, ...]] = ("min_value", "max_value")

    def _check(self, a: int | float, b: int | float) -> None:
        if not a < b:
            raise ConfigError(f"{self.kind} expects min_value < max_value (got {a}, {b})")
        if not math.isfinite(float(b) - float(a)):
            raise ConfigError(f"{self.kind} expects max_value - min_value to be finite "
                              f"(got {a}, {b})")

    def _warn(self, a: int | float, b: int | float) -> None:
        # Exponents in (0, 1], or tiny positive ones, are almost surely values typed as is;
        # an exponent above 35 gives values beyond 1e15, rarely meant either.
        if self.log and ((a > 0 and (b <= 1 or a < 0.01)) or b > 35):
            # math.log of a bound <= 0 is no advice: there, name only the range sampled
            advice = (f"; for values in [{a}, {b}] write {self.kind}(math.log({a}), "
                      f"math.log({b}){', ...' if self.quantized else ''})" if a > 0 else "")
            warnings.warn(
                f"{self!r}: the bounds of {self.kind} are natural-log exponents, so it samples "
                f"in [e**{a}, e**{b}]{advice}", ExponentWarning, stacklevel=4)

    def _raw(self, u: np.ndarray) -> np.ndarray:
        return self._a + u * (self._b - self._a)

    def _raw_values(self, u: Sequence[float]) -> list[float]:
        a, width = self._a, self._b - self._a
        return [a + v * width for v in u]

    def _raw_extremes(self) -> tuple[float, float]:
        return float(self._a), float(self._b)

    def _exp_overflow(self, limit: float, base: str) -> str:
        if limit < 0:  # a base below 1: the smallest exponent gives the largest value
            return (f"{self.kind} expects min_value >= {limit:.2f} so that {base}**min_value "
                    f"fits a float (got {self._a})")
        return (f"{self.kind} expects max_value <= {limit:.2f} so that {base}**max_value fits "
                f"a float (got {self._b})")

    def _unraw(self, x: np.ndarray) -> np.ndarray:
        return (x - self._a) / (self._b - self._a)

    @property
    def is_finite(self) -> bool:
        return self._cardinality(math.e) is not None

    def _k_range(self, base: float) -> tuple[int, int] | None:
        """Lattice indices of the extreme values, or None when they overflow."""
        lo, hi = float(self._a), float(self._b)
        if self.log:
            scale = math.log(base)  # as decoding exponentiates: the same lattice ends
            lo, hi = sorted((_exp(lo * scale), _exp(hi * scale)))
        k_lo, k_hi = lo / self._q, hi / self._q
        if not (math.isfinite(k_lo) and math.isfinite(k_hi)):
            return None
        k_lo, k_hi = round(k_lo), round(k_hi)
        if k_hi - k_lo > _INT_LIMIT:
            return None  # lattice too large to count: treat as infinite
        return k_lo, k_hi

    def _cardinality(self, base: float) -> int | None:
        k_range = self._k_range(base) if self.quantized else None
        return None if k_range is None else k_range[1] - k_range[0] + 1

    def _values(self, base: float) -> list[Any]:
        k_range = self._k_range(base) if self.quantized else None
        if k_range is None:
            return super()._values(base)
        lo, hi = k_range
        return lattice_values([float(k) for k in range(lo, hi + 1)], self._q)


class Uniform(UniformFamily):
    """``uniform(min_value, max_value)``: uniform in [min_value, max_value]."""

    __slots__ = ()
    kind = "uniform"


class QUniform(UniformFamily):
    """``quniform(min_value, max_value, q)``: ``round(uniform(min, max) / q) * q``."""

    __slots__ = ()
    kind = "quniform"
    arg_names = ("min_value", "max_value", "q")
    quantized = True


class LogUniform(UniformFamily):
    """``loguniform(min_value, max_value)``: ``exp(uniform(min, max))`` — bounds are exponents."""

    __slots__ = ()
    kind = "loguniform"
    log = True


class QLogUniform(UniformFamily):
    """``qloguniform(min_value, max_value, q)``: ``round(exp(uniform(min, max)) / q) * q``."""

    __slots__ = ()
    kind = "qloguniform"
    arg_names = ("min_value", "max_value", "q")
    log = True
    quantized = True


def uniform(min_value: float, max_value: float) -> Uniform:
    """Uniform in ``[min_value, max_value]``.

    Examples
    --------
    >>> uniform(0.05, 0.1)
    uniform(0.05, 0.1)
    """
    return Uniform(min_value, max_value)


def quniform(min_value: float, max_value: float, q: float) -> QUniform:
    """``round(uniform(min_value, max_value) / q) * q``; an int ``q`` yields ints.

    Examples
    --------
    >>> quniform(0, 100, 10).sample(3, seed=0)
    [60, 30, 0]
    """
    return QUniform(min_value, max_value, q)


def loguniform(min_value: float, max_value: float) -> LogUniform:
    """``exp(uniform(min_value, max_value))``: the bounds are natural-log **exponents**.

    Warns (:class:`ExponentWarning`) when a bound looks like a value: ``min_value > 0`` and
    either ``max_value <= 1`` or ``min_value < 0.01``, or ``max_value > 35`` (e**35 ~ 1.6e15).

    Examples
    --------
    >>> import math
    >>> lr = loguniform(math.log(1e-4), math.log(1e-1))   # 1e-4 ... 0.1
    """
    return LogUniform(min_value, max_value)


def qloguniform(min_value: float, max_value: float, q: float) -> QLogUniform:
    """``round(exp(uniform(min_value, max_value)) / q) * q``; bounds are exponents.

    Examples
    --------
    >>> qloguniform(0, 5, 1).sample(3, seed=0)
    [24, 4, 1]
    """
    return QLogUniform(min_value, max_value, q)
