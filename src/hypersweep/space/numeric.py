"""What the numeric expressions share: ``quantize(post(base_distribution(u)))``.

A numeric expression draws from a base distribution (uniform in [a, b], in
:mod:`.uniform_family`; normal(a, b), in :mod:`.normal_family`), optionally exponentiates it
(``log``) and optionally rounds it to multiples of ``q`` (``quantized``). `NumericExpression`
holds the parts that do not depend on the base distribution: argument checks, overflow
checks, decoding and encoding, and the lattice a quantized expression takes its values on.
Samplers ask for it by name.
Semantics follow Azure ML (``/work/shared/AZURE.md``): the bounds of the log expressions are
**exponents**, ``loguniform(-6, -1)`` lies in ``[e**-6, e**-1]``.
"""

from __future__ import annotations

import math
import sys
from abc import abstractmethod
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np

from hypersweep.errors import ConfigError
from hypersweep.space.expressions import Expression
from hypersweep.space.values import decimals, number

__all__ = ["NumericExpression"]

# Normal quantiles of u = 0 or 1 are infinite; clip u just inside the interval instead.
_U_EPS = 2.0**-53
# The largest |z| a normal expression ever draws (u clipped as above): about 8.21.
# (statistics, not scipy.special.ndtri, which would cost every import of hypersweep.space a
# tenth of a second; the two differ in the last bit, so step up one: a bound, never short.)
_Z_MAX = math.nextafter(NormalDist().inv_cdf(1.0 - _U_EPS), math.inf)
# The largest exponent x with e**x finite (709.78...).
_LOG_MAX = math.log(sys.float_info.max)
# Integer results must fit an int64 before they become Python ints.
_INT_LIMIT = 2**62


def _quantize(x: np.ndarray, q: int | float) -> list[Any]:
    """``round(x / q) * q`` as Python ints (int ``q``) or floats rounded to q's decimals."""
    with np.errstate(all="ignore"):
        k = np.rint(x / q)
    return _lattice(k, q)


def _lattice(k: np.ndarray, q: int | float) -> list[Any]:
    if isinstance(q, int):
        limit = _INT_LIMIT // q
        k = np.clip(np.nan_to_num(k, posinf=limit, neginf=-limit), -limit, limit)
        return (k.astype(np.int64) * q).tolist()
    with np.errstate(all="ignore"):
        v = k * q
        # Rounding to q's decimals turns 3 * 0.1 into 0.3; `+ 0.0` turns -0.0 into 0.0.
        r = np.round(v, decimals(q)) + 0.0
    return np.where(np.isfinite(r), r, v).tolist()


class NumericExpression(Expression):
    """A numeric expression: ``quantize(post(base_distribution(u)))``.

    Subclasses choose the base distribution (uniform in [a, b] or normal(a, b)), whether the
    result is exponentiated (``log``) and whether it is quantized (``q``).
    """

    __slots__ = ("_a", "_b", "_q")
    _a: int | float
    _b: int | float
    _q: Any
    log: ClassVar[bool] = False
    quantized: ClassVar[bool] = False

    def __init__(self, a: Any, b: Any, q: Any = None) -> None:
        names = self.arg_names
        a = number(a, names[0], self.kind)
        b = number(b, names[1], self.kind)
        if self.quantized:
            q = number(q, "q", self.kind)
            if q <= 0:
                raise ConfigError(f"{self.kind} expects q > 0 (got {q})")
            if isinstance(q, int) and q > _INT_LIMIT:  # its multiples must fit an int64
                raise ConfigError(f"{self.kind} expects an integer q <= 2**62 (got {q})")
        object.__setattr__(self, "_a", a)
        object.__setattr__(self, "_b", b)
        object.__setattr__(self, "_q", q)
        self._check(a, b)
        self.check_logbase(math.e)
        self._warn(a, b)

    def _check(self, a: int | float, b: int | float) -> None:
        raise NotImplementedError

    def _warn(self, a: int | float, b: int | float) -> None:
        """Warn about arguments that are valid but rarely meant (called after the checks)."""

    @property
    def args(self) -> tuple[Any, ...]:
        return (self._a, self._b, self._q) if self.quantized else (self._a, self._b)

    @property
    def q(self) -> int | float | None:
        """The quantization step, or ``None``."""
        return self._q

    @abstractmethod
    def _raw(self, u: np.ndarray) -> np.ndarray:
        """Base distribution: uniform in [a, b] or normal(a, b), before log and q."""

    @abstractmethod
    def _raw_extremes(self) -> tuple[float, float]:
        """The least and greatest values :meth:`_raw` ever returns."""

    @abstractmethod
    def _exp_overflow(self, limit: float, base: str) -> str:
        """The message when the largest exponent exceeds ``limit`` (``base**x`` overflows)."""

    def _overflow(self, base: float) -> str | None:
        lo, hi = self._raw_extremes()
        if not self.log and not (math.isfinite(lo) and math.isfinite(hi)):
            return (f"{self.kind} expects |mu| + {_Z_MAX:.2f} * sigma to fit a float "
                    f"(got {self._args_text(2)})")
        if self.log:
            scale = math.log(base)
            if max(lo * scale, hi * scale) > _LOG_MAX:
                shown = "e" if base == math.e else f"{base:g}"
                return self._exp_overflow(_LOG_MAX / scale, shown)
            lo, hi = math.exp(lo * scale), math.exp(hi * scale)
        if self.quantized:
            with np.errstate(all="ignore"):
                steps = np.abs(np.array([lo, hi])) / self._q
            if not np.all(np.isfinite(steps)):
                return (f"{self.kind} expects value / q to fit a float for every value "
                        f"(got {self._args_text(3)})")
        return None

    def _args_text(self, count: int) -> str:
        return ", ".join(f"{n}={v}" for n, v in zip(self.arg_names[:count], self.args,
                                                    strict=False))

    @abstractmethod
    def _unraw(self, x: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`_raw`."""

    def _decode(self, unit: np.ndarray, base: float) -> list[Any]:
        x = self._raw(unit[:, 0])
        if self.log:
            with np.errstate(over="ignore"):
                x = np.exp(x * math.log(base))
        return _quantize(x, self._q) if self.quantized else x.tolist()

    def snap_to_lattice(self, unit: np.ndarray) -> np.ndarray:
        """``encode(decode(unit))`` of a quantized expression (natural log), vectorised: each
        unit point moved to the point of the lattice value it decodes to.

        Model-based samplers search the unit cube; snapping keeps them from telling apart
        points that are one configuration.

        Examples
        --------
        >>> from hypersweep.space import quniform
        >>> quniform(0, 10, 5).snap_to_lattice(np.array([0.1, 0.3])).tolist()
        [0.0, 0.5]
        """
        with np.errstate(all="ignore"):
            v = self._raw(unit)
            if self.log:
                v = np.exp(v)
            v = np.rint(v / self._q) * self._q
            if self.log:
                v = np.log(v)
            back = self._unraw(v)
        return np.clip(np.nan_to_num(back, nan=0.0), 0.0, 1.0)

    def _encode(self, values: Sequence[Any], base: float) -> np.ndarray:
        x = np.array([number(v, "values", f"{self!r}.encode") for v in values], dtype=float)
        if self.log:
            with np.errstate(all="ignore"):
                x = np.log(x) / math.log(base)
        with np.errstate(all="ignore"):
            u = self._unraw(x)
        return np.clip(np.nan_to_num(u, nan=0.0), 0.0, 1.0).reshape(-1, 1)
