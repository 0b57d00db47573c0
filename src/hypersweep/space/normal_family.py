"""The normal expressions: ``normal``, ``qnormal``, ``lognormal``, ``qlognormal``.

Each draws from normal(mu, sigma) first, so it is unbounded (a sampler treats its unit-cube
ends as tails); the log forms then take ``e`` to that power (``mu`` is an **exponent**), the
``q`` forms round to multiples of ``q``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from hypersweep.errors import ConfigError
from hypersweep.space.expressions import ExponentWarning
from hypersweep.space.numeric import _U_EPS, _Z_MAX, NumericExpression

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "LogNormal",
    "Normal",
    "NormalFamily",
    "QLogNormal",
    "QNormal",
    "lognormal",
    "normal",
    "qlognormal",
    "qnormal",
]


class NormalFamily(NumericExpression):
    """``normal``, ``qnormal``, ``lognormal``, ``qlognormal``: normal(mu, sigma) first, so
    unbounded (a sampler treats their unit-cube ends as tails)."""

    __slots__ = ()
    arg_names: ClassVar[tuple[str, ...]] = ("mu", "sigma")

    def _check(self, a: int | float, b: int | float) -> None:
        # sigma = 0 is a constant (write choice(mu)), and the encoding divides by sigma.
        if not b > 0:
            raise ConfigError(f"{self.kind} expects sigma > 0 (got {b})")

    def _warn(self, a: int | float, b: int | float) -> None:
        if self.log and (0 < a < 0.01 or a > 35):
            warnings.warn(
                f"{self!r}: mu of {self.kind} is a natural-log exponent, so the median is "
                f"e**{a}; for a median of {a} write mu=math.log({a})",
                ExponentWarning, stacklevel=4)

    def _raw(self, u: np.ndarray) -> np.ndarray:
        import numpy as np
        from scipy.special import ndtri

        return self._a + self._b * ndtri(np.clip(u, _U_EPS, 1.0 - _U_EPS))

    def _raw_values(self, u: Sequence[float]) -> list[float]:
        # The standard library's quantile (Wichura's AS241): scipy's ndtri costs a tenth of a
        # second to import and differs from it only in the last bit.
        from statistics import NormalDist

        a, b, quantile = self._a, self._b, NormalDist().inv_cdf
        return [a + b * quantile(min(max(v, _U_EPS), 1.0 - _U_EPS)) for v in u]

    def _raw_extremes(self) -> tuple[float, float]:
        spread = _Z_MAX * float(self._b)
        return float(self._a) - spread, float(self._a) + spread

    def _exp_overflow(self, limit: float, base: str) -> str:
        if limit < 0:
            return (f"{self.kind} expects mu - {_Z_MAX:.2f} * sigma >= {limit:.2f} so that its "
                    f"largest draw fits a float (got {self._args_text(2)})")
        return (f"{self.kind} expects mu + {_Z_MAX:.2f} * sigma <= {limit:.2f} so that its "
                f"largest draw fits a float (got {self._args_text(2)})")

    def _unraw(self, x: np.ndarray) -> np.ndarray:
        from scipy.special import ndtr

        return ndtr((x - self._a) / self._b)


class Normal(NormalFamily):
    """``normal(mu, sigma)``: normal, unbounded."""

    __slots__ = ()
    kind = "normal"


class QNormal(NormalFamily):
    """``qnormal(mu, sigma, q)``: ``round(normal(mu, sigma) / q) * q``."""

    __slots__ = ()
    kind = "qnormal"
    arg_names = ("mu", "sigma", "q")
    quantized = True


class LogNormal(NormalFamily):
    """``lognormal(mu, sigma)``: ``exp(normal(mu, sigma))``."""

    __slots__ = ()
    kind = "lognormal"
    log = True


class QLogNormal(NormalFamily):
    """``qlognormal(mu, sigma, q)``: ``round(exp(normal(mu, sigma)) / q) * q``."""

    __slots__ = ()
    kind = "qlognormal"
    arg_names = ("mu", "sigma", "q")
    log = True
    quantized = True


def normal(mu: float, sigma: float) -> Normal:
    """Normal with mean ``mu`` and standard deviation ``sigma > 0``.

    Examples
    --------
    >>> normal(10, 3)
    normal(10, 3)
    """
    return Normal(mu, sigma)


def qnormal(mu: float, sigma: float, q: float) -> QNormal:
    """``round(normal(mu, sigma) / q) * q``; an int ``q`` yields ints.

    Examples
    --------
    >>> qnormal(0, 1, 0.5).sample(2, seed=0)
    [0.5, -0.5]
    """
    return QNormal(mu, sigma, q)


def lognormal(mu: float, sigma: float) -> LogNormal:
    """``exp(normal(mu, sigma))``; ``mu`` is an exponent (warns when ``0 < mu < 0.01``).

    Examples
    --------
    >>> lognormal(0, 1)
    lognormal(0, 1)
    """
    return LogNormal(mu, sigma)


def qlognormal(mu: float, sigma: float, q: float) -> QLogNormal:
    """``round(exp(normal(mu, sigma)) / q) * q``.

    Examples
    --------
    >>> qlognormal(2, 0.5, 1).sample(3, seed=0)
    [9, 5, 3]
    """
    return QLogNormal(mu, sigma, q)
