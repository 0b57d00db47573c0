"""Parameter expressions: what values one hyperparameter may take, and how to draw them.

Every expression maps points ``u`` of the unit interval ``[0, 1)`` to values by its inverse
CDF (:meth:`Expression.decode`). Random sampling decodes uniform draws and Sobol sampling
decodes scrambled Sobol points, so both share one vectorised code path; :meth:`encode` goes
back, for model-based samplers.

The numeric expressions live here; ``choice`` and ``randint`` live in :mod:`.choice`.
Semantics follow Azure ML (``/work/shared/AZURE.md``): the bounds of the log expressions are
**exponents**, ``loguniform(-6, -1)`` lies in ``[e**-6, e**-1]``.
"""

from __future__ import annotations

import math
import sys
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from scipy.special import ndtr, ndtri

from hypersweep.errors import ConfigError
from hypersweep.space._values import decimals, describe, number, parse_logbase

# Normal quantiles of u = 0 or 1 are infinite; clip u just inside the interval instead.
_U_EPS = 2.0**-53
# The largest |z| a normal expression ever draws (u clipped as above): about 8.21.
_Z_MAX = float(ndtri(1.0 - _U_EPS))
# The largest exponent x with e**x finite (709.78...).
_LOG_MAX = math.log(sys.float_info.max)
# Integer results must fit an int64 before they become Python ints.
_INT_LIMIT = 2**62


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
    def _decode(self, unit: np.ndarray, base: float) -> list[Any]:
        """Map ``unit`` of shape ``(n, n_dims)`` to ``n`` plain Python values."""

    @abstractmethod
    def _encode(self, values: Sequence[Any], base: float) -> np.ndarray:
        """Map ``n`` values to unit points of shape ``(n, n_dims)``; inverse of ``_decode``."""

    def check_logbase(self, logbase: float | str) -> None:
        """Refuse (`ConfigError`) a ``logbase`` under which some value would overflow a float.

        The constructors check ``logbase="e"``; samplers with another base call this.

        Examples
        --------
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
        >>> uniform(0, 10).decode([0.0, 0.25])
        [0.0, 2.5]
        """
        array = np.asarray(unit, dtype=float).reshape(-1, self.n_dims)
        self.check_logbase(logbase)
        return self._decode(array, parse_logbase(logbase))

    def encode(self, values: Sequence[Any], logbase: float | str = "e") -> np.ndarray:
        """Map values back to the unit cube (shape ``(n, n_dims)``); inverse of :meth:`decode`.

        Quantized values map to the point their unrounded value had; values outside the
        range clip to the cube. Dimensions a value does not use (options of a nested
        ``choice`` not taken) are 0.5.

        Examples
        --------
        >>> uniform(0, 10).encode([2.5]).tolist()
        [[0.25]]
        """
        return self._encode(list(values), parse_logbase(logbase))

    def sample(self, size: int = 1, seed: int | None = None,
               logbase: float | str = "e") -> list[Any]:
        """Draw ``size`` values, to preview what a sweep will try.

        Examples
        --------
        >>> [round(v, 3) for v in loguniform(-6, -1).sample(3, seed=0)]
        [0.06, 0.01, 0.003]
        """
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 0:
            raise ConfigError(f"sample expects size to be an int >= 0 (got {describe(size)})")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                                 or seed < 0):
            raise ConfigError(f"sample expects seed to be None or an int >= 0 "
                              f"(got {describe(seed)})")
        self.check_logbase(logbase)
        unit = np.random.default_rng(seed).random((int(size), self.n_dims))
        return self._decode(unit, parse_logbase(logbase))

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


class _Numeric(Expression):
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

    def _encode(self, values: Sequence[Any], base: float) -> np.ndarray:
        x = np.array([number(v, "values", f"{self!r}.encode") for v in values], dtype=float)
        if self.log:
            with np.errstate(all="ignore"):
                x = np.log(x) / math.log(base)
        with np.errstate(all="ignore"):
            u = self._unraw(x)
        return np.clip(np.nan_to_num(u, nan=0.0), 0.0, 1.0).reshape(-1, 1)


class _UniformFamily(_Numeric):
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
        lo, hi = np.array([self._a, self._b], dtype=float)
        with np.errstate(all="ignore"):
            if self.log:
                lo, hi = sorted(np.power(base, [lo, hi]))
            k_lo, k_hi = np.rint(lo / self._q), np.rint(hi / self._q)
        if not (np.isfinite(k_lo) and np.isfinite(k_hi)) or k_hi - k_lo > _INT_LIMIT:
            return None  # lattice too large to count: treat as infinite
        return int(k_lo), int(k_hi)

    def _cardinality(self, base: float) -> int | None:
        k_range = self._k_range(base) if self.quantized else None
        return None if k_range is None else k_range[1] - k_range[0] + 1

    def _values(self, base: float) -> list[Any]:
        k_range = self._k_range(base) if self.quantized else None
        if k_range is None:
            return super()._values(base)
        lo, hi = k_range
        return _lattice(np.arange(lo, hi + 1, dtype=float), self._q)


class _NormalFamily(_Numeric):
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
        return self._a + self._b * ndtri(np.clip(u, _U_EPS, 1.0 - _U_EPS))

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
        return ndtr((x - self._a) / self._b)


class Uniform(_UniformFamily):
    """``uniform(min_value, max_value)``: uniform in [min_value, max_value]."""

    __slots__ = ()
    kind = "uniform"


class QUniform(_UniformFamily):
    """``quniform(min_value, max_value, q)``: ``round(uniform(min, max) / q) * q``."""

    __slots__ = ()
    kind = "quniform"
    arg_names = ("min_value", "max_value", "q")
    quantized = True


class LogUniform(_UniformFamily):
    """``loguniform(min_value, max_value)``: ``exp(uniform(min, max))`` — bounds are exponents."""

    __slots__ = ()
    kind = "loguniform"
    log = True


class QLogUniform(_UniformFamily):
    """``qloguniform(min_value, max_value, q)``: ``round(exp(uniform(min, max)) / q) * q``."""

    __slots__ = ()
    kind = "qloguniform"
    arg_names = ("min_value", "max_value", "q")
    log = True
    quantized = True


class Normal(_NormalFamily):
    """``normal(mu, sigma)``: normal, unbounded."""

    __slots__ = ()
    kind = "normal"


class QNormal(_NormalFamily):
    """``qnormal(mu, sigma, q)``: ``round(normal(mu, sigma) / q) * q``."""

    __slots__ = ()
    kind = "qnormal"
    arg_names = ("mu", "sigma", "q")
    quantized = True


class LogNormal(_NormalFamily):
    """``lognormal(mu, sigma)``: ``exp(normal(mu, sigma))``."""

    __slots__ = ()
    kind = "lognormal"
    log = True


class QLogNormal(_NormalFamily):
    """``qlognormal(mu, sigma, q)``: ``round(exp(normal(mu, sigma)) / q) * q``."""

    __slots__ = ()
    kind = "qlognormal"
    arg_names = ("mu", "sigma", "q")
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
